"""The app served by waitress, as `make run` serves it: what only a real socket shows."""

from __future__ import annotations

import orjson
import pytest
import requests

from simulator.identity import signing
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import PROJECT_ID, USER_AGENT, USERS


def _signed_post(endpoint: str, sim, path: str, body: dict, extra: dict | None = None):
    url = endpoint + path
    data = orjson.dumps(body)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(extra or {})}
    admin = USERS["admin"]
    signed = signing.sign("POST", url, headers, data, admin["ak"], admin["sk"],
                          sim.clock.now_ms())
    return requests.post(url, data=data, headers=signed, timeout=30)


def _dataset(name: str) -> dict:
    return {"dataset_name": name, "dataset_type": 0,
            "data_sources": [{"data_type": 0, "data_path": "/bucket/in/"}],
            "work_path": "/bucket/out/", "work_path_type": 0}


@pytest.mark.parametrize("trusted, expected", [(False, "127.0.0.1"), (True, "203.0.113.7")])
def test_x_forwarded_for_reaches_the_signature_check_and_the_trace(trusted, expected):
    """waitress must pass the header on: the SDK signs every header it sends, and the trace
    takes its source IP from it when the settings trust a proxy."""
    running = start_in_thread(Settings(port=0, seed=3, trust_forwarded_for=trusted))
    try:
        resp = _signed_post(running.endpoint, running.sim, "/v2/%s/datasets" % PROJECT_ID,
                            _dataset("proxied"), {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
        assert resp.status_code == 201, resp.text
        [trace] = running.sim.traces.query(PROJECT_ID, after_ms=0, before_ms=2 ** 62).records
        assert trace["request_id"] == resp.headers["X-Request-Id"]
        assert trace["source_ip"] == expected
    finally:
        running.stop()
