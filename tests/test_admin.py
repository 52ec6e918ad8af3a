"""The /_sim controls, and hostile or odd requests that must never get a 500 or a stack trace."""

import orjson

from simulator import registry
from tests.helpers import FROZEN_MS

DS = "/v2/{project_id}/datasets"
CREATE = {"dataset_name": "d", "data_sources": [{"data_path": "/acme-data/in/"}],
          "work_path": "/acme-data/out/", "work_path_type": 0}


def test_health(app):
    body = app.test_client().get("/_sim/health").json
    assert body == {"status": "ok", "version": "0.1.0", "region": "cn-north-4", "auth": "strict",
                    "clock": {"now": FROZEN_MS, "frozen": True}, "traces": 0}


def test_clock_controls(app):
    http = app.test_client()
    assert http.post("/_sim/clock", json={"action": "advance", "seconds": 90}).json == {
        "now": FROZEN_MS + 90_000, "frozen": True}
    assert http.post("/_sim/clock", json={"action": "freeze", "at": FROZEN_MS}).json == {
        "now": FROZEN_MS, "frozen": True}
    resumed = http.post("/_sim/clock", json={"action": "resume"}).json
    assert resumed["frozen"] is False and resumed["now"] >= FROZEN_MS
    for bad in ({"action": "rewind"}, {"action": "advance", "seconds": -1},
                {"action": "advance", "seconds": "1"}, {"action": "freeze", "at": "x"}, [1]):
        resp = http.post("/_sim/clock", json=bad)
        assert resp.status_code == 400 and "error" in resp.json
    assert http.post("/_sim/clock", data=b"{", content_type="application/json").status_code == 400
    assert http.get("/_sim/clock").json["frozen"] is False


def test_the_clock_stays_within_what_a_date_can_hold(app, client):
    """An advance or a freeze past 9998-12-31 is a 400 and moves nothing: such a clock made
    every later dated answer a 500."""
    from simulator.clock import LATEST_MS
    http = app.test_client()
    for bad, says in [({"action": "advance", "seconds": 1e300}, "past 9998-12-31"),
                      ({"action": "advance", "seconds": (LATEST_MS - FROZEN_MS) / 1000 + 1},
                       "past 9998-12-31"),
                      ({"action": "freeze", "at": LATEST_MS + 1}, "9998-12-31")]:
        resp = http.post("/_sim/clock", json=bad)
        assert resp.status_code == 400 and says in resp.json["error"], resp.json
        assert http.get("/_sim/clock").json == {"now": FROZEN_MS, "frozen": True}
    assert client.get("/v2/{project_id}/datasets").status_code == 200
    last = http.post("/_sim/clock", json={"action": "advance",
                                          "seconds": (LATEST_MS - FROZEN_MS) / 1000})
    assert last.json == {"now": LATEST_MS, "frozen": True}
    resp = client.post("/v2/{project_id}/datasets/x/data-annotations/labels", {"labels": []})
    assert resp.status_code == 400 and client.last_trace()["time"] == LATEST_MS


def test_reset_returns_to_the_fixtures(client, app):
    assert client.post(DS, CREATE).status_code == 201
    assert app.test_client().post("/_sim/reset", json={}).json == {"status": "reset"}
    assert client.get(DS).json["total_number"] == 0
    assert client.traces() == []


def test_unknown_path_and_method_answer_like_api_gateway(app):
    http = app.test_client()
    for resp in (http.get("/v2/x/nothing-here"), http.patch("/v2/x/datasets"),
                 http.get("/v3/whatever"), http.get("/v3.0/OS-NOTHING")):
        assert resp.status_code == 404
        assert set(resp.json) == {"error_code", "error_msg", "request_id"}
        assert resp.json["error_code"] == "APIGW.0101"


def test_a_bug_in_a_handler_is_a_gateway_error_without_a_stack_trace(client, monkeypatch, caplog):
    def broken(ctx):
        raise RuntimeError("secret internals")
    monkeypatch.setitem(registry.HANDLERS, "CreateDataset", broken)
    resp = client.post(DS, CREATE)
    assert resp.status_code == 500
    assert resp.json == {"error_code": "APIGW.0103",
                         "error_msg": "The backend service is unavailable",
                         "request_id": resp.json["request_id"]}
    assert b"secret internals" not in resp.data and b"Traceback" not in resp.data
    assert "secret internals" in caplog.text  # for whoever runs the simulator


def test_oversized_body_is_refused_cleanly(client):
    resp = client.call("POST", DS, raw=b"{" + b" " * (33 * 1024 * 1024) + b"}")
    assert resp.status_code == 413 and resp.json["error_code"] == "APIGW.0201"


def test_hostile_values_get_clear_errors(client):
    cases = [
        {"dataset_name": "a" * 10000},
        {"dataset_name": "\u0000\ud7ff"},
        {"dataset_name": 5},
        {"data_sources": "nope"},
        {"data_sources": [None]},
        {"data_sources": [{"data_type": True}]},
        {"labels": [[]]},
        {"labels": [{"name": {"x": 1}}]},
    ]
    for change in cases:
        resp = client.post(DS, {**CREATE, **change})
        assert resp.status_code == 400, change
        assert resp.json["error_code"] == "ModelArts.4396", (change, resp.json)
        assert "Traceback" not in resp.get_data(as_text=True)


def test_unicode_label_names_in_the_path(client):
    ds = client.post(DS, CREATE).json["dataset_id"]
    url = DS + "/%s/data-annotations/labels" % ds
    assert client.post(url, {"labels": [{"name": "猫"}]}).status_code == 200
    resp = client.put(url + "/%E7%8C%AB", {"@modelarts:color": "#000000"})
    assert resp.status_code == 204, resp.json
    assert client.get(url).json["labels"][0]["property"] == {"@modelarts:color": "#000000"}


def test_secrets_never_reach_a_trace(client):
    body = {**CREATE, "dataset_name": "s1", "password": "hunter2",
            "data_sources": [{"data_path": "/acme-data/in/", "source_info": {"secret_key": "abc",
                                                                       "token": "MIIxyz"}}]}
    assert client.post(DS, body).status_code == 201
    raw = orjson.dumps(client.last_trace()).decode()
    assert "hunter2" not in raw and "MIIxyz" not in raw and '"abc"' not in raw
    assert raw.count("********") == 3
