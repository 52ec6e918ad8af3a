"""Training jobs (old v1 API): the six audited operations leave exactly their record, refusals
answer the is_success dialect with HTTP 400 and are traced as warnings, versions move
1 -> 7 -> 8 -> 10 (stop: 9 -> 12) on the clock, and configs must name what exists."""

import re

import pytest

from tests.helpers import check_refusal, check_trace, ok_is_success, FROZEN_MS, OTHER_PROJECT_ID, PROJECT_ID, SignedClient, \
    expected_record, obs_put

TJ = "/v1/{project_id}/training-jobs"
CONFIG = {"worker_server_num": 1, "app_url": "/usr/app/", "boot_file_url": "/usr/app/boot.py",
          "parameter": [{"label": "learning_rate", "value": "0.01"}],
          "data_url": "/usr/data/", "spec_id": 1, "engine_id": 1, "train_url": "/usr/train/"}
CREATE = {"job_name": "TestModelArtsJob", "job_desc": "demo", "config": CONFIG}
TRACE = {"resource_type": "ModelArtsTrainJob", "api_version": "v1"}


_ok = ok_is_success


@pytest.fixture(autouse=True)
def code_and_data(sim):
    """What CONFIG's jobs read: a job whose code or data is missing fails once it runs."""
    obs_put(sim, "/usr/app/boot.py", "/usr/data/1.jpg", "/usr/train/")


def check(client, resp, **kw):
    return check_trace(client, resp, **TRACE, **kw)


def refused(client, resp, code, **kw):
    return check_refusal(client, resp, 400, code, dialect="is_success", **TRACE, **kw)


def version(client, job_id=1, version_id=1):
    return _ok(client.get(TJ + "/%s/versions/%s" % (job_id, version_id)))


@pytest.fixture
def job(client):
    return _ok(client.post(TJ, CREATE))


@pytest.fixture
def completed(client, sim, job):
    sim.clock.advance(3)
    assert version(client)["status"] == 10
    return job


def dataset_with_version(client, sim, name="flowers"):
    ds = client.post("/v2/{project_id}/datasets", {
        "dataset_name": name, "data_sources": [{"data_path": "/acme-data/%s/in/" % name}],
        "work_path": "/acme-data/%s/out/" % name, "work_path_type": 0}).json["dataset_id"]
    sim.clock.advance(5)
    resp = client.post("/v2/{project_id}/datasets/%s/versions" % ds, {"version_name": "v1"})
    return ds, resp.json["version_id"]


# -- one whole record per audited operation ------------------------------------------------------

def test_create_training_job(client):
    resp = client.post(TJ, CREATE)
    body = _ok(resp)
    assert re.match(r"^job[0-9a-f]{8}$", body.pop("resource_id"))
    assert body == {"is_success": True, "job_id": 1, "job_name": "TestModelArtsJob",
                    "status": 1, "create_time": FROZEN_MS, "version_id": 1,
                    "version_name": "V0001"}
    check(client, resp, trace_name="createModelArtsTrainJob", operation_id="CreateTrainingJob",
          resource_id="1", resource_name="TestModelArtsJob", code=200, request=CREATE,
          response=resp.json, time=FROZEN_MS)


def test_create_training_job_version(client, completed):
    req = {"job_desc": "more workers", "config": {"pre_version_id": 1, "worker_server_num": 2}}
    resp = client.post(TJ + "/1/versions", req)
    body = _ok(resp)
    assert (body["job_id"], body["version_id"], body["version_name"], body["status"]) == (
        1, 2, "V0002", 1)
    check(client, resp, trace_name="createModelArtsTrainVersion",
          operation_id="CreateTrainingJobVersion", resource_id="1",
          resource_name="TestModelArtsJob", code=200, request=req, response=body)
    shown = version(client, 1, 2)
    assert (shown["pre_version_id"], shown["worker_server_num"], shown["app_url"],
            shown["data_url"], shown["job_desc"]) == (1, 2, "/usr/app/", "/usr/data/",
                                                      "more workers")


def test_stop_training_job_version(client, job):
    resp = client.post(TJ + "/1/versions/1/stop")
    assert _ok(resp) == {"is_success": True}
    check(client, resp, trace_name="stopModelArtsTrainVersion",
          operation_id="StopTrainingJobVersion", resource_id="1",
          resource_name="TestModelArtsJob", code=200, request=None,
          response={"is_success": True})
    assert version(client)["status"] == 9


