"""The /_sim controls answer only this machine: a Host that is not its loopback (DNS rebinding)
or an Origin that is not the simulator's own (a drive-by request from a web page) is refused
with 403 before anything happens (issue 15 section 3)."""

from __future__ import annotations

import pytest

from simulator.admin.guard import host_name, is_loopback
from tests.conftest import make_app
from tests.helpers import SignedClient

RESET = "/_sim/reset"


def _post(app, path, headers, **kw):
    return app.test_client().post(path, headers=headers, **kw)


@pytest.mark.parametrize("host", ["localhost", "localhost:9550", "127.0.0.1:9550", "127.8.9.1",
                                  "[::1]:9550", "LOCALHOST", "sim.localhost"])
def test_loopback_hosts_are_answered(app, host):
    resp = app.test_client().get("/_sim/health", headers={"Host": host})
    assert resp.status_code == 200, resp.json


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:9550", "10.0.0.5",
                                  "192.168.1.2:9550", "localhost.attacker.example", ""])
def test_another_host_is_refused_and_nothing_happens(app, sim, client, host):
    client.post("/v2/{project_id}/datasets/nope/data-annotations/labels", {"labels": []})
    before = sim.traces.count()
    assert before == 1
    resp = _post(app, RESET, {"Host": host}, json={})
    assert resp.status_code == 403
    assert "allowed_hosts" in resp.json["error"]
    assert sim.traces.count() == before  # not wiped


def test_a_web_pages_origin_is_refused_whatever_the_content_type(app, sim, client):
    """What any page can send through the user's browser: a simple text/plain POST."""
    client.post("/v2/{project_id}/datasets/nope/data-annotations/labels", {"labels": []})
    resp = _post(app, RESET, {"Host": "127.0.0.1:9550", "Origin": "http://attacker.example",
                              "Content-Type": "text/plain"}, data=b"{}")
    assert resp.status_code == 403 and "allowed_origins" in resp.json["error"]
    assert sim.traces.count() == 1
    own = _post(app, RESET, {"Host": "127.0.0.1:9550", "Origin": "http://127.0.0.1:9550"},
                json={})
    assert own.status_code == 200, own.json
    assert sim.traces.count() == 0


def test_the_lists_are_settings():
    app = make_app(allowed_hosts=["sim.internal"], allowed_origins=["http://console.example"])
    try:
        http = app.test_client()
        assert http.get("/_sim/health", headers={"Host": "sim.internal:9550"}).status_code == 200
        assert http.get("/_sim/health", headers={
            "Host": "localhost", "Origin": "http://console.example"}).status_code == 200
        assert http.get("/_sim/health", headers={"Host": "other.internal"}).status_code == 403
    finally:
        app.extensions["modelarts_sim"].close()


def test_the_api_itself_is_not_guarded(app):
    """Signed calls carry their own proof of who calls: the guard is for /_sim only."""
    client = SignedClient(app)
    resp = client.get("/v2/{project_id}/datasets", headers={"Origin": "http://attacker.example"})
    assert resp.status_code == 200


@pytest.mark.parametrize("host, name", [("[::1]:9550", "::1"), ("a.example:80", "a.example"),
                                        ("::1", "::1"), ("LocalHost", "localhost")])
def test_host_name(host, name):
    assert host_name(host) == name


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


# what a web page can send without asking the browser first: no body, text/plain, a form
SIMPLE = [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]


@pytest.mark.parametrize("ctype", SIMPLE + ["application/octet-stream", "text/json"])
@pytest.mark.parametrize("method, path", [("POST", "/_sim/reset"), ("POST", "/_sim/clock"),
                                          ("POST", "/_sim/faults"), ("DELETE", "/_sim/faults"),
                                          ("POST", "/_sim/lifecycle"), ("POST", "/_sim/flush")])
def test_a_change_needs_a_json_body(app, sim, method, path, ctype):
    assert SignedClient(app).post("/v2/{project_id}/datasets", {
        "dataset_name": "kept", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).status_code == 201
    before = (sim.traces.count(), sim.clock.state())
    headers = {"Content-Type": ctype} if ctype else {}
    resp = app.test_client().open(path, method=method, data=b'{"action": "advance", '
                                  b'"seconds": 60}', headers=headers)
    assert resp.status_code == 415
    assert resp.json == {"error": "a /_sim control that changes something takes Content-Type: "
                                  "application/json, not %r" % (ctype or "")}
    assert (sim.traces.count(), sim.clock.state()) == before


@pytest.mark.parametrize("path", ["/_sim/restore", "/_sim/objects/acme-data/k"])
def test_the_byte_controls_take_octet_stream_and_json_only(app, path):
    http = app.test_client()
    for ctype in SIMPLE[1:]:
        resp = http.open(path, method="POST" if "restore" in path else "PUT", data=b"x",
                         headers={"Content-Type": ctype})
        assert resp.status_code == 415 and "application/octet-stream" in resp.json["error"]
    resp = http.open(path, method="POST" if "restore" in path else "PUT", data=b"x",
                     content_type="application/octet-stream")
    if "restore" in path:  # past the guard: the bytes are read, and are no snapshot
        assert resp.status_code == 400 and resp.json == {
            "error": 'the body must be {"path": "name"} or a snapshot\'s bytes'}
    else:
        assert resp.status_code == 200 and resp.json == {"bucket": "acme-data", "key": "k"}


def test_reads_need_no_content_type(app):
    http = app.test_client()
    for path in ("/_sim/health", "/_sim/clock", "/_sim/faults", "/_sim/lifecycle"):
        assert http.get(path, headers={"Content-Type": "text/plain"}).status_code == 200


def test_with_an_admin_token_every_control_needs_it(monkeypatch):
    app = make_app(admin_token="s3cret-token")
    http = app.test_client()
    try:
        for headers in ({}, {"X-Sim-Admin-Token": "wrong"}, {"X-Sim-Admin-Token": ""}):
            resp = http.get("/_sim/health", headers=headers)
            assert resp.status_code == 401 and resp.json == {"error": (
                "this simulator's controls need its admin token in X-Sim-Admin-Token (it was "
                "printed at start; clients read MODELARTS_SIM_ADMIN_TOKEN)")}
            assert http.post("/_sim/reset", json={}, headers=headers).status_code == 401
        assert http.get("/_sim/health", headers={
            "X-Sim-Admin-Token": "s3cret-token"}).status_code == 200
        # the API itself needs no token, and the clients send it from the environment
        assert SignedClient(app).get("/v2/{project_id}/datasets").status_code == 200
        from simulator.admin.guard import token_headers
        monkeypatch.setenv("MODELARTS_SIM_ADMIN_TOKEN", "s3cret-token")
        assert token_headers() == {"X-Sim-Admin-Token": "s3cret-token"}
    finally:
        app.extensions["modelarts_sim"].close()


def test_serve_on_a_non_loopback_address_makes_and_prints_a_token():
    import re
    import signal
    import subprocess
    import sys
    import requests
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--host", "0.0.0.0",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        banner = ""
        while "admin token" not in banner:
            line = proc.stdout.readline()
            assert line, banner + proc.stderr.read()
            banner += line
        port = re.search(r"listening on http://0\.0\.0\.0:(\d+)", banner).group(1)
        token = re.search(r"admin token .*: (\S+)$", banner, re.M).group(1)
        url = "http://127.0.0.1:%s/_sim/health" % port
        assert requests.get(url, timeout=10).status_code == 401
        assert requests.get(url, headers={"X-Sim-Admin-Token": token},
                            timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
