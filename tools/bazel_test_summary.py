#!/usr/bin/env python3
"""Prints one honest 'N passed, N failed' line from Bazel build-event files.

Usage: bazel_test_summary.py BEP.json [BEP2.json ...]   (one per bazel test pass)
       bazel_test_summary.py --pass NAME BEP.json COUNTS   (summarise one pass now, keep
                                                           its counts in COUNTS)
       bazel_test_summary.py --total COUNTS [COUNTS ...]   (the closing line over passes)

Summarise each pass right after it runs: sanitizer configs write their test.xml files to
the same bazel-testlogs paths as the default pass, so a later pass overwrites them.

Counts gtest cases from each target's test.xml (the BEP names the exact files, so
stale XML from other runs is never read). A test tagged no_NAME that pass NAME did not
run (its .bazelrc tag filter) counts as one skipped. A target Bazel calls failed whose XML
shows no failing case (crash, LSan leak at exit, timeout, build failure, not run)
adds one failure, so nothing that went wrong is hidden.
"""
import json
import sys
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlparse


def xml_counts(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    p = f = s = 0
    for tc in root.iter("testcase"):
        if tc.find("failure") is not None or tc.find("error") is not None:
            f += 1
        elif (tc.get("status") == "notrun" or tc.get("result") == "skipped"
              or tc.find("skipped") is not None):
            s += 1
        else:
            p += 1
    return p, f, s


def summarize(bep_path, pass_name=None):
    summary, xmls, tags = {}, {}, {}
    with open(bep_path) as fh:
        for line in fh:
            ev = json.loads(line)
            i = ev["id"]
            if ("targetConfigured" in i and ev.get("configured", {})
                    .get("targetKind", "").endswith("_test rule")):
                summary.setdefault(i["targetConfigured"]["label"], "NOT_RUN")
                tags[i["targetConfigured"]["label"]] = ev["configured"].get("tag", [])
            elif "targetCompleted" in i and not ev.get("completed", {}).get("success", False):
                if i["targetCompleted"]["label"] in summary:
                    summary[i["targetCompleted"]["label"]] = "FAILED_TO_BUILD"
            elif "testSummary" in ev:
                summary[i["testSummary"]["label"]] = ev["testSummary"].get("overallStatus", "NO_STATUS")
            elif "testResult" in ev:
                r = i["testResult"]
                for out in ev["testResult"].get("testActionOutput", []):
                    if out["name"] == "test.xml":
                        key = (r.get("run"), r.get("shard"))
                        xmls.setdefault(r["label"], {})[key] = unquote(urlparse(out["uri"]).path)
    rows = []
    for label in sorted(summary):
        st = summary[label]
        p = f = s = 0
        for x in xmls.get(label, {}).values():
            c = xml_counts(x)
            if c:
                p, f, s = p + c[0], f + c[1], s + c[2]
        if st == "NOT_RUN" and pass_name and f"no_{pass_name}" in tags.get(label, []):
            st, s = "SKIPPED_BY_TAG", s + 1  # tagged out of this pass (.bazelrc), on purpose
        elif st not in ("PASSED", "FLAKY") and f == 0:
            f += 1
        rows.append((label, st, p, f, s))
    return rows


def main(argv):
    if len(argv) == 5 and argv[1] == "--pass":
        name, bep, counts = argv[2], argv[3], argv[4]
        tp = tf = ts = 0
        try:
            rows = summarize(bep, name)
        except OSError as e:
            print(f"cannot read {bep}: {e}")
            rows, tf = [], 1
        for label, st, p, f, s in rows:
            print(f"{name:<8} {st:<16} {label}  (cases: {p} ok, {f} bad, {s} skipped)")
            tp, tf, ts = tp + p, tf + f, ts + s
        print(f"{name} pass: {tp} ok, {tf} bad, {ts} skipped")
        with open(counts, "w") as fh:
            fh.write(f"{tp} {tf} {ts}\n")
        return 0
    if len(argv) >= 3 and argv[1] == "--total":
        tp = tf = ts = 0
        for path in argv[2:]:
            try:
                p, f, s = (int(x) for x in open(path).read().split())
            except (OSError, ValueError):
                p, f, s = 0, 1, 0  # a pass whose counts are missing counts as a failure
            tp, tf, ts = tp + p, tf + f, ts + s
        print(f"{tp} passed, {tf} failed" + (f", {ts} skipped" if ts else ""))
        return 0
    tp = tf = ts = 0
    for bep in argv[1:]:
        try:
            rows = summarize(bep)
        except OSError as e:
            print(f"cannot read {bep}: {e}")
            tf += 1
            continue
        print(f"== {bep}")
        for label, st, p, f, s in rows:
            print(f"{st:<16} {label}  (cases: {p} ok, {f} bad, {s} skipped)")
            tp, tf, ts = tp + p, tf + f, ts + s
    print(f"{tp} passed, {tf} failed" + (f", {ts} skipped" if ts else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
