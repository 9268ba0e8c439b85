#!/usr/bin/env bash
# sim/mmsim_cli_test.sh: mmsim's command line on hostile input. Each case names the exit
# status it must give (0 ok, 1 expectation failed, 2 invalid scenario or flag, 3 runtime
# error, 4 an output could not be written) and a piece of the message it must print.
set -u
mmsim="$1"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
fails=0

# expect_status WANT PATTERN -- ARGS...: runs mmsim ARGS (10 s at most), checks the exit
# status and that stdout+stderr contain PATTERN (fixed string; "" skips).
expect_status() {
  local want="$1" pattern="$2"; shift 3
  local out rc
  # ULIMIT_V=KB: run under `ulimit -v KB` (a host that refuses memory). Sanitizer builds
  # reserve terabytes of shadow address space at start-up and cannot run under a limit at
  # all (the asan config sets ASAN_OPTIONS), so those cases are skipped there.
  if [[ -n "${ULIMIT_V:-}" && ( -n "${ASAN_OPTIONS:-}" || -n "${TSAN_OPTIONS:-}" ) ]]; then
    echo "skipped under a sanitizer (ulimit -v): mmsim $*"; return
  fi
  out="$( if [[ -n "${ULIMIT_V:-}" ]]; then ulimit -v "$ULIMIT_V"; fi
          timeout 10 "$mmsim" "$@" 2>&1 < "${STDIN:-/dev/null}")"; rc=$?
  if [[ "$rc" != "$want" ]]; then
    echo "FAIL: mmsim $* exited $rc, want $want"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  if [[ -n "$pattern" && "$out" != *"$pattern"* ]]; then
    echo "FAIL: mmsim $*: output lacks '$pattern'"; echo "$out" | head -5; fails=$((fails + 1))
  fi
}

cat > "$tmp/ok.mms" <<'MMS'
machine memory=16M cpus=2
process p
p: mmap 0x7f0000000000 4K rw- private,anon,fixed
expect 0x7f0000000000
MMS
cp "$tmp/ok.mms" "$tmp/keep.mms"
expect_status 0 "0 expectations failed" -- "$tmp/ok.mms"

# Flags: bad values, unknown flags and a missing --flagfile are status 2 naming the flag.
expect_status 2 "--memory" -- --memory=17179869185G "$tmp/ok.mms"
expect_status 2 "--memory" -- --memory=4K "$tmp/ok.mms"
expect_status 2 "bad flag --swap" -- --swap=4K "$tmp/ok.mms"
expect_status 2 "bad flag --swap" -- --swap=65G "$tmp/ok.mms"
expect_status 2 "bad flag --swap" -- --swap=12x "$tmp/ok.mms"
expect_status 0 "" -- --swap=0 "$tmp/ok.mms"
expect_status 0 "" -- --swap=64M "$tmp/ok.mms"
expect_status 2 "bad flag --thp: expected always, madvise or never, got 'sometimes'" -- --thp=sometimes "$tmp/ok.mms"
expect_status 0 "" -- --thp=always "$tmp/ok.mms"
expect_status 0 "" -- --thp=never "$tmp/ok.mms"
expect_status 2 "bad flag --thp_defrag: expected always, defer, defer+madvise, madvise or never, got 'sometimes'" -- --thp_defrag=sometimes "$tmp/ok.mms"
expect_status 0 "" -- --thp_defrag=defer+madvise "$tmp/ok.mms"
expect_status 2 "bad flag --thp_use_zero_page: expected 0 or 1, got 'yes'" -- --thp_use_zero_page=yes "$tmp/ok.mms"
expect_status 0 "" -- --thp_use_zero_page=0 "$tmp/ok.mms"
expect_status 2 "--cpus" -- --cpus=0 "$tmp/ok.mms"
expect_status 2 "--cpus" -- --cpus=65 "$tmp/ok.mms"
expect_status 2 "--seed" -- --seed=-5 "$tmp/ok.mms"
expect_status 2 "bogus" -- --bogus "$tmp/ok.mms"
expect_status 2 "check" -- --check=maybe "$tmp/ok.mms"
expect_status 2 "flagfile" -- --flagfile="$tmp/no-such-file" "$tmp/ok.mms"
expect_status 0 "" -- --memory=1M --cpus=64 --seed=18446744073709551615 "$tmp/ok.mms"

