"""Training jobs v2: each audited operation leaves exactly its record (one per job for a batch
delete), refusals answer the training v2 dialect (with error_solution) and are traced as
warnings, phases move on the clock, and the official SDK drives the whole flow."""

import json
import time
import urllib.request

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import ListTracesRequest
from huaweicloudsdkmodelarts.v1 import (ChangeTrainingJobDescriptionRequest,
                                        CreateTrainingJobRequest, DeleteTrainingJobRequest,
                                        Filter, Input, InputDataInfo, InputDataInfoObs, Job,
                                        JobActionType, JobAlgorithm, JobEngine, JobMetadata,
                                        JobSearches, JobUpdateRequestBody,
                                        ListTrainingJobsRequest, Output, Remote, RemoteObs,
                                        ShowTrainingJobDetailsRequest, Spec, SpecResource,
                                        StopTrainingJobRequest)

from tests.helpers import FROZEN_MS, UUID, check_trace, expected_record, obs_put, ok

TJ = "/v2/{project_id}/training-jobs"
SEARCH = "/v2/{project_id}/training-job-searches"
NAMES = "/v2/{project_id}/training-job-names"
CREATE = {"kind": "job",
          "metadata": {"name": "trainjob-demo", "workspace_id": "0", "description": "first"},
          "algorithm": {"code_dir": "obs://acme-bkt/code/",
                        "boot_file": "obs://acme-bkt/code/train.py",
                        "engine": {"engine_name": "PyTorch", "engine_version": "pytorch_1.8.0"},
                        "parameters": [{"name": "epochs", "value": "3"}],
                        "environments": {"MODE": "fast"},
                        "inputs": [{"name": "data_url",
                                    "remote": {"obs": {"obs_url": "obs://acme-bkt/data/"}}}],
                        "outputs": [{"name": "train_url",
                                     "remote": {"obs": {"obs_url": "obs://acme-bkt/out/"}}}]},
          "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.8u", "node_count": 1}}}
ERROR_KEYS = {"error_code", "error_msg", "error_solution"}


@pytest.fixture(autouse=True)
def code_and_data(sim):
    """What BODY's jobs read: a job whose code or data is missing fails once it runs."""
    obs_put(sim, "/acme-bkt/code/train.py", "/acme-bkt/data/1.csv", "/acme-bkt/out/")


def _create(client, name="trainjob-demo", **changes):
    body = json.loads(json.dumps(CREATE))
    body["metadata"]["name"] = name
    body.update(changes)
    return ok(client.post(TJ, body), 201)


@pytest.fixture
def job(client):
    return _create(client)


def check(client, resp, **kw):
    kw.setdefault("resource_type", "JobV2")
    kw.setdefault("api_version", "v2")
    return check_trace(client, resp, **kw)


