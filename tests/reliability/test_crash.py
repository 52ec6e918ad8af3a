"""kill -9 at random instants under mixed load, over several rounds on one data dir: every call
answered 2xx has both its state and its trace after the restart, no trace stands for a change
that is not there, and nothing acknowledged comes back undone (docs/reliability.md).

Each worker owns its resources (datasets it creates and deletes, objects it puts and deletes),
so what it was told is what must be there. A call that got no answer (the kill cut it) may or
may not have happened: only its trace and its state must agree."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
import requests

from simulator.core import Simulator
from simulator.settings import Settings
from simulator.signed_client import SessionTransport, SignedClient
from tests.helpers import PROJECT_ID, USERS

ROOT = Path(__file__).resolve().parents[2]
DATASETS = "/v2/{project_id}/datasets"
ROUNDS = 4


def _start(data_dir: Path, *more: str):
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0",
                             "--bucket", "acme-data", "--data-dir", str(data_dir), *more],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    first = proc.stdout.readline()
    assert "listening on" in first, first + proc.stderr.read()
    return proc, first.split("listening on ")[1].split()[0]


def _client(endpoint: str) -> SignedClient:
    u = USERS["admin"]
    return SignedClient(SessionTransport(endpoint, requests.Session()), u["ak"], u["sk"],
                        project_id=PROJECT_ID, user_agent="crash-test",
                        clock=lambda: int(time.time() * 1000))


def _obs(endpoint: str):
    import boto3
    from botocore.config import Config
    u = USERS["admin"]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=u["ak"], aws_secret_access_key=u["sk"],
                        config=Config(s3={"addressing_style": "path"}, retries={
                            "max_attempts": 1}, connect_timeout=5, read_timeout=10))


class Ledger:
    """What the server acknowledged: request ids answered 2xx, and what each worker was told
    exists and does not."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked: list[str] = []  # request ids of traced calls answered 2xx
        # id -> exists (None: a call about it was cut off, so either may be true)
        self.datasets: dict[str, bool | None] = {}
        # key -> its bytes (b"" once deleted; None: a write of it was cut off)
        self.objects: dict[str, bytes | None] = {}


def _api_worker(endpoint: str, n: int, ledger: Ledger, stop: threading.Event) -> None:
    client = _client(endpoint)
    rng = random.Random(n)
    mine: list[str] = []
    i = 0
    while not stop.is_set():
        i += 1
        victim = None
        try:
            if mine and rng.random() < 0.4:
                victim = mine.pop(rng.randrange(len(mine)))
                resp = client.request("DELETE", DATASETS + "/" + victim)
                if resp.status_code == 204:
                    with ledger.lock:
                        ledger.datasets[victim] = False
                        ledger.acked.append(resp.headers["X-Request-Id"])
                else:
                    mine.append(victim)
            else:
                resp = client.request("POST", DATASETS, {
                    "dataset_name": "w%d-%d-%d" % (n, i, rng.randrange(10 ** 6)),
                    "data_sources": [{"data_path": "/acme-data/in/"}],
                    "work_path": "/acme-data/out/", "work_path_type": 0})
                if resp.status_code == 201:
                    dataset_id = resp.json()["dataset_id"]
                    mine.append(dataset_id)
                    with ledger.lock:
                        ledger.datasets[dataset_id] = True
                        ledger.acked.append(resp.headers["X-Request-Id"])
        except requests.RequestException:
            if victim is not None:  # cut off: the delete may or may not have happened
                with ledger.lock:
                    ledger.datasets[victim] = None
            return  # the server is gone


def _obs_worker(endpoint: str, n: int, ledger: Ledger, stop: threading.Event) -> None:
    obs = _obs(endpoint)
    rng = random.Random(1000 + n)
    i = 0
    while not stop.is_set():
        i += 1
        key = "w%d/%d" % (n, rng.randrange(20))
        try:
            if rng.random() < 0.3:
                obs.delete_object(Bucket="acme-data", Key=key)
                with ledger.lock:
                    ledger.objects[key] = b""
            else:
                body = b"%d-%d" % (i, rng.randrange(10 ** 9))
                obs.put_object(Bucket="acme-data", Key=key, Body=body)
                with ledger.lock:
                    ledger.objects[key] = body
        except Exception:  # botocore's errors, once the server is gone: cut off, the write
            with ledger.lock:  # may or may not have happened
                ledger.objects[key] = None
            return


def _held(data_dir: Path):
    """The data dir as a simulator reads it on start (in this process)."""
    return Simulator(Settings(data_dir=str(data_dir), obs_buckets=["acme-data"]))


