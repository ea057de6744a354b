#!/usr/bin/env python3
"""The kernel matrix: build every script rstap ships or tests against every installed kernel.

    python3 scripts/kernel-matrix.py [-j JOBS] [-k KERNEL]... [-f SUBSTRING] [-o FILE]

Scripts: examples/*.stp, tests/sem/ok/*.stp (with the flags of their `#! rstapc` line, as
tests/sem.rs builds them), every runtime case's program (tests/runtime/*.txt PROG blocks,
with their COMPILE_ARGS), and ../shared/acceptance/*.stp when that directory is there.
Kernels: every /lib/modules/*/build with a Makefile (or the -k ones: releases or build
dirs). Each cell is `rstapc -p4 --no-cache -r BUILD_DIR` in a directory of its own; it is
ok or the first compiler error, with its wall time and the .ko's size.

Prints one line per cell as it finishes, then a table per kernel and every failure; writes
the full kernel x script table to FILE (default target/kernel-matrix.md). Exit status 1
if any cell failed.

Cores: JOBS builds at once (default: the number of CPUs). One module build is mostly one
gcc process (make's -j has little to split), so one build per core keeps them all busy
without piling up compilers. Cells are ordered kernel by kernel, so each kernel's API
checks run once (rstapc caches rs_autoconf.h per kernel) before its other builds need them.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runtime_cases(path):
    """(name, program, compile args) for each case of a tests/runtime/*.txt file, parsed as
    tests/runtime.rs parses it (a case starts at NAME; PROG lines are joined)."""
    cases = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n").rstrip()
            if not line.strip() or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            if key == "NAME":
                cases.append([rest.strip(), "", []])
            elif key == "PROG":
                cases[-1][1] += rest + "\n"
            elif key == "COMPILE_ARGS":
                cases[-1][2] += rest.split()
    return cases


def scripts():
    """(label, script text or None, path or None, extra rstapc args)."""
    out = []
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/*.stp"))):
        out.append(("examples/" + os.path.basename(p), None, p, []))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/sem/ok/*.stp"))):
        with open(p) as f:
            first = f.readline()
        flags = [w for w in first.removeprefix("#! rstapc").split() if w not in ("-p2", "--expect-fail")]
        # -w as tests/sem.rs adds it (once: some headers have it already).
        out.append(("sem/ok/" + os.path.basename(p), None, p, flags if "-w" in flags else ["-w"] + flags))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/runtime/*.txt"))):
        for name, prog, args in runtime_cases(p):
            out.append((f"runtime/{os.path.basename(p)}: {name}", prog, None, args))
    for p in sorted(glob.glob(os.path.join(ROOT, "../shared/acceptance/*.stp"))):
        out.append(("acceptance/" + os.path.basename(p), None, os.path.abspath(p), []))
    return out


def kernels(requested):
    """(release or label, build dir) pairs, oldest first."""
    found = []
    if requested:
        for k in requested:
            build = k if "/" in k else f"/lib/modules/{k}/build"
            if not os.path.isfile(os.path.join(build, "Makefile")):
                sys.exit(f"kernel-matrix: {k}: no kernel build dir at {build}")
            found.append((k, build))
        return found
    for d in glob.glob("/lib/modules/*/build"):
        if os.path.isfile(os.path.join(d, "Makefile")):
            found.append((d.split("/")[3], d))

    def key(release):
        # Numbers compare as numbers: 6.1.0-9 < 6.1.0-57 < 6.12.117.
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.+-]", release)]

    return sorted(found, key=lambda kb: key(kb[0]))


def first_error(stderr):
    lines = stderr.splitlines()
    for l in lines:
        if "error:" in l or "Error " in l:
            return l.strip()
    return next((l.strip() for l in lines if l.strip()), "(no message)")


