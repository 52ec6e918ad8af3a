"""The simulator against moto: calls per second of the same client workload shape.

Both servers run on 127.0.0.1 on a free port, each in its own process, and are measured in
alternating windows (A B, B A, ...) with eight client threads, each with its own keep-alive
session:

  moto       moto.server.ThreadedMotoServer (S3): CreateBucket then DeleteBucket, plain
             unsigned PUT / DELETE on path-style URLs (http://127.0.0.1:PORT/BUCKET).
  simulator  simulator.server.start_in_thread, strict AK/SK auth, tracing on: AK/SK-signed
             CreateDataset then DeleteDataset, each call storing a CTS trace.

moto's server (werkzeug) closes the connection after every answer, so its clients reconnect for
every call; the simulator (waitress) keeps connections alive. That is each server as shipped.

It runs with requests.Session clients and with "lean" http.client sessions (a cheaper client, so
that the servers rather than the client limit the rate).

Target: the simulator makes at least 3x moto's calls per second while storing a trace per call.
A run counts only where both server processes were saturated (at least 0.9 cores over their
windows): where one was not, the client's CPU set the rate and the ratio measures the client.
With requests.Session on two cores that is the case for the simulator: the client process
needs about 0.9 ms of CPU a call, which caps it near 1,100 calls/s whatever the server does.

    .venv/bin/python bench/vs_moto.py [--rounds 3] [--seconds 8] [--clients requests,lean]
"""

from __future__ import annotations

import argparse
import sys

from _common import (SATURATED_CORES, UNIQUE, MachineWatch, ServerProcess, SignedCaller,
                     alternating, check, combine, dataset_body, judge, measure_quietly,
                     not_judged, print_rows, print_verdict, traces_stored, write_results)

from simulator.settings import Settings

TARGET_MIN_RATIO = 3.0
CONFIGS = ("moto", "simulator")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    p.add_argument("--server-threads", type=int, default=Settings.threads,
                   help="the simulator's waitress worker threads")
    p.add_argument("--rounds", type=int, default=3,
                   help="pairs of windows (each pair measures both servers)")
    p.add_argument("--seconds", type=float, default=8.0, help="length of one window")
    p.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds before each")
    p.add_argument("--retries", type=int, default=2,
                   help="measure a window again when other work on the machine disturbed it")
    p.add_argument("--clients", default="requests,lean",
                   help="client kinds to run, comma-separated: requests (requests.Session, "
                        "the target's definition) and lean (http.client)")
    return p.parse_args(argv)


def moto_step(endpoint: str):
    """CreateBucket then DeleteBucket, a new bucket name each time."""
    def make_step(worker, session):
        def step() -> int:
            url = "%s/bench-%d-%d" % (endpoint, worker, next(UNIQUE))
            check(session.put(url), 200, "PUT", url)
            check(session.delete(url), 204, "DELETE", url)
            return 2
        return step
    return make_step


def simulator_step(endpoint: str):
    """createDataset then deleteDataset, a new dataset name each time: two traces."""
    def make_step(worker, session):
        caller = SignedCaller(endpoint, session)

        def step() -> int:
            name = "bench-%d-%d" % (worker, next(UNIQUE))
            created = caller.call("POST", "/v2/{project_id}/datasets", dataset_body(name),
                                  expect=201)
            caller.call("DELETE", "/v2/{project_id}/datasets/" + created.json()["dataset_id"],
                        expect=204)
            return 2
        return step
    return make_step


def run(args, client: str) -> dict:
    with ServerProcess("moto") as moto, \
            ServerProcess("simulator", port=0, auth="strict", tracing=True, seed=1,
                          threads=args.server_threads) as sim:
        steps = {"moto": (moto, moto_step(moto.endpoint)),
                 "simulator": (sim, simulator_step(sim.endpoint))}
        windows = []
        for label in alternating(("simulator", "moto"), args.rounds):
            server, make_step = steps[label]
            w = measure_quietly(label, server, make_step, retries=args.retries,
                                connections=args.connections, warmup_s=args.warmup,
                                seconds=args.seconds, client=client)
            print("  %-8s %-9s %8.1f calls/s  server %6.0f us/call  client %6.0f us/call"
                  % (client, label, w.rate, w.server_cpu_us_per_call, w.client_cpu_us_per_call),
                  flush=True)
            windows.append(w)
        stored = traces_stored(sim.endpoint)
    return summarise(windows, stored)


def summarise(windows, stored: int) -> dict:
    moto, sim = combine(windows, "moto"), combine(windows, "simulator")
    if stored < sim["calls"]:  # every simulator call is a traced write
        raise RuntimeError("only %d traces stored for %d calls" % (stored, sim["calls"]))
    return {"moto": moto, "simulator": sim, "simulator_traces_stored": stored,
            "ratio": round(sim["calls_per_s"] / moto["calls_per_s"], 2),
            "server_cpu_ratio": round(moto["server_cpu_us_per_call"]
                                      / sim["server_cpu_us_per_call"], 2),
            "windows": [w.as_dict() for w in windows]}


def target(runs: dict) -> dict:
    """The ratio counts where both servers were saturated: otherwise the client's own CPU set
    the simulator's rate, and the figure measures the client (with requests.Session on two
    cores, the client process alone tops out below 3x moto's rate)."""
    by_client, met = judge(runs, CONFIGS, "ratio", lambda ratio: ratio >= TARGET_MIN_RATIO)
    return {"description": "simulator >= 3x moto's calls/s while storing a trace, same client, "
                           "judged where both servers are saturated",
            "min_ratio": TARGET_MIN_RATIO, "saturated_cores": SATURATED_CORES,
            "by_client": by_client, "met": met}


def report(runs: dict, goal: dict) -> None:
    print_rows(runs, CONFIGS, lambda client, run_: (
        "%-9s simulator / moto = %.2fx calls/s (moto spends %.2fx the server CPU per call)%s"
        % (client, run_["ratio"], run_["server_cpu_ratio"],
           not_judged(goal["by_client"][client]))))
    print_verdict(goal, "simulator >= %.0fx moto" % goal["min_ratio"], "ratio", "%.2fx")


def moto_server_importable() -> bool:
    """moto's server needs flask-cors, which moto[s3] does not bring (moto[server] does)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:
            print("vs_moto: cannot import moto.server (%s); install it with "
                  ".venv/bin/pip install flask-cors  (or 'moto[s3,server]')" % exc)
            return False
    return True


def main(argv=None) -> int:
    args = parse_args(argv)
    if not moto_server_importable():
        return 2
    clients = [c for c in args.clients.split(",") if c]
    print("vs_moto: %d connections, clients %s, %d rounds x 2 windows of %.0fs" % (
        args.connections, "+".join(clients), args.rounds, args.seconds), flush=True)
    watch = MachineWatch()
    runs = {client: run(args, client) for client in clients}
    goal = target(runs)
    report(runs, goal)
    config = {k: getattr(args, k) for k in ("connections", "rounds", "seconds", "warmup",
                                             "clients", "retries", "server_threads")}
    print("results: %s" % write_results("vs_moto", {
        "config": config,
        "workload": {"moto": "S3 CreateBucket + DeleteBucket (unsigned, path-style)",
                     "simulator": "AK/SK-signed createDataset + deleteDataset, traced"},
        "runs": runs, "target": goal, "machine_during_run": watch.report()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
