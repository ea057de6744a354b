#!/usr/bin/env python3
"""Pass 1-3 times of a script with one kernel.function probe and two member accesses
(examples/file_reads.stp), whose types come from the kernel's BTF:

- "first run": rstapc -p3 with an empty cache directory (XDG_CACHE_HOME), so the BTF is
  taken from /boot/vmlinuz-KVER (its payload decompressed) and stored;
- "cached": the same with the cache the first run filled;
- stap -p3 of the same script, when stap and the kernel's -dbg package are installed
  (stap needs its DWARF; rstap never does).

Median of N whole-process runs each (default 7), interleaved; prints a table.

    python3 bench/btf.py [-n N] [-r KVER]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "examples", "file_reads.stp")


def timed(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    ms = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        sys.exit(f"bench/btf: {' '.join(cmd)} failed:\n{p.stderr}")
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=7)
    ap.add_argument("-r", dest="kver", default=None)
    args = ap.parse_args()
    rstapc = os.path.join(REPO, "target", "release", "rstapc")
    if not os.access(rstapc, os.X_OK):
        sys.exit("bench/btf: build first: cargo build --release")
    kver = args.kver or sorted(os.listdir("/lib/modules"))[0]
    scratch = tempfile.mkdtemp(prefix="rstap-btf-bench.")
    try:
        base = dict(os.environ)
        first, cached, stap = [], [], []
        warm = os.path.join(scratch, "warm")
        os.mkdir(warm)
        env_warm = dict(base, XDG_CACHE_HOME=warm)
        timed([rstapc, "-p3", "-r", kver, SCRIPT], env_warm)  # fills the warm cache
        stap_bin = shutil.which("stap")
        dbg = f"/usr/lib/debug/boot/vmlinux-{kver}"
        run_stap = stap_bin and os.path.exists(dbg)
        for i in range(args.n):
            cold = os.path.join(scratch, f"cold{i}")
            os.mkdir(cold)
            first.append(timed([rstapc, "-p3", "-r", kver, SCRIPT],
                               dict(base, XDG_CACHE_HOME=cold)))
            cached.append(timed([rstapc, "-p3", "-r", kver, SCRIPT], env_warm))
            if run_stap:
                stap.append(timed([stap_bin, "-p3", "-r", kver, SCRIPT], base))
        med = statistics.median
        print(f"kernel {kver}, median of {args.n} runs, passes 1-3 (rstapc -p3, whole process)")
        print(f"  rstapc, first run for the kernel (BTF from the image): {med(first):7.1f} ms"
              "   target <= 100 ms")
        print(f"  rstapc, cached BTF:                                    {med(cached):7.1f} ms"
              "   target <= 25 ms")
        if run_stap:
            print(f"  stap -p3 (with {dbg}):                   {med(stap):7.1f} ms")
            print(f"  ratio rstapc cached / stap: {med(cached) / med(stap):.3f}")
        else:
            print(f"  stap: skipped (needs stap and linux-image-{kver}-dbg for its DWARF)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