def test_update_training_job_description(client, job):
    req = {"job_desc": "a better description"}
    resp = client.put(TJ + "/1", req)
    assert _ok(resp) == {"is_success": True}
    check(client, resp, trace_name="updateModelArtsTrainDesc",
          operation_id="UpdateTrainingJobDescription", resource_id="1",
          resource_name="TestModelArtsJob", code=200, request=req,
          response={"is_success": True})
    assert _ok(client.get(TJ))["jobs"][0]["job_desc"] == "a better description"


def test_delete_training_job_version(client, completed):
    _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    resp = client.delete(TJ + "/1/versions/1")
    assert _ok(resp) == {"is_success": True}
    check(client, resp, trace_name="deleteModelArtsTrainVersion",
          operation_id="DeleteTrainingJobVersion", resource_id="1",
          resource_name="TestModelArtsJob", code=200, request=None,
          response={"is_success": True})
    listed = _ok(client.get(TJ + "/1/versions"))
    assert [v["version_name"] for v in listed["versions"]] == ["V0002"]


def test_delete_training_job(client, job):
    resp = client.delete(TJ + "/1")
    assert _ok(resp) == {"is_success": True}
    check(client, resp, trace_name="deleteModelArtsTrainJob", operation_id="DeleteTrainingJob",
          resource_id="1", resource_name="TestModelArtsJob", code=200, request=None,
          response={"is_success": True})
    assert _ok(client.get(TJ))["job_total_count"] == 0


# -- lifecycles on the simulation clock ----------------------------------------------------------

def test_a_version_runs_1_7_8_10(client, sim, job):
    seen = []
    for _ in range(5):
        seen.append(version(client)["status"])
        sim.clock.advance(1)
    assert seen == [1, 7, 8, 10, 10]
    done = version(client)
    assert (done["start_time"], done["duration"]) == (FROZEN_MS + 2000, 1000)


def test_stopping_goes_9_then_12(client, sim, job):
    sim.clock.advance(2.5)
    assert version(client)["status"] == 8
    _ok(client.post(TJ + "/1/versions/1/stop"))
    assert version(client)["status"] == 9
    sim.clock.advance(1)
    stopped = version(client)
    assert (stopped["status"], stopped["start_time"], stopped["duration"]) == (
        12, FROZEN_MS + 2000, 500)
    sim.clock.advance(60)
    assert version(client)["status"] == 12


def test_the_job_shows_its_latest_version(client, sim, completed):
    _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    job = _ok(client.get(TJ))["jobs"][0]
    assert (job["version_id"], job["status"], job["version_count"]) == (2, 1, 2)
    sim.clock.advance(3)
    assert _ok(client.get(TJ))["jobs"][0]["status"] == 10


# -- guards --------------------------------------------------------------------------------------

def test_cannot_stop_a_completed_version(client, completed):
    resp = client.post(TJ + "/1/versions/1/stop")
    body = refused(client, resp, "ModelArts.0105", trace_name="stopModelArtsTrainVersion",
                   operation_id="StopTrainingJobVersion", resource_id="1",
                   resource_name="TestModelArtsJob", request=None)
    assert body["error_message"] == "This job can't be stop. job status: 10"


def test_cannot_stop_twice_nor_delete_while_killing(client, sim, job):
    _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    _ok(client.post(TJ + "/1/versions/1/stop"))
    resp = client.post(TJ + "/1/versions/1/stop")
    assert resp.json["error_message"] == "This job can't be stop. job status: 9"
    resp = client.delete(TJ + "/1/versions/1")
    refused(client, resp, "ModelArts.0105", trace_name="deleteModelArtsTrainVersion",
            operation_id="DeleteTrainingJobVersion", resource_id="1",
            resource_name="TestModelArtsJob", request=None)
    assert resp.json["error_message"] == "This job can't be delete. job status: 9"
    resp = client.delete(TJ + "/1")
    assert resp.json["error_message"] == "This job can't be delete. job status: 9"
    sim.clock.advance(1)
    _ok(client.delete(TJ + "/1/versions/1"))
    _ok(client.delete(TJ + "/1"))


