"""Run the four benchmarks, one after the other, each in its own process, and sum them up.

  tracing_overhead  traced calls/s against the same server with tracing off  (target: <= 15%)
  vs_moto           simulator (traced) calls/s against moto's S3 server       (target: >= 3x)
  list_traces       ListTraces p99 at a million stored traces                (target: < 5 ms)
  generate          generate jsonl traces/s, and peak memory at 10M traces   (>= 50k/s, < 300 MB)

Each writes bench/results/NAME.json; this prints a summary of the targets from those files.
The exit status is 1 when a benchmark fails to run; a missed target is reported, not an error
(--strict makes it one).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [--strict] [--wait-quiet 600]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import wait_until_quiet

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
ORDER = ("tracing_overhead", "durability", "vs_moto", "list_traces", "generate")
QUICK = {  # a smoke run: the same code paths, small sizes, figures not meaningful
    "tracing_overhead": ["--rounds", "1", "--seconds", "2", "--warmup", "0.5"],
    "durability": ["--rounds", "1", "--seconds", "2", "--warmup", "0.5"],
    "vs_moto": ["--rounds", "1", "--seconds", "2", "--warmup", "0.5"],
    "list_traces": ["--count", "20000", "--iterations", "50", "--http-iterations", "10",
                    "--scan-iterations", "1"],
    "generate": ["--traces", "20000", "--baseline", "2000", "--memory", "20000"],
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p.add_argument("--only", nargs="+", choices=ORDER, help="run only these")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                   help="before each benchmark, wait up to this long for the machine to be idle")
    return p.parse_args(argv)


def run_one(name: str, quick: bool, wait_quiet: float) -> tuple[bool, float]:
    print("=" * 100)
    print("%s" % name, flush=True)
    if wait_quiet:
        wait_until_quiet(wait_quiet)
    cmd = [sys.executable, str(BENCH / (name + ".py"))] + (QUICK[name] if quick else [])
    t = time.perf_counter()
    code = subprocess.call(cmd, cwd=BENCH.parent)
    return code == 0, time.perf_counter() - t


def summary_line(name: str) -> tuple[str, bool | None]:
    path = RESULTS / (name + ".json")
    data = json.loads(path.read_text())
    goal = data["target"]
    if name == "tracing_overhead":
        text = "; ".join("%s clients: tracing costs %.1f%% of calls/s%s" % (
            client, judged["overhead_pct"],
            "" if judged["servers_saturated"] else " (client-bound, not judged)")
            for client, judged in goal["by_client"].items())
        text += " (limit %.0f%%)" % goal["max_overhead_pct"]
    elif name == "vs_moto":
        text = "; ".join("%s clients: simulator %.0f vs moto %.0f calls/s = %.2fx%s" % (
            client, data["runs"][client]["simulator"]["calls_per_s"],
            data["runs"][client]["moto"]["calls_per_s"], judged["ratio"],
            "" if judged["servers_saturated"] else " (client-bound, not judged)")
            for client, judged in goal["by_client"].items())
        text += " (need %.0fx)" % goal["min_ratio"]
    elif name == "generate":
        text = "%.0f traces/s jsonl (need %d; %.1fx the naive Faker baseline), peak %s MB at " \
               "%s traces (limit %d MB at 10M)" % (
                   goal["rate"], goal["min_rate"], goal["ratio_to_baseline"],
                   "%.0f" % goal["peak_mb_at_largest"] if goal["largest"] else "-",
                   goal["largest"], goal["max_peak_mb"])
    else:
        text = "worst p99 %.2f ms (%s), limit %.0f ms, at %d traces" % (
            goal["worst_p99_ms"], goal["worst_shape"], goal["max_p99_ms"],
            data["config"]["count"])
        if goal["missed_shapes"]:
            text += "; over the limit: " + ", ".join(goal["missed_shapes"])
    disturbed = disturbed_parts(data)
    if disturbed:
        text += " [%s measured while other work ran: less reliable]" % disturbed
    return text, goal.get("met")


def disturbed_parts(data: dict) -> str:
    """What was measured while other work ran on the machine (after the retries)."""
    if "shapes" in data:
        n = sum(1 for row in data["shapes"] if row.get("disturbed"))
        return "%d query shape%s" % (n, "s" * (n != 1)) if n else ""
    n = sum(part.get("disturbed_windows", 0) for run in data.get("runs", {}).values()
            for part in run.values() if isinstance(part, dict))
    return "%d window%s" % (n, "s" * (n != 1)) if n else ""


def main(argv=None) -> int:
    args = parse_args(argv)
    names = [n for n in ORDER if not args.only or n in args.only]
    outcomes = {name: run_one(name, args.quick, args.wait_quiet) for name in names}
    print("=" * 100)
    print("SUMMARY%s" % (" (--quick: sizes too small for the targets)" if args.quick else ""))
    failed = missed = False
    for name in names:
        ok, seconds = outcomes[name]
        if not ok:
            failed = True
            print("  %-17s FAILED to run (%.0f s)" % (name, seconds))
            continue
        text, met = summary_line(name)
        missed |= met is False
        print("  %-17s %-6s %s (%.0f s)" % (
            name, {True: "MET", False: "MISSED", None: "NOT MEASURED"}[met], text, seconds))
    print("details: bench/results/*.json, docs/performance.md")
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