def build(rstapc, cache, kernel, build_dir, index, label, text, path, args):
    """One cell: (ok, seconds, ko bytes or 0, first error or '')."""
    with tempfile.TemporaryDirectory(prefix="kmatrix") as d:
        if path is None:
            path = os.path.join(d, "case.stp")
            with open(path, "w") as f:
                f.write(text)
        name = f"m{index}"
        env = dict(os.environ, XDG_CACHE_HOME=cache, TMPDIR=d)
        cmd = [rstapc, "-p4", "--no-cache", "-m", name, "-r", build_dir] + args + [path]
        start = time.monotonic()
        p = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        secs = time.monotonic() - start
        ko = os.path.join(d, name + ".ko")
        if p.returncode == 0 and os.path.isfile(ko):
            return True, secs, os.path.getsize(ko), ""
        return False, secs, 0, first_error(p.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-k", "--kernel", action="append", help="a release or build dir (repeatable)")
    ap.add_argument("-f", "--filter", help="only scripts whose label contains this")
    ap.add_argument("-o", "--out", default=os.path.join(ROOT, "target/kernel-matrix.md"))
    ap.add_argument("--rstapc", help="the rstapc binary (default: cargo build --release)")
    opts = ap.parse_args()

    rstapc = opts.rstapc
    if not rstapc:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "rstapc"], cwd=ROOT, check=True)
        rstapc = os.path.join(ROOT, "target/release/rstapc")
    rstapc = os.path.abspath(rstapc)
    ks = kernels(opts.kernel)
    if not ks:
        sys.exit("kernel-matrix: no /lib/modules/*/build (install linux-headers-amd64)")
    ss = [s for s in scripts() if not opts.filter or opts.filter in s[0]]
    print(f"kernel-matrix: {len(ss)} scripts x {len(ks)} kernels, {opts.jobs} at a time", flush=True)

    cache = tempfile.mkdtemp(prefix="kmatrix-cache")
    results = {}
    lock = threading.Lock()
    start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as pool:
            futures = {}
            for k, b in ks:
                for i, (label, text, path, args) in enumerate(ss):
                    f = pool.submit(build, rstapc, cache, k, b, i, label, text, path, args)
                    futures[f] = (k, label)
            for f in concurrent.futures.as_completed(futures):
                k, label = futures[f]
                ok, secs, size, err = f.result()
                results[(k, label)] = (ok, secs, size, err)
                with lock:
                    what = f"{size:,} B" if ok else err
                    print(f"{'ok  ' if ok else 'FAIL'} {k:32} {secs:5.1f} s  {label}: {what}", flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    wall = time.monotonic() - start

    rows = []
    failed = 0
    for k, _ in ks:
        cells = [results[(k, s[0])] for s in ss]
        oks = [c for c in cells if c[0]]
        failed += len(cells) - len(oks)
        times = sorted(c[1] for c in cells)
        sizes = [c[2] for c in oks]
        rows.append((k, f"{len(oks)}/{len(cells)}", f"{times[len(times) // 2]:.1f}", f"{max(times):.1f}",
                     f"{min(sizes):,}" if sizes else "-", f"{max(sizes):,}" if sizes else "-"))
    head = ("kernel", "ok", "median s", "max s", "smallest .ko", "largest .ko")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print()
    for r in [head] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
    print(f"\n{len(ss) * len(ks) - failed} of {len(ss) * len(ks)} builds ok, {failed} failed, in {wall:.0f} s")
    for (k, label), (ok, _, _, err) in sorted(results.items()):
        if not ok:
            print(f"FAIL {k}: {label}: {err}")

    os.makedirs(os.path.dirname(opts.out), exist_ok=True)
    with open(opts.out, "w") as f:
        f.write(f"# Kernel matrix: {len(ss)} scripts x {len(ks)} kernels\n\n")
        f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\n| kernel | script | result | s | .ko bytes |\n|---|---|---|---|---|\n")
        for k, _ in ks:
            for s in ss:
                ok, secs, size, err = results[(k, s[0])]
                res = "ok" if ok else err.replace("|", "\\|")
                f.write(f"| {k} | {s[0].replace('|', '/')} | {res} | {secs:.1f} | {size if ok else ''} |\n")
    print(f"kernel-matrix: the full table is in {opts.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