def test_the_last_version_cannot_be_deleted(client, job):
    resp = client.delete(TJ + "/1/versions/1")
    body = refused(client, resp, "ModelArts.0105", trace_name="deleteModelArtsTrainVersion",
                   operation_id="DeleteTrainingJobVersion", resource_id="1",
                   resource_name="TestModelArtsJob", request=None)
    assert "delete the job instead" in body["error_message"]


def test_a_running_job_may_be_deleted(client, sim, job):
    sim.clock.advance(2.5)
    _ok(client.delete(TJ + "/1"))


def test_duplicate_job_name(client, job):
    resp = client.post(TJ, CREATE)
    body = refused(client, resp, "ModelArts.0103", trace_name="createModelArtsTrainJob",
                   operation_id="CreateTrainingJob", resource_id="",
                   resource_name="TestModelArtsJob", request=CREATE)
    assert body["error_message"] == "Job name:TestModelArtsJob is existed"


def test_unknown_job_and_version(client, job):
    resp = client.delete(TJ + "/42")
    body = refused(client, resp, "ModelArts.0105", trace_name="deleteModelArtsTrainJob",
                   operation_id="DeleteTrainingJob", resource_id="42", resource_name="",
                   request=None)
    assert body["error_message"] == "Job 42 does not exist."
    resp = client.post(TJ + "/1/versions/9/stop")
    refused(client, resp, "ModelArts.0105", trace_name="stopModelArtsTrainVersion",
            operation_id="StopTrainingJobVersion", resource_id="1",
            resource_name="TestModelArtsJob", request=None)
    resp = client.put(TJ + "/abc", {"job_desc": "x"})
    refused(client, resp, "ModelArts.0104", trace_name="updateModelArtsTrainDesc",
            operation_id="UpdateTrainingJobDescription", resource_id="abc", resource_name="",
            request={"job_desc": "x"})
    assert client.get(TJ + "/1/versions/xyz").json["error_code"] == "ModelArts.0104"


def test_version_needs_an_existing_pre_version(client, job):
    for config, message in [({}, "pre_version_id is required"),
                            ({"pre_version_id": "1"}, "integer"),
                            ({"pre_version_id": 7}, "does not exist")]:
        req = {"config": config}
        resp = client.post(TJ + "/1/versions", req)
        assert message in resp.json["error_message"], resp.json
        assert client.last_trace()["resource_id"] == "1"
    assert client.post(TJ + "/1/versions", {}).json["error_code"] == "ModelArts.0104"


# -- what a config refers to ---------------------------------------------------------------------

def test_a_dataset_must_exist(client, sim):
    ds, ver = dataset_with_version(client, sim)
    data = {k: v for k, v in CONFIG.items() if k != "data_url"}
    for extra, message in [({"dataset_id": "noSuchDataset000001", "dataset_version_id": ver},
                            "Dataset noSuchDataset000001 does not exist."),
                           ({"dataset_id": ds, "dataset_version_id": "noSuchVersion"},
                            "has no version noSuchVersion"),
                           ({"dataset_id": ds}, "dataset_version_id is required"),
                           ({"data_source": [{"type": "dataset", "dataset_id": ds,
                                              "dataset_version": "nope"}]}, "has no version")]:
        req = dict(CREATE, config={**data, **extra})
        resp = client.post(TJ, req)
        body = refused(client, resp, "ModelArts.0104", trace_name="createModelArtsTrainJob",
                       operation_id="CreateTrainingJob", resource_id="",
                       resource_name="TestModelArtsJob", request=req)
        assert message in body["error_message"]
    _ok(client.post(TJ, dict(CREATE, config={**data, "dataset_id": ds,
                                             "dataset_version_id": ver})))
    shown = version(client)
    assert (shown["dataset_id"], shown["dataset_version_id"], shown["dataset_name"],
            shown["dataset_version_name"], shown["data_url"]) == (ds, ver, "flowers", "v1", "")


