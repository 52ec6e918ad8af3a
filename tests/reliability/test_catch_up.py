"""A long catch-up (a year's digests, thousands of lifecycle ends at once) holds the simulator's
lock one step at a time: requests are answered while it runs, the ticker stops between two
steps, and everything is still written, in order, the digests' chain intact
(docs/reliability.md)."""

from __future__ import annotations

import functools
import gzip
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
from simulator.cts import trackers
from simulator.cts.digests import HOUR_MS
from simulator.modelarts.lifecycle import Progress
from simulator.obs import backend as obs
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.conftest import FIXTURE_BUCKETS, make_app
from tests.helpers import PROJECT_ID, server_call
from tests.test_trackers import _check_chain

ROOT = Path(__file__).resolve().parents[2]
YEAR_S = 365 * 86_400
TRACKER = {"tracker_type": "system", "tracker_name": "system", "is_support_validate": True,
           "obs_info": {"bucket_name": "cts-bucket", "file_prefix_name": "audit",
                        "is_obs_created": True}}


def _digests(sim) -> list[str]:
    with sim.obs_files.lock:
        bucket = obs.store(sim.obs_account).buckets.get("cts-bucket")
        return sorted(k for k in list(bucket.keys) if "/Digest/" in k) if bucket else []


def _tracker(sim):
    with sim.lock:
        return dict(sim.states_of(trackers.FAMILY))[PROJECT_ID].trackers["system"]


def _caught_up(sim) -> bool:
    with sim.lock:
        return _tracker(sim).digest_hour_ms + HOUR_MS > sim.clock.now_ms()


def _until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _check_every_hour_chained(sim, public: dict, first_hour_ms: int) -> int:
    """Each service's digests, one for every hour from the first, in order, each signed and
    chained to the one before. Returns how many there are."""
    keys = _digests(sim)
    store = obs.store(sim.obs_account)
    by_service: dict[str, list[str]] = {}
    for key in keys:
        by_service.setdefault(key.split("/Digest/")[1].split("/")[0], []).append(key)
    for service, chain in by_service.items():
        _check_chain(store, public, chain)
        starts = [orjson.loads(gzip.decompress(store.buckets["cts-bucket"].keys[k].value))[
            "digest_start_time"] for k in chain]
        hours = [int(time.mktime(time.strptime(s, "%Y-%m-%dT%H-%M-%SZ"))) for s in starts]
        assert all(b - a == 3600 for a, b in zip(hours, hours[1:])), service  # no hour left out
    assert "CTS" in by_service
    first = orjson.loads(gzip.decompress(store.buckets["cts-bucket"].keys[
        by_service["CTS"][0]].value))["digest_start_time"]
    assert first == time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime(first_hour_ms / 1000))
    return len(keys)


def test_requests_are_answered_while_a_years_digests_are_written():
    running = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS))
    sim = running.sim
    try:
        assert server_call(running, "POST", "/v3/{project_id}/tracker", TRACKER
                           ).status_code == 201
        first_hour = _tracker(sim).digest_hour_ms
        assert requests.post(running.endpoint + "/_sim/clock", json={
            "action": "advance", "seconds": YEAR_S}, timeout=30).status_code == 200
        hours = (sim.clock.now_ms() - first_hour) // HOUR_MS
        _until(lambda: len(_digests(sim)) > 0, 30, "the ticker never started the catch-up")
        # a write (it takes the simulator's lock) answered in the middle of the catch-up
        seen = []
        for n in range(3):
            created = server_call(running, "POST", "/v2/{project_id}/datasets", {
                "dataset_name": "meanwhile-%d" % n, "data_sources": [
                    {"data_path": "/acme-data/in/"}], "work_path": "/acme-data/out/",
                "work_path_type": 0})
            assert created.status_code == 201, created.text
            seen.append(len(_digests(sim)))
        assert seen[-1] < hours, (seen, hours)  # answered before the catch-up was over
        _until(lambda: _caught_up(sim), 60, "the catch-up never ended")
        public = requests.get(running.endpoint + "/_sim/keys", timeout=30).json()["keys"][0]
        assert _check_every_hour_chained(sim, public, first_hour) >= hours
    finally:
        running.stop()


