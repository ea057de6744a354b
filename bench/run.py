#!/usr/bin/env python3
"""rstap vs SystemTap build benchmark (issue 7).

In one run on one machine, for examples/errno.stp (syscall_any.return) and
examples/old_errno.stp (syscall.*.return), plus ../shared/acceptance's copies
when that directory exists, it measures:

  * rstapc (release build) per-pass times and the whole `-p4` wall time;
  * stap's per-pass times and whole `-p4` wall time, with a patched copy of its
    runtime (see ../shared/ANCHORS.md) in a temp dir, when stap is installed;
  * the Kbuild floor: a clean build of a one-function module;
  * NAME_src.c bytes, NAME.ko bytes and `size` text+data+bss of every module;
  * the ratios of issue 7's targets table;
  * runtime-c/core's per-event cost on the host (bench/micro.py: ns and callgrind
    instructions per event of a 3-key map `<<<` and a 5-field printf).

Every figure is the median of N runs (default 5), the runs interleaved round by
round so that load from other processes hits every cell alike. It prints a
markdown table, writes bench/results/latest.md and bench/results/passes.svg, and
removes every temp dir, kept -k dir and .ko it creates.

Python 3 standard library only.  Run from anywhere: python3 bench/run.py
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
RESULTS = os.path.join(BENCH_DIR, "results")
DEFAULT_KVER = "6.1.0-56-amd64"


def default_kver():
    """6.1.0-56 (what ANCHORS.md measured) when installed, else the newest 6.1.0-N-amd64
    with headers: the figures stay comparable across machines that got a later ABI."""
    if os.path.isdir(f"/lib/modules/{DEFAULT_KVER}/build"):
        return DEFAULT_KVER
    found = []
    for k in os.listdir("/lib/modules") if os.path.isdir("/lib/modules") else []:
        m = re.fullmatch(r"6\.1\.0-(\d+)-amd64", k)
        if m and os.path.isdir(f"/lib/modules/{k}/build"):
            found.append((int(m.group(1)), k))
    return max(found)[1] if found else DEFAULT_KVER
STAP_RUNTIME = "/usr/share/systemtap/runtime"
STAP_RUNTIME_COPY = "/tmp/rstap-bench-stap-runtime"
DBG_PACKAGE = "linux-image-{kver}-dbg"

PASS_RE = re.compile(r"^Pass (\d+):.*?in (\d+)usr/(\d+)sys/(\d+)real ms\.", re.M)
KEEP_RE = re.compile(r'Keeping temporary directory "([^"]+)"')

# Issue 7's targets: (figure, errno target, old_errno target, comparison). p3_whole: issue
# 13's, passes 1-3 as the whole `rstapc -p3` process (start, tapsets, C to stdout).
TARGETS_ERRNO = {"p3_whole": 15, "p123": 15, "p4_floor": 1.3, "vs_stap": 1 / 4, "src": 40_000,
                 "size": 40_000, "cache": 50}
TARGETS_OLD = {"p3_whole": 15, "p123": 30, "p4_floor": 2.0, "vs_stap": 1 / 12, "src": 120_000,
               "size": 120_000, "cache": 50}

HELLO_C = r"""#include <linux/module.h>
#include <linux/init.h>

static int __init hello_init(void)
{
	pr_info("hello\n");
	return 0;
}

