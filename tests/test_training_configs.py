"""Training job configurations (old v1 API): the three audited operations leave exactly their
record (the name is both resource id and name), refusals answer the is_success dialect with
HTTP 400 as warnings, and a configuration must name what exists, like a training job's."""

import pytest

from tests.helpers import check_refusal, check_trace, ok_is_success, FROZEN_MS, OTHER_PROJECT_ID, SignedClient, expected_record

TC = "/v1/{project_id}/training-job-configs"
CREATE = {"config_name": "testConfig", "config_desc": "mnist on 1 node",
          "worker_server_num": 1, "app_url": "/usr/app/", "boot_file_url": "/usr/app/boot.py",
          "parameter": [{"label": "learning_rate", "value": "0.01"}],
          "spec_id": 1, "engine_id": 1, "data_url": "/usr/data/", "train_url": "/usr/train/"}
TRACE = {"resource_type": "ModelArtsTrainConfig", "api_version": "v1"}
OK = {"is_success": True}


_ok = ok_is_success


def check(client, resp, **kw):
    return check_trace(client, resp, **TRACE, **kw)


def refused(client, resp, code, **kw):
    return check_refusal(client, resp, 400, code, dialect="is_success", **TRACE, **kw)


@pytest.fixture
def config(client):
    _ok(client.post(TC, CREATE))
    return "testConfig"


def detail(client, name="testConfig"):
    return _ok(client.get(TC + "/" + name))


# -- one whole record per audited operation ------------------------------------------------------

def test_create_training_job_config(client):
    resp = client.post(TC, CREATE)
    assert _ok(resp) == OK
    check(client, resp, trace_name="createModelArtsTrainConfig",
          operation_id="CreateTrainingJobConfig", resource_id="testConfig",
          resource_name="testConfig", code=200, request=CREATE, response=OK, time=FROZEN_MS)


def test_update_training_job_config(client, sim, config):
    sim.clock.advance(5)
    req = {"config_desc": "two nodes", "worker_server_num": 2, "spec_id": 3, "engine_id": 2}
    resp = client.put(TC + "/testConfig", req)
    assert _ok(resp) == OK
    check(client, resp, trace_name="updateModelArtsTrainConfig",
          operation_id="UpdateTrainingJobConfig", resource_id="testConfig",
          resource_name="testConfig", code=200, request=req, response=OK)
    shown = detail(client)
    assert (shown["config_desc"], shown["worker_server_num"], shown["spec_code"],
            shown["gpu_type"], shown["engine_version"], shown["app_url"], shown["create_time"]) \
        == ("two nodes", 2, "modelarts.vm.gpu.p100", "P100", "TF-1.13.1-python3.6",
            "/usr/app/", FROZEN_MS)


def test_delete_training_job_config(client, config):
    resp = client.delete(TC + "/testConfig")
    assert _ok(resp) == OK
    check(client, resp, trace_name="deleteModelArtsTrainConfig",
          operation_id="DeleteTrainingJobConfig", resource_id="testConfig",
          resource_name="testConfig", code=200, request=None, response=OK)
    assert _ok(client.get(TC))["config_total_count"] == 0


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_config_name(client, config):
    resp = client.post(TC, CREATE)
    body = refused(client, resp, "ModelArts.0103", trace_name="createModelArtsTrainConfig",
                   operation_id="CreateTrainingJobConfig", resource_id="testConfig",
                   resource_name="testConfig", request=CREATE)
    assert body["error_message"] == "Config name:testConfig is existed"


def test_unknown_config(client):
    for call, trace, op, req in [
            (lambda: client.delete(TC + "/nope"), "deleteModelArtsTrainConfig",
             "DeleteTrainingJobConfig", None),
            (lambda: client.put(TC + "/nope", {"config_desc": "x"}),
             "updateModelArtsTrainConfig", "UpdateTrainingJobConfig", {"config_desc": "x"})]:
        body = refused(client, call(), "ModelArts.0105", trace_name=trace, operation_id=op,
                       resource_id="nope", resource_name="nope", request=req)
        assert body["error_message"] == "Config nope does not exist."
    assert client.get(TC + "/nope").json["error_code"] == "ModelArts.0105"