# -- the ticker stops between two steps -------------------------------------------------------

def test_sigterm_during_a_catch_up_stops_the_server_and_the_next_start_goes_on(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0",
                             "--data-dir", str(tmp_path), "--auth", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = proc.stdout.readline()
        assert "listening on" in first, first + proc.stderr.read()
        endpoint = first.split("listening on ")[1].split()[0]
        made = requests.post(endpoint + "/v3/%s/tracker" % PROJECT_ID,
                             json=TRACKER, timeout=30)
        assert made.status_code == 201, made.text
        assert requests.post(endpoint + "/_sim/clock", json={
            "action": "advance", "seconds": YEAR_S}, timeout=30).status_code == 200
        time.sleep(1.5)  # the ticker (twice a second) is some way into the year
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "stopped" in out

    sim = Simulator(Settings(data_dir=str(tmp_path)))  # no ticker: as the stop left it
    try:
        tracker = _tracker(sim)
        first_hour = tracker.created_ms // HOUR_MS * HOUR_MS
        assert first_hour < tracker.digest_hour_ms < sim.clock.now_ms() - HOUR_MS, \
            "the stop came before or after the catch-up, not during it"
        sim.delivery.run()  # the next start goes on where the stop left off
        assert _caught_up(sim)
        hours = (sim.clock.now_ms() - first_hour) // HOUR_MS
        assert _check_every_hour_chained(sim, sim.signer.public_key(), first_hour) >= hours
    finally:
        sim.close()


# -- thousands of lifecycle ends at once ------------------------------------------------------

class Ends:
    """Which ends ran, in order; `failing` ends raise, and the end of `stop_after` sets `stop`."""

    def __init__(self):
        self.ran: list[int] = []
        self.failing: set[int] = set()
        self.reached = threading.Event()
        self.stop = threading.Event()
        self.stop_after: int | None = None


@pytest.fixture
def ends(monkeypatch):
    """A cluster's end of creation, observed. A watcher's end must be one the rows may name (a
    test's own function is not), so the observer stands in for clusters._cluster_result under
    its name."""
    from simulator.modelarts import clusters, lifecycle
    seen = Ends()

    def observed(project_id, n, sim, at_ms, final):
        if n in seen.failing:
            raise RuntimeError("this end is broken")
        seen.ran.append(n)
        seen.reached.set()
        if n == seen.stop_after:
            seen.stop.set()

    observed.__module__, observed.__qualname__ = clusters.__name__, "_cluster_result"
    monkeypatch.setattr(clusters, "_cluster_result", observed)
    monkeypatch.setattr(lifecycle, "WATCH_CALLBACKS", lifecycle.WATCH_CALLBACKS | {observed})
    seen.end = observed
    return seen


def _watch(sim, ends: Ends, count: int) -> None:
    now = sim.clock.now_ms()
    with sim.change():
        for n in range(count):
            sim.watch(Progress(now - 10 * count + 10 * n, (("Running", 1), ("Done", 0))),
                      functools.partial(ends.end, PROJECT_ID, n))


def test_thousands_of_ends_due_at_once_leave_room_for_others(ends):
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        _watch(sim, ends, 3000)
        settling = threading.Thread(target=sim.settle)
        settling.start()
        assert ends.reached.wait(10)
        with sim.lock:  # what a request's change takes
            ended_meanwhile = len(ends.ran)
        settling.join(30)
        assert ended_meanwhile < 3000
        assert ends.ran == list(range(3000))  # each once, in the order they ended
        assert sim._watchers == []
    finally:
        sim.close()


def test_a_settle_stops_between_two_ends_and_a_broken_end_holds_up_no_other(ends):
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        _watch(sim, ends, 50)
        ends.stop_after = 9
        sim.settle(ends.stop)
        assert ends.ran == list(range(10))  # the end under way finished; none began after it
        ends.failing.add(20)
        sim.settle()
        assert ends.ran == [n for n in range(50) if n != 20]  # tried once, undone, passed
        assert len(sim._watchers) == 1  # the broken one, back in the heap for the next settle
        ends.failing.clear()
        sim.settle()
        assert ends.ran[-1] == 20 and len(ends.ran) == 50 and sim._watchers == []
    finally:
        sim.close()