def test_a_pool_must_be_a_running_cluster_of_the_project(client, sim):
    cfg = {k: v for k, v in CONFIG.items() if k != "spec_id"}
    req = dict(CREATE, config=dict(cfg, pool_id="pool9928813f"))
    resp = client.post(TJ, req)
    body = refused(client, resp, "ModelArts.0104", trace_name="createModelArtsTrainJob",
                   operation_id="CreateTrainingJob", resource_id="",
                   resource_name="TestModelArtsJob", request=req)
    assert body["error_message"] == "Resource pool pool9928813f does not exist."
    cluster = client.post("/v1/{project_id}/clusters", {
        "cluster_name": "pool-1", "nodes": {"specification": "modelarts.vm.gpu.v100",
                                            "count": 2}}).json["cluster_id"]
    req = dict(CREATE, config=dict(cfg, pool_id=cluster))
    assert "deploying, not running" in client.post(TJ, req).json["error_message"]
    sim.clock.advance(5)
    _ok(client.post(TJ, req))
    shown = version(client)
    assert (shown["pool_id"], shown["pool_name"], shown["spec_id"]) == (cluster, "pool-1", None)
    other = SignedClient(client.app, "admin", OTHER_PROJECT_ID)
    assert other.post(TJ, req).json["error_message"] == \
        "Resource pool %s does not exist." % cluster