# An output that is the input is refused before anything is written (also via a link).
ln -sf "$tmp/ok.mms" "$tmp/link.mms"
ln -f "$tmp/ok.mms" "$tmp/hard.mms"
expect_status 2 "refusing to overwrite an input" -- --trace_out="$tmp/ok.mms" "$tmp/ok.mms"
expect_status 2 "refusing to overwrite an input" -- --trace_out="$tmp/link.mms" "$tmp/ok.mms"
expect_status 2 "refusing to overwrite an input" -- --trace_out="$tmp/hard.mms" "$tmp/ok.mms"
expect_status 2 "refusing to overwrite an input" -- --dot=p:"$tmp/link.mms" "$tmp/ok.mms"
if ! cmp -s "$tmp/ok.mms" "$tmp/keep.mms"; then echo "FAIL: the scenario file changed"; fails=$((fails + 1)); fi

# Not a scenario file: a directory, a device; read with a bound.
expect_status 2 "not a regular file" -- "$tmp"
expect_status 2 "not a regular file" -- /dev/zero
expect_status 2 "cannot open" -- "$tmp/no-such.mms"

# Write errors on outputs are status 4.
if [[ -w /dev/full ]]; then
  expect_status 4 "cannot write the trace" -- --trace=full --trace_out=/dev/full "$tmp/ok.mms"
  expect_status 4 "cannot write the trace" -- --trace_format=json --trace_out=/dev/full "$tmp/ok.mms"
  expect_status 4 "cannot write the DOT graph" -- --dot=p:/dev/full "$tmp/ok.mms"
fi

# --trace=off is honoured with JSON: no events.
"$mmsim" --trace=off --trace_format=json --trace_out="$tmp/t.json" "$tmp/ok.mms" > /dev/null
if grep -q '"ph":"[XBEi]"' "$tmp/t.json"; then echo "FAIL: --trace=off recorded events"; fails=$((fails + 1)); fi
# JSON records what the text would: nothing for a scenario without `trace` lines ...
"$mmsim" --trace_format=json --trace_out="$tmp/t2.json" "$tmp/ok.mms" > /dev/null
if grep -q '"ph":"[XBEi]"' "$tmp/t2.json"; then echo "FAIL: JSON started tracing where text does not"; fails=$((fails + 1)); fi
# ... and the calls with --trace=calls.
"$mmsim" --trace=calls --trace_format=json --trace_out="$tmp/t3.json" "$tmp/ok.mms" > /dev/null
if ! grep -q '"name":"do_mmap"' "$tmp/t3.json"; then echo "FAIL: --trace=calls JSON lacks do_mmap"; fails=$((fails + 1)); fi
# JSON never goes to standard output: without --trace_out it is refused.
expect_status 2 "bad flag --trace_format: json needs --trace_out=FILE" -- --trace_format=json "$tmp/ok.mms"

# --trace overrides the scenario's `trace` statements: --trace=off silences `trace full`,
# --trace=calls keeps tracing past `trace off`; without it the statements rule.
printf 'process p\np: mmap 0x7f0000000000 4K rw- private,anon,fixed\ntrace full\np: load 0x7f0000000000 1\ntrace off\np: munmap 0x7f0000000000 4K\n' > "$tmp/tr.mms"
out="$("$mmsim" "$tmp/tr.mms")"
if [[ "$out" != *"tlb_miss"* || "$out" == *"== [6]"* ]]; then echo "FAIL: the scenario's trace statements were not followed"; fails=$((fails + 1)); fi
out="$("$mmsim" --trace=off "$tmp/tr.mms")"
if [[ "$out" == *"== ["* ]]; then echo "FAIL: --trace=off did not override trace full"; fails=$((fails + 1)); fi
out="$("$mmsim" --trace=calls "$tmp/tr.mms")"
if [[ "$out" != *"== [6] p: munmap"* || "$out" == *"tlb_miss"* ]]; then echo "FAIL: --trace=calls did not override the scenario"; fails=$((fails + 1)); fi
# No header is left behind by `trace off` (it used to reappear before the next traced statement).
printf 'process p\ntrace calls\np: mmap 0x7f0000000000 4K rw- private,anon,fixed\ntrace off\nshow maps p\ntrace calls\np: load 0x7f0000000000 1\n' > "$tmp/stale.mms"
out="$("$mmsim" "$tmp/stale.mms")"
if [[ "$out" == *"== [4] trace off"* || "$out" == *"== [6] trace calls"* ]]; then echo "FAIL: a stale trace header"; fails=$((fails + 1)); fi

