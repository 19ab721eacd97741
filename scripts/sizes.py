#!/usr/bin/env python3
"""Report C files over a line limit and functions over a line limit.
Usage: sizes.py [--file-max 900] [--fn-max 120] DIR...  (exit 1 when any)"""
import argparse, os, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("--file-max", type=int, default=900)
ap.add_argument("--fn-max", type=int, default=120)
ap.add_argument("dirs", nargs="+")
a = ap.parse_args()
start = re.compile(r"^(?!static\s+const\b)[A-Za-z_][\w \*]*\b(\w+)\((?!.*;\s*$)")
bad = 0
for d in a.dirs:
    for root, _, files in os.walk(d):
        for f in sorted(files):
            if not f.endswith(".c"):
                continue
            p = os.path.join(root, f)
            lines = open(p, errors="replace").read().split("\n")
            if len(lines) - 1 > a.file_max:
                print(f"{p}: {len(lines) - 1} lines (max {a.file_max})")
                bad += 1
            i = 0
            while i < len(lines):
                m = start.match(lines[i])
                if m and not lines[i].startswith(("typedef", "struct", "enum", "union")):
                    j = i
                    while j < len(lines) and lines[j] != "{" and not lines[j].endswith(";"):
                        if lines[j].endswith("{") and j == i and "=" in lines[j]:
                            break
                        j += 1
                    if j < len(lines) and lines[j] == "{":
                        k = j
                        while k < len(lines) and lines[k] != "}":
                            k += 1
                        n = k - i + 1
                        if n > a.fn_max:
                            print(f"{p}:{i + 1}: {m.group(1)}() {n} lines (max {a.fn_max})")
                            bad += 1
                        i = k
                i += 1
print(f"sizes: {bad} over the limits")
sys.exit(1 if bad else 0)
