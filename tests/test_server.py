"""The app served by waitress, as `make run` serves it: what only a real socket shows."""

from __future__ import annotations

import http.client

import orjson
import pytest

from simulator.identity import signing
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import PROJECT_ID, USER_AGENT, USERS, server_call
from tests.conftest import FIXTURE_BUCKETS


def _dataset(name: str) -> dict:
    return {"dataset_name": name, "dataset_type": 0,
            "data_sources": [{"data_type": 0, "data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}


@pytest.mark.parametrize("trusted, expected", [(False, "127.0.0.1"), (True, "203.0.113.7")])
def test_x_forwarded_for_reaches_the_signature_check_and_the_trace(trusted, expected):
    """waitress must pass the header on: the SDK signs every header it sends, and the trace
    takes its source IP from it when the settings trust a proxy."""
    running = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, seed=3, trust_forwarded_for=trusted))
    try:
        resp = server_call(running, "POST", "/v2/{project_id}/datasets", _dataset("proxied"),
                           headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
        assert resp.status_code == 201, resp.text
        [trace] = running.sim.traces.query(PROJECT_ID, after_ms=0, before_ms=2 ** 62).records
        assert trace["request_id"] == resp.headers["X-Request-Id"]
        assert trace["source_ip"] == expected
    finally:
        running.stop()


def _signed(method: str, endpoint: str, path: str, sim, body: bytes = b"") -> dict:
    admin = USERS["admin"]
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return signing.sign(method, endpoint + path, headers, body, admin["ak"], admin["sk"],
                        sim.clock.now_ms())


def test_a_204_keeps_the_connection_open():
    running = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, seed=3))
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        path = "/v2/%s/datasets" % PROJECT_ID
        body = orjson.dumps(_dataset("kept"))
        conn.request("POST", path, body, _signed("POST", running.endpoint, path, running.sim, body))
        created = conn.getresponse()
        dataset_id = orjson.loads(created.read())["dataset_id"]
        sock = conn.sock
        path += "/" + dataset_id
        conn.request("DELETE", path, headers=_signed("DELETE", running.endpoint, path,
                                                     running.sim))
        deleted = conn.getresponse()
        assert deleted.read() == b""
        assert (deleted.status, deleted.will_close, deleted.getheader("Connection")) == (
            204, False, None)
        assert deleted.getheader("Content-Length") is None  # RFC 9110 forbids it on a 204
        conn.request("GET", path, headers=_signed("GET", running.endpoint, path, running.sim))
        gone = conn.getresponse()
        gone.read()
        assert gone.status == 400 and conn.sock is sock  # datasets answer not-found with 400;
        # the same connection served it
    finally:
        conn.close()
        running.stop()


def test_a_204_closes_when_the_client_asks():
    running = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, seed=3))
    try:
        path = "/v2/%s/datasets" % PROJECT_ID
        created = server_call(running, "POST", path, _dataset("closing"))
        path += "/" + created.json()["dataset_id"]
        headers = _signed("DELETE", running.endpoint, path, running.sim)
        headers["Connection"] = "close"
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.request("DELETE", path, headers=headers)
        deleted = conn.getresponse()
        assert (deleted.status, deleted.will_close) == (204, True)
        conn.close()
    finally:
        running.stop()


def test_an_idle_server_purges_expired_traces_on_its_ticker():
    """Traces past retention go without a write to set the purge off (it used to run only
    every 5,000 traces, so an idle server kept them)."""
    import time as _time
    from simulator.server import start_in_thread
    from simulator.settings import Settings
    from tests.helpers import server_call
    running = start_in_thread(Settings(port=0, obs_buckets=["acme-data"]))
    try:
        assert server_call(running, "GET", "/v3/{project_id}/traces").status_code == 200
        assert server_call(running, "POST", "/v2/{project_id}/datasets", {
            "dataset_name": "old", "data_sources": [{"data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}).status_code in (201, 400)
        assert running.sim.traces.count() >= 1
        running.sim.clock.advance(8 * 86_400)
        deadline = _time.monotonic() + 10
        while running.sim.traces.count() and _time.monotonic() < deadline:
            _time.sleep(0.1)
        assert running.sim.traces.count() == 0
    finally:
        running.stop()
