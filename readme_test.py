#!/usr/bin/env python3
"""README.md's commands work.

Every line of README.md's ```sh blocks must be a command this test knows (COMMANDS below);
a new command fails the test until it is added here. Commands that finish in under a
minute run: `tools/mmsim.sh ARGS` is the //sim:mmsim binary run with ARGS (tools/mmsim.sh
only builds it and execs bazel-bin/sim/mmsim "$@", which this test checks too), from a
directory that holds the workspace's tests/ and `my.mms`, the README's "scenario in one
screen". Each is checked by its exit status and a telling line. Commands that run Bazel
(a test cannot) are checked for naming real targets: every label they name is a data
dependency of this test (its path arrives as --target=PATH), so a label that does not
exist fails the build.

Usage: readme_test.py --readme=README.md --bazelrc=.bazelrc --mmsim=sim/mmsim
                      --mmsim_sh=tools/mmsim.sh --test_sh=tools/test.sh --fuzz_sh=tools/fuzz.sh
                      --target=PKG/NAME ... --package=DIR/FILE ...
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MINUTE = 60


def sh_commands(readme):
    """The commands of the ```sh blocks: (line number, command without its comment)."""
    out, in_sh = [], False
    for n, line in enumerate(readme.split("\n"), 1):
        if line.startswith("```"):
            in_sh = (not in_sh) and line.strip() == "```sh"
            continue
        if not in_sh:
            continue
        cmd = re.split(r"\s+#\s", " " + line, maxsplit=1)[0].strip()
        if cmd and not cmd.startswith("#"):
            out.append((n, cmd))
    return out


def one_screen_scenario(readme):
    m = re.search(r"^A scenario in one screen.*?\n```\n(.*?)```", readme, re.S | re.M)
    if not m:
        raise AssertionError("README.md: no 'A scenario in one screen' block")
    return m.group(1)


class Checker:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.workdir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        os.symlink(os.path.abspath("tests"), os.path.join(self.workdir, "tests"))
        self.binary = os.path.abspath(args["mmsim"][0])
        # Labels of the data dependencies, from their runfiles paths.
        self.labels = set()
        for path in args.get("target", []):
            pkg, name = os.path.split(path)
            self.labels.add("//%s:%s" % (pkg, name))
        self.packages = {os.path.dirname(p) for p in args.get("package", [])}

    def fail(self, line, cmd, why):
        self.failures.append("README.md:%d: `%s`: %s" % (line, cmd, why))

    def script_names(self, line, cmd, path, words):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for w in words:
            if w not in text:
                self.fail(line, cmd, "%s no longer mentions %s" % (path, w))

    # ---- the runnable commands ----
    def run_mmsim(self, line, cmd, argv, stdin=None, want_line=None, want_file=None):
        try:
            r = subprocess.run([self.binary] + argv, cwd=self.workdir, input=stdin,
                               capture_output=True, text=True, timeout=MINUTE)
        except subprocess.TimeoutExpired:
            return self.fail(line, cmd, "did not finish within a minute")
        if r.returncode != 0:
            return self.fail(line, cmd, "exit %d\n%s%s" % (r.returncode, r.stdout[-2000:],
                                                           r.stderr[-2000:]))
        if want_line and not any(re.search(want_line, l) for l in r.stdout.split("\n")):
            return self.fail(line, cmd, "no output line matches %r:\n%s" %
                             (want_line, r.stdout[-2000:]))
        if want_file:
            name, check = want_file
            path = os.path.join(self.workdir, name)
            if not os.path.exists(path):
                return self.fail(line, cmd, "did not write " + name)
            with open(path, encoding="utf-8") as f:
                why = check(f.read())
            if why:
                self.fail(line, cmd, why)

    # ---- the Bazel commands: every label is a real target ----
    def labels_exist(self, line, cmd):
        for label in re.findall(r"//[\w/.-]*(?::[\w.-]+)?", cmd):
            if label.endswith("/..."):
                if label[2:-4] not in self.packages:
                    self.fail(line, cmd, "%s: not a package this test checks (--package)" % label)
            elif label not in self.labels:
                self.fail(line, cmd, "%s: not a target this test depends on (--target)" % label)


def json_trace(text):
    try:
        events = json.loads(text)["traceEvents"]
    except (ValueError, KeyError) as e:
        return "t.json is not a Chrome trace: %s" % e
    return None if events else "t.json has no events"


def script_ends_with(path, last):
    with open(path, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip()]
    return lines and lines[-1] == last


