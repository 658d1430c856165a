#!/usr/bin/python3
"""The shape of daemon/, checked: `make lint` (part of `make check`).

1. No include cycle between modules (a module is foo.c with foo.h).
2. Includes point down the layers (docs/ARCHITECTURE.md): a file includes
   its own folder's headers and those of folders below it, never above.
3. No file over 1,000 lines in daemon/ or plugins/.
4. With --objs DIR (the built objects): every global symbol a file
   defines carries its module's prefix, so none lands in another
   library's namespace (sd_*, json_*, event_*, ...); and with --binary,
   dutyd exports nothing (plugins see only plugin.h, no -rdynamic).

Prints each problem as FILE:LINE: message and exits 1 when there is one.
"""
import argparse
import os
import re
import subprocess
import sys

# Top to bottom: a folder may include itself and anything after it.
LAYERS = ["main", "intake", "actions", "notify", "state", "store", "config",
          "parse", "base"]
# Where a module's functions are named otherwise than its file.
PREFIXES = {
    "log": ("log_", "fatal"),
    "timeutil": ("time_", "duration_"),
    "template": ("tmpl_",),
    "rosterload": ("roster_",),
}
MAX_LINES = 1000
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(top):
    for d, _, fs in os.walk(top):
        for f in sorted(fs):
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def layer_of(path):
    parts = path.split(os.sep)
    return parts[1] if len(parts) > 2 else "main"


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check_includes(problems):
    files = list(sources("daemon"))
    names = {stem(f) for f in files}
    graph = {n: set() for n in names}
    for f in files:
        text = open(f, errors="replace").read()
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            target = stem(inc)
            if target in names and target != stem(f):
                graph[stem(f)].add(target)
            if "/" not in inc:
                if inc != "plugin.h":
                    problems.append("%s:%d: include \"%s\" without its folder"
                                    % (f, line, inc))
                continue
            to = inc.split("/")[0]
            src = layer_of(f)
            if to not in LAYERS:
                problems.append("%s:%d: \"%s\" is in no layer" % (f, line, inc))
            elif LAYERS.index(to) < LAYERS.index(src):
                problems.append("%s:%d: %s includes %s, a layer above it: "
                                "dependencies point down (docs/ARCHITECTURE.md)"
                                % (f, line, src, to))
    for comp in cycles(graph):
        problems.append("daemon/: include cycle between %s" % ", ".join(comp))


def check_lengths(problems):
    for top in ("daemon", "plugins"):
        for f in sources(top):
            n = sum(1 for _ in open(f, errors="replace"))
            if n > MAX_LINES:
                problems.append("%s:%d: %d lines; split it by role (at most %d)"
                                % (f, n, n, MAX_LINES))


def check_symbols(objs, binary, problems):
    # One nm for every object: nm's start-up (its BFD plugins) costs some
    # 0.1 s of CPU, and 120-odd runs were 13 of make lint's 13.5 CPU-s.
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(objs)
                   for f in fs if f.endswith(".o") and f != "main.o")
    out = subprocess.run(["nm", "-A", "--defined-only", "-g"] + files,
                         capture_output=True, text=True,
                         check=True).stdout if files else ""
    for line in out.splitlines():
        path, sym = line.rsplit(":", 1)[0], line.split()[-1]
        mod = os.path.basename(path)[:-2]
        allowed = PREFIXES.get(mod, ()) + (mod + "_",)
        if sym != mod and not sym.startswith(allowed):
            problems.append("%s: exports %s; name it %s… (its module's "
                            "prefix)" % (path, sym, allowed[-1]))
    if binary:
        out = subprocess.run(["nm", "-D", "--defined-only", binary],
                             capture_output=True, text=True).stdout
        ours = [l.split()[-1] for l in out.splitlines()
                if not l.split()[-1].startswith("_") and "@" not in l]
        if ours:
            problems.append("%s exports %s to plugins; plugins get only what "
                            "plugin.h names (no -rdynamic)"
                            % (binary, ", ".join(ours[:8])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objs")
    ap.add_argument("--binary")
    args = ap.parse_args()
    problems = []
    check_includes(problems)
    check_lengths(problems)
    if args.objs:
        check_symbols(args.objs, args.binary, problems)
    for p in problems:
        print(p)
    if problems:
        print("lint: %d problem(s)" % len(problems))
        return 1
    print("lint: includes point down, no cycle, files short, names prefixed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