def refused(client, resp, status, code, **kw):
    """The training v2 error body with this code and a solution, traced as a warning."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    body = resp.json
    assert set(body) == ERROR_KEYS and body["error_code"] == code, body
    assert body["error_msg"] and body["error_solution"], body
    actual = check(client, resp, code=status, response=body, error_code=code, **kw)
    assert actual["trace_rating"] == "warning"
    return body


def phase(client, job_id):
    return ok(client.get(TJ + "/" + job_id))["status"]


# -- one whole record per audited operation -------------------------------------------------------

def test_create_training_job(client):
    resp = client.post(TJ, CREATE)
    body = ok(resp, 201)
    meta = body["metadata"]
    assert UUID.match(meta["id"])
    assert meta == {"id": meta["id"], "name": "trainjob-demo", "workspace_id": "0",
                    "description": "first", "create_time": FROZEN_MS, "user_name": "admin",
                    "annotations": {}}
    assert body["kind"] == "job"
    assert body["status"]["phase"] == "Creating"
    assert body["status"]["secondary_phase"] == "Creating"
    assert body["status"]["duration"] == 0
    assert body["algorithm"]["environments"] == [{"MODE": "fast"}]
    assert body["spec"]["resource"]["node_count"] == 1
    check(client, resp, trace_name="CreateJobV2", operation_id="CreateTrainingJobV2",
          resource_id=meta["id"], resource_name="trainjob-demo", code=201, request=CREATE,
          response=body, time=FROZEN_MS)


def test_change_description(client, job):
    jid = job["metadata"]["id"]
    req = {"description": "second"}
    resp = client.put(TJ + "/" + jid, req)
    assert resp.status_code == 200 and resp.get_data() == b""
    check(client, resp, trace_name="UpdateJobV2", operation_id="ChangeTrainingJobDescription",
          resource_id=jid, resource_name="trainjob-demo", code=200, request=req, response=None)
    assert ok(client.get(TJ + "/" + jid))["metadata"]["description"] == "second"


def test_delete_training_job(client, job):
    jid = job["metadata"]["id"]
    resp = client.delete(TJ + "/" + jid)
    assert resp.status_code == 202 and resp.get_data() == b""
    check(client, resp, trace_name="DeleteJobV2", operation_id="DeleteTrainingJobV2",
          resource_id=jid, resource_name="trainjob-demo", code=202, request=None, response=None)
    gone = client.get(TJ + "/" + jid)
    assert gone.status_code == 400 and gone.json["error_code"] == "ModelArts.2775"


def test_stop_training_job(client, sim, job):
    jid = job["metadata"]["id"]
    sim.clock.advance(2.5)  # Running since 2 s
    req = {"action_type": "terminate"}
    resp = client.post(TJ + "/%s/actions" % jid, req)
    body = ok(resp, 202)
    assert body["status"]["phase"] == "Terminating"
    assert body["status"]["duration"] == 500
    check(client, resp, trace_name="StopJobV2", operation_id="StopTrainingJobV2",
          resource_id=jid, resource_name="trainjob-demo", code=202, request=req, response=body)
    sim.clock.advance(5)
    status = phase(client, jid)
    assert (status["phase"], status["secondary_phase"], status["duration"]) == (
        "Terminated", "Terminated", 500)


def test_batch_delete_leaves_one_trace_per_job(client):
    a = _create(client, "job-a")["metadata"]["id"]
    b = _create(client, "job-b")["metadata"]["id"]
    keep = _create(client, "job-c")["metadata"]["id"]
    req = {"jobs": [{"kind": "job", "metadata": {"id": a}},
                    {"kind": "job", "metadata": {"id": b}}]}
    resp = client.post(TJ + "/batch-delete", req)
    assert resp.status_code == 202 and resp.get_data() == b""
    newest = client.traces(limit=3)
    assert [t["trace_name"] for t in newest] == ["DeleteJobV2", "DeleteJobV2", "CreateJobV2"]
    # same millisecond: newest first means the reverse of the order they were recorded
    for actual, (jid, name) in zip(newest[:2], [(b, "job-b"), (a, "job-a")]):
        assert actual["request_id"] == resp.headers["X-Request-Id"]
        assert actual == expected_record(
            actual, trace_name="DeleteJobV2", operation_id="BatchDeleteTrainingJobs",
            resource_id=jid, resource_name=name, code=202, request=req, response=None,
            resource_type="JobV2", api_version="v2")
    left = ok(client.post(SEARCH, {}))
    assert [j["metadata"]["id"] for j in left["items"]] == [keep]


def test_create_tags(client, job):
    jid = job["metadata"]["id"]
    req = {"tags": [{"key": "team", "value": "vision"}, {"key": "cost", "value": "a1"}]}
    resp = client.post(TJ + "/%s/tags/create" % jid, req)
    assert resp.status_code == 204
    check(client, resp, trace_name="CreateJobTags", operation_id="CreateTrainingJobTags",
          resource_id=jid, resource_name="trainjob-demo", code=204, request=req, response=None)
    found = ok(client.post(SEARCH, {"tags": [{"key": "team", "values": ["vision"]}]}))
    assert found["total"] == 1


def test_delete_tags(client, job):
    jid = job["metadata"]["id"]
    client.post(TJ + "/%s/tags/create" % jid, {"tags": [{"key": "team", "value": "vision"}]})
    req = {"tags": [{"key": "team"}]}
    resp = client.call("DELETE", TJ + "/%s/tags/delete" % jid, req)
    assert resp.status_code == 204
    check(client, resp, trace_name="DeleteJobTags", operation_id="DeleteTrainingJobTags",
          resource_id=jid, resource_name="trainjob-demo", code=204, request=req, response=None)
    assert ok(client.post(SEARCH, {"tags": [{"key": "team"}]}))["total"] == 0


def test_reads_leave_no_trace(client, job):
    before = len(client.traces())
    ok(client.get(TJ + "/" + job["metadata"]["id"]))
    ok(client.post(SEARCH, {}))
    ok(client.get(NAMES, query={"job_name": "x"}))
    assert len(client.traces()) == before


# -- refusals: the training v2 dialect, traced as warnings -----------------------------------

def test_duplicate_name_refused(client, job):
    resp = client.post(TJ, CREATE)
    body = refused(client, resp, 400, "ModelArts.2751", trace_name="CreateJobV2",
                   operation_id="CreateTrainingJobV2", resource_id="",
                   resource_name="trainjob-demo", request=CREATE)
    assert "trainjob-demo" in body["error_msg"]


def test_unknown_job_refused(client):
    jid = "3faf5c03-aaa1-4cbe-879d-24b05d997347"
    resp = client.delete(TJ + "/" + jid)
    refused(client, resp, 400, "ModelArts.2775", trace_name="DeleteJobV2",
            operation_id="DeleteTrainingJobV2", resource_id=jid, resource_name="",
            request=None)
    for call in (lambda: client.get(TJ + "/" + jid),
                 lambda: client.put(TJ + "/" + jid, {"description": "x"}),
                 lambda: client.post(TJ + "/%s/actions" % jid, {"action_type": "terminate"}),
                 lambda: client.post(TJ + "/%s/tags/create" % jid,
                                     {"tags": [{"key": "k", "value": "v"}]})):
        resp = call()
        assert resp.status_code == 400 and set(resp.json) == ERROR_KEYS
        assert resp.json["error_code"] == "ModelArts.2775"
    req = {"jobs": [{"kind": "job", "metadata": {"id": jid}}]}
    resp = client.post(TJ + "/batch-delete", req)
    refused(client, resp, 400, "ModelArts.2775", trace_name="DeleteJobV2",
            operation_id="BatchDeleteTrainingJobs", resource_id=jid, resource_name="",
            request=req)


def test_stop_finished_job_refused(client, sim, job):
    jid = job["metadata"]["id"]
    sim.clock.advance(10)
    assert phase(client, jid)["phase"] == "Completed"
    req = {"action_type": "terminate"}
    resp = client.post(TJ + "/%s/actions" % jid, req)
    refused(client, resp, 409, "ModelArts.2796", trace_name="StopJobV2",
            operation_id="StopTrainingJobV2", resource_id=jid, resource_name="trainjob-demo",
            request=req)


def test_stop_twice_refused(client, job):
    url = TJ + "/%s/actions" % job["metadata"]["id"]
    ok(client.post(url, {"action_type": "terminate"}), 202)
    resp = client.post(url, {"action_type": "terminate"})
    assert resp.status_code == 409 and resp.json["error_code"] == "ModelArts.2796"


# -- phases on the clock ------------------------------------------------------------------------

def test_phases_move_on_the_clock(client, sim, job):
    jid = job["metadata"]["id"]
    seen = []
    for _ in range(10):
        s = phase(client, jid)
        seen.append((s["phase"], s["secondary_phase"], s["duration"]))
        sim.clock.advance(0.5)
    assert seen == [("Creating", "Creating", 0), ("Creating", "Creating", 0),
                    ("Pending", "Queuing", 0), ("Pending", "Queuing", 0),
                    ("Running", "Running", 0), ("Running", "Running", 500),
                    ("Running", "Running", 1000), ("Running", "Running", 1500),
                    ("Completed", "Completed", 2000), ("Completed", "Completed", 2000)]
    done = phase(client, jid)
    assert done["start_time"] == FROZEN_MS + 2000
    assert done["task_statuses"] == [{"task": "worker-0", "exit_code": 0, "message": ""}]


def test_unobserved_job_still_has_its_duration(client, sim, job):
    sim.clock.advance(60)
    assert phase(client, job["metadata"]["id"])["duration"] == 2000


def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_sim_lifecycle_advance_and_fail(client, sim, app):
    assert _admin(app, "/lifecycle", {"family": "training_v2", "mode": "manual"}).status_code \
        == 200
    jid = _create(client)["metadata"]["id"]
    sim.clock.advance(3600)
    assert phase(client, jid)["phase"] == "Creating"
    for expected in ("Pending", "Running"):
        moved = _admin(app, "/lifecycle/advance", {"kind": "training-job-v2", "id": jid}).json
        assert moved == {"kind": "training-job-v2", "id": jid, "status": expected,
                         "changed": True}
    sim.clock.advance(7)
    assert phase(client, jid)["duration"] == 7000
    sim.clock.advance(3)  # not observed while running this time
    failed = _admin(app, "/lifecycle/fail", {"kind": "training-job-v2", "id": jid,
                                             "reason": "OOM"}).json
    assert failed["status"] == "Failed"
    sim.clock.advance(100)
    s = phase(client, jid)
    assert (s["phase"], s["secondary_phase"], s["duration"]) == ("Failed", "Failed", 10000)
    assert s["task_statuses"] == [{"task": "worker-0", "exit_code": 1, "message": "OOM"}]
    # a job failed before it ran
    other = _create(client, "never-ran")["metadata"]["id"]
    _admin(app, "/lifecycle/fail", {"kind": "training-job-v2", "id": other})
    s = phase(client, other)
    assert (s["phase"], s["secondary_phase"], s["duration"]) == ("Failed", "CreateFailed", 0)
    # advancing through Running unobserved still counts the time it ran
    third = _create(client, "third")["metadata"]["id"]
    for _ in range(2):
        _admin(app, "/lifecycle/advance", {"kind": "training-job-v2", "id": third})
    sim.clock.advance(4)
    _admin(app, "/lifecycle/advance", {"kind": "training-job-v2", "id": third})
    s = phase(client, third)
    assert (s["phase"], s["duration"]) == ("Completed", 4000)
    resp = _admin(app, "/lifecycle/advance", {"kind": "training-job-v2", "id": "nope"})
    assert resp.status_code == 404


def test_immediate_mode(client, app):
    _admin(app, "/lifecycle", {"family": "training_v2", "mode": "immediate"})
    body = _create(client)
    assert body["status"]["phase"] == "Completed"


def test_failed_job_cannot_be_stopped(client, app, job):
    jid = job["metadata"]["id"]
    _admin(app, "/lifecycle/fail", {"kind": "training-job-v2", "id": jid})
    resp = client.post(TJ + "/%s/actions" % jid, {"action_type": "terminate"})
    assert resp.status_code == 409 and resp.json["error_code"] == "ModelArts.2796"


# -- search and names ---------------------------------------------------------------------------

def test_search(client, sim):
    ids = []
    for name in ("alpha", "beta", "gamma"):
        ids.append(_create(client, name)["metadata"]["id"])
        sim.clock.advance(1)
    page = ok(client.post(SEARCH, {"limit": 2, "offset": 0}))
    assert {k: v for k, v in page.items() if k != "items"} == {
        "total": 3, "count": 2, "limit": 2, "offset": 0, "sort_by": "create_time",
        "order": "desc", "group_by": "", "workspace_id": ""}
    assert [j["metadata"]["name"] for j in page["items"]] == ["gamma", "beta"]
    second = ok(client.post(SEARCH, {"limit": 2, "offset": 1}))
    assert [j["metadata"]["name"] for j in second["items"]] == ["alpha"]
    asc = ok(client.post(SEARCH, {"sort_by": "name", "order": "asc"}))
    assert [j["metadata"]["name"] for j in asc["items"]] == ["alpha", "beta", "gamma"]
    like = ok(client.post(SEARCH, {"filters": [{"key": "name", "operator": "like",
                                                 "value": ["AM"]}]}))
    assert [j["metadata"]["name"] for j in like["items"]] == ["gamma"]
    # now +3 s: alpha Running (2-4 s), beta Running (3-5 s), gamma Pending
    running = ok(client.post(SEARCH, {"filters": [{"key": "phase", "operator": "in",
                                                    "value": ["Running"]}]}))
    assert [j["metadata"]["name"] for j in running["items"]] == ["beta", "alpha"]
    others = ok(client.post(SEARCH, {"filters": [{"key": "phase", "operator": "not",
                                                   "value": ["Running"]}]}))
    assert [j["metadata"]["name"] for j in others["items"]] == ["gamma"]
    between = ok(client.post(SEARCH, {"filters": [{
        "key": "create_time", "operator": "between",
        "value": [str(FROZEN_MS + 500), str(FROZEN_MS + 1500)]}]}))
    assert [j["metadata"]["name"] for j in between["items"]] == ["beta"]
    ws = ok(client.post(SEARCH, {"workspace_id": "other"}))
    assert ws["total"] == 0 and ws["workspace_id"] == "other"


def test_validate_name(client, job):
    assert ok(client.get(NAMES, query={"job_name": "trainjob-demo"})) == {"is_duplicate": True}
    assert ok(client.get(NAMES, query={"job_name": "fresh"})) == {"is_duplicate": False}
    assert ok(client.get(NAMES, query={"job_name": "trainjob-demo",
                                       "workspace_id": "ws1"})) == {"is_duplicate": False}
    resp = client.get(NAMES)
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.2788"


def test_same_name_in_another_workspace(client, job):
    body = json.loads(json.dumps(CREATE))
    body["metadata"]["workspace_id"] = "ws1"
    ok(client.post(TJ, body), 201)


def test_dataset_inputs_must_exist(client, sim):
    body = json.loads(json.dumps(CREATE))
    body["algorithm"]["inputs"] = [{"name": "data_url",
                                    "remote": {"dataset": {"id": "gfghHSokody6AJigS5A"}}}]
    resp = client.post(TJ, body)
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.2788"
    assert "gfghHSokody6AJigS5A" in resp.json["error_msg"]
    ds = ok(client.post("/v2/{project_id}/datasets", {
        "dataset_name": "flowers", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}), 201)["dataset_id"]
    body["algorithm"]["inputs"][0]["remote"]["dataset"]["id"] = ds
    created = ok(client.post(TJ, body), 201)
    assert created["algorithm"]["inputs"][0]["remote"] == {"dataset": {"id": ds}}
    body["metadata"]["name"] = "v-missing"
    body["algorithm"]["inputs"][0]["remote"]["dataset"]["version_id"] = "nope"
    resp = client.post(TJ, body)
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.2788"


def _bad_creates():
    def with_(path, value):
        body = json.loads(json.dumps(CREATE))
        node = body
        for key in path[:-1]:
            node = node[key]
        if value is _DROP:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
        return body
    return [
        [1], "text", {},
        with_(("kind",), "weird"), with_(("kind",), _DROP), with_(("metadata",), _DROP),
        with_(("metadata",), "x"), with_(("metadata", "name"), ""),
        with_(("metadata", "name"), "x" * 65), with_(("metadata", "name"), "bad name!"),
        with_(("metadata", "name"), 5), with_(("metadata", "description"), "d" * 257),
        with_(("metadata", "workspace_id"), 3), with_(("metadata", "annotations"), {"a": 1}),
        with_(("algorithm",), _DROP), with_(("algorithm",), []),
        with_(("algorithm", "code_dir"), _DROP),
        with_(("algorithm", "code_dir"), "not-a-path"),
        with_(("algorithm", "engine"), {}), with_(("algorithm", "engine"), "x"),
        with_(("algorithm", "inputs"), "x"), with_(("algorithm", "inputs"), [1]),
        with_(("algorithm", "inputs"), [{"name": "a"}]),
        with_(("algorithm", "inputs"), [{"name": "a", "remote": {}}]),
        with_(("algorithm", "inputs"), [{"name": "a", "remote": {"obs": {}}}]),
        with_(("algorithm", "inputs"), [{"name": "a", "remote": {"obs": {"obs_url": 1}}}]),
        with_(("algorithm", "inputs"), [{"name": "a", "remote": {"dataset": "x"}}]),
        with_(("algorithm", "inputs"), [{"name": "a", "remote": {"dataset": {}}}]),
        with_(("algorithm", "inputs"), [_OBS_INPUT, _OBS_INPUT]),
        with_(("algorithm", "outputs"), [{"name": "o", "remote": {"dataset": {"id": "x"}}}]),
        with_(("algorithm", "parameters"), [{"value": "1"}]),
        with_(("algorithm", "environments"), {"A": 1}),
        with_(("spec",), _DROP), with_(("spec",), {"resource": {}}),
        with_(("spec", "resource", "node_count"), 0),
        with_(("spec", "resource", "node_count"), "2"),
        with_(("spec", "resource", "node_count"), True),
        with_(("spec", "auto_stop"), {"time_unit": "DAYS"}),
        with_(("spec", "schedule_policy"), {"priority": 9}),
    ]


_DROP = object()
_OBS_INPUT = {"name": "a", "remote": {"obs": {"obs_url": "obs://b1x/d/"}}}


def test_validation_never_500(client):
    for body in _bad_creates():
        resp = client.post(TJ, body)
        assert resp.status_code == 400, (body, resp.status_code, resp.get_data(as_text=True))
        assert set(resp.json) == ERROR_KEYS and resp.json["error_code"] == "ModelArts.2788", body
        assert resp.json["error_solution"]
    assert client.post(TJ, raw=b"{not json").status_code == 400


def test_other_validation(client, job):
    jid = job["metadata"]["id"]
    bad = [
        (lambda: client.post(SEARCH, {"limit": 0})),
        (lambda: client.post(SEARCH, {"limit": 51})),
        (lambda: client.post(SEARCH, {"offset": -1})),
        (lambda: client.post(SEARCH, {"sort_by": "height"})),
        (lambda: client.post(SEARCH, {"order": "up"})),
        (lambda: client.post(SEARCH, {"filters": "x"})),
        (lambda: client.post(SEARCH, {"filters": [{"key": "name", "operator": "eq",
                                                   "value": ["a"]}]})),
        (lambda: client.post(SEARCH, {"filters": [{"key": "name", "operator": "between",
                                                   "value": ["a", "b"]}]})),
        (lambda: client.post(SEARCH, {"filters": [{"key": "create_time",
                                                   "operator": "between",
                                                   "value": ["a", "b"]}]})),
        (lambda: client.post(SEARCH, {"filters": [{"key": "name", "operator": "in",
                                                   "value": [1]}]})),
        (lambda: client.post(SEARCH, {"tags": [{}]})),
        (lambda: client.put(TJ + "/" + jid, {"description": 5})),
        (lambda: client.put(TJ + "/" + jid, {"description": "d" * 257})),
        (lambda: client.put(TJ + "/" + jid, [1])),
        (lambda: client.post(TJ + "/%s/actions" % jid, {"action_type": "pause"})),
        (lambda: client.post(TJ + "/%s/actions" % jid, {})),
        (lambda: client.post(TJ + "/batch-delete", {"jobs": []})),
        (lambda: client.post(TJ + "/batch-delete", {"jobs": [{"kind": "job"}]})),
        (lambda: client.post(TJ + "/batch-delete", {"jobs": [
            {"kind": "job", "metadata": {"id": jid}}] * 101})),
        (lambda: client.post(TJ + "/%s/tags/create" % jid, {"tags": []})),
        (lambda: client.post(TJ + "/%s/tags/create" % jid, {"tags": [{"value": "v"}]})),
        (lambda: client.post(TJ + "/%s/tags/create" % jid, {"tags": [
            {"key": "k%d" % i} for i in range(21)]})),
        (lambda: client.call("DELETE", TJ + "/%s/tags/delete" % jid, {"tags": ["k"]})),
    ]
    for call in bad:
        resp = call()
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert resp.json["error_code"] == "ModelArts.2788" and set(resp.json) == ERROR_KEYS
    # nothing happened to the job
    assert phase(client, jid)["phase"] == "Creating"


def test_read_only_user_cannot_create(client):
    resp = client.as_user("auditor").post(TJ, CREATE)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"


# -- the official SDK ---------------------------------------------------------------------------

def _sdk_body(name):
    return Job(
        kind="job",
        metadata=JobMetadata(name=name, workspace_id="0", description="sdk job"),
        algorithm=JobAlgorithm(
            code_dir="obs://acme-bkt/code/", boot_file="obs://acme-bkt/code/train.py",
            engine=JobEngine(engine_name="PyTorch", engine_version="pytorch_1.8.0"),
            inputs=[Input(name="data_url", remote=InputDataInfo(
                obs=InputDataInfoObs(obs_url="obs://acme-bkt/data/")))],
            outputs=[Output(name="train_url", remote=Remote(
                obs=RemoteObs(obs_url="obs://acme-bkt/out/")))]),
        spec=Spec(resource=SpecResource(flavor_id="modelarts.vm.cpu.8u", node_count=1)))


def test_sdk_flow(sdk):  # noqa: F811
    # the job must still be Running when the test stops it: a longer run, short other steps
    req = urllib.request.Request(
        sdk.server.endpoint + "/_sim/lifecycle", method="POST",
        data=json.dumps({"family": "training_v2", "dwell": {
            "training_v2_create": 0.5, "training_v2_pending": 0.5,
            "training_v2_run": 30}}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    ma = sdk.modelarts
    created = ma.create_training_job(CreateTrainingJobRequest(body=_sdk_body("sdk-job")))
    jid = created.metadata.id
    assert UUID.match(jid) and created.metadata.name == "sdk-job"
    assert created.status.phase == "Creating"
    deadline = time.monotonic() + 15
    while True:
        shown = ma.show_training_job_details(ShowTrainingJobDetailsRequest(training_job_id=jid))
        if shown.status.phase in ("Running", "Completed"):
            break
        assert time.monotonic() < deadline, shown.status.phase
        time.sleep(0.2)
    assert shown.status.phase == "Running" and shown.status.secondary_phase == "Running"
    assert shown.metadata.user_name == "admin"
    assert shown.spec.resource.flavor_id == "modelarts.vm.cpu.8u"
    assert shown.algorithm.inputs[0].remote.obs.obs_url == "obs://acme-bkt/data/"
    found = ma.list_training_jobs(ListTrainingJobsRequest(body=JobSearches(
        limit=10, offset=0, filters=[Filter(key="name", operator="like", value=["sdk"])])))
    assert found.total == 1 and [j.metadata.id for j in found.items] == [jid]
    ma.change_training_job_description(ChangeTrainingJobDescriptionRequest(
        training_job_id=jid, body=JobUpdateRequestBody(description="renamed")))
    stopped = ma.stop_training_job(StopTrainingJobRequest(
        training_job_id=jid, body=JobActionType(action_type="terminate")))
    assert stopped.status.phase == "Terminating"
    ma.delete_training_job(DeleteTrainingJobRequest(training_job_id=jid))
    with pytest.raises(ClientRequestException) as info:
        ma.show_training_job_details(ShowTrainingJobDetailsRequest(training_job_id=jid))
    err = info.value
    assert err.status_code == 400 and err.error_code == "ModelArts.2775"
    assert jid in err.error_msg and err.request_id
    traces = sdk.cts.list_traces(ListTracesRequest(service_type="ModelArts",
                                                   resource_type="JobV2", limit=200)).traces
    assert [t.trace_name for t in traces] == ["DeleteJobV2", "StopJobV2", "UpdateJobV2",
                                              "CreateJobV2"]
    assert {t.resource_id for t in traces} == {jid}
    assert {t.resource_name for t in traces} == {"sdk-job"}


def test_training_job_is_the_v2_kind_by_its_plain_name(app, client):
    """`modelarts-sim ctl fail training-job ID`, as a user types it."""
    jid = _create(client)["metadata"]["id"]
    failed = _admin(app, "/lifecycle/fail", {"kind": "training-job", "id": jid,
                                             "reason": "node lost"}).json
    assert failed == {"kind": "training-job", "id": jid, "status": "Failed", "changed": True}