static void __exit hello_exit(void)
{
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else None


def run(cmd, cwd, env=None, timeout=1800):
    """Runs cmd, returns (rc, stdout, stderr, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, errors="replace",
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


def size_total(ko):
    """text+data+bss of a module, from binutils `size` (its `dec` column)."""
    try:
        out = subprocess.run(["size", ko], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, check=True).stdout
        fields = out.strip().splitlines()[-1].split()
        return int(fields[0]) + int(fields[1]) + int(fields[2])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def failure_reason(out, err, rc):
    """The most telling line(s) of a failed run: errors first, then warnings."""
    lines = [re.sub(r"\s+", " ", l.strip()) for l in (err + "\n" + out).splitlines()
             if l.strip() and not l.startswith("Pass ")]
    errors = [l for l in lines if re.search(r"error", l, re.I)]
    others = [l for l in lines if l not in errors
              and re.search(r"cannot|missing|not found|failed", l, re.I)]
    picked = list(dict.fromkeys(errors[:2] + others[:2]))
    text = "; ".join(picked) if picked else (lines[-1] if lines else "")
    if len(text) > 400:
        text = text[:397] + "..."
    return f"exit {rc}: {text}" if text else f"exit {rc}"


def short_reason(reason):
    """One short clause for a table cell."""
    m = re.search(r"semantic error: [^;\[]*", reason)
    text = m.group(0).strip() if m else reason
    return text if len(text) <= 110 else text[:107] + "..."


class Cell:
    """One tool x script: all runs' figures."""

    def __init__(self, tool, label, script, module):
        self.tool, self.label, self.script, self.module = tool, label, script, module
        self.passes = {1: [], 2: [], 3: [], 4: []}
        self.whole = []
        self.p3_whole = []        # rstapc only: wall ms of the whole `-p3` process
        self.src = self.ko = self.size = None
        self.skip = None          # reason, when the cell could not be measured
        self.skip_short = None    # the same, short, for the table and the chart
        self.cache_hit = []       # rstapc only, when it has a compile cache
        self.cache_note = None

    def p(self, n):
        return median(self.passes[n])

    def p123(self):
        if any(not self.passes[n] for n in (1, 2, 3)):
            return None
        return sum(self.p(n) for n in (1, 2, 3))


def one_build(cell, cmd, work, env=None, record_sizes=False):
    """Runs one `-p4 -k` build in work/, records its figures, removes what it made.
    Returns None on success, else the failure reason."""
    rc, out, err, wall = run(cmd, work, env)
    kept = KEEP_RE.search(err + out)
    kept_dir = kept.group(1) if kept else None
    ko = os.path.join(work, cell.module + ".ko")
    try:
        if rc != 0:
            return failure_reason(out, err, rc)
        found = {int(m.group(1)): int(m.group(4)) for m in PASS_RE.finditer(err + out)}
        missing = [n for n in (1, 2, 3, 4) if n not in found]
        if missing:
            return f"no 'Pass {missing[0]}' line in -v output (cached build?)"
        for n in (1, 2, 3, 4):
            cell.passes[n].append(found[n])
        cell.whole.append(wall)
        if record_sizes or cell.src is None:
            src = os.path.join(kept_dir, cell.module + "_src.c") if kept_dir else None
            if src and os.path.exists(src):
                cell.src = os.path.getsize(src)
            if os.path.exists(ko):
                cell.ko = os.path.getsize(ko)
                cell.size = size_total(ko)
        return None
    finally:
        if kept_dir and os.path.isdir(kept_dir) and os.path.basename(kept_dir).startswith(
                ("rstap", "stap")):
            shutil.rmtree(kept_dir, ignore_errors=True)
        for f in os.listdir(work):
            # the .ko and anything else a tool left in the scratch cwd
            path = os.path.join(work, f)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def kbuild_floor(kdir, scratch):
    """One clean build of a one-function module. Returns (seconds, ko bytes, size)."""
    d = tempfile.mkdtemp(prefix="hello.", dir=scratch)
    try:
        with open(os.path.join(d, "hello.c"), "w") as f:
            f.write(HELLO_C)
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write("obj-m := hello.o\n")
        rc, out, err, wall = run(["make", "-C", kdir, f"M={d}", "modules"], d)
        if rc != 0:
            raise RuntimeError("Kbuild floor build failed: " + failure_reason(out, err, rc))
        ko = os.path.join(d, "hello.ko")
        return wall, os.path.getsize(ko), size_total(ko)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def patched_stap_runtime(scratch):
    """A copy of stap's runtime with ANCHORS.md's task_work_cancel patch."""
    # A fixed path, and copytree keeps the directories' mtimes: stap keys its tracepoint
    # cache (~/.systemtap/cache) by the runtime's path and directory timestamps, so a random
    # temp path would make every bench run pay stap's cold-cache pass 2 (minutes) and leave
    # ~40 MB of dead cache entries behind. The dir is removed at the end like the others.
    dst = STAP_RUNTIME_COPY
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(STAP_RUNTIME, dst, symlinks=True)
    path = os.path.join(dst, "stp_task_work.c")
    with open(path) as f:
        text = f.read()
    patched = text.replace("typeof(&task_work_cancel)", "typeof(&task_work_cancel_func)")
    patched = patched.replace('kallsyms_lookup_name("task_work_cancel")',
                              'kallsyms_lookup_name("task_work_cancel_func")')
    if patched == text:
        log("bench: note: stp_task_work.c did not need/accept the patch; using it as is")
    with open(path, "w") as f:
        f.write(patched)
    return dst


def fmt_ms(v):
    if v is None:
        return "–"
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}".rstrip("0").rstrip(".") if v else "0"


