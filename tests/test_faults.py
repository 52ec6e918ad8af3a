"""Injected faults (/_sim/faults): each kind, what the client sees, and the trace left."""

from __future__ import annotations

import orjson
import pytest
import requests

from simulator import pipeline
from tests.conftest import make_app
from tests.helpers import FROZEN_MS, PROJECT_ID, SignedClient, check_refusal, check_trace, \
    obs_put, server_call
from tests.test_trackers import objects, system_tracker
from tests.test_training_v2 import CREATE as JOB, TJ

DS = "/v2/{project_id}/datasets"
TRACES = "/v3/{project_id}/traces"
DATASET = {"dataset_name": "flowers", "data_sources": [{"data_path": "/acme-data/x/"}],
           "work_path": "/acme-data/out/", "work_path_type": 0}


def add(app, **rule):
    resp = app.test_client().post("/_sim/faults", json=rule)
    assert resp.status_code == 201, resp.json
    return resp.json["faults"][0]


def test_the_next_list_traces_is_throttled_once_with_ctss_own_body(app, client):
    add(app, operation="ListTraces", status=429, count=1)
    first = client.get(TRACES)
    assert (first.status_code, first.json) == (429, {
        "error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"})
    assert first.headers["X-Request-Id"]
    assert client.get(TRACES).status_code == 200
    assert app.test_client().get("/_sim/faults").json == {"faults": []}  # spent


@pytest.mark.parametrize("path,body,code,record", [
    # datasets' and training's documented throttling codes; models have none documented
    (DS, DATASET, "ModelArts.4395", dict(trace_name="createDataset",
                                         operation_id="CreateDataset")),
    (TJ, JOB, "ModelArts.2799", dict(trace_name="CreateJobV2", operation_id="CreateTrainingJobV2",
                                     resource_type="JobV2")),
    ("/v1/{project_id}/models", {"model_name": "m"}, "APIGW.0308",
     dict(trace_name="addModel", operation_id="CreateModel", resource_type="model",
          api_version="v1")),
])
def test_throttling_uses_the_familys_code_and_is_traced_as_that_answer(app, client, path,
                                                                        body, code, record):
    add(app, method="POST", path="/v*/%s/*" % PROJECT_ID, status=429)
    resp = client.post(path, body)
    assert resp.status_code == 429 and resp.json["error_code"] == code
    check_trace(client, resp, code=429, response=resp.json, error_code=code, request=body,
                resource_id="", resource_name="", **record)


def test_a_named_error_is_answered_in_the_dialect_and_traced_whole(app, client):
    add(app, operation="CreateDataset", status=500, code="ModelArts.4399",
        message="Internal error of the dataset service.")
    resp = client.post(DS, DATASET)
    check_refusal(client, resp, 500, "ModelArts.4399", trace_name="createDataset",
                  operation_id="CreateDataset", resource_id="", resource_name="",
                  request=DATASET)
    assert resp.json["error_msg"] == "Internal error of the dataset service."


def test_503_is_api_gateways_backend_unavailable(app, client):
    add(app, trace_name="create*", status=503)
    resp = client.post(DS, DATASET)
    assert (resp.status_code, resp.json["error_code"]) == (503, "APIGW.0103")
    assert client.last_trace()["trace_rating"] == "incident"


def test_latency_is_served_then_the_call_goes_on(app, client, monkeypatch):
    slept = []
    monkeypatch.setattr(pipeline.time, "sleep", slept.append)
    add(app, operation="CreateDataset", latency_ms=1500, count=1)
    assert client.post(DS, DATASET).status_code == 201
    assert client.post(DS, dict(DATASET, dataset_name="tulips")).status_code == 201
    assert slept == [1.5]


def test_matching_by_user_and_project(app, client):
    add(app, operation="CreateDataset", user="developer", status=403, code="ModelArts.0108")
    assert client.post(DS, DATASET).status_code == 201  # admin: not matched
    resp = client.as_user("developer").post(DS, dict(DATASET, dataset_name="b"))
    assert resp.status_code == 403
    add(app, project_id="e0a3a91f2346cc13fc27ed12b10877a9", status=500)
    assert client.post(DS, dict(DATASET, dataset_name="c")).status_code == 201


def test_probability_draws_from_the_seeded_source():
    def pattern():
        app = make_app(seed=5)
        add(app, operation="ListTraces", status=429, probability=0.5)
        client = SignedClient(app)
        return [client.get(TRACES).status_code for _ in range(16)]
    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 429}


def test_fail_later_succeeds_now_and_fails_when_it_ends(app, client, sim):
    obs_put(sim, "/acme-bkt/code/train.py", "/acme-bkt/data/1.csv", "/acme-bkt/out/")
    add(app, operation="CreateTrainingJobV2", fail_later="CUDA out of memory", count=1)
    created = client.post(TJ, JOB)
    assert created.status_code == 201
    assert client.last_trace()["trace_rating"] == "normal"
    job_id = created.json["metadata"]["id"]
    sim.clock.advance(30)
    shown = client.get(TJ + "/" + job_id).json
    assert shown["status"]["phase"] == "Failed"
    assert "CUDA out of memory" in orjson.dumps(shown).decode()