# --dot: several tasks in one graph, several files (a second --dot is not dropped), and
# bad values or one file named twice are status 2.
printf 'process p\np: mmap 0x10000000 4K rw- private,anon\np: fill 0x10000000 4K 1\nprocess q\n' > "$tmp/dot.mms"
rm -f "$tmp/pq.dot" "$tmp/q.dot"
expect_status 0 "" -- --dot=p,q:"$tmp/pq.dot" --dot q:"$tmp/q.dot" "$tmp/dot.mms"
if ! grep -q 'label="p (pid' "$tmp/pq.dot" || ! grep -q 'label="q (pid' "$tmp/pq.dot"; then
  echo "FAIL: --dot=p,q did not draw both tasks"; fails=$((fails + 1)); fi
if ! grep -q 'label="q (pid' "$tmp/q.dot" || grep -q 'label="p (pid' "$tmp/q.dot"; then
  echo "FAIL: the second --dot was not written on its own"; fails=$((fails + 1)); fi
if ! grep -q '0x10000000-0x10000fff' "$tmp/pq.dot"; then echo "FAIL: DOT without address ranges"; fails=$((fails + 1)); fi
expect_status 2 "bad flag --dot: '$tmp/x.dot' is also the --dot file" -- --dot=p:"$tmp/x.dot" --dot=q:"$tmp/x.dot" "$tmp/dot.mms"
expect_status 2 "bad flag --dot: expected TASK[,TASK...]:FILE, got an empty task name" -- --dot=p,:"$tmp/x.dot" "$tmp/dot.mms"
expect_status 2 "bad flag --dot: no task named 'zz'" -- --dot=zz:"$tmp/x.dot" "$tmp/dot.mms"

# Runtime errors: status 3, FILE:LINE: runtime error: ...
printf 'process p\nshow pagemap p 0xfffffffffffff000 0xfff\n' > "$tmp/pm.mms"
expect_status 3 "pm.mms:2: runtime error: pagemap" -- "$tmp/pm.mms"
printf 'machine cpus=2\nshow tlb 63\n' > "$tmp/tlb.mms"
expect_status 3 "tlb.mms:2: runtime error: no CPU 63" -- "$tmp/tlb.mms"
printf 'machine memory=4K\n' > "$tmp/mem.mms"
expect_status 2 "mem.mms:1:16: expected memory SIZE from 1M to 64G" -- "$tmp/mem.mms"

# Host memory. A machine the host cannot reserve is refused with the reason, status 2:
# as a flag, and as a scenario's machine statement (FILE:LINE:COL).
ULIMIT_V=2000000 expect_status 2 "bad flag --memory: --memory=64G cannot be run here: the host cannot reserve" -- --memory=64G "$tmp/ok.mms"
printf 'machine memory=64G\nprocess p\n' > "$tmp/big.mms"
ULIMIT_V=2000000 expect_status 2 "big.mms:1:1: a machine with 65536M of memory cannot be run here: the host cannot reserve 68719476736 bytes of simulated memory" -- "$tmp/big.mms"
# Without the limit the same 64G machine boots (the reservation costs nothing until used).
expect_status 0 "[2] process p = pid" -- "$tmp/big.mms"
# The simulator itself running out of host memory: a message and status 2, and every line
# printed before it is still there (flushed), not std::bad_alloc and an abort.
printf 'machine memory=16M\nprocess p\np: mmap 0x10000000 1G rw- private,anon\nexpect 0x10000000\nexpect-mem p 0x10000000 repeat(1G,7)\n' > "$tmp/host.mms"
ULIMIT_V=600000 expect_status 2 "[4] expect 0x10000000 ok" -- "$tmp/host.mms"
ULIMIT_V=600000 expect_status 2 "mmsim: out of host memory" -- "$tmp/host.mms"

# Out of simulated memory: the faulting task is killed (SIGKILL at the address of the fault
# that could not be satisfied, not the start of the access), and `expect SIGKILL` matches.
printf 'machine memory=1M\nprocess p\np: mmap 0x10000000 1M rw- private,anon\np: fill 0x10000000 1M 0x5a\nexpect SIGKILL\np: munmap 0x10000000 1M\nexpect -1 ESRCH\n' > "$tmp/oom.mms"
expect_status 0 "[4] p: fill 0x10000000 1M 90 = SIGKILL at 0x100" -- "$tmp/oom.mms"
printf 'machine memory=1M\nprocess p\np: mmap 0x10000000 1M rw- private,anon\np: fill 0x10000000 1M 0x5a\nexpect SIGSEGV\n' > "$tmp/oom2.mms"
expect_status 1 "expected SIGSEGV, got SIGKILL at 0x100" -- "$tmp/oom2.mms"

