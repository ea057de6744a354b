#!/usr/bin/env python3
"""Host micro-benchmark of runtime-c/core's per-event cost (issue 7).

Two events, each the runtime calls a generated probe body makes (bench/micro/core_bench.c):

  map     failures[pid, errno, name] <<< 1    (3-key map update + statistics add)
  printf  printf("%d %s %s %d %d\\n", ...)     (5 fields into the context's rs_buf)

For each it reports:
  * ns/event: the median of R runs of N million events (`cargo bench --bench core`), timed
    by the thread's CPU time, the process pinned to one CPU when taskset exists;
  * Ir/event: instructions counted by valgrind's callgrind over a run of exactly C events,
    minus a run of 0 events (so setup is excluded), divided by C.

Writes bench/results/micro.md and prints the same table. Target (issue 7): <= 100 ns/event.
Python 3 standard library only; needs cargo, and valgrind for the Ir column
(apt-get install -y valgrind; without it the column says so and the rest still runs).

  python3 bench/micro.py                  # 11 runs of 5M events, callgrind over 200k
  python3 bench/micro.py --runs 21 --events 10 --callgrind-events 1000000
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
RESULTS = os.path.join(BENCH_DIR, "results")
EVENTS = ("map", "printf")
TARGET_NS = 100
LINE_RE = re.compile(r"^(map|printf): ([0-9.]+) ns/event .*wall-clock median ([0-9.]+)\)", re.M)
COLLECTED_RE = re.compile(r"Collected\s*:\s*(\d+)")
NO_VALGRIND = "valgrind is not installed (apt-get install -y valgrind)"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build():
    """Builds the bench target; returns the path of its executable."""
    log("micro: cargo bench --bench core --no-run")
    p = subprocess.run(["cargo", "bench", "--bench", "core", "--no-run",
                        "--message-format=json-render-diagnostics"],
                       cwd=REPO, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"micro: building the bench failed (exit {p.returncode})")
    exe = None
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        t = msg.get("target") or {}
        if msg.get("reason") == "compiler-artifact" and "bench" in t.get("kind", []) \
                and t.get("name") == "core" and msg.get("executable"):
            exe = msg["executable"]
    if not exe:
        sys.exit("micro: cargo did not report the bench executable")
    return exe


def timed(exe, events_m, runs):
    """{event: (cpu ns median, wall ns median)} from the harness's timed mode."""
    cmd = [exe, "--events", str(events_m), "--runs", str(runs)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(os.cpu_count() - 1 if os.cpu_count() else 0)] + cmd
    log("micro: " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"micro: the bench failed (exit {p.returncode})")
    sys.stderr.write(p.stdout)
    return {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in LINE_RE.finditer(p.stdout)}


def callgrind_ir(exe, event, n, scratch):
    """Instructions of `exe --count event n` under callgrind."""
    out = os.path.join(scratch, f"callgrind.{event}.{n}.out")
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        exe, "--count", event, str(n)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = COLLECTED_RE.search(p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"callgrind failed (exit {p.returncode}): {p.stderr[-300:]}")
    return int(m.group(1))


def instructions(exe, n):
    """{event: Ir per event} or a string saying why there is none."""
    if not shutil.which("valgrind"):
        log("micro: " + NO_VALGRIND + "; Ir/event is not measured")
        return NO_VALGRIND
    scratch = tempfile.mkdtemp(prefix="rstap-micro.")
    try:
        res = {}
        for e in EVENTS:
            log(f"micro: valgrind --tool=callgrind {os.path.basename(exe)} --count {e} 0 / {n}")
            base = callgrind_ir(exe, e, 0, scratch)
            full = callgrind_ir(exe, e, n, scratch)
            res[e] = (full - base) / n
        return res
    except (RuntimeError, OSError) as err:
        return str(err)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(events_m=5, runs=11, cg_events=200_000, exe=None):
    """Runs everything; returns a dict for render() and bench/run.py."""
    exe = exe or build()
    return {"ns": timed(exe, events_m, runs), "ir": instructions(exe, cg_events),
            "events_m": events_m, "runs": runs, "cg_events": cg_events}


DESCRIPTIONS = {
    "map": "`failures[pid, errno, name] <<< 1`: 3-key map update + stats add",
    "printf": '`printf("%d %s %s %d %d\\n", ...)`: 5 fields into the rs_buf',
}


def rows(res):
    """Markdown rows: event | ns/event | wall ns | Ir/event | target | check."""
    out = []
    for e in EVENTS:
        ns = res["ns"].get(e)
        ir = res["ir"].get(e) if isinstance(res["ir"], dict) else None
        ir_s = f"{ir:,.0f}" if ir is not None else f"– ({res['ir']})"
        if ns is None:
            out.append(f"| {e} | {DESCRIPTIONS[e]} | – (not measured) | | {ir_s} "
                       f"| <= {TARGET_NS} ns | n/a |")
            continue
        ok = "met" if ns[0] <= TARGET_NS else "NOT met"
        out.append(f"| {e} | {DESCRIPTIONS[e]} | {ns[0]:.1f} | {ns[1]:.1f} | {ir_s} "
                   f"| <= {TARGET_NS} ns | {ok} |")
    return out


def render(res):
    lines = [f"# runtime-c/core per-event cost, host ({datetime.datetime.now():%Y-%m-%d %H:%M})\n",
             f"ns/event: median of {res['runs']} runs of {res['events_m']}M events, thread CPU "
             "time (wall-clock median beside it). Ir/event: callgrind instructions of "
             f"{res['cg_events']:,} events minus a 0-event run, divided by {res['cg_events']:,}. "
             "Command: `python3 bench/micro.py`.\n",
             "| event | what | ns/event (CPU) | ns/event (wall) | Ir/event | target | |",
             "|---|---|---|---|---|---|---|"]
    lines += rows(res)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5, help="millions of events per timed run")
    ap.add_argument("--runs", type=int, default=11, help="timed runs per event (median)")
    ap.add_argument("--callgrind-events", type=int, default=200_000,
                    help="events in the callgrind run")
    ap.add_argument("--out", default=RESULTS, help="directory for micro.md")
    args = ap.parse_args()
    res = measure(max(1, args.events), max(1, args.runs), max(1, args.callgrind_events))
    report = render(res)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "micro.md")
    with open(path, "w") as f:
        f.write(report)
    print(report)
    log(f"micro: wrote {path}")


if __name__ == "__main__":
    main()