def main():
    args = {}
    for a in sys.argv[1:]:
        k, _, v = a.lstrip("-").partition("=")
        args.setdefault(k, []).append(v)
    with open(args["readme"][0], encoding="utf-8") as f:
        readme = f.read()
    c = Checker(args)
    with open(os.path.join(c.workdir, "my.mms"), "w", encoding="utf-8") as f:
        f.write(one_screen_scenario(readme))

    ok = r"^# my\.mms: 0 expectations failed$"
    mm = c.run_mmsim
    commands = {
        "tools/mmsim.sh": lambda l, x: mm(l, x, [], want_line=r"^# <built-in tour>: 0 expectations failed$"),
        "tools/mmsim.sh --print-tour": lambda l, x: mm(l, x, ["--print-tour"], want_line=r"^machine "),
        "tools/mmsim.sh tests/scenarios/mprotect_segv.mms": lambda l, x: mm(
            l, x, ["tests/scenarios/mprotect_segv.mms"],
            want_line=r"^# tests/scenarios/mprotect_segv\.mms: 0 expectations failed$"),
        "tools/mmsim.sh tests/scenarios/smp_races.mms": lambda l, x: mm(
            l, x, ["tests/scenarios/smp_races.mms"],
            want_line=r"^# tests/scenarios/smp_races\.mms: 0 expectations failed$"),
        "tools/mmsim.sh --schedule=6.1 tests/scenarios/smp_races.mms": lambda l, x: mm(
            l, x, ["--schedule=6.1", "tests/scenarios/smp_races.mms"],
            want_line=r"^# one schedule \(--schedule\): 6\.1, "),
        "tools/mmsim.sh --shard=0/2 tests/scenarios/smp_races.mms": lambda l, x: mm(
            l, x, ["--shard=0/2", "tests/scenarios/smp_races.mms"],
            want_line=r"\(shard 0 of 2\): \d+ outcomes?$"),
        "tools/mmsim.sh --trace=full my.mms": lambda l, x: mm(
            l, x, ["--trace=full", "my.mms"], want_line=r"^\s+\[cpu\d+\] walk PTE "),
        "tools/mmsim.sh --trace_format=json --trace_out=t.json my.mms": lambda l, x: mm(
            l, x, ["--trace_format=json", "--trace_out=t.json", "my.mms"], want_line=ok,
            want_file=("t.json", json_trace)),
        "tools/mmsim.sh --check my.mms": lambda l, x: mm(l, x, ["--check", "my.mms"], want_line=ok),
        "tools/mmsim.sh --dot=target,reader:pt.dot my.mms": lambda l, x: mm(
            l, x, ["--dot=target,reader:pt.dot", "my.mms"], want_line=ok,
            want_file=("pt.dot", lambda t: None if t.startswith("digraph ") and "label=\"reader (pid" in t
                       else "pt.dot is not DOT of both tasks")),
        "echo 'process p' | tools/mmsim.sh -": lambda l, x: mm(
            l, x, ["-"], stdin="process p\n", want_line=r"^\[1\] process p = pid \d+$"),
        "tools/mmsim.sh --host my.mms": lambda l, x: mm(
            l, x, ["--host", "my.mms"], want_line=r"^# my\.mms: 0 expectations failed on the host$"),
        "tools/mmsim.sh --compare my.mms": lambda l, x: mm(
            l, x, ["--compare", "my.mms"], want_line=r"^# compare my\.mms: \d+ agree, 0 differ, "),
        "tools/mmsim.sh --html=run.html my.mms": lambda l, x: mm(
            l, x, ["--html=run.html", "my.mms"], want_line=ok,
            want_file=("run.html", lambda t: None if t.startswith("<!DOCTYPE html>") and '"steps":[' in t
                       else "run.html is not the step-through page")),
        "tools/mmsim.sh quiz --kind=walk --seed=7 --solve": lambda l, x: mm(
            l, x, ["quiz", "--kind=walk", "--seed=7", "--solve"], want_line=r"^  > \[\d+\] p: (load|store) "),
        # Longer than a minute, and they run Bazel: their targets are checked instead.
        "tools/test.sh": c.labels_exist,
        "tools/test.sh --config=asan": c.labels_exist,
        "tools/test.sh //hw/...": c.labels_exist,
        "bazel test //tests/difftest:differential_test --test_env=DIFFTEST_CASES=100000": c.labels_exist,
        "bazel run -c opt //bench:report": c.labels_exist,
        "bazel run -c opt //bench:pvm_bench": c.labels_exist,
        "bazel run -c opt //bench:hw_bench": c.labels_exist,
        "bazel run -c opt //bench:mm_bench": c.labels_exist,
        "bazel run -c opt //bench:fork_bench": c.labels_exist,
        "bazel run -c opt //bench:explore_bench": c.labels_exist,
        "bazel run -c opt //bench:reclaim_bench": c.labels_exist,
        # Runs for minutes with clang: the script is checked to fuzz what CI fuzzes.
        "tools/fuzz.sh mmsim 600": lambda l, x: c.script_names(
            l, x, args["fuzz_sh"][0], ["//sim:mmsim_fuzzer", "//sim/scenario:scenario_parser_fuzzer",
                                       "tests/fuzz/regressions"]),
    }

    # The wrappers are what this test takes them for.
    with open(args["mmsim_sh"][0], encoding="utf-8") as f:
        if "//sim:mmsim" not in f.read():
            c.failures.append("tools/mmsim.sh no longer builds //sim:mmsim")
    if not script_ends_with(args["mmsim_sh"][0], 'exec bazel-bin/sim/mmsim "$@"'):
        c.failures.append('tools/mmsim.sh no longer ends with exec bazel-bin/sim/mmsim "$@"')
    if not script_ends_with(args["test_sh"][0], 'exec bazel test "$@" //...'):
        c.failures.append('tools/test.sh no longer ends with exec bazel test "$@" //...')
    with open(args["bazelrc"][0], encoding="utf-8") as f:
        configs = set(re.findall(r"^(?:build|test):(\w+)", f.read(), re.M))
    for line, cmd in sh_commands(readme):
        for config in re.findall(r"--config=(\w+)", cmd):
            if config not in configs:
                c.fail(line, cmd, "--config=%s: not defined in .bazelrc" % config)

    seen = sh_commands(readme)
    if len(seen) < 10:
        c.failures.append("README.md: only %d commands found; did the ```sh blocks move?" % len(seen))
    for line, cmd in seen:
        check = commands.get(cmd)
        if check is None:
            c.fail(line, cmd, "a command this test does not know: add it to readme_test.py")
        else:
            check(line, cmd)
    for cmd in sorted(set(commands) - {cmd for _, cmd in seen}):
        c.failures.append("readme_test.py knows `%s`, which README.md no longer shows" % cmd)

    shutil.rmtree(c.workdir, ignore_errors=True)
    for f in c.failures:
        print("FAIL:", f)
    if c.failures:
        return 1
    print("README.md: %d commands, all known; the runnable ones ran" % len(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
