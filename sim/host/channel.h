// sim/host/channel.h: whole-buffer I/O on a stream socket, for the host-kernel runners
// (sim/host's servers and mmsim's side of them; tests/difftest's host backend).
// Async-signal-safe: forked children of multi-threaded processes use them.
#ifndef MMSIM_SIM_HOST_CHANNEL_H_
#define MMSIM_SIM_HOST_CHANNEL_H_

#include <cstddef>

namespace sim::host {

// send() all of [p, p+n), retrying on EINTR; MSG_NOSIGNAL, so a dead peer gives false
// (EPIPE), not SIGPIPE.
bool SendAll(int fd, const void* p, size_t n);

// recv() exactly n bytes, blocking; false on EOF or error.
bool RecvAll(int fd, void* p, size_t n);

}  // namespace sim::host

#endif  // MMSIM_SIM_HOST_CHANNEL_H_
