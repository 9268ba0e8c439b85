#!/usr/bin/env python3
"""docs/tour.md against the built-in tour: the scenario it quotes is exactly what
`mmsim --print-tour` prints, and every output line it quotes (the other fenced blocks,
`...` marking elisions) is a line of what `mmsim` prints for it, in the same order.

Usage: tour_test.py MMSIM TOUR_MD
"""
import re
import subprocess
import sys


def fenced_blocks(md):
    """The fenced code blocks of a markdown text: (heading above it, lines)."""
    blocks, heading, cur = [], "", None
    for line in md.split("\n"):
        if cur is None:
            if line.startswith("#"):
                heading = line
            elif line.startswith("```"):
                cur = []
        elif line.startswith("```"):
            blocks.append((heading, cur))
            cur = None
        else:
            cur.append(line)
    if cur is not None:
        raise AssertionError("unterminated code block under " + heading)
    return blocks


def main():
    mmsim, tour_md = sys.argv[1], sys.argv[2]
    with open(tour_md, encoding="utf-8") as f:
        blocks = fenced_blocks(f.read())
    failures = []

    printed = subprocess.run([mmsim, "--print-tour"], capture_output=True, text=True)
    if printed.returncode != 0 or not printed.stdout.strip():
        failures.append("mmsim --print-tour: exit %d, %d bytes" %
                        (printed.returncode, len(printed.stdout)))
    scenario = [b for h, b in blocks if h == "## The scenario"]
    if len(scenario) != 1:
        failures.append("tour.md: expected one code block under '## The scenario', found %d" %
                        len(scenario))
    elif "\n".join(scenario[0]) + "\n" != printed.stdout:
        want = printed.stdout.split("\n")
        for i, (a, b) in enumerate(zip(scenario[0], want)):
            if a != b:
                failures.append("tour.md's scenario differs from --print-tour at line %d:\n"
                                "  tour.md: %r\n  mmsim:   %r" % (i + 1, a, b))
                break
        else:
            failures.append("tour.md's scenario has %d lines, --print-tour %d" %
                            (len(scenario[0]), len(want) - 1))

    run = subprocess.run([mmsim], capture_output=True, text=True)
    if run.returncode != 0:
        failures.append("mmsim (the built-in tour): exit %d\n%s" % (run.returncode, run.stderr))
    out = run.stdout.split("\n")
    pos, quoted = 0, 0
    for heading, lines in blocks:
        if heading == "## The scenario":
            continue
        for line in lines:
            if line.strip() == "...":
                continue
            try:
                pos = out.index(line, pos) + 1
                quoted += 1
            except ValueError:
                where = "earlier in the output" if line in out else "nowhere in the output"
                failures.append("tour.md (%s) quotes a line that is %s of mmsim's tour, "
                                "after output line %d:\n  %r" % (heading, where, pos, line))
    if quoted < 50:
        failures.append("tour.md quotes only %d output lines; expected the walk-through" % quoted)

    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("tour.md: scenario == mmsim --print-tour (%d lines); %d quoted output lines match"
          % (len(scenario[0]), quoted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