def _check(data_dir: Path, ledger: Ledger) -> dict:
    sim = _held(data_dir)
    try:
        datasets = sim.state("datasets", PROJECT_ID).datasets
        for dataset_id, exists in ledger.datasets.items():
            if exists is not None:
                assert (dataset_id in datasets) == exists, (dataset_id, exists)
        from simulator.obs import backend
        bucket = backend.store(sim.obs_account).buckets["acme-data"]
        for key, body in ledger.objects.items():
            versions = bucket.keys.getlist(key, [])
            current = versions[-1] if versions else None
            held = getattr(current, "value", None) if current is not None else None
            if body is not None:
                assert held == (body or None), (key, body, held)
        with sim.traces._lock:
            records = [orjson.loads(r) for r, in sim.traces._db.execute(
                "SELECT record FROM traces")]
        by_request = {r["request_id"] for r in records}
        missing = [rid for rid in ledger.acked if rid not in by_request]
        assert not missing, "%d acknowledged calls have no trace" % len(missing)
        # no trace stands for a change that is not there: a created dataset is there unless a
        # later traced delete took it
        created = {r["resource_id"] for r in records
                   if r["trace_name"] == "createDataset" and r["code"] == "201"}
        deleted = {r["resource_id"] for r in records
                   if r["trace_name"] == "deleteDataset" and r["code"] == "204"}
        for dataset_id in created:
            assert (dataset_id in datasets) == (dataset_id not in deleted), dataset_id
        assert set(datasets) <= created  # nor a dataset without its trace
        return {"traces": len(records), "datasets": len(datasets)}
    finally:
        sim.close()


@pytest.mark.parametrize("seeded", [False, True], ids=["random ids", "seeded"])
def test_kill_9_at_random_instants_loses_nothing_acknowledged(tmp_path, seeded):
    rng = random.Random(7 if seeded else 8)
    ledger = Ledger()
    more = ("--seed", "42") if seeded else ()
    for _ in range(ROUNDS):
        before = len(ledger.acked)
        proc, endpoint = _start(tmp_path, *more)
        stop = threading.Event()
        workers = [threading.Thread(target=_api_worker, args=(endpoint, n, ledger, stop))
                   for n in range(3)]
        workers += [threading.Thread(target=_obs_worker, args=(endpoint, n, ledger, stop))
                    for n in range(2)]
        try:
            for w in workers:
                w.start()
            time.sleep(rng.uniform(0.8, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=30)
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()
        # every round writes: a seeded restart that drew its ids again would meet its own
        # trace ids and answer 500
        assert len(ledger.acked) > before + 5, (len(ledger.acked), before)
        seen = _check(tmp_path, ledger)
    assert seen["traces"] >= 20 and any(ledger.datasets.values()), seen


# -- a damaged data dir, and a second SIGTERM ---------------------------------------------------

def _serve_fails(data_dir: Path) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "simulator", "serve", "--port", "0",
                           "--data-dir", str(data_dir)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def _made(data_dir: Path) -> Path:
    proc, endpoint = _start(data_dir)
    client = _client(endpoint)
    assert client.request("POST", DATASETS, {
        "dataset_name": "kept", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).status_code == 201
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    return data_dir / "traces.sqlite3"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "a row", "a row name"])
def test_a_damaged_data_dir_stops_the_start_with_one_line(tmp_path, damage):
    store = _made(tmp_path)
    if damage == "truncated":
        store.write_bytes(store.read_bytes()[:3000])
    elif damage == "garbage":
        store.write_bytes(b"not a database at all" * 100)
    else:
        import sqlite3
        db = sqlite3.connect(store)
        if damage == "a row":
            db.execute("UPDATE state SET value = x'7b2224633a22' WHERE name LIKE 'r%'")
        else:
            db.execute("INSERT INTO state VALUES ('r[broken', x'31')")
        db.commit()
        db.close()
    held = store.read_bytes()
    code, out, err = _serve_fails(tmp_path)
    assert code == 2, (out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("modelarts-sim: %s: " % store)
    assert "Traceback" not in err
    assert store.read_bytes() == held  # nothing was overwritten


def test_a_second_sigterm_during_shutdown_is_quiet(tmp_path):
    proc, endpoint = _start(tmp_path)
    client = _client(endpoint)
    for i in range(20):
        client.request("POST", DATASETS, {
            "dataset_name": "d%d" % i, "data_sources": [{"data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0})
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(
        ("traces.sqlite3", "digest-signing-key"))) == []  # no temporary file left
