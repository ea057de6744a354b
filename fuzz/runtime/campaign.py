#!/usr/bin/env python3
"""Runtime fuzz campaign (issue 11): generated scripts built with rstapc and run in the VM.

    python3 fuzz/runtime/campaign.py -n 520 --seed 1 [-r KVER] [--batch 130] [--work DIR]

1. Generates N scripts with fuzz/runtime/rtgen.py (deterministic from --seed).
2. `rstapc -p2` on each: a script rstapc rejects is counted as rejected and not run.
3. `rstapc -p4 -m NAME -r KVER` on the host, two at a time (nice 10); the .ko files stay in
   the work directory. A -p4 failure after -p2 passed is a finding (a limit check of pass 3
   or 4 refusing the script, with its message, is counted separately as refused).
4. Boots the VM through scripts/vm-run.sh (so with its kernel command line: slub_debug=FZPU
   page_poison=1 and the short lockup / hung-task thresholds, rstap::vm::KERNEL_DEBUG_ARGS)
   and runs the modules one after another with rstaprun, --batch of them per boot. While a
   module runs the guest reads its procfs files and makes system calls, so every probe can
   fire. Per module it records the exit status, the output, the run time, whether the module
   is still loaded, and the guest kernel log since the previous module, checked with
   rstap::vm::KLOG_PROBLEMS (read from scripts/vm-run.sh, which tests/vm_scripts.rs keeps
   equal to src/vm.rs). A guest that dies or hangs is reported with the module it was
   running, and the rest of its batch runs in a new boot.
5. Prints the figures and writes WORK/report.txt with the failing scripts.

A run fails when rstaprun's status is not 0, unless it is 1 with every `ERROR:` line one
the script declared it may raise (`# fuzz-rt: may-error:`), or when it ended in less than
0.5 s without such an error. Kernel warnings must be 0.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import rtgen  # noqa: E402

VM_RUN = os.path.join(ROOT, "scripts", "vm-run.sh")


def klog_problems():
    with open(VM_RUN) as f:
        m = re.search(r"^KLOG_PROBLEMS='([^']*)'", f.read(), re.M)
    return m.group(1)


def directives(text):
    d = {}
    for line in text.splitlines():
        m = re.match(r"# fuzz-rt: ([a-z-]+): ?(.*)$", line)
        if m:
            d[m.group(1)] = m.group(2).strip()
    return d


# Run-time error messages, by the name the generator uses in may-error.
ERROR_KINDS = {
    "MAXACTION": r"MAXACTION exceeded",
    "MAXNESTING": r"MAXNESTING exceeded",
    "Array overflow": r"Array overflow",
    "empty aggregate": r"empty aggregate",
}
# Run-time errors of a limit: rstap stopping a script at MAXACTION and the like is correct
# behaviour; when the generator did not predict one it is counted apart ("unpredicted
# limit errors", each worth a look), not as a failed run.
LIMIT_ERRORS = re.compile(r"MAXACTION exceeded|MAXNESTING exceeded|Array overflow|empty aggregate|"
                          r"Skipped too many probes|division by zero")

# pass 3/4 refusals of a limit, by design (with the figure), not build failures
REFUSALS = re.compile(r"per CPU|MiB|kernel stack|KB of stack|MAXACTION x|exceeds|too large|budget", re.I)


def find_bins(args):
    tgt = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    rstapc = args.rstapc or os.path.join(tgt, "release", "rstapc")
    rstaprun = args.rstaprun or os.path.join(tgt, "release", "rstaprun")
    for b in (rstapc, rstaprun):
        if not os.access(b, os.X_OK):
            sys.exit(f"campaign: {b} missing: cargo build --release (or --rstapc/--rstaprun)")
    return rstapc, rstaprun


def build_one(rstapc, kver, work, name):
    stp = os.path.join(work, name + ".stp")
    text = open(stp).read()
    cargs = directives(text).get("compile-args", "").split()
    p2 = subprocess.run([rstapc, "-p2", "-r", kver] + cargs + [stp], capture_output=True, text=True)
    if p2.returncode != 0:
        return name, "rejected", p2.stderr
    t = time.time()
    p4 = subprocess.run(["nice", "-n", "10", rstapc, "-p4", "-m", name, "-r", kver] + cargs + [stp],
                        capture_output=True, text=True, cwd=work)
    if p4.returncode != 0:
        kind = "refused" if REFUSALS.search(p4.stderr) and "error:" not in p4.stderr.replace("error: ", "", 1) else "buildfail"
        return name, kind, p4.stderr
    return name, "built", f"{time.time() - t:.1f}"


def guest_script(names, work, res, rstaprun, klog):
    s = ["cd /", "dmesg -c >/dev/null"]
    for n in names:
        d = directives(open(os.path.join(work, n + ".stp")).read())
        files = d.get("procfs", "").split()
        r = os.path.join(res, n)
        reads = "".join(f" cat /proc/rstap_{n}/{f} >/dev/null 2>&1;" for f in files)
        s.append(f"echo 'fuzz-rt start {n}' >&2")
        s.append(f"t0=$(date +%s%N); timeout 60 {rstaprun} {work}/{n}.ko > {r}.out 2> {r}.err & rpid=$!")
        # let the module start, then exercise it: procfs reads and system calls
        s.append(f"k=0; until grep -qs running /proc/rstap_{n}/ctl || [ $k -ge 100 ] || ! kill -0 $rpid 2>/dev/null; do sleep 0.05; k=$((k+1)); done")
        s.append(f"k=0; while kill -0 $rpid 2>/dev/null && [ $k -lt 40 ]; do{reads} ls / >/dev/null; cat /proc/self/stat >/dev/null; sleep 0.05; k=$((k+1)); done")
        s.append(f"wait $rpid; echo $? > {r}.rc; echo $(( ($(date +%s%N) - t0) / 1000000 )) > {r}.ms")
        s.append(f"if grep -q '^{n} ' /proc/modules; then echo loaded > {r}.loaded; rmmod {n}; fi")
        s.append(f"dmesg -c > {r}.dmesg; grep -E '{klog}' < {r}.dmesg > {r}.klog")
    s.append("exit 0")
    return "\n".join(s) + "\n"


def run_batch(names, work, res, rstaprun, kver, klog, timeout):
    gs = os.path.join(work, f"guest_{names[0]}.sh")
    with open(gs, "w") as f:
        f.write(guest_script(names, work, res, rstaprun, klog))
    cmd = [VM_RUN, "--rwdir", res, "--kernel", kver, "--timeout", str(timeout), "--", "sh", gs]
    env = dict(os.environ, PATH="/opt/rstap/venv/bin:" + os.environ.get("PATH", ""))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    started = re.findall(r"fuzz-rt start (\S+)", p.stderr)
    return p.returncode, started, p.stderr


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def judge(name, work, res):
    """(verdict, detail) of one run: ok, script-error, failed, short, warning, nostatus."""
    r = os.path.join(res, name)
    rc = read(r + ".rc")
    klog = read(r + ".klog") or ""
    if klog.strip():
        return "warning", klog
    if rc is None:
        return "nostatus", ""
    rc = int(rc.strip() or -1)
    err = read(r + ".err") or ""
    ms = int((read(r + ".ms") or "0").strip() or 0)
    if read(r + ".loaded"):
        return "failed", "module still loaded after rstaprun ended"
    may = directives(open(os.path.join(work, name + ".stp")).read()).get("may-error", "")
    kinds = [k.strip() for k in may.split("|") if k.strip()]
    errors = [l for l in err.splitlines() if l.startswith("ERROR:")]
    if rc == 0:
        return ("ok", "") if ms >= 500 else ("short", f"{ms} ms")
    if rc == 1 and errors and all(any(re.search(ERROR_KINDS.get(k, re.escape(k)), l) for k in kinds) for l in errors):
        return "script-error", errors[0]
    if rc == 1 and errors and all(LIMIT_ERRORS.search(l) for l in errors):
        return "limit-error", errors[0]
    return "failed", f"rc={rc} {ms} ms\n{err[-2000:]}"


def main():
    ap = argparse.ArgumentParser(description="rstap runtime fuzz campaign (issue 11)")
    ap.add_argument("-n", type=int, default=520, help="scripts to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-r", "--kernel", default=None, help="kernel release (default: newest plain 6.1)")
    ap.add_argument("--batch", type=int, default=130, help="modules per VM boot")
    ap.add_argument("--work", default=None, help="work directory (default /tmp/rstap-fuzzrt-SEED-KVER)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rstapc")
    ap.add_argument("--rstaprun")
    ap.add_argument("--skip-build", action="store_true", help="reuse the .ko files already in --work")
    ap.add_argument("--only", help="with --skip-build: a file naming the scripts to build again and run")
    ap.add_argument("--build-only", action="store_true", help="generate and build, no VM (then --skip-build)")
    ap.add_argument("--judge-only", action="store_true",
                    help="no build, no VM: the figures of the results already in --work")
    args = ap.parse_args()
    rstapc, rstaprun = find_bins(args)
    kver = args.kernel
    if not kver:
        kvers = sorted(v for v in os.listdir("/lib/modules") if v.startswith("6.1.") and "-rt-" not in v
                       and "cloud" not in v and os.path.exists(f"/boot/vmlinuz-{v}"))
        if not kvers:
            sys.exit("campaign: no bootable 6.1 kernel: give -r KVER")
        kver = kvers[-1]
    work = args.work or f"/tmp/rstap-fuzzrt-{args.seed}-{kver}"
    res = os.path.join(work, "res")
    os.makedirs(res, exist_ok=True)
    klog = klog_problems()
    t_start = time.time()

    names = [f"fz_{args.seed}_{i}" for i in range(args.n)]
    for i, n in enumerate(names):
        if args.judge_only or args.skip_build or args.only:
            break  # the scripts of the earlier run, as they were built
        with open(os.path.join(work, n + ".stp"), "w") as f:
            f.write(rtgen.generate(args.seed * 1_000_003 + i))
    print(f"campaign: {len(names)} scripts generated in {work}, kernel {kver}", flush=True)

    builds = {}
    builds_file = os.path.join(work, "builds.json")
    if args.only:
        # rebuild the named scripts (as they are in --work) with this rstapc, run only them
        names = open(args.only).read().split()
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            for n, kind, detail in ex.map(lambda n: build_one(rstapc, kver, work, n), names):
                builds[n] = (kind, detail)
    elif args.judge_only or args.skip_build:
        with open(builds_file) as f:
            builds = {n: tuple(v) for n, v in json.load(f).items()}
    else:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            for k, (n, kind, detail) in enumerate(ex.map(lambda n: build_one(rstapc, kver, work, n), names)):
                builds[n] = (kind, detail)
                if (k + 1) % 50 == 0:
                    print(f"campaign: built {k + 1}/{len(names)} ({time.time() - t_start:.0f} s)", flush=True)
        with open(builds_file, "w") as f:
            json.dump(builds, f)
    t_built = time.time()
    built = [n for n in names if builds[n][0] == "built"]
    if args.build_only:
        print(f"campaign: {len(built)} of {len(names)} built in {t_built - t_start:.0f} s; run them with --skip-build")
        return 0

    # run, batch by batch; a guest that dies leaves the rest of its batch for a new boot
    crashed = []
    todo = [] if args.judge_only else list(built)
    boots = 0
    while todo:
        batch, todo = todo[:args.batch], todo[args.batch:]
        for n in batch:
            for ext in (".rc", ".klog", ".loaded", ".out", ".err", ".ms", ".dmesg"):
                p = os.path.join(res, n + ext)
                if os.path.exists(p):
                    os.remove(p)
        boots += 1
        rc, started, stderr = run_batch(batch, work, res, rstaprun, kver, klog,
                                        timeout=120 + 20 * len(batch))
        print(f"campaign: boot {boots}: {len(batch)} modules, vm-run status {rc} ({time.time() - t_start:.0f} s)", flush=True)
        unfinished = [n for n in batch if read(os.path.join(res, n + ".rc")) is None]
        if unfinished:
            culprit = unfinished[0]
            crashed.append((culprit, rc, stderr[-4000:]))
            print(f"campaign: the guest ended while {culprit} ran (status {rc}); {len(unfinished) - 1} to rerun", flush=True)
            todo = unfinished[1:] + todo
        elif rc not in (0,):
            # vm-run.sh found a problem in the final kernel log, or another failure
            crashed.append(("(after the batch)", rc, stderr[-4000:]))
    t_run = time.time()

    verdicts = {n: judge(n, work, res) for n in built}
    count = lambda v: sum(1 for x in verdicts.values() if x[0] == v)
    gen = len(names)
    rejected = sum(1 for n in names if builds[n][0] == "rejected")
    refused = sum(1 for n in names if builds[n][0] == "refused")
    buildfail = sum(1 for n in names if builds[n][0] == "buildfail")
    ran = sum(1 for v in verdicts.values() if v[0] != "nostatus")
    output = sum(1 for n in built if (read(os.path.join(res, n + ".out")) or "").strip())
    warnings = count("warning") + sum(1 for c in crashed if c[0] != "(after the batch)" or c[1] == 125)
    lines = [
        f"kernel {kver}, seed {args.seed}, {boots} VM boot(s), wall time {t_run - t_start:.0f} s "
        f"(build {t_built - t_start:.0f} s, VM {t_run - t_built:.0f} s)",
        f"generated {gen}, rejected by rstapc -p2 {rejected}, refused by a pass 3/4 limit check {refused}, "
        f"build failures {buildfail}, built {len(built)}",
        f"run {ran} (output from {output}), ok {count('ok')}, script-intended run-time errors {count('script-error')}, "
        f"unpredicted limit errors {count('limit-error')}, "
        f"failed {count('failed') + count('short')} (of them shorter than 0.5 s: {count('short')}), "
        f"guest died or hung {len(crashed)}, kernel warnings {warnings}",
    ]
    report = ["\n".join(lines), ""]
    for n in names:
        kind, detail = builds[n]
        if kind in ("rejected", "refused", "buildfail"):
            # the diagnostics without the warnings
            keep, on = [], False
            for line in detail.splitlines():
                if line.startswith(("error", "rstapc:")):
                    on = True
                elif line.startswith("warning"):
                    on = False
                if on:
                    keep.append(line)
            report.append(f"== {n}: {kind}\n" + "\n".join(keep)[:3000] + "\n")
    for n, (v, detail) in verdicts.items():
        if v not in ("ok", "script-error"):  # limit errors too: each worth a look
            report.append(f"== {n}: {v}\n{detail.strip()[:4000]}\n")
    for n, rc, stderr in crashed:
        report.append(f"== guest ended while {n} ran: status {rc}\n{stderr}\n")
    with open(os.path.join(work, "report.txt"), "w") as f:
        f.write("\n".join(report))
    print("\n".join(lines))
    print(f"campaign: details in {work}/report.txt")
    return 0 if warnings == 0 and not crashed and buildfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
