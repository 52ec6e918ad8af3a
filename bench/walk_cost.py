"""What the walk costs the server per call, this checkout against another one, side by side.

Each checkout's own simulator answers the same calls in process, through its WSGI app
(dispatcher -> identity -> walk -> handler -> trace store), with no sockets and no client in
the measured part: every request is signed and built before the measured loop starts. Three
kinds of call:

  write    CreateLabels, signed, traced (a new label every call)
  read     ShowDataset, signed, not traced
  refused  CreateLabels by the read-only auditor: 403, traced as a warning

The cost is counted two ways. Under valgrind (callgrind), instructions: repeatable whatever else
the machine is doing; a call's count is (count at 2N calls - count at N calls) / N, so start-up
and set-up cancel out. Without valgrind, or with --cpu, process CPU time per call over repeated
runs that alternate between the checkouts (A B B A ...), median of the runs.

    .venv/bin/python bench/walk_cost.py --against ../baseline [--calls 400] [--cpu --runs 6]

--against names another checkout; its own .venv/bin/python runs it (or --against-python).
The figure to read is the ratio: this checkout / the other, per kind of call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("write", "read", "refused")
FROZEN_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--against", required=True, help="the other checkout (its root folder)")
    p.add_argument("--against-python", help="its Python (default: its .venv/bin/python)")
    p.add_argument("--calls", type=int, default=400, help="N: calls of each kind measured")
    p.add_argument("--cpu", action="store_true", help="CPU time even where valgrind exists")
    p.add_argument("--runs", type=int, default=6, help="with --cpu: runs of each checkout")
    p.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    p.add_argument("--loop", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# -- the worker: runs in the checkout being measured ----------------------------------------------

def _requests(kind: str, count: int):
    """The app and `count` ready environs of one kind of call."""
    from werkzeug.test import EnvironBuilder

    import orjson
    from simulator.app import create_app
    from simulator.clock import Clock
    from simulator.core import Simulator
    from simulator.identity.signing import sign
    from simulator.settings import Settings

    settings = Settings(auth="strict", seed=1, obs_buckets=["bench"])
    sim = Simulator(settings, clock=Clock(start_ms=FROZEN_MS, frozen=True))
    app = create_app(settings, sim)
    acme = sim.directory.domain("acme")
    project = sim.directory.home_project(acme, settings.region)
    keys = {u.name: u.credentials[0] for u in sim.directory.users
            if u.domain == acme and u.credentials}

    def environ(method, path, body, user):
        cred = keys[user]
        data = orjson.dumps(body) if body is not None else b""
        headers = {"Content-Type": "application/json", "X-Project-Id": project.id,
                   "User-Agent": "walk-cost/1.0"}
        url = "http://127.0.0.1:9550" + path
        signed = sign(method, url, headers, data, cred.access_key, cred.secret_key, FROZEN_MS)
        return EnvironBuilder(path=path, base_url="http://127.0.0.1:9550", method=method,
                              headers=signed, data=data).get_environ()

    def call(env):
        status = []
        for _ in app.wsgi_app(env, lambda s, h, exc=None: status.append(s)):
            pass
        return status[0]

    datasets = "/v2/%s/datasets" % project.id
    created = call(environ("POST", datasets, {
        "dataset_name": "walk", "data_sources": [{"data_path": "/bench/in/"}],
        "work_path": "/bench/out/", "work_path_type": 0}, "admin"))
    assert created.startswith("201"), created
    dataset_id = next(iter(sim.state("datasets", project.id).datasets))
    labels = datasets + "/%s/data-annotations/labels" % dataset_id

    def label(i):
        return {"labels": [{"name": "label-%d" % i, "type": 0}]}

    if kind == "write":
        envs = [environ("POST", labels, label(i), "admin") for i in range(count)]
    elif kind == "read":
        envs = [environ("GET", datasets + "/" + dataset_id, None, "admin")
                for _ in range(count)]
    else:
        envs = [environ("POST", labels, label(i), "auditor") for i in range(count)]
    expected = {"write": "200", "read": "200", "refused": "403"}[kind]
    return call, envs, expected


def worker(kind: str, prepare: int, loop: int) -> None:
    call, envs, expected = _requests(kind, prepare)
    start = time.process_time()
    for env in envs[:loop]:
        status = call(env)
        if not status.startswith(expected):
            raise SystemExit("%s answered %s, not %s" % (kind, status, expected))
    spent = time.process_time() - start
    print(json.dumps({"kind": kind, "calls": loop, "cpu_s": spent}))


# -- the driver -------------------------------------------------------------------------------

def _run(python: str, root: Path, kind: str, prepare: int, loop: int,
         valgrind: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONHASHSEED="0")
    cmd = [python, str(Path(__file__).resolve()), "--against", ".", "--worker", kind,
           "--calls", str(prepare), "--loop", str(loop)]
    with tempfile.TemporaryDirectory(prefix="walk-cost-") as tmp:
        if valgrind:
            out = Path(tmp) / "callgrind.out"
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out] + cmd
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit("the worker failed in %s:\n%s" % (root, done.stderr[-3000:]))
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if valgrind:
            result["instructions"] = _total_instructions(out)
    return result


def _total_instructions(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit("no instruction total in %s" % path)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.calls, args.loop)
        return 0
    here_root = HERE.parent
    other_root = Path(args.against).resolve()
    checkouts = {"this": (sys.executable, here_root),
                 "other": (args.against_python or str(other_root / ".venv/bin/python"),
                           other_root)}
    valgrind = shutil.which("valgrind") is not None and not args.cpu
    n = args.calls
    results = {}
    for kind in KINDS:
        per_call = {}
        if valgrind:
            for label, (python, root) in checkouts.items():
                small = _run(python, root, kind, 2 * n, n, True)["instructions"]
                large = _run(python, root, kind, 2 * n, 2 * n, True)["instructions"]
                per_call[label] = (large - small) / n
            unit = "instructions/call"
        else:
            samples = {label: [] for label in checkouts}
            order = ["this", "other"]
            for i in range(args.runs):
                for label in (order if i % 2 == 0 else order[::-1]):
                    python, root = checkouts[label]
                    r = _run(python, root, kind, n, n, False)
                    samples[label].append(r["cpu_s"] / r["calls"] * 1e6)
            per_call = {label: statistics.median(v) for label, v in samples.items()}
            unit = "us of CPU/call (median of %d runs)" % args.runs
        ratio = per_call["this"] / per_call["other"]
        results[kind] = {"this": per_call["this"], "other": per_call["other"],
                         "ratio": round(ratio, 4), "unit": unit}
        print("%-8s this %12.0f  other %12.0f  %s   ratio %.3f" % (
            kind, per_call["this"], per_call["other"], unit, ratio), flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "walk_cost.json").write_text(json.dumps({
        "this": str(here_root), "other": str(other_root), "calls": n,
        "counted": "instructions" if valgrind else "cpu", "kinds": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
