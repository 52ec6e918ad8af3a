"""What the durable data dir costs: traced calls per second with --data-dir (every change
committed with its trace in one SQLite transaction before the answer) against the same server
in memory, side by side.

Two simulator servers, each in its own process, both tracing, strict AK/SK auth: one in memory,
one with a data dir in a temporary directory. The workload and the method are
tracing_overhead.py's: client connections making signed CreateLabels calls, a new label each
call on a dataset of the connection's own (so the dataset's row grows with every call, the
heavy case for a row-per-resource store), in alternating windows, judged where both servers
were saturated.

Target: the durable data dir costs at most 25% of the calls per second
(data dir >= 0.75 x memory).

    .venv/bin/python bench/durability.py [--rounds 3] [--seconds 8] [--clients requests,lean]
"""

from __future__ import annotations

import sys
import tempfile

from _common import (SATURATED_CORES, MachineWatch, ServerProcess, alternating, combine,
                     judge, measure_quietly, not_judged, print_rows, print_verdict,
                     traces_stored, write_results)
from tracing_overhead import label_step, parse_args

TARGET_MAX_COST = 0.25
CONFIGS = ("memory", "data_dir")


def run(args, client: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-durability-") as tmp:
        common = {"port": 0, "auth": "strict", "tracing": True, "seed": 1,
                  "threads": args.server_threads}
        with ServerProcess("simulator", **common) as memory, \
                ServerProcess("simulator", data_dir=tmp + "/data", **common) as durable:
            servers = {"memory": memory, "data_dir": durable}
            windows = []
            for label in alternating(CONFIGS, args.rounds):
                server = servers[label]
                w = measure_quietly(label, server, label_step(server.endpoint),
                                    retries=args.retries, connections=args.connections,
                                    warmup_s=args.warmup, seconds=args.seconds, client=client)
                print("  %-8s %-9s %8.1f calls/s  server %6.0f us/call  client %6.0f us/call"
                      % (client, label, w.rate, w.server_cpu_us_per_call,
                         w.client_cpu_us_per_call), flush=True)
                windows.append(w)
            stored = {label: traces_stored(s.endpoint) for label, s in servers.items()}
    mem, disk = combine(windows, "memory"), combine(windows, "data_dir")
    return {"memory": mem, "data_dir": disk, "traces_stored": stored,
            "cost_pct": round((1 - disk["calls_per_s"] / mem["calls_per_s"]) * 100, 2),
            "server_cpu_cost_pct": round(
                (disk["server_cpu_us_per_call"] / mem["server_cpu_us_per_call"] - 1) * 100, 2),
            "windows": [w.as_dict() for w in windows]}


def main(argv=None) -> int:
    args = parse_args(argv)
    clients = [c for c in args.clients.split(",") if c]
    print("durability: %d connections, clients %s, %d rounds x 2 windows of %.0fs"
          % (args.connections, "+".join(clients), args.rounds, args.seconds), flush=True)
    watch = MachineWatch()
    runs = {client: run(args, client) for client in clients}
    limit = TARGET_MAX_COST * 100
    by_client, met = judge(runs, CONFIGS, "cost_pct", lambda pct: pct <= limit)
    goal = {"description": "the data dir costs at most 25% of calls/s, judged where both "
                           "servers are saturated", "max_cost_pct": limit,
            "saturated_cores": SATURATED_CORES, "by_client": by_client, "met": met}
    print_rows(runs, CONFIGS, lambda client, r: (
        "%-9s data dir costs %.1f%% of calls/s, %.1f%% of server CPU per call%s" % (
            client, r["cost_pct"], r["server_cpu_cost_pct"], not_judged(by_client[client]))))
    print_verdict(goal, "cost <= %.0f%%" % limit, "cost_pct", "%.1f%%")
    config = {k: getattr(args, k) for k in ("connections", "rounds", "seconds", "warmup",
                                             "server_threads", "clients", "retries")}
    print("results: %s" % write_results("durability", {
        "config": config, "workload": "AK/SK-signed CreateLabels, one new label per call",
        "runs": runs, "target": goal, "machine_during_run": watch.report()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