# Standard input: a typo and a runtime error are reported, and the lines after them run.
printf 'process p\np: mmap 0x1000 4K rw+ private\nshow tlb 63\np: mmap 0x7f0000000000 4K rw- private,anon,fixed\nexpect 0x7f0000000000\n' > "$tmp/in.txt"
STDIN="$tmp/in.txt" expect_status 2 "[5] expect 0x7f0000000000 ok" -- -
printf 'process p\nshow tlb 63\np: mmap 0x7f0000000000 4K rw- private,anon,fixed\nexpect 0x7f0000000000\n' > "$tmp/in2.txt"
STDIN="$tmp/in2.txt" expect_status 3 "[4] expect 0x7f0000000000 ok" -- -

# The nesting limit: exactly 64 levels of parentheses parse, 65 do not.
open64="$(printf '(%.0s' $(seq 64))"; close64="$(printf ')%.0s' $(seq 64))"
printf 'let X = %s1%s\n' "$open64" "$close64" > "$tmp/n64.mms"
printf 'let X = (%s1%s)\n' "$open64" "$close64" > "$tmp/n65.mms"
expect_status 0 "" -- "$tmp/n64.mms"
expect_status 2 "n65.mms:1:" -- "$tmp/n65.mms"

# Concurrency flags: --schedule and --shard (and Bazel's sharding variables) are checked.
cat > "$tmp/race.mms" <<'MMS'
machine memory=16M cpus=2
process target cpu=0
process reader cpu=1
target: mmap 0x10000 8K rw- private,anon,populate
reader: mmap 0x20000 8K rw- private,anon,populate
explore all
  together
    reader: process_vm_readv target [0x20000:8K] [0x10000:8K]
    target: munmap 0x10000 8K
  end
  expect-always reader=8K or reader=EFAULT
  expect-sometimes reader=EFAULT
end
MMS
expect_status 0 "[12] expect-sometimes reader=EFAULT ok" -- "$tmp/race.mms"
expect_status 2 "bad flag --schedule: expected a schedule id" -- --schedule=3.x "$tmp/race.mms"
expect_status 2 "bad flag --schedule" -- --schedule=5.1-2.0 "$tmp/race.mms"
expect_status 2 "bad flag --schedule" -- --schedule=-1 "$tmp/race.mms"
expect_status 0 "# one schedule (--schedule): 0," -- --schedule=0 "$tmp/race.mms"
expect_status 0 "not checked: one schedule" -- --schedule=0 "$tmp/race.mms"
expect_status 2 "bad flag --shard: expected I/N" -- --shard=2/2 "$tmp/race.mms"
expect_status 2 "bad flag --shard" -- --shard=1 "$tmp/race.mms"
expect_status 2 "bad flag --shard" -- --shard=0/0 "$tmp/race.mms"
expect_status 2 "bad flag --shard" -- --shard=-1/2 "$tmp/race.mms"
expect_status 2 "bad flag --shard" -- --shard=a/b "$tmp/race.mms"
expect_status 0 "(shard 1 of 2)" -- --shard=1/2 "$tmp/race.mms"
TEST_SHARD_INDEX=0 TEST_TOTAL_SHARDS=2 expect_status 0 "(shard 0 of 2)" -- "$tmp/race.mms"
TEST_SHARD_INDEX=3 TEST_TOTAL_SHARDS=2 expect_status 2 \
  "bad flag --shard (from TEST_SHARD_INDEX/TEST_TOTAL_SHARDS)" -- "$tmp/race.mms"
rm -f "$tmp/shard_status"
TEST_SHARD_INDEX=1 TEST_TOTAL_SHARDS=2 TEST_SHARD_STATUS_FILE="$tmp/shard_status" \
  expect_status 0 "(shard 1 of 2)" -- "$tmp/race.mms"
if [[ ! -e "$tmp/shard_status" ]]; then echo "FAIL: TEST_SHARD_STATUS_FILE not touched"; fails=$((fails + 1)); fi
# An open block at the end of standard input is an invalid scenario.
printf 'process p\ntogether\np: load 0 1\n' > "$tmp/open.txt"
STDIN="$tmp/open.txt" expect_status 2 "<stdin>:3:12: expected end to close the together block of line 2" -- -

if [[ "$fails" -ne 0 ]]; then echo "$fails case(s) failed"; exit 1; fi
echo "all cases passed"
