"""kill -9 during a restore of 100,001 traces: the data dir holds the old state whole or the
new one whole, never a mixture, and a restore that answered holds the new one
(docs/reliability.md, "A restore is atomic").

One snapshot (100,001 traces, its datasets, OBS objects and signing key) is restored, as the
request body, into a copy of one old data dir (300 traces, 300 datasets, 30 objects, a signing
key of its own) in every round, and the server is killed at a seeded instant of one phase of
the restore: reading and decoding the file, writing the transaction, after the commit but
before the answer, after the answer, and anywhere. The first round runs the restore to its
answer and times its phases for the others. After each kill the server starts again on the
same data dir and its whole state, as /_sim/snapshot writes it, must be the old server's or
the snapshot's; it then takes a write."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path

import orjson
import requests

from simulator import snapshot
from simulator.app import create_app
from simulator.clock import Clock
from simulator.core import Simulator
from simulator.durable import image
from simulator.settings import Settings
from simulator.signed_client import SessionTransport, SignedClient
from tests.conftest import make_app
from tests.helpers import FROZEN_MS, PROJECT_ID, USERS
from tests.helpers import SignedClient as AppClient
from tests.reliability.test_crash import _start

DATASETS = "/v2/{project_id}/datasets"
TRACES = 100_001
DAY_MS = 86_400_000
JSON = {"Content-Type": "application/json"}
OCTETS = {"Content-Type": "application/octet-stream"}
# the one row a restarted server does not read back: an unseeded simulator draws fresh ids
VOLATILE = (image.IDS,)


def _dataset(name):
    return {"dataset_name": name, "data_sources": [{"data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}


def _fill(app, prefix: str, datasets: int, objects: int) -> None:
    client, admin = AppClient(app), app.test_client()
    for i in range(objects):
        resp = admin.put("/_sim/objects/acme-data/%s/%d.bin" % (prefix, i),
                         data=b"%s-%d " % (prefix.encode(), i) * 40, headers=OCTETS)
        assert resp.status_code == 200, resp.get_data()
    for i in range(datasets):
        resp = client.post(DATASETS, _dataset("%s-%d" % (prefix, i)))
        assert resp.status_code == 201, resp.json
    app.extensions["modelarts_sim"].signer.public_key()  # its own signing key, made now


def _new_snapshot() -> bytes:
    """A snapshot of 100,001 traces: 20 recorded by real calls, the rest copies of them with
    their own ids and times (add_many, in batches), over the 14 hours before the frozen
    clock."""
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        _fill(app, "new", datasets=20, objects=20)
        with sim.traces._lock:
            made = [r for r, in sim.traces._db.execute("SELECT record FROM traces ORDER BY seq")]
        made = [orjson.loads(r) for r in made]
        more = TRACES - len(made)
        batch = []
        for i in range(more):
            record = dict(made[i % len(made)], trace_id="%08x-0000-4000-8000-%012x" % (i, i),
                          request_id="%032x" % ((1 << 64) + i),
                          time=FROZEN_MS - (more - i) * 500)
            record["record_time"] = record["time"] + 3
            batch.append(record)
            if len(batch) == 20_000 or i == more - 1:
                sim.traces.add_many(batch)
                batch = []
        assert sim.traces.count() == TRACES
        data, _header = snapshot.dump(sim)
        return data
    finally:
        sim.close()


def _old_data_dir(path: Path) -> Path:
    """Frozen a day before the snapshot's clock, so that nothing in it moves on its own (a
    dataset's lifecycle ending) while a round looks at it."""
    settings = Settings(data_dir=str(path), obs_buckets=["acme-data"])
    sim = Simulator(settings, clock=Clock(start_ms=FROZEN_MS - DAY_MS, frozen=True))
    try:
        _fill(create_app(settings, sim), "old", datasets=300, objects=30)
        assert sim.traces.count() == 300
    finally:
        sim.close()
    return path


def _state(rows, traces) -> tuple[dict, list]:
    return {n: v for n, v in dict(rows).items() if n not in VOLATILE}, list(traces)


def _held(endpoint: str) -> tuple[dict, list]:
    """The server's whole state: the rows and traces its snapshot holds."""
    assert requests.get(endpoint + "/_sim/keys", timeout=30).status_code == 200  # key read
    resp = requests.post(endpoint + "/_sim/snapshot", headers=JSON, timeout=120)
    assert resp.status_code == 200, resp.text
    return _state(*snapshot.decode(resp.content))


def _which(held, old, new) -> str:
    if held == old:
        return "old"
    if held == new:
        return "new"
    rows, traces = held
    raise AssertionError(
        "a mixture: %d traces (old %d, new %d); rows not the old ones: %s; not the new ones: %s"
        % (len(traces), len(old[1]), len(new[1]),
           sorted(n for n in set(rows) | set(old[0]) if rows.get(n) != old[0].get(n))[:5],
           sorted(n for n in set(rows) | set(new[0]) if rows.get(n) != new[0].get(n))[:5]))