def fmt_s(v):
    return "–" if v is None else f"{v:.2f}"


def fmt_int(v):
    return "–" if v is None else f"{v:,}"


def fmt_ratio(v):
    if v is None:
        return "–"
    if v < 1:
        return f"{v:.3f} (1/{1 / v:.1f})" if v > 0 else "0"
    return f"{v:.2f}"


def check(value, limit):
    if value is None:
        return "n/a"
    return "met" if value <= limit else "NOT met"


# ---------------------------------------------------------------- SVG chart

COLORS = {1: "#4e79a7", 2: "#f28e2b", 3: "#59a14f", 4: "#e15759"}
PASS_NAMES = {1: "pass 1 parse", 2: "pass 2 elaborate", 3: "pass 3 translate",
              4: "pass 4 compile"}


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def write_svg(path, cells, floor_ms, title):
    import math
    groups = [c for c in cells if c.skip is None and c.whole]
    skipped = [c for c in cells if c.skip is not None]
    lo, hi = 0.1, 100_000.0
    vals = [c.p(n) for c in groups for n in (1, 2, 3, 4) if c.p(n)]
    if vals:
        hi = max(hi, 10 ** math.ceil(math.log10(max(vals) * 1.5)))
    dlo, dhi = math.log10(lo), math.log10(hi)

    bar_w, bar_gap, group_gap = 16, 2, 44
    group_w = 4 * (bar_w + bar_gap) - bar_gap
    left, right, top, plot_h = 78, 24, 56, 330
    width = max(640, left + right + len(groups) * (group_w + group_gap) + group_gap)
    legend_y = top + plot_h + 80
    height = legend_y + 34 + 16 * len(skipped)

    def y(v):
        v = max(v, lo)
        return top + plot_h - (math.log10(v) - dlo) / (dhi - dlo) * plot_h

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
         f'font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" '
         f'font-weight="bold">{esc(title)}</text>',
         f'<text x="{width / 2}" y="40" text-anchor="middle" fill="#555">median real ms per '
         f'pass (log scale); dashed line: Kbuild floor</text>']
    # grid and y axis
    d = int(dlo)
    while d <= int(dhi):
        v = 10 ** d
        yy = y(v)
        label = f"{v:g}" if v < 1 else f"{int(v):,}"
        o.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                 f'stroke="#ddd"/>')
        o.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
        d += 1
    o.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>')
    o.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
             f'y2="{top + plot_h}" stroke="#333"/>')
    o.append(f'<text transform="translate(18,{top + plot_h / 2}) rotate(-90)" '
             f'text-anchor="middle">milliseconds</text>')
    # bars
    x = left + group_gap
    for c in groups:
        for n in (1, 2, 3, 4):
            v = c.p(n)
            bx = x + (n - 1) * (bar_w + bar_gap)
            yy = y(v if v else lo)
            o.append(f'<rect x="{bx}" y="{yy:.1f}" width="{bar_w}" '
                     f'height="{top + plot_h - yy:.1f}" fill="{COLORS[n]}">'
                     f'<title>{esc(c.tool)} {esc(c.label)} {PASS_NAMES[n]}: '
                     f'{fmt_ms(v)} ms</title></rect>')
            o.append(f'<text x="{bx + bar_w / 2}" y="{yy - 3:.1f}" text-anchor="middle" '
                     f'font-size="8.5">{fmt_ms(v)}</text>')
        cx = x + group_w / 2
        o.append(f'<text x="{cx}" y="{top + plot_h + 16}" text-anchor="middle" '
                 f'font-weight="bold">{esc(c.tool)}</text>')
        parts = c.label.split("/")
        for k, part in enumerate(parts):
            o.append(f'<text x="{cx}" y="{top + plot_h + 30 + 13 * k}" text-anchor="middle">'
                     f'{esc(part + ("/" if k < len(parts) - 1 else ""))}</text>')
        o.append(f'<text x="{cx}" y="{top + plot_h + 30 + 13 * len(parts)}" '
                 f'text-anchor="middle" fill="#555">-p4 {fmt_s(median(c.whole))} s</text>')
        x += group_w + group_gap
    if floor_ms:
        yy = y(floor_ms)
        o.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                 f'stroke="#000" stroke-dasharray="6,4"/>')
        o.append(f'<text x="{left + 4}" y="{yy - 4:.1f}" text-anchor="start" '
                 f'stroke="white" stroke-width="3" paint-order="stroke">'
                 f'Kbuild floor {floor_ms:,.0f} ms</text>')
    # legend
    lx = left
    for n in (1, 2, 3, 4):
        o.append(f'<rect x="{lx}" y="{legend_y}" width="12" height="12" '
                 f'fill="{COLORS[n]}"/>')
        o.append(f'<text x="{lx + 16}" y="{legend_y + 10}">{PASS_NAMES[n]}</text>')
        lx += 140
    for i, c in enumerate(skipped):
        o.append(f'<text x="{left}" y="{legend_y + 32 + 16 * i}" fill="#a00">skipped: '
                 f'{esc(c.tool)} {esc(c.label)}: {esc((c.skip_short or c.skip).split("; ")[0])}</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


# ---------------------------------------------------------------- main

def _terminate(signum, frame):
    raise SystemExit(f"bench: stopped by signal {signum}")  # runs the cleanup in main()


def main():
    import signal
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--runs", type=int, default=5, help="runs per cell (median)")
    ap.add_argument("-r", "--kver", default=default_kver(), help="target kernel release")
    ap.add_argument("--no-stap", action="store_true", help="skip stap even if installed")
    ap.add_argument("--with-debuginfo", action="store_true",
                    help="apt-get install the kernel's -dbg package (~858 MB) so that "
                         "stap can resolve syscall.* (old_errno)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `cargo build --release` first")
    ap.add_argument("--out", default=RESULTS, help="directory for latest.md and passes.svg")
    ap.add_argument("--no-micro", action="store_true",
                    help="skip the host micro-benchmark of runtime-c/core (bench/micro.py)")
    args = ap.parse_args()
    n_runs = max(1, args.runs)
    kver = args.kver
    kdir = f"/lib/modules/{kver}/build"
    if not os.path.isdir(kdir):
        sys.exit(f"bench: no kernel build directory {kdir}")

    notes = []
    rstapc = os.path.join(REPO, "target", "release", "rstapc")
    if not args.no_build:
        log("bench: cargo build --release")
        rc = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO).returncode
        if rc != 0:
            if not os.access(rstapc, os.X_OK):
                sys.exit("bench: cargo build --release failed and there is no earlier binary")
            built = datetime.datetime.fromtimestamp(os.path.getmtime(rstapc))
            msg = (f"`cargo build --release` failed (exit {rc}); measured the existing "
                   f"target/release/rstapc built {built:%Y-%m-%d %H:%M}.")
            log("bench: warning: " + msg)
            notes.append(msg)
    if not os.access(rstapc, os.X_OK):
        sys.exit(f"bench: {rstapc} missing (drop --no-build)")
    rhelp = subprocess.run([rstapc, "--help"], stdout=subprocess.PIPE, text=True).stdout
    has_cache = "--no-cache" in rhelp

    scripts = [("errno", os.path.join(REPO, "examples", "errno.stp")),
               ("old_errno", os.path.join(REPO, "examples", "old_errno.stp"))]
    acc = os.path.normpath(os.path.join(REPO, "..", "shared", "acceptance"))
    for name in ("errno", "old_errno"):
        p = os.path.join(acc, name + ".stp")
        if os.path.exists(p):
            scripts.append((f"acceptance/{name}", p))

    stap = None if args.no_stap else shutil.which("stap")
    stap_skip = None
    if args.no_stap:
        stap_skip = "--no-stap given"
    elif not stap:
        stap_skip = "stap is not installed (Debian package systemtap)"
    elif not os.path.isdir(STAP_RUNTIME):
        stap_skip = f"stap's runtime {STAP_RUNTIME} is missing"
        stap = None

    dbg_pkg = DBG_PACKAGE.format(kver=kver)
    dbg_installed = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", dbg_pkg], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True).stdout.strip() == "install ok installed"
    if stap and args.with_debuginfo and not dbg_installed:
        log(f"bench: apt-get install -y {dbg_pkg} (~858 MB)")
        rc = subprocess.run(["apt-get", "install", "-y", dbg_pkg]).returncode
        dbg_installed = rc == 0
        if rc != 0:
            notes.append(f"`apt-get install -y {dbg_pkg}` failed (exit {rc}).")

    scratch = tempfile.mkdtemp(prefix="rstap-bench.")
    work = os.path.join(scratch, "cwd")
    os.mkdir(work)
    cells = []
    try:
        env = dict(os.environ)
        cache_env = None
        rflags = ["--no-cache"] if has_cache else []
        runtime = patched_stap_runtime(scratch) if stap else None
        for label, path in scripts:
            mod = "bench_" + re.sub(r"[^a-z0-9_]", "_", label.lower())
            c = Cell("rstapc", label, path, mod)
            c.cmd = [rstapc, "-v", "-p4", "-k", *rflags, "-m", mod, "-r", kver, path]
            cells.append(c)
            c = Cell("stap", label, path, mod)
            c.cmd = [stap or "stap", "-v", "-p4", "-k", "-m", mod, "-r", kver,
                     "-R", runtime or "", path]
            if not stap:
                c.skip = c.skip_short = stap_skip
            cells.append(c)

        # ---- warm-up (untimed): page cache for the headers; stap's tracepoint
        # cache (its first-ever pass 2 builds query modules for tens of seconds).
        log("bench: warm-up, untimed: one Kbuild floor build")
        floor = {"wall": [], "ko": None, "size": None}
        kbuild_floor(kdir, scratch)
        for c in cells:
            if c.skip:
                continue
            if c.tool == "stap":
                log(f"bench: warm-up, untimed: stap -p2 {c.label} "
                    "(the first stap run ever builds its tracepoint cache; slow)")
                t0 = time.perf_counter()
                rc, out, err, _ = run([stap, "-p2", "-m", c.module, "-r", kver, "-R", runtime,
                                       c.script], work)
                took = time.perf_counter() - t0
                if took > 20:
                    notes.append(f"stap's untimed warm-up `-p2` of {c.label} took {took:.0f} s "
                                 "(tracepoint cache built then).")
                if rc != 0:
                    reason = failure_reason(out, err, rc)
                    c.skip = "stap -p2 failed: " + reason
                    c.skip_short = "stap -p2: " + short_reason(reason)
                    if ("debuginfo" in reason or "old_errno" in c.label) and not dbg_installed:
                        c.skip_short = (f"needs kernel debuginfo ({dbg_pkg}, ~858 MB, not "
                                        "installed, --with-debuginfo installs it); "
                                        + c.skip_short)
                        c.skip += (f" [needs kernel debuginfo: {dbg_pkg}, ~858 MB, not "
                                   "installed; run with --with-debuginfo]")
                    log(f"bench: skipping stap {c.label}: {c.skip}")
                for f in os.listdir(work):
                    p = os.path.join(work, f)
                    shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)
            else:
                log(f"bench: warm-up, untimed: rstapc -p4 {c.label}")
                reason = one_build(Cell(c.tool, c.label, c.script, c.module), c.cmd, work, env)
                if reason:
                    c.skip = "rstapc failed: " + reason
                    c.skip_short = "rstapc: " + short_reason(reason)
                    log(f"bench: skipping rstapc {c.label}: {c.skip}")

        # ---- timed rounds, interleaved
        for i in range(n_runs):
            log(f"bench: round {i + 1}/{n_runs}")
            w, ko, sz = kbuild_floor(kdir, scratch)
            floor["wall"].append(w)
            floor["ko"], floor["size"] = ko, sz
            for c in cells:
                if c.skip:
                    continue
                reason = one_build(c, c.cmd, work, env)
                if reason:
                    c.skip = f"{c.tool} failed in round {i + 1}: {reason}"
                    c.skip_short = f"{c.tool} -p4 failed: " + short_reason(reason)
                    log(f"bench: skipping {c.tool} {c.label}: {c.skip}")
                    continue
                log(f"bench:   {c.tool:6} {c.label:22} -p4 {c.whole[-1]:6.2f} s  "
                    f"passes {[c.passes[n][-1] for n in (1, 2, 3, 4)]} ms")
                if c.tool == "rstapc":
                    p3 = [c.cmd[0], "-p3", "-m", c.module, "-r", kver, c.script]
                    rc, _, err, wall = run(p3, work, env)
                    if rc == 0:
                        c.p3_whole.append(wall * 1000)
                    else:
                        notes.append(f"rstapc -p3 {c.label} failed in round {i + 1}: "
                                     + short_reason(failure_reason("", err, rc)))

        # ---- rstapc compile-cache hits, when rstapc has a cache
        if has_cache:
            cache_dir = os.path.join(scratch, "xdg-cache")
            cache_env = dict(env, XDG_CACHE_HOME=cache_dir)
            for c in cells:
                if c.tool != "rstapc" or c.skip:
                    continue
                cmd = [x for x in c.cmd if x not in ("--no-cache", "-k")]
                run(cmd, work, cache_env)  # fills the cache
                for _ in range(n_runs):
                    rc, out, err, wall = run(cmd, work, cache_env)
                    if rc == 0:
                        c.cache_hit.append(wall * 1000)
                    for f in os.listdir(work):
                        p = os.path.join(work, f)
                        shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)
                    kept = KEEP_RE.search(err)
                    if kept:
                        shutil.rmtree(kept.group(1), ignore_errors=True)
        else:
            for c in cells:
                if c.tool == "rstapc":
                    c.cache_note = "rstapc has no compile cache (no --no-cache flag)"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if stap:
            shutil.rmtree(STAP_RUNTIME_COPY, ignore_errors=True)

    micro_res = None
    if not args.no_micro:
        import micro
        log("bench: runtime-c/core per-event micro-benchmark (bench/micro.py)")
        micro_res = micro.measure()

    floor_s = median(floor["wall"])
    floor_ms = floor_s * 1000 if floor_s else None
    report = render(cells, floor, floor_ms, n_runs, kver, stap, has_cache, notes, dbg_installed,
                    micro_res)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(report)
    write_svg(os.path.join(args.out, "passes.svg"), cells, floor_ms,
              f"Per-pass build times, rstapc vs stap 4.8 (kernel {kver}, median of {n_runs})")
    print(report)
    log(f"bench: wrote {os.path.join(args.out, 'latest.md')} and "
        f"{os.path.join(args.out, 'passes.svg')}")


