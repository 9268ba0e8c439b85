#!/usr/bin/env python3
"""sim/trace_json_test.py: the Chrome/Perfetto JSON of a real run, parsed and checked.

Runs mmsim --trace=full --trace_format=json on a two-CPU scenario with two processes, a
together block (TLB shootdown IPIs) and a task killed in a fault, then checks the track
structure: every event's (pid, tid) track is named by metadata, the machine process has a
statements track and one track per CPU, each simulated task has its own track, kernel calls
are complete "X" slices that nest properly on each track, and IPIs are flow pairs.
"""
import json
import os
import subprocess
import sys
import tempfile

SCENARIO = """\
machine memory=16M cpus=2 seed=1
process a cpu=0
process b cpu=1
a: mmap 0x10000000 8K rw- private,anon
a: fill 0x10000000 8K 0x11
thread a2 of a cpu=1
a2: load 0x10000000 1
together
  a: munmap 0x10000000 4K
  b: mmap 0x20000000 4K rw- private,anon
end
b: load 0x30000000 1
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    mmsim = sys.argv[1]
    tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
    mms = os.path.join(tmp, "t.mms")
    out = os.path.join(tmp, "t.json")
    with open(mms, "w") as f:
        f.write(SCENARIO)
    r = subprocess.run([mmsim, "--trace=full", "--trace_format=json", "--trace_out=" + out, mms],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("mmsim exited %d: %s %s" % (r.returncode, r.stdout[-500:], r.stderr[-500:]))
    if '"traceEvents"' in r.stdout:
        fail("JSON on standard output")
    with open(out) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    meta = [e for e in events if e["ph"] == "M"]
    rest = [e for e in events if e["ph"] != "M"]
    if not rest:
        fail("no events")
    bad = [e for e in rest if e["ph"] not in ("X", "i", "s", "f")]
    if bad:
        fail("unexpected phases (B/E must not appear): %r" % bad[:3])

    thread_names = {(e["pid"], e["tid"]): e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    process_names = {e["pid"]: e["args"]["name"] for e in meta if e["name"] == "process_name"}
    for e in rest:
        if (e["pid"], e["tid"]) not in thread_names:
            fail("event on an unnamed track: %r" % e)
        if e["pid"] not in process_names:
            fail("event in an unnamed process: %r" % e)
    if thread_names.get((0, 0)) != "statements" or process_names.get(0) != "machine":
        fail("no machine/statements track: %r %r" % (process_names, thread_names))
    cpus = {name for (pid, tid), name in thread_names.items() if pid == 0 and tid > 0}
    if cpus != {"cpu0", "cpu1"}:
        fail("CPU tracks %r, want cpu0 and cpu1" % sorted(cpus))
    tasks = {name.split(":")[0] for (pid, tid), name in thread_names.items() if pid != 0}
    for want in ("a", "a2", "b"):
        if want not in tasks:
            fail("no track for task %s: %r" % (want, sorted(tasks)))
    # a and its thread a2 share a process (pid = tgid), on different tracks.
    a_tracks = {(pid, tid) for (pid, tid), name in thread_names.items() if name.split(":")[0] in ("a", "a2")}
    if len({pid for pid, _ in a_tracks}) != 1 or len(a_tracks) < 2:
        fail("a and a2 are not two tracks of one process: %r" % a_tracks)

    # Slices: complete, with a duration, and properly nested on each track.
    per_track = {}
    for e in rest:
        if e["ph"] == "X":
            if e["dur"] < 1:
                fail("slice without a duration: %r" % e)
            per_track.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"], e["name"]))
    for track, slices in per_track.items():
        slices.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for begin, end, name in slices:
            while stack and stack[-1][1] <= begin:
                stack.pop()
            if stack and end > stack[-1][1]:
                fail("slices overlap on %r: %s inside %s" % (track, name, stack[-1][2]))
            stack.append((begin, end, name))
    kernel_on_tasks = [e for e in rest if e["ph"] == "X" and e["cat"] == "kernel" and e["pid"] != 0]
    if not kernel_on_tasks:
        fail("no kernel call on a task track")
    if not any(e["ph"] == "X" and e["cat"] == "step" for e in rest):
        fail("no statement slices")
    if not any(e["ph"] == "i" and e["cat"] == "hw" and e["name"] == "fault" for e in rest):
        fail("no #PF instant")
    # Every call of this run returned (also the one whose task took SIGSEGV), so no slice
    # had to be closed at the end of the trace; the last statement's slice is closed too.
    unfinished = [e for e in rest if e["ph"] == "X" and e["args"].get("unfinished")]
    if unfinished:
        fail("slices left open: %r" % unfinished[:3])
    last_step = max((e for e in rest if e["ph"] == "X" and e["cat"] == "step"), key=lambda e: e["ts"])
    if not last_step["name"].startswith("[12] b: load"):
        fail("the last statement's slice is missing: %r" % last_step)
    # IPIs: every flow start has its finish, same id.
    starts = sorted(e["id"] for e in rest if e["ph"] == "s")
    ends = sorted(e["id"] for e in rest if e["ph"] == "f")
    if not starts:
        fail("no IPI flow (the munmap on two CPUs sends a shootdown)")
    if starts != ends:
        fail("unbalanced flows: %r vs %r" % (starts, ends))
    # Decoded results ride along: handle_mm_fault's result is named.
    if not any(e["ph"] == "X" and e["name"] == "handle_mm_fault" and "result" in e["args"] for e in rest):
        fail("handle_mm_fault without a decoded result")
    print("ok: %d events on %d tracks" % (len(rest), len(thread_names)))


if __name__ == "__main__":
    main()