def _client(endpoint: str) -> SignedClient:
    """Signed by the server's clock (the snapshot's is frozen at FROZEN_MS)."""
    offset = requests.get(endpoint + "/_sim/clock", timeout=30).json()["now"] - time.time() * 1000
    u = USERS["admin"]
    return SignedClient(SessionTransport(endpoint, requests.Session()), u["ak"], u["sk"],
                        project_id=PROJECT_ID, user_agent="restore-kill-test",
                        clock=lambda: int(time.time() * 1000 + offset))


def _count(endpoint: str) -> int:
    return requests.get(endpoint + "/_sim/health", timeout=30).json()["traces"]


class Restore(threading.Thread):
    def __init__(self, endpoint: str, data: bytes):
        super().__init__(daemon=True)
        self.endpoint, self.data = endpoint, data
        self.status = None  # the answer's, if one came before the kill
        self.started = self.answered = None

    def run(self):
        self.started = time.monotonic()
        try:
            resp = requests.post(self.endpoint + "/_sim/restore", data=self.data,
                                 headers=OCTETS, timeout=300)
        except requests.RequestException:
            return  # cut off by the kill
        self.answered = time.monotonic()
        self.status = resp.status_code


def _wal(data_dir: Path) -> int:
    try:
        return (data_dir / "traces.sqlite3-wal").stat().st_size
    except FileNotFoundError:
        return 0


def _peak_rss_mib(pid: int) -> float:
    with open("/proc/%d/status" % pid) as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def _until(done, restore: Restore, poll: float = 0.002) -> None:
    while not done() and restore.is_alive():
        time.sleep(poll)


def test_a_kill_during_a_restore_leaves_the_old_state_or_the_new_one(tmp_path):
    rng = random.Random(15)
    data = _new_snapshot()
    new = _state(*snapshot.decode(data))
    last_seq = new[1][-1][0]
    template = _old_data_dir(tmp_path / "old")
    timing: dict = {}
    seen = []

    def after_the_answer(run, restore, base):
        reader = sqlite3.connect("file:%s?mode=ro" % (run / "traces.sqlite3"), uri=True)
        try:  # the phases, watched from outside: the first page written, the commit
            while restore.is_alive():
                now = time.monotonic() - restore.started
                if "writing" not in timing and _wal(run) != base:
                    timing["writing"] = now
                if "commit" not in timing and reader.execute(
                        "SELECT max(seq) FROM traces").fetchone()[0] == last_seq:
                    timing["commit"] = now
                time.sleep(0.002)
        finally:
            reader.close()
        assert restore.status == 200, "the restore did not answer"
        timing.update(answer=restore.answered - restore.started, wal=_wal(run) - base)
        time.sleep(rng.uniform(0, 0.5))

    def reading(run, restore, base):  # before the transaction writes its first page
        time.sleep(rng.uniform(0.1, 0.9) * timing["writing"])

    def in_the_transaction(run, restore, base):  # part of its pages written
        target = base + rng.uniform(0.1, 0.9) * timing["wal"]
        _until(lambda: _wal(run) >= target, restore)

    def committed(run, restore, base):  # the new traces visible, the answer not sent
        reader = sqlite3.connect("file:%s?mode=ro" % (run / "traces.sqlite3"), uri=True)
        try:
            _until(lambda: reader.execute("SELECT max(seq) FROM traces").fetchone()[0]
                   == last_seq, restore, poll=0.001)
        finally:
            reader.close()

    def anywhere(run, restore, base):
        time.sleep(rng.uniform(0, timing["answer"]))

    for n, kill_when in enumerate((after_the_answer, reading, in_the_transaction, committed,
                                   anywhere)):
        run = tmp_path / ("round-%d" % n)
        shutil.copytree(template, run)
        proc, endpoint = _start(run)
        try:
            old = _held(endpoint)
            assert len(old[1]) == 300
            restore = Restore(endpoint, data)
            base = _wal(run)
            restore.start()
            kill_when(run, restore, base)
            if kill_when is after_the_answer:
                timing["peak_rss_mib"] = _peak_rss_mib(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            restore.join(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()

        proc, endpoint = _start(run)
        try:
            found = _which(_held(endpoint), old, new)
            if restore.status is not None:  # it answered: it is kept
                assert restore.status == 200 and found == "new", (kill_when.__name__, found)
            seen.append((kill_when.__name__, found, restore.status))
            # and the server goes on from there
            before = _count(endpoint)
            resp = _client(endpoint).request("POST", DATASETS, _dataset("after-%d" % n))
            assert resp.status_code == 201, resp.text
            assert _count(endpoint) == before + 1
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        shutil.rmtree(run)
    print("restore of %d traces: %s; rounds: %s" % (TRACES, timing, seen))
    outcomes = dict((name, found) for name, found, _status in seen)
    # the phases the kills were aimed at: nothing is written before the transaction, and
    # what is committed is kept whether the answer got out or not
    assert outcomes["reading"] == "old" and outcomes["committed"] == "new", seen
    assert outcomes["after_the_answer"] == "new", seen