def test_a_dropped_call_gets_no_answer_and_leaves_no_trace(server):
    requests.post(server.endpoint + "/_sim/faults", json={
        "operation": "CreateDataset", "drop": True, "count": 1}).raise_for_status()
    before = server.sim.traces.count()
    with pytest.raises(requests.ConnectionError):
        server_call(server, "POST", DS, DATASET)
    assert server.sim.traces.count() == before
    assert server_call(server, "POST", DS, DATASET).status_code == 201


def test_trace_file_uploads_fail_then_go_out(app, client, sim):
    system_tracker(client, sim)
    client.post(DS, DATASET)
    add(app, target="delivery", fail=True, count=1)
    admin = app.test_client()
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 0
    assert objects(sim) == {}
    # nothing was lost: the dataset's trace file, and CTS's with createTracker
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 2
    assert [key.split("/")[-2] for key in objects(sim)] == ["CTS", "ModelArts"]


def test_trace_file_uploads_wait_out_a_delay(app, client, sim):
    system_tracker(client, sim)
    client.post(DS, DATASET)
    add(app, target="delivery", delay_s=600, count=1)
    admin = app.test_client()
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 0
    sim.clock.advance(300)
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 0
    sim.clock.advance(301)
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 2  # ModelArts's and CTS's
    assert [key.split("/")[-2] for key in objects(sim)] == ["CTS", "ModelArts"]


@pytest.mark.parametrize("rule,message", [
    ({"operation": "NoSuchOperation", "status": 429}, "unknown operation"),
    ({"status": 200}, "status must be an error status"),
    ({"status": 429, "drop": True}, "a rule does one thing"),
    ({}, "a rule does one thing"),
    ({"status": "429"}, "status must be a int"),
    ({"probability": 0, "status": 500}, "probability"),
    ({"count": 0, "status": 500}, "count must be at least 1"),
    ({"latency_ms": 10 ** 9}, "latency_ms must be between"),
    ({"colour": "red"}, "unknown field(s): colour"),
    ({"target": "delivery"}, "a delivery fault says"),
    ([{"status": 500}, {"status": 1}], "status must be an error status"),
])
def test_bad_rules_are_refused_and_none_is_added(app, rule, message):
    admin = app.test_client()
    resp = admin.post("/_sim/faults", data=orjson.dumps(rule), content_type="application/json")
    assert resp.status_code == 400 and message in resp.json["error"], resp.json
    assert admin.get("/_sim/faults").json == {"faults": []}
    assert admin.post("/_sim/faults", data=b"{", content_type="application/json").status_code == 400


def test_list_remove_clear_and_reset(app, client):
    admin = app.test_client()
    rule = add(app, operation="ListTraces", status=500)
    client.get(TRACES)
    assert admin.get("/_sim/faults").json["faults"] == [dict(rule, applied=1)]
    assert admin.delete("/_sim/faults/%s" % rule["id"], json={}).status_code == 200
    assert admin.delete("/_sim/faults/%s" % rule["id"], json={}).status_code == 404
    add(app, operation="ListTraces", status=500)
    admin.delete("/_sim/faults", json={})
    assert client.get(TRACES).status_code == 200
    add(app, operation="ListTraces", status=500)
    admin.post("/_sim/reset", json={})
    assert client.get(TRACES).status_code == 200


def test_no_fault_no_cost_to_a_trace(client):
    resp = client.post(DS, DATASET)
    assert resp.status_code == 201 and client.last_trace()["time"] == FROZEN_MS


def test_fail_later_fails_the_import_task_not_its_dataset(app, client, sim):
    from tests.test_datasets_obs import create
    obs_put(sim, "/acme-data/flowers/in/a.jpg", "/acme-data/more/b.jpg")
    ds_id = create(client, sim)
    add(app, operation="CreateImportTask", fail_later="OBS path not readable", count=1)
    url = DS + "/%s/import-tasks" % ds_id
    task = client.post(url, {"import_path": "/acme-data/more/"}).json["task_id"]
    sim.clock.advance(600)
    shown = client.get(url + "/" + task).json
    assert shown["status"] == "FAILED"
    assert "OBS path not readable" in orjson.dumps(shown).decode()
    assert client.get(DS + "/" + ds_id).json["status"] == 1  # the dataset stays normal


def test_fail_later_fails_the_new_v1_version_not_another_jobs(app, client, sim):
    from tests.test_training_jobs import CREATE as V1_JOB, TJ as V1
    obs_put(sim, "/usr/app/boot.py", "/usr/data/1.jpg", "/usr/train/")
    first = client.post(V1, V1_JOB).json
    add(app, operation="CreateTrainingJob", fail_later="worker 0 lost", count=1)
    second = client.post(V1, dict(V1_JOB, job_name="Second")).json
    sim.clock.advance(600)

    def status(job):
        return client.get(V1 + "/%s/versions/%s" % (job["job_id"], job["version_id"])).json[
            "status"]
    assert (status(first), status(second)) == (10, 11)  # COMPLETED; FAILED


def test_fail_later_is_refused_for_an_operation_that_starts_no_lifecycle(app):
    resp = app.test_client().post("/_sim/faults", json={
        "operation": "UpdateDataset", "fail_later": "x"})
    assert resp.status_code == 400 and "starts no lifecycle" in resp.json["error"]
