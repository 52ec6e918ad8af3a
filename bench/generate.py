"""How fast `modelarts-sim generate` writes JSONL, and how much memory it needs.

Targets (docs/performance.md): at least 50,000 traces per second on one core for jsonl, and a
peak under 300 MB for ten million traces. In the same run it times a naive baseline: records
built field by field from Faker calls (a fake trace with no simulator behind it) and written
as JSONL, and prints our rate as a ratio of it.

Throughput runs in this process (one core: the generator is single-threaded); each memory run
is a fresh process whose peak RSS (ru_maxrss) is read when it ends, for several sizes, so
flatness shows as the same peak at every size.

    .venv/bin/python bench/generate.py [--traces 1000000] [--memory 100000,1000000,10000000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from _common import write_results  # noqa: E402

MIN_RATE = 50_000
MAX_PEAK_MB = 300


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--traces", type=int, default=1_000_000, help="traces for the rate run")
    p.add_argument("--days", type=float, default=7)
    p.add_argument("--teams", type=int, default=3)
    p.add_argument("--baseline", type=int, default=20_000, help="records the baseline builds")
    p.add_argument("--memory", default="100000,1000000,10000000",
                   help="trace counts of the memory runs (comma list; empty: none)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_generate(traces: int, days: float, teams: int, out: Path) -> tuple[int, float, float]:
    from simulator.generate import Options, generate
    from simulator.generate.command import parse_start
    opts = Options(days=days, teams=teams, seed=1, start_ms=parse_start("2026-11-02"),
                   out=out, traces=traces)
    wall, cpu = time.perf_counter(), time.process_time()
    result = generate(opts)
    return result.summary.total, time.perf_counter() - wall, time.process_time() - cpu


def naive_baseline(count: int, out: Path) -> float:
    """Seconds to build and write `count` records with Faker calls per field."""
    from faker import Faker
    fake = Faker()
    fake.seed_instance(1)
    names = ("createNotebook", "deleteNotebook", "CreateJobV2", "createDataset", "addModel")
    t = time.perf_counter()
    with open(out, "wb") as fh:
        for _ in range(count):
            when = int(fake.unix_time() * 1000)
            record = {
                "trace_id": fake.uuid4(), "trace_name": fake.random_element(names),
                "trace_rating": fake.random_element(("normal", "warning")),
                "trace_type": "ApiCall", "service_type": "ModelArts",
                "resource_type": fake.random_element(("Notebook", "JobV2", "dataset")),
                "resource_id": fake.uuid4(), "resource_name": fake.slug(),
                "time": when, "record_time": when + fake.random_int(0, 900),
                "request": orjson.dumps({"name": fake.slug(), "description":
                                         fake.sentence()}).decode(),
                "response": orjson.dumps({"id": fake.uuid4(), "status": "CREATING"}).decode(),
                "code": fake.random_element(("200", "201", "400")), "api_version": "v1",
                "message": None, "source_ip": fake.ipv4_public(), "request_id": fake.md5(),
                "location_info": None, "endpoint": None, "resource_url": None,
                "user": {"id": fake.md5(), "name": fake.user_name(),
                         "domain": {"id": fake.md5(), "name": fake.company()},
                         "access_key_id": fake.bothify("????????????????????").upper()},
                "enterprise_project_id": "0", "read_only": False,
                "operation_id": fake.random_element(names), "tracker_name": "system",
                "project_id": fake.md5(), "domain_id": fake.md5(), "event_type": "system",
                "user_agent": fake.user_agent(),
            }
            fh.write(orjson.dumps(record) + b"\n")
    return time.perf_counter() - t


def child(traces: int, days: float, teams: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        made, wall, cpu = run_generate(traces, days, teams, Path(tmp))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(orjson.dumps({"traces": made, "seconds": wall, "cpu_seconds": cpu,
                        "peak_mb": peak_mb}).decode())


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child, args.days, args.teams)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        base_s = naive_baseline(args.baseline, Path(tmp) / "naive.jsonl")
        made, wall, cpu = run_generate(args.traces, args.days, args.teams, Path(tmp) / "gen")
    base_rate = args.baseline / base_s
    rate, cpu_rate = made / wall, made / cpu
    print("generate jsonl: %d traces in %.1f s = %.0f traces/s (%.0f per CPU second)" % (
        made, wall, rate, cpu_rate))
    print("naive Faker baseline: %d records in %.1f s = %.0f records/s; ratio %.2fx" % (
        args.baseline, base_s, base_rate, rate / base_rate))
    memory = []
    for size in [int(s) for s in args.memory.split(",") if s.strip()]:
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--days",
                              str(args.days), "--teams", str(args.teams)],
                             check=True, capture_output=True, text=True).stdout
        row = orjson.loads(out.strip().splitlines()[-1])
        memory.append(row)
        print("memory: %d traces, peak %.0f MB (%.0f traces/s)" % (
            row["traces"], row["peak_mb"], row["traces"] / row["seconds"]))
    largest = max(memory, key=lambda r: r["traces"]) if memory else None
    goal = {"min_rate": MIN_RATE, "rate": rate, "cpu_rate": cpu_rate,
            "baseline_rate": base_rate, "ratio_to_baseline": rate / base_rate,
            "max_peak_mb": MAX_PEAK_MB,
            "peak_mb_at_largest": largest["peak_mb"] if largest else None,
            "largest": largest["traces"] if largest else None}
    goal["met"] = bool(rate >= MIN_RATE and (largest is None or (
        largest["peak_mb"] < MAX_PEAK_MB and largest["traces"] >= 10_000_000)))
    write_results("generate", {"config": vars(args), "memory": memory, "target": goal})
    print("target: %.0f traces/s (need %d), peak %s MB at %s traces (limit %d): %s" % (
        rate, MIN_RATE, "%.0f" % goal["peak_mb_at_largest"] if largest else "-",
        goal["largest"], MAX_PEAK_MB, "MET" if goal["met"] else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