def render(cells, floor, floor_ms, n_runs, kver, stap, has_cache, notes, dbg_installed,
           micro_res=None):
    by = {(c.tool, c.label): c for c in cells}
    out = []
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.+)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    stap_v = ""
    if stap:
        stap_v = subprocess.run([stap, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True).stdout.splitlines()[0]
    out.append(f"# rstap build benchmark ({datetime.datetime.now():%Y-%m-%d %H:%M})\n")
    out.append(f"Host: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), running kernel "
               f"{platform.release()}; target kernel {kver}. {stap_v or 'stap: not used'}.")
    out.append(f"Every figure is the median of {n_runs} runs, interleaved round by round "
               "(untimed warm-up first: one Kbuild floor build, one `rstapc -p4` per script, "
               "one `stap -p2` per script, which builds stap's tracepoint cache on a first-ever "
               "run). Pass times are the `real` ms that `-v` prints; whole `-p4` is the "
               "command's wall time. stap runs with `-R` on a temp copy of its runtime with "
               "the `task_work_cancel_func` patch from ANCHORS.md.\n")
    hdr = ("| tool | script | pass 1 ms | pass 2 ms | pass 3 ms | pass 4 ms | passes 1-3 ms "
           "| whole -p4 s | `_src.c` bytes | `.ko` bytes | size text+data+bss "
           "| pass 4 / floor | whole -p4 rstapc / stap |")
    out.append(hdr)
    out.append("|" + "---|" * 13)
    for c in cells:
        if c.skip:
            out.append(f"| {c.tool} | {c.label} | skipped: {c.skip_short or c.skip} |"
                       + " |" * 10)
            continue
        p4 = c.p(4)
        r_floor = p4 / floor_ms if p4 is not None and floor_ms else None
        other = by.get(("stap", c.label))
        vs = None
        if c.tool == "rstapc" and other and not other.skip and other.whole:
            vs = median(c.whole) / median(other.whole)
        vs_s = fmt_ratio(vs) if c.tool == "rstapc" else ""
        if c.tool == "rstapc" and vs is None:
            vs_s = "– (stap skipped)"
        out.append(f"| {c.tool} | {c.label} | {fmt_ms(c.p(1))} | {fmt_ms(c.p(2))} | "
                   f"{fmt_ms(c.p(3))} | {fmt_ms(p4)} | {fmt_ms(c.p123())} | "
                   f"{fmt_s(median(c.whole))} | {fmt_int(c.src)} | {fmt_int(c.ko)} | "
                   f"{fmt_int(c.size)} | {fmt_ratio(r_floor)} | {vs_s} |")
    out.append(f"| Kbuild floor | hello.c (one function) | | | | | | {fmt_s(median(floor['wall']))} "
               f"| | {fmt_int(floor['ko'])} | {fmt_int(floor['size'])} | 1 | |")

    # targets check
    out.append("\n## Issue 7 targets, checked against this run\n")
    out.append("| script | figure | target | measured | |")
    out.append("|---|---|---|---|---|")
    for c in cells:
        if c.tool != "rstapc":
            continue
        t = TARGETS_OLD if "old_errno" in c.label else TARGETS_ERRNO
        if c.skip:
            out.append(f"| {c.label} | all | | skipped: {c.skip_short or c.skip} | n/a |")
            continue
        p123 = c.p123()
        out.append(f"| {c.label} | passes 1-3, rstapc | <= {t['p123']} ms | "
                   f"{fmt_ms(p123)} ms | {check(p123, t['p123'])} |")
        whole3 = median(c.p3_whole) if c.p3_whole else None
        out.append(f"| {c.label} | whole `rstapc -p3` process | <= {t['p3_whole']} ms | "
                   f"{fmt_ms(whole3)} ms | {check(whole3, t['p3_whole'])} |")
        r = c.p(4) / floor_ms if floor_ms else None
        out.append(f"| {c.label} | pass 4 / Kbuild floor | <= {t['p4_floor']} | "
                   f"{fmt_ratio(r)} | {check(r, t['p4_floor'])} |")
        other = by.get(("stap", c.label))
        if other and not other.skip and other.whole:
            vs = median(c.whole) / median(other.whole)
            out.append(f"| {c.label} | whole -p4 vs stap's | <= 1/{round(1 / t['vs_stap'])} | "
                       f"{fmt_ratio(vs)} | {check(vs, t['vs_stap'])} |")
        else:
            why = (other.skip_short or other.skip) if other else "stap not measured"
            out.append(f"| {c.label} | whole -p4 vs stap's | <= 1/{round(1 / t['vs_stap'])} | "
                       f"– (stap cell skipped: {why}) | n/a |")
        out.append(f"| {c.label} | `_src.c` bytes | <= {t['src']:,} | {fmt_int(c.src)} | "
                   f"{check(c.src, t['src'])} |")
        out.append(f"| {c.label} | `.ko` text+data+bss | <= {t['size']:,} | {fmt_int(c.size)} | "
                   f"{check(c.size, t['size'])} |")
        if c.cache_hit:
            ch = median(c.cache_hit)
            out.append(f"| {c.label} | cache hit, whole -p4 | <= {t['cache']} ms | "
                       f"{fmt_ms(ch)} ms | {check(ch, t['cache'])} |")
        else:
            out.append(f"| {c.label} | cache hit, whole -p4 | <= {t['cache']} ms | – "
                       f"({c.cache_note or 'no successful cache-hit run'}) | n/a |")
    if micro_res:
        for e in ("map", "printf"):
            ns = micro_res["ns"].get(e)
            what = "3-key map `<<<`" if e == "map" else "5-field printf"
            out.append(f"| errno | per-event core cost (host), {what} | <= 100 ns | "
                       + (f"{ns[0]:.1f} ns | {check(ns[0], 100)} |" if ns else "– | n/a |"))
    else:
        out.append("| errno | per-event core cost (host) | <= 100 ns | – (--no-micro given) "
                   "| n/a |")
    if micro_res:
        import micro
        out.append("\n## runtime-c/core per-event cost (host, `bench/micro.py`)\n")
        out.append(f"Median of {micro_res['runs']} runs of {micro_res['events_m']}M events, "
                   "thread CPU time; Ir/event from callgrind over "
                   f"{micro_res['cg_events']:,} events minus a 0-event run.\n")
        out.append("| event | what | ns/event (CPU) | ns/event (wall) | Ir/event | target | |")
        out.append("|---|---|---|---|---|---|---|")
        out.extend(micro.rows(micro_res))

    skipped = [c for c in cells if c.skip]
    out.append("\n## Skipped cells\n")
    if skipped:
        for c in skipped:
            out.append(f"- {c.tool} × {c.label}: {c.skip}")
    else:
        out.append("- none")
    if notes:
        out.append("\n## Notes\n")
        for n in notes:
            out.append(f"- {n}")
    if not dbg_installed:
        out.append(f"\n(Kernel debuginfo `{DBG_PACKAGE.format(kver=kver)}` is not installed; "
                   "`python3 bench/run.py --with-debuginfo` installs it so that stap can build "
                   "old_errno.)")
    out.append("\nChart: `passes.svg` beside this file.")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
