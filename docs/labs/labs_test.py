#!/usr/bin/env python3
"""The labs stay in sync with their answers.

For each lab NAME.md given (with NAME.mms and NAME_solution.mms beside it):
  * the questions are numbered Q1..Qn without gaps (`**Qk.**` in the text);
  * the solution answers exactly those: one `# Qk` comment for each, in order, each
    followed by at least one `expect` line before the next question;
  * the solution is the scenario plus answers: every statement line of NAME.mms appears in
    NAME_solution.mms, in the same order;
  * README.md (the index) links the lab.
Whether the answers are right is the job of the NAME_solution tests (mmsim --check).

Usage: labs_test.py README.md LAB.md...
"""
import os
import re
import sys


def statements(path):
    """The statement lines of a scenario: without comments, blank lines, indentation."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            code = line.split("#", 1)[0].strip() if '"' not in line else line.strip()
            if code and not code.startswith("#"):
                out.append(code)
    return out


def main():
    readme, labs = sys.argv[1], sys.argv[2:]
    with open(readme, encoding="utf-8") as f:
        index = f.read()
    failures = []
    for md in labs:
        name = os.path.basename(md)[:-len(".md")]
        base = md[:-len(".md")]
        with open(md, encoding="utf-8") as f:
            text = f.read()
        asked = [int(n) for n in re.findall(r"\*\*Q(\d+)\.\*\*", text)]
        if not asked:
            failures.append("%s: no questions (**Q1.** ...)" % md)
        elif asked != list(range(1, len(asked) + 1)):
            failures.append("%s: questions numbered %s, not Q1..Q%d" % (md, asked, len(asked)))
        with open(base + "_solution.mms", encoding="utf-8") as f:
            sol_lines = f.read().split("\n")
        answered, current, has_expect = [], None, {}
        for line in sol_lines:
            m = re.match(r"\s*# (Q\d+)\b", line)
            if m:
                current = int(m.group(1)[1:])
                answered.append(current)
                has_expect.setdefault(current, False)
            elif current is not None and line.strip().startswith("expect"):
                has_expect[current] = True
        if answered != list(range(1, len(asked) + 1)):
            failures.append("%s_solution.mms: answers %s, the text asks Q1..Q%d" %
                            (base, ["Q%d" % q for q in answered], len(asked)))
        for q, ok in sorted(has_expect.items()):
            if not ok:
                failures.append("%s_solution.mms: # Q%d has no expect line" % (base, q))
        student, solution = statements(base + ".mms"), statements(base + "_solution.mms")
        pos = 0
        for line in student:
            try:
                pos = solution.index(line, pos) + 1
            except ValueError:
                failures.append("%s_solution.mms lacks (or reorders) the scenario's line %r" %
                                (base, line))
                break
        if "(%s.md)" % name not in index:
            failures.append("%s does not link %s.md" % (readme, name))
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("%d labs: questions, answers and scenarios in sync" % len(labs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