@pytest.mark.parametrize("change, message", [
    ({"job_name": "bad name!"}, "job_name"),
    ({"job_name": "j" * 65}, "job_name"),
    ({"job_name": None}, "job_name is required"),
    ({"job_desc": "d" * 257}, "job_desc"),
    ({"config": None}, "config is required"),
    ({"config": [1]}, "config must be an object"),
    ({"config": dict(CONFIG, worker_server_num=None)}, "worker_server_num is required"),
    ({"config": dict(CONFIG, worker_server_num="1")}, "worker_server_num must be an integer"),
    ({"config": dict(CONFIG, worker_server_num=6)}, "worker_server_num must be between 1 and 5"),
    ({"config": dict(CONFIG, spec_id=None)}, "spec_id is required"),
    ({"config": dict(CONFIG, spec_id=99)}, "Resource specification 99 does not exist"),
    ({"config": dict(CONFIG, engine_id=99)}, "AI engine 99 does not exist"),
    ({"config": dict(CONFIG, app_url=None)}, "app_url is required"),
    ({"config": dict(CONFIG, boot_file_url="/other/boot.py")}, "inside the code directory"),
    ({"config": dict(CONFIG, boot_file_url="/usr/app/")}, "must name a file"),
    ({"config": dict(CONFIG, app_url="usr/app/")}, "app_url must be an OBS path"),
    ({"config": dict(CONFIG, data_url=None)}, "exactly one of"),
    ({"config": dict(CONFIG, dataset_id="x", dataset_version_id="y")}, "exactly one of"),
    ({"config": dict(CONFIG, data_url="/usr/data")}, "end with /"),
    ({"config": dict(CONFIG, parameter=[{"value": "1"}])}, "label is required"),
    ({"config": dict(CONFIG, parameter=[{"label": "x", "value": [1]}])}, "string or number"),
    ({"config": dict(CONFIG, train_url="/A_B/")}, "bucket"),
    ({"config": dict(CONFIG, user_command="python x.py")}, "user_command needs"),
    ({"config": dict(CONFIG, user_image_url="swr/custom:1.0")}, "user_command is required"),
    ({"config": dict(CONFIG, volumes=[{"host_path": {"src_path": "/a", "dest_path": "/b"}}])},
     "dedicated resource pool"),
    ({"config": dict(CONFIG, volumes=[{"nfs": {"src_path": "/a", "dest_path": "/b"}}])},
     "id is required"),
    ({"config": dict(CONFIG, volumes=[{"disk": {}}])}, "nfs or host_path"),
    ({"config": dict(CONFIG, create_version="yes")}, "create_version"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(TJ, req)
    asked = req.get("job_name") if isinstance(req.get("job_name"), str) else ""
    body = refused(client, resp, "ModelArts.0104", trace_name="createModelArtsTrainJob",
                   operation_id="CreateTrainingJob", resource_id="", resource_name=asked,
                   request=req)
    assert message in body["error_message"]


def test_other_code_sources(client):
    builtin = {k: v for k, v in CONFIG.items() if k not in ("app_url", "boot_file_url")}
    _ok(client.post(TJ, dict(CREATE, job_name="builtin", config=dict(builtin, model_id=3))))
    image = dict(builtin, user_image_url="swr.cn-north-4.myhuaweicloud.com/acme/train:1.0",
                 user_command="python /home/work/train.py")
    _ok(client.post(TJ, dict(CREATE, job_name="image", config=image)))
    shown = version(client, 2, 2)
    assert (shown["user_image_url"], shown["user_command"], shown["app_url"]) == (
        image["user_image_url"], image["user_command"], "")
    assert version(client, 1, 1)["model_id"] == 3


def test_update_description_validation(client, job):
    for req in ({}, {"job_desc": 5}, {"job_desc": "d" * 257}):
        resp = client.put(TJ + "/1", req)
        refused(client, resp, "ModelArts.0104", trace_name="updateModelArtsTrainDesc",
                operation_id="UpdateTrainingJobDescription", resource_id="1",
                resource_name="TestModelArtsJob", request=req or None)


# -- reads ---------------------------------------------------------------------------------------

def test_list_jobs_pages_sorts_and_filters(client, sim):
    for name, desc in (("job-b", "zz"), ("job-c", "aa"), ("job-a", "mm")):
        _ok(client.post(TJ, dict(CREATE, job_name=name, job_desc=desc)))
        sim.clock.advance(1)

    def names(**query):
        body = _ok(client.get(TJ, query=query))
        return body["job_total_count"], [j["job_name"] for j in body["jobs"]]

    assert names() == (3, ["job-a", "job-b", "job-c"])
    assert names(order="desc") == (3, ["job-c", "job-b", "job-a"])
    assert names(sortBy="create_time") == (3, ["job-b", "job-c", "job-a"])
    assert names(sortBy="job_desc") == (3, ["job-c", "job-a", "job-b"])
    assert names(sortBy="status", order="desc") == (3, ["job-b", "job-c", "job-a"])
    assert names(per_page=2, page=2) == (3, ["job-c"])
    assert names(per_page=2, page=3) == (3, [])
    assert names(status=10) == (1, ["job-b"])
    assert names(search_content="-B") == (1, ["job-b"])
    assert names(workspace_id="0") == (3, ["job-a", "job-b", "job-c"])
    body = _ok(client.get(TJ))
    assert (body["quotas"], body["job_count_limit"]) == (100, 97)
    for query in ({"per_page": 0}, {"per_page": 1001}, {"page": 0}, {"page": "x"},
                  {"sortBy": "size"}, {"order": "up"}, {"status": 99},
                  {"search_content": "s" * 65}):
        resp = client.get(TJ, query=query)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0104", query
        assert resp.json["is_success"] is False


def test_list_versions_newest_first(client, sim, completed):
    for _ in range(2):
        _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    body = _ok(client.get(TJ + "/1/versions", query={"per_page": 2}))
    assert (body["job_id"], body["job_name"], body["job_desc"], body["version_count"]) == (
        1, "TestModelArtsJob", "demo", 3)
    assert [v["version_name"] for v in body["versions"]] == ["V0003", "V0002"]
    body = _ok(client.get(TJ + "/1/versions", query={"per_page": 2, "page": 2}))
    assert [(v["version_id"], v["status"]) for v in body["versions"]] == [(1, 10)]


def test_version_names_are_never_reused(client, completed):
    _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    _ok(client.delete(TJ + "/1/versions/2"))
    created = _ok(client.post(TJ + "/1/versions", {"config": {"pre_version_id": 1}}))
    assert (created["version_id"], created["version_name"]) == (3, "V0003")


def test_version_detail(client, job):
    shown = version(client)
    assert {k: shown[k] for k in ("job_id", "job_name", "version_id", "version_name",
                                  "engine_name", "engine_version", "spec_code", "core", "cpu",
                                  "parameter", "train_url", "create_time", "start_time")} == {
        "job_id": 1, "job_name": "TestModelArtsJob", "version_id": 1, "version_name": "V0001",
        "engine_name": "TensorFlow", "engine_version": "TF-1.4.0-python2.7",
        "spec_code": "modelarts.vm.cpu.8u", "core": "8", "cpu": "32",
        "parameter": [{"label": "learning_rate", "value": "0.01"}], "train_url": "/usr/train/",
        "create_time": FROZEN_MS, "start_time": None}
    assert "failed_reason" not in shown


def test_resource_specs_and_engines(client):
    specs = _ok(client.get("/v1/{project_id}/job/resource-specs", query={"job_type": "train"}))
    assert specs["spec_total_count"] == len(specs["specs"]) >= 3
    assert {"spec_id": 2, "core": "2", "cpu": "8", "gpu_num": 0, "gpu_type": "",
            "spec_code": "modelarts.vm.cpu.2u", "unit_num": 1, "max_num": 2, "storage": "",
            "interface_type": 1, "no_resource": False} in specs["specs"]
    engines = _ok(client.get("/v1/{project_id}/job/ai-engines"))["engines"]
    assert {"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 1,
            "engine_version": "TF-1.4.0-python2.7"} in engines
    # every listed spec and engine is one a job may use
    for spec in specs["specs"]:
        for engine in engines:
            cfg = dict(CONFIG, spec_id=spec["spec_id"], engine_id=engine["engine_id"])
            _ok(client.post(TJ, dict(CREATE, job_name="j-%d-%d" % (
                spec["spec_id"], engine["engine_id"]), config=cfg)))
    resp = client.get("/v1/{project_id}/job/ai-engines", query={"job_type": "serve"})
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0104"
    assert client.traces() == [t for t in client.traces()
                               if t["trace_name"] == "createModelArtsTrainJob"]


# -- /_sim/lifecycle ------------------------------------------------------------------------------

def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_manual_mode_and_advance(client, app, sim):
    _admin(app, "/lifecycle", {"family": "training_jobs", "mode": "manual"})
    _ok(client.post(TJ, CREATE))
    sim.clock.advance(3600)
    seen = [version(client)["status"]]
    for _ in range(4):
        _admin(app, "/lifecycle/advance", {"kind": "training-job-version", "id": "1"})
        seen.append(version(client)["status"])
    assert seen == [1, 7, 8, 10, 10]


def test_fail_a_version(client, app, sim, job):
    sim.clock.advance(2.5)
    resp = _admin(app, "/lifecycle/fail", {"kind": "training-job-version", "id": "1",
                                           "reason": "OOM in worker 0"})
    assert resp.json == {"kind": "training-job-version", "id": "1", "status": 11,
                         "changed": True}
    sim.clock.advance(10)
    shown = version(client)
    assert (shown["status"], shown["failed_reason"], shown["start_time"], shown["duration"]) == (
        11, "OOM in worker 0", FROZEN_MS + 2000, 500)
    assert client.post(TJ + "/1/versions/1/stop").json["error_message"] == \
        "This job can't be stop. job status: 11"


def test_controls_tell_projects_apart(client, app):
    _ok(client.post(TJ, CREATE))
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    _ok(other.post(TJ, CREATE))
    resp = _admin(app, "/lifecycle/fail", {"kind": "training-job-version",
                                           "id": "%s/1" % OTHER_PROJECT_ID})
    assert resp.json["status"] == 11
    assert version(other)["status"] == 11 and version(client)["status"] == 1
    resp = _admin(app, "/lifecycle/advance", {"kind": "training-job-version",
                                              "id": "%s/1" % PROJECT_ID})
    assert resp.json["status"] == 7
    assert _admin(app, "/lifecycle/advance", {"kind": "training-job-version",
                                              "id": "7"}).status_code == 404


# -- who may do what, where ----------------------------------------------------------------------

def test_read_only_auditor_may_read_but_not_write(client, job):
    auditor = client.as_user("auditor")
    assert _ok(auditor.get(TJ))["job_total_count"] == 1
    resp = auditor.delete(TJ + "/1")
    assert resp.status_code == 403
    assert resp.json == {"is_success": False, "error_code": "ModelArts.0108",
                         "error_message": resp.json["error_message"]}
    actual = client.last_trace()
    assert actual == expected_record(
        actual, **TRACE, trace_name="deleteModelArtsTrainJob", operation_id="DeleteTrainingJob",
        resource_id="", resource_name="", code=403, request=None, response=resp.json,
        user="auditor", error_code="ModelArts.0108", time=client.sim.clock.now_ms())
    assert _ok(client.get(TJ))["job_total_count"] == 1


def test_jobs_belong_to_their_project(client, app, job):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert _ok(other.get(TJ))["job_total_count"] == 0
    assert other.get(TJ + "/1/versions").json["error_code"] == "ModelArts.0105"
    created = _ok(other.post(TJ, CREATE))  # ids and names count per project
    assert (created["job_id"], created["version_id"]) == (1, 1)
    resp = client.as_user("mallory").delete(TJ + "/1")
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert _ok(client.get(TJ))["job_total_count"] == 1
