// sim/result_format.cc
#include "sim/result_format.h"

#include <csignal>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/scenario/errno_names.h"

namespace sim {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string BytesForHumans(const std::string& bytes) {
  constexpr size_t kShown = 64;
  bool printable = true;
  for (size_t i = 0; i < bytes.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 || c > 0x7e) printable = false;
  }
  std::string out;
  if (printable) {
    out = absl::StrCat("\"", bytes.substr(0, kShown), "\"");
  } else {
    out = "hex:";
    for (size_t i = 0; i < bytes.size() && i < kShown; ++i) {
      absl::StrAppendFormat(&out, "%02x", static_cast<unsigned char>(bytes[i]));
    }
  }
  if (bytes.size() > kShown) absl::StrAppend(&out, "... (", bytes.size(), " bytes)");
  return out;
}

const char* SignalName(int signo) {
  if (const char* name = scenario::SignalNameOf(signo)) return name;
  // The access stopped without a signal (a fault retried forever: the global init's OOM).
  if (signo == 0) return "no signal";
  return "SIG?";  // no path of mm/ records another (a bug if one shows)
}

std::string FormatSysResult(const SysResult& r) {
  if (r.ret == -1 && r.err != 0) {
    const char* name = scenario::ErrnoName(r.err);
    return absl::StrCat("-1 ", name != nullptr ? name : absl::StrCat("errno ", r.err));
  }
  return absl::StrCat(r.ret);
}

std::string FormatAccessResult(const UserAccess& a, bool load) {
  if (a.err != 0) return FormatSysResult(SysResult{-1, a.err});  // the access never ran
  if (!a.ok) {
    return absl::StrFormat("%s at %#x (error code %#x)", SignalName(a.signal), a.fault_addr,
                           a.error_code);
  }
  if (load) return BytesForHumans(std::string(a.bytes.begin(), a.bytes.end()));
  return "0";  // a store that completes returns 0, like a finished instruction
}

std::string MaterializeData(const scenario::Data& data, uint64_t anchor) {
  using namespace scenario;  // NOLINT
  return std::visit(Overloaded{
                        [](const DataBytes& d) { return d.bytes; },
                        [](const DataRepeat& d) {
                          return std::string(static_cast<size_t>(d.len), static_cast<char>(d.byte));
                        },
                        [anchor](const DataPattern& d) {
                          std::string s(static_cast<size_t>(d.len), '\0');
                          for (uint64_t i = 0; i < d.len; ++i) s[i] = static_cast<char>(PatternByte(anchor + i));
                          return s;
                        },
                    },
                    data);
}

std::string FormatStatementResult(const StatementResult& r) {
  switch (r.kind) {
    case StatementResult::Kind::kSys: return FormatSysResult(r.sys);
    case StatementResult::Kind::kAccess: return FormatAccessResult(r.access, r.load);
    case StatementResult::Kind::kNone: break;
  }
  return "";
}

bool ExpectHolds(const scenario::ExpectResult& want, const StatementResult& got,
                 std::string* want_text) {
  using namespace scenario;  // NOLINT
  using Kind = StatementResult::Kind;
  return std::visit(
      Overloaded{
          [&](const ExpectValue& v) {
            *want_text = absl::StrCat(static_cast<long>(v.value));
            if (got.kind == Kind::kSys) {
              return got.sys.ret == static_cast<long>(v.value) &&
                     !(got.sys.ret == -1 && got.sys.err != 0);
            }
            // A store or fill that completes "returns" 0.
            return !got.load && got.access.ok && v.value == 0;
          },
          [&](const ExpectErrno& v) {
            const char* n = ErrnoName(v.err);
            *want_text = absl::StrCat("-1 ", n != nullptr ? n : "?");
            if (got.kind == Kind::kAccess) return got.access.err == v.err;  // a dead task
            return got.kind == Kind::kSys && got.sys.ret == -1 && got.sys.err == v.err;
          },
          [&](const ExpectData& v) {
            std::string bytes = MaterializeData(v.data, got.addr);
            *want_text = BytesForHumans(bytes);
            return got.kind == Kind::kAccess && got.access.ok &&
                   std::string(got.access.bytes.begin(), got.access.bytes.end()) == bytes;
          },
          [&](const ExpectSignal& v) {
            *want_text = SignalName(v.signo);
            return got.kind == Kind::kAccess && !got.access.ok && got.access.err == 0 &&
                   got.access.signal == v.signo;
          },
      },
      want);
}

}  // namespace sim
