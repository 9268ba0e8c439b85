#!/usr/bin/env python3
"""mm/trace_decode_table_test.py: the result table of mm/trace_decode.cc covers the trace points.

For every `trace_call tc("NAME", ...)` in mm/, finds NAME's definition and its C return type.
A function returning vm_fault_t must be listed as vm_fault, one returning a pointer as
err_ptr and one returning bool as boolean: otherwise its result would print as a plain
decimal count. (Addresses cannot be told from counts by type; they are listed by hand.)
"""
import os
import re
import sys

# argv[1]: mm/trace_decode.cc (its folder is mm/), or mm/ itself.
arg = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(arg) if arg.endswith(".cc") else arg
sources = {}
for dirpath, _, files in os.walk(root):
    for f in files:
        if f.endswith(".cc") and not f.endswith("_test.cc"):
            path = os.path.join(dirpath, f)
            sources[path] = open(path).read()

table_text = sources[os.path.join(root, "trace_decode.cc")]
table = {m[0]: m[1] or "count"
         for m in re.findall(r'\{"(\w+)",\s*(?:trace_ret_kind::(\w+)|kCount)', table_text)}

names = set()
for text in sources.values():
    names.update(re.findall(r'trace_call tc\("(\w+)"', text))
if len(names) < 30:
    print("FAIL: found only %d trace points" % len(names))
    sys.exit(1)

fails = 0
checked = 0
for name in sorted(names):
    ret = None
    for text in sources.values():
        m = re.search(r'^(?:static\s+|inline\s+)*([\w:]+(?:\s+[\w:]+)*\s*\**)\s*\b' + re.escape(name) + r'\([^;]*?\)\s*\{',
                      text, re.M)
        if m:
            ret = m.group(1).strip()
            break
    if ret is None:
        continue
    checked += 1
    want = None
    if ret.endswith("*"):
        want = "err_ptr"
    elif ret == "vm_fault_t":
        want = "vm_fault"
    elif ret == "bool":
        want = "boolean"
    have = table.get(name, "count")
    if want is not None and have != want:
        print("FAIL: %s returns %s but mm/trace_decode.cc lists it as %s (want %s)" % (name, ret, have, want))
        fails += 1
if checked < 30:
    print("FAIL: found the definitions of only %d trace points" % checked)
    fails += 1
print("%d trace points, %d definitions checked, %d failures" % (len(names), checked, fails))
sys.exit(1 if fails else 0)
