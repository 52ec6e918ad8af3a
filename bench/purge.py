"""What the purge costs, and what the store holds, now that a purge also drops the numbers of
the values no trace holds any more (terms, their copy in memory, the planner's zero counts),
against the purge before (traces only), side by side in one run.

Traces are the store tests' records with an id and a name of their own each (a CI run making
new datasets), a few users per cycle, and the values every cycle shares. A cycle stores N
traces a retention and a day after the cycle before, then purges that one.

- Purge time: a store holding two cycles purges the older, each way, alternately, `--rounds`
  times (a new store each time); the median, in ms.
- Memory: `--cycles` cycles each way, after each purge: the process's RSS (a fresh process
  without tracemalloc, which costs memory of its own), what tracemalloc counts of Python's own
  allocations (another fresh process), terms rows, values in memory, planner counts.

    .venv/bin/python bench/purge.py [--traces 20000] [--rounds 5] [--cycles 4] [--store memory|file]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from _common import write_results

from simulator.cts.planner import Planner
from simulator.cts.schema import POSITION, QUALIFIERS
from simulator.cts.store import DAY_MS, TraceStore
from tests.test_cts_store import T, rec, user

CYCLE_MS = 8 * DAY_MS
WAYS = ("before", "now")


class _PlannerBefore(Planner):
    """The planner before (commit 6f5022b): a count that reaches nothing stays."""

    def changed(self, rows, step: int) -> None:
        counts = self.counts
        if counts is None:
            return
        pairs = [(q, POSITION[q], paired) for q, (_, paired) in QUALIFIERS.items()]
        for row in rows:
            listing = row[1]
            for col, at in POSITION.items():
                value = row[at]
                if value is None:
                    continue
                key = (listing, col, value)
                counts[key] = counts.get(key, 0) + step
                for q, q_at, paired in pairs:
                    if col in paired and row[q_at] is not None:
                        key = (listing, col, q, row[q_at], value)
                        counts[key] = counts.get(key, 0) + step


class StoreBefore(TraceStore):
    """The purge before (commit 6f5022b): traces and resource types go, every value's number
    stays."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._planner.__class__ = _PlannerBefore

    def _forget_terms(self, gone):
        return []


STORES = {"before": StoreBefore, "now": TraceStore}


def cycle(c: int, n: int) -> list[dict]:
    return [rec(c * 10_000_000 + i, T + c * CYCLE_MS + i, user=user("c%d-u%d" % (c, i % 8)),
                resource_id="c%d-ds-%d" % (c, i), resource_name="c%d-name-%d" % (c, i),
                trace_rating=("normal", "warning")[i % 17 == 0])
            for i in range(n)]


def _open(way: str, where: str, tmp: str, k: int):
    path = Path(tmp) / ("%s-%d.sqlite3" % (way, k)) if where == "file" else None
    return STORES[way](path)


def purge_times(args) -> dict:
    old, new = cycle(0, args.traces), cycle(1, args.traces)
    times = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="bench-purge-") as tmp:
        for k in range(args.rounds):
            for way in (WAYS if k % 2 == 0 else WAYS[::-1]):
                store = _open(way, args.store, tmp, k)
                store.add_many(old)
                store.add_many(new)
                start = time.perf_counter()
                gone = store.purge(T + CYCLE_MS + args.traces)
                times[way].append((time.perf_counter() - start) * 1000)
                assert gone == args.traces, gone
                store.close()
                print("  round %d %-6s purge of %d traces: %8.1f ms"
                      % (k + 1, way, gone, times[way][-1]), flush=True)
    median = {way: round(statistics.median(t), 1) for way, t in times.items()}
    return {"ms": times, "median_ms": median,
            "ratio": round(median["now"] / median["before"], 3)}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cycles_in_child(conn, way: str, args, traced: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-purge-") as tmp:
        if traced:
            tracemalloc.start()
        store = _open(way, args.store, tmp, 0)
        rows = []
        for c in range(args.cycles):
            store.add_many(cycle(c, args.traces))
            store.purge(T + c * CYCLE_MS + args.traces)
            with store._lock:
                terms = store._db.execute("SELECT count(*) FROM terms").fetchone()[0]
            rows.append({"cycle": c + 1, "terms": terms,
                         "in_memory": sum(len(v) for v in store._terms.values()),
                         "counts": len(store._planner.counts), "traces": store.count(),
                         **({"python_mb": round(tracemalloc.get_traced_memory()[0] / 2 ** 20, 1)}
                            if traced else {"rss_mb": round(_rss_mb(), 1)})})
        store.close()
    conn.send(rows)


def _in_child(way: str, args, traced: bool) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_cycles_in_child, args=(theirs, way, args, traced))
    child.start()
    rows = mine.recv()
    child.join()
    return rows


def memory(args) -> dict:
    out = {}
    for way in WAYS:
        out[way] = [{**plain, **traced} for plain, traced in zip(
            _in_child(way, args, False), _in_child(way, args, True))]
        for row in out[way]:
            print("  %-6s cycle %d: RSS %6.1f MB  python %6.1f MB  terms %7d  in memory %7d  "
                  "counts %7d  traces %d" % (way, row["cycle"], row["rss_mb"], row["python_mb"],
                                            row["terms"], row["in_memory"], row["counts"],
                                            row["traces"]), flush=True)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--traces", type=int, default=20_000, help="traces a cycle")
    p.add_argument("--rounds", type=int, default=5, help="purges timed each way")
    p.add_argument("--cycles", type=int, default=4, help="retention cycles for the memory")
    p.add_argument("--store", choices=("memory", "file"), default="memory")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    print("purge of %d traces, %s store, before and now, alternately" % (args.traces, args.store))
    timed = purge_times(args)
    print("  median: before %.1f ms, now %.1f ms: %.2fx" % (
        timed["median_ms"]["before"], timed["median_ms"]["now"], timed["ratio"]))
    print("%d retention cycles of %d traces, each way in fresh processes"
          % (args.cycles, args.traces))
    held = memory(args)
    path = write_results("purge", {"args": vars(args), "purge": timed, "memory": held})
    print("results: %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
