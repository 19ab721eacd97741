#!/usr/bin/env python3
"""Check the module layering from the built objects and the sources.

For every object file of a build (hook/, aws/, cidr/, common/ libraries), the
symbols it defines and the ones it uses give a call graph between source files;
the #include "..." lines give an include graph. The check fails when
  - a circle (strongly connected component) of the union graph joins files
    of two different folders, or
  - a circle inside one folder has more than --max-circle files, or
  - a folder depends on a folder it must not (--order, low to high; a folder
    may use only folders listed before it, except the pairs given by --allow).
Usage: layering.py BUILD_DIR SOURCE_DIR [--max-circle 3] [--verbose]
"""
import argparse
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOTS = ("common", "cidr", "aws", "hook")


def objects(build):
    for dirpath, _, files in os.walk(build):
        if "/test" in dirpath.replace(build, "") or "CMakeFiles" not in dirpath:
            continue
        for f in files:
            if f.endswith(".c.o"):
                yield os.path.join(dirpath, f)


def src_of(obj, srcdir):
    # <build>/<rel dir>/CMakeFiles/<target>.dir/<path inside rel dir>.c.o
    rel = os.path.relpath(obj, BUILD)
    parts = rel.split(os.sep)
    i = parts.index("CMakeFiles")
    base = parts[:i]
    inner = parts[i + 2:]
    path = os.path.join(*(base + inner))[:-2]
    return path if os.path.exists(os.path.join(srcdir, path)) else None


def nm(obj):
    out = subprocess.run(["nm", "-g", obj], capture_output=True, text=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 2 and p[0] == "U":
            u.add(p[1])
        elif len(p) == 3 and p[1] in "TDBRC":
            d.add(p[2])
    return d, u


def scc(nodes, edges):
    index, low, on, st, out, n = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        st.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def main():
    global BUILD
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("src")
    ap.add_argument("--max-circle", type=int, default=3)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    BUILD = os.path.abspath(a.build)
    src = os.path.abspath(a.src)
    defs, uses = {}, {}
    for o in objects(BUILD):
        s = src_of(o, src)
        if not s or not s.startswith(ROOTS):
            continue
        defs[s], uses[s] = nm(o)
    owner = {}
    for s, d in defs.items():
        for sym in d:
            owner.setdefault(sym, s)
    edges = defaultdict(set)
    nodes = set(defs)
    for s, u in uses.items():
        for sym in u:
            t = owner.get(sym)
            if t and t != s:
                edges[s].add(t)
    # include graph: a .c or .h including a project header
    hdr_path = {}
    for root in ROOTS:
        for dirpath, _, files in os.walk(os.path.join(src, root)):
            for f in files:
                if f.endswith(".h"):
                    hdr_path.setdefault(f, os.path.relpath(os.path.join(dirpath, f), src))
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for root in ROOTS:
        for dirpath, _, files in os.walk(os.path.join(src, root)):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                p = os.path.relpath(os.path.join(dirpath, f), src)
                nodes.add(p)
                text = open(os.path.join(src, p), errors="replace").read()
                for h in inc.findall(text):
                    t = hdr_path.get(os.path.basename(h))
                    if t and t != p:
                        # a header belongs to the .c of the same stem when there is one
                        edges[p].add(t)
                        nodes.add(t)
    # A header and its own .c (same stem) are one unit. A header without one
    # (an umbrella, a module's public or *_internal.h header) is transparent:
    # including it depends on whatever it includes. Circles count files of code.
    def unit(p):
        if p.endswith(".h"):
            c = p[:-2] + ".c"
            if c in nodes:
                return c
        return p

    memo = {}

    def targets(p, seen=()):
        """Units p depends on directly, looking through transparent headers."""
        out = set()
        for t in edges.get(p, ()):
            u = unit(t)
            if u.endswith(".h"):
                if u in seen:
                    continue
                if u not in memo:
                    memo[u] = targets(u, seen + (u,))
                out |= memo[u]
            else:
                out.add(u)
        return out

    uedges = defaultdict(set)
    for s0 in list(edges):
        us = unit(s0)
        if us.endswith(".h"):
            continue
        for ut in targets(s0):
            if ut != us:
                uedges[us].add(ut)
    unodes = {unit(p) for p in nodes if not unit(p).endswith(".h")}
    bad = 0
    for comp in scc(unodes, uedges):
        if len(comp) < 2:
            continue
        folders = {os.path.dirname(p) for p in comp}
        if a.verbose and len(comp) > a.max_circle:
            cs = set(comp)
            for x in sorted(comp):
                print("    %s -> %s" % (x, ", ".join(sorted(t for t in uedges[x] if t in cs))))
        if len(folders) > 1:
            print("circle across folders: " + " ".join(sorted(comp)))
            bad += 1
        elif len(comp) > a.max_circle:
            print("circle of %d files in %s: %s" % (len(comp), folders.pop(), " ".join(sorted(comp))))
            bad += 1
        elif a.verbose:
            print("small circle: " + " ".join(sorted(comp)))
    if a.verbose:
        fe = defaultdict(set)
        for s in uedges:
            for t in uedges[s]:
                fs, ft = os.path.dirname(s), os.path.dirname(t)
                if fs != ft:
                    fe[fs].add(ft)
        for f in sorted(fe):
            print("%s -> %s" % (f, ", ".join(sorted(fe[f]))))
    print("layering: %d problem(s) among %d files" % (bad, len(unodes)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
