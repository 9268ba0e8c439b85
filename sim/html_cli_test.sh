#!/usr/bin/env bash
# sim/html_cli_test.sh: `mmsim --html=FILE` from the command line. A path that cannot be
# written, the scenario itself or another output is a bad flag (status 2, naming --html);
# the page changes nothing mmsim prints; the same run gives the same bytes; the page needs
# no network; an invalid scenario or a runtime error still gets a page that says so.
set -u
mmsim="$1"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# check STATUS PATTERN ARGS...: mmsim ARGS exits STATUS, and stdout+stderr hold PATTERN.
check() {
  local want="$1" pattern="$2"; shift 2
  local out rc
  out="$(timeout 20 "$mmsim" "$@" 2>&1 < /dev/null)"; rc=$?
  [[ "$rc" == "$want" ]] || fail "mmsim $*: exit $rc, want $want: $(echo "$out" | head -3)"
  [[ "$out" == *"$pattern"* ]] || fail "mmsim $*: output lacks '$pattern'"
}

printf 'machine memory=16M cpus=1\nprocess p\np: mmap 0x400000 4K rw- private,anon\np: store 0x400000 "x"\n' > "$tmp/ok.mms"
check 2 "bad flag --html: cannot open '$tmp/no-such-dir/x.html'" --html="$tmp/no-such-dir/x.html" "$tmp/ok.mms"
check 2 "bad flag --html: '$tmp/ok.mms' is the scenario file" --html="$tmp/ok.mms" "$tmp/ok.mms"
check 2 "bad flag --trace_out: '$tmp/t.txt' is also the --html file" --trace_out="$tmp/t.txt" --html="$tmp/t.txt" "$tmp/ok.mms"
check 2 "bad flag --dot: '$tmp/d.dot' is also the --html file" --dot=p:"$tmp/d.dot" --html="$tmp/d.dot" "$tmp/ok.mms"

# A scenario file and the built-in tour (which traces in full: both recorders at once).
for scen in "$tmp/ok.mms" ""; do
  # Standard output only: a sanitizer build warns on stderr at its own moments.
  timeout 20 "$mmsim" --html="$tmp/a.html" $scen > "$tmp/a.out" 2>/dev/null || fail "--html '$scen': exit $?"
  timeout 20 "$mmsim" --html="$tmp/b.html" $scen > "$tmp/b.out" 2>/dev/null
  timeout 20 "$mmsim" $scen > "$tmp/c.out" 2>/dev/null
  cmp -s "$tmp/a.html" "$tmp/b.html" || fail "--html not deterministic for '$scen'"
  cmp -s "$tmp/a.out" "$tmp/c.out" || fail "--html changed the output of '$scen'"
  grep -q '^<script type="application/json" id="data">{"title":' "$tmp/a.html" || fail "the page of '$scen' lacks its data"
  # The only URL: SVG's namespace name, which is never fetched.
  grep -o 'https\?://[^"]*' "$tmp/a.html" | grep -v '^http://www.w3.org/2000/svg$' && fail "the page of '$scen' names the network"
done
# One step per statement of the tour, each with its line.
stmts="$("$mmsim" --print-tour | grep -vc '^#\|^$')"
[[ "$(grep -c '^{"line":' "$tmp/a.html")" == "$stmts" ]] || fail "the tour's page has $(grep -c '^{"line":' "$tmp/a.html") steps, want $stmts"

# An invalid scenario still gets a page saying why; a runtime error is on its statement.
printf 'process p\nq: load 0x400000 1\n' > "$tmp/bad.mms"
check 2 "bad.mms:2:1: expected a declared process" --html="$tmp/bad.html" "$tmp/bad.mms"
grep -q '"status":2,"summary":"[^"]*bad.mms:2:1: expected a declared process' "$tmp/bad.html" \
  || fail "the page of an invalid scenario lacks the error"
printf 'machine cpus=1\nprocess q cpu=7\n' > "$tmp/rt.mms"
check 3 "runtime error: no CPU 7" --html="$tmp/rt.html" "$tmp/rt.mms"
grep -q '^{"line":2,"stmt":"process q cpu=7","ok":false' "$tmp/rt.html" && grep -q 'runtime error: no CPU 7' "$tmp/rt.html" \
  || fail "the page of a runtime error lacks it"

if [[ "$fails" -ne 0 ]]; then echo "$fails case(s) failed"; exit 1; fi
echo "all cases passed"