@pytest.mark.parametrize("change, message", [
    ({"config_name": "bad name"}, "config_name"),
    ({"config_name": "c" * 65}, "config_name"),
    ({"config_name": None}, "config_name is required"),
    ({"config_desc": "d" * 257}, "config_desc"),
    ({"worker_server_num": None}, "worker_server_num is required"),
    ({"spec_id": 77}, "Resource specification 77 does not exist"),
    ({"engine_id": "TensorFlow"}, "engine_id must be an integer"),
    ({"boot_file_url": None}, "boot_file_url is required"),
    ({"data_url": None}, "exactly one of"),
    ({"data_url": None, "dataset_id": "noSuchDataset000001", "dataset_version_id": "v"},
     "Dataset noSuchDataset000001 does not exist"),
    ({"data_url": None, "data_source": [{"type": "ftp"}]}, "type"),
    ({"pool_id": "pool9928813f"}, "Resource pool pool9928813f does not exist"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(TC, req)
    asked = req.get("config_name", "")
    body = refused(client, resp, "ModelArts.0104", trace_name="createModelArtsTrainConfig",
                   operation_id="CreateTrainingJobConfig", resource_id=asked,
                   resource_name=asked, request=req)
    assert message in body["error_message"]


def test_update_validation_changes_nothing(client, config):
    for req, message in [({"config_name": "renamed"}, "cannot be changed"),
                         ({"worker_server_num": 0}, "worker_server_num"),
                         ({"app_url": "/elsewhere/"}, "boot_file_url is required"),
                         ([1], "JSON object")]:
        resp = client.put(TC + "/testConfig", req)
        body = refused(client, resp, "ModelArts.0104", trace_name="updateModelArtsTrainConfig",
                       operation_id="UpdateTrainingJobConfig", resource_id="testConfig",
                       resource_name="testConfig", request=req)
        assert message in body["error_message"]
    assert detail(client)["worker_server_num"] == 1


def test_an_update_naming_one_data_field_replaces_the_data(client, sim, config):
    ds = client.post("/v2/{project_id}/datasets", {
        "dataset_name": "flowers", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).json["dataset_id"]
    sim.clock.advance(5)
    ver = client.post("/v2/{project_id}/datasets/%s/versions" % ds, {}).json["version_id"]
    _ok(client.put(TC + "/testConfig", {"dataset_id": ds, "dataset_version_id": ver}))
    shown = detail(client)
    assert (shown["data_url"], shown["dataset_id"], shown["dataset_name"],
            shown["dataset_version_name"]) == ("", ds, "flowers", "V001")
    _ok(client.put(TC + "/testConfig", {"data_source": [{"type": "obs",
                                                          "data_url": "/usr/more/"}]}))
    shown = detail(client)
    assert (shown["dataset_id"], shown["data_source"]) == (
        "", [{"type": "obs", "data_url": "/usr/more/"}])


# -- reads ---------------------------------------------------------------------------------------

def test_list_pages_sorts_and_searches(client, sim):
    for name, desc in (("cfg-b", "zz"), ("cfg-c", "aa"), ("cfg-a", "mm")):
        _ok(client.post(TC, dict(CREATE, config_name=name, config_desc=desc)))
        sim.clock.advance(1)

    def names(**query):
        body = _ok(client.get(TC, query=query))
        return body["config_total_count"], [c["config_name"] for c in body["configs"]]

    assert names() == (3, ["cfg-a", "cfg-b", "cfg-c"])
    assert names(order="desc", per_page=2) == (3, ["cfg-c", "cfg-b"])
    assert names(sortBy="create_time", per_page=2, page=2) == (3, ["cfg-a"])
    assert names(sortBy="config_desc") == (3, ["cfg-c", "cfg-a", "cfg-b"])
    assert names(search_content="-C") == (1, ["cfg-c"])
    assert names(config_type="sample") == (0, [])
    first = _ok(client.get(TC))["configs"][0]
    assert first == {"config_name": "cfg-a", "config_desc": "mm", "create_time": FROZEN_MS + 2000,
                     "engine_type": 1, "engine_name": "TensorFlow", "engine_id": 1,
                     "engine_version": "TF-1.4.0-python2.7", "user_image_url": "",
                     "user_command": ""}
    for query in ({"config_type": "mine"}, {"sortBy": "status"}, {"per_page": "-1"}):
        resp = client.get(TC, query=query)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0104"
    assert client.traces() == [t for t in client.traces()
                               if t["trace_name"] == "createModelArtsTrainConfig"]


def test_detail(client, config):
    shown = detail(client)
    assert {k: shown[k] for k in ("config_name", "config_desc", "worker_server_num",
                                  "boot_file_url", "parameter", "spec_id", "spec_code", "core",
                                  "cpu", "gpu_num", "data_url", "train_url", "log_url",
                                  "pool_id")} == {
        "config_name": "testConfig", "config_desc": "mnist on 1 node", "worker_server_num": 1,
        "boot_file_url": "/usr/app/boot.py",
        "parameter": [{"label": "learning_rate", "value": "0.01"}], "spec_id": 1,
        "spec_code": "modelarts.vm.cpu.8u", "core": "8", "cpu": "32", "gpu_num": 0,
        "data_url": "/usr/data/", "train_url": "/usr/train/", "log_url": "", "pool_id": ""}
    assert _ok(client.get(TC + "/testConfig", query={"config_type": "custom"})) == shown


def test_configurations_have_no_lifecycle(app):
    state = app.test_client().get("/_sim/lifecycle").json
    assert state["training_configs"] == {"mode": "time", "dwell": {}}


# -- who may do what, where ----------------------------------------------------------------------

def test_read_only_auditor_may_read_but_not_write(client, config):
    auditor = client.as_user("auditor")
    assert _ok(auditor.get(TC))["config_total_count"] == 1
    req = {"config_desc": "mine now"}
    resp = auditor.put(TC + "/testConfig", req)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    actual = client.last_trace()
    assert actual == expected_record(
        actual, **TRACE, trace_name="updateModelArtsTrainConfig",
        operation_id="UpdateTrainingJobConfig", resource_id="", resource_name="", code=403,
        request=req, response=resp.json, user="auditor", error_code="ModelArts.0108",
        time=client.sim.clock.now_ms())
    assert detail(client)["config_desc"] == "mnist on 1 node"


def test_configurations_belong_to_their_project(client, app, config):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert _ok(other.get(TC))["config_total_count"] == 0
    assert other.delete(TC + "/testConfig").json["error_code"] == "ModelArts.0105"
    _ok(other.post(TC, CREATE))
    resp = client.as_user("mallory").delete(TC + "/testConfig")
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert detail(client)["config_name"] == "testConfig"
