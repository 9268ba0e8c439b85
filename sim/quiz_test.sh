#!/usr/bin/env bash
# sim/quiz_test.sh: `mmsim quiz`. For each kind and several seeds: the same seed gives the
# same text byte for byte; --solve is the problem plus answers; every answer line ("  > ...")
# is a line mmsim itself prints when it runs the generated scenario (--scenario) as an
# ordinary scenario file, in a separate process; the answers of a quiz say what the
# question asks (a pfn, a TLB event, a byte count or errno). Bad flags exit 2 naming the flag.
set -u
mmsim="$1"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for kind in walk tlb cow pvm; do
  for seed in 0 1 2 3 6 18446744073709551615; do
    q="$kind-$seed"
    "$mmsim" quiz --kind=$kind --seed=$seed > "$tmp/$q.a" || fail "$q: exit $?"
    "$mmsim" quiz --seed=$seed --kind=$kind --solve > "$tmp/$q.solve" || fail "$q --solve: exit $?"
    # Two runs (flags in another order) give the same problem: the solution starts with it
    # byte for byte. The problem shows no answer lines.
    head -c "$(wc -c < "$tmp/$q.a")" "$tmp/$q.solve" | cmp -s - "$tmp/$q.a" || fail "$q: --solve does not start with the problem"
    grep -q '^  > ' "$tmp/$q.a" && fail "$q: the problem shows answers"
    grep -q '^  > ' "$tmp/$q.solve" || fail "$q: --solve has no answers"
    # An independent run of the simulator on the generated scenario.
    "$mmsim" quiz --kind=$kind --seed=$seed --scenario > "$tmp/$q.mms"
    "$mmsim" "$tmp/$q.mms" > "$tmp/$q.out" 2>&1 || fail "$q: the scenario does not run cleanly: $(tail -2 "$tmp/$q.out")"
    while IFS= read -r line; do
      grep -qxF -- "${line#  > }" "$tmp/$q.out" || fail "$q: answer not in mmsim's output: ${line#  > }"
    done < <(grep '^  > ' "$tmp/$q.solve")
    # Each kind's answers answer its question.
    case $kind in
      walk) grep -Eq '^  > .*(-> pa 0x[0-9a-f]+|SIGSEGV at 0x[0-9a-f]+ \(error code 0x[0-9a-f]+\))' "$tmp/$q.solve" \
              || fail "$q: no physical address or fault in the answers" ;;
      tlb) [[ "$(grep -c '<- Q' "$tmp/$q.a")" == 6 ]] || fail "$q: want 6 questions"
           [[ "$(grep -Ec '^  >   \[cpu0\] tlb_(hit|miss) ' "$tmp/$q.solve")" == 6 ]] \
              || fail "$q: want one first TLB event (hit or miss) per load" ;;
      cow) [[ "$(grep -Ec '^  > 0x[0-9a-f]+ .*(present pfn=|not present)' "$tmp/$q.solve")" == 8 ]] \
              || fail "$q: want 4 pages each of parent and child" ;;
      pvm) grep -Eq '^  > \[[0-9]+\] caller: process_vm_readv .* = ([0-9]+|-1 E[A-Z]+)$' "$tmp/$q.solve" \
              || fail "$q: no return value in the answers" ;;
    esac
  done
  # Different seeds, different problems.
  cmp -s "$tmp/$kind-1.a" "$tmp/$kind-2.a" && fail "$kind: seeds 1 and 2 give the same problem"
done
# The kinds together cover a fault fixed by the kernel, a SIGSEGV, a present page, a TLB
# miss and an L1 hit, a COW copy, a short read and a refusal.
cat "$tmp"/walk-*.solve | grep -q 'handle_mm_fault' || fail "no walk seed has a fault the kernel fixes"
cat "$tmp"/walk-*.solve | grep -q 'SIGSEGV' || fail "no walk seed has a SIGSEGV"
cat "$tmp"/tlb-*.solve | grep -q 'tlb_miss' || fail "no tlb seed has a miss"
cat "$tmp"/tlb-*.solve | grep -q 'tlb_hit L1' || fail "no tlb seed has an L1 hit"
cat "$tmp"/pvm-*.solve | grep -q '= -1 EPERM$' || fail "no pvm seed is refused"

# Flags.
expect2() {  # expect2 PATTERN ARGS...: exit 2 and PATTERN on stderr
  local pattern="$1"; shift
  local err rc
  err="$("$mmsim" quiz "$@" 2>&1 >/dev/null)"; rc=$?
  [[ $rc == 2 ]] || fail "mmsim quiz $*: exit $rc, want 2"
  [[ "$err" == *"$pattern"* ]] || fail "mmsim quiz $*: stderr lacks '$pattern': $err"
}
expect2 "bad flag --kind: expected walk, tlb, cow or pvm, got 'paging'" --kind=paging --seed=1
expect2 "bad flag --kind: missing" --seed=1
expect2 "bad flag --kind: expected walk, tlb, cow or pvm, got ''" --kind= --seed=1
expect2 "bad flag --seed: expected a decimal number" --kind=walk --seed=abc
expect2 "bad flag --seed: expected a decimal number" --kind=walk --seed=-1
expect2 "bad flag --seed: expected a decimal number" --kind=walk --seed=18446744073709551616
expect2 "bad flag --seed: expected a decimal number" --kind=walk --seed=
expect2 "bad flag --bogus: unknown" --kind=walk --bogus
"$mmsim" quiz --help | grep -q 'usage: mmsim quiz' || fail "quiz --help"

if [[ "$fails" -ne 0 ]]; then echo "$fails case(s) failed"; exit 1; fi
echo "all cases passed"
