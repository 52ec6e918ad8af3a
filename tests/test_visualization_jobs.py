"""Visualization jobs (old v1 API): the five audited operations leave exactly their record
(restart under the seed's own spelling, restartModelArtsgTensorboardJob), the documented
refusals answer the is_success dialect with HTTP 400 as warnings, and jobs move 1 -> 7 -> 8
(serving their URL), stop 9 -> 12, complete on their schedule, and restart 7 -> 8."""

import pytest

from tests.helpers import check_refusal, check_trace, ok_is_success, FROZEN_MS, OTHER_PROJECT_ID, PROJECT_ID, UUID, SignedClient, \
    expected_record, obs_put

VJ = "/v1/{project_id}/visualization-jobs"
CREATE = {"job_name": "visualization-job", "job_desc": "this is a visualization job",
          "train_url": "/obs/name/", "job_type": "tensorboard"}
TRACE = {"resource_type": "ModelArtsTensorboardJob", "api_version": "v1"}
NAME = "visualization-job"
OK = {"is_success": True}


_ok = ok_is_success


@pytest.fixture(autouse=True)
def event_files(sim):
    """What CREATE's jobs show: a train_url with nothing in it is refused."""
    obs_put(sim, "/obs/name/events.out.tfevents.1")


def check(client, resp, **kw):
    return check_trace(client, resp, **TRACE, **kw)


def refused(client, resp, code, **kw):
    return check_refusal(client, resp, 400, code, dialect="is_success", **TRACE, **kw)


def shown(client, job_id=1):
    return _ok(client.get(VJ + "/%s" % job_id))


@pytest.fixture
def running(client, sim):
    _ok(client.post(VJ, CREATE))
    sim.clock.advance(2)
    assert shown(client)["status"] == 8
    return 1


@pytest.fixture
def killed(client, sim, running):
    _ok(client.post(VJ + "/1/stop"))
    sim.clock.advance(1)
    assert shown(client)["status"] == 12
    return 1


# -- one whole record per audited operation ------------------------------------------------------

def test_create_visualization_job(client):
    resp = client.post(VJ, CREATE)
    body = _ok(resp)
    assert body == {"is_success": True, "job_id": 1, "job_name": NAME, "status": 1,
                    "create_time": FROZEN_MS, "service_url": ""}
    check(client, resp, trace_name="createModelArtsTensorboardJob",
          operation_id="CreateVisualizationJob", resource_id="1", resource_name=NAME,
          code=200, request=CREATE, response=body, time=FROZEN_MS)


def test_delete_visualization_job(client, running):
    resp = client.delete(VJ + "/1")
    assert _ok(resp) == OK
    check(client, resp, trace_name="deleteModelArtsTensorboardJob",
          operation_id="DeleteVisualizationJob", resource_id="1", resource_name=NAME, code=200,
          request=None, response=OK)
    assert client.get(VJ + "/1").json["error_code"] == "ModelArts.0105"


def test_update_visualization_job_description(client, running):
    req = {"job_desc": "loss curves"}
    resp = client.put(VJ + "/1", req)
    assert _ok(resp) == OK
    check(client, resp, trace_name="updateModelArtsTensorboardDesc",
          operation_id="UpdateVisualizationJobDescription", resource_id="1",
          resource_name=NAME, code=200, request=req, response=OK)
    assert shown(client)["job_desc"] == "loss curves"


def test_stop_visualization_job(client, running):
    resp = client.post(VJ + "/1/stop")
    assert _ok(resp) == OK
    check(client, resp, trace_name="stopModelArtsTensorboardJob",
          operation_id="StopVisualizationJob", resource_id="1", resource_name=NAME, code=200,
          request=None, response=OK)
    assert shown(client)["status"] == 9


def test_restart_visualization_job(client, killed):
    resp = client.post(VJ + "/1/restart")
    assert _ok(resp) == OK
    check(client, resp, trace_name="restartModelArtsgTensorboardJob",
          operation_id="RestartVisualizationJob", resource_id="1", resource_name=NAME,
          code=200, request=None, response=OK)
    assert shown(client)["status"] == 7


# -- lifecycles on the simulation clock ----------------------------------------------------------

def test_a_job_starts_and_serves_its_url_while_running(client, sim):
    _ok(client.post(VJ, CREATE))
    seen = []
    for _ in range(4):
        job = shown(client)
        seen.append((job["status"], job["service_url"]))
        sim.clock.advance(1)
    url = "https://modelarts.cn-north-4.myhuaweicloud.com/modelarts2/tensorboard/%s/1/" % \
        PROJECT_ID
    assert seen == [(1, ""), (7, ""), (8, url), (8, url)]
    job = shown(client)
    assert (job["duration"], job["train_url"], job["job_type"]) == (2000, "/obs/name/",
                                                                    "tensorboard")
    assert UUID.match(job["resource_id"])


def test_stop_then_restart(client, sim, running):
    sim.clock.advance(10)
    _ok(client.post(VJ + "/1/stop"))
    job = shown(client)
    assert (job["status"], job["service_url"], job["duration"]) == (9, "", 10_000)
    sim.clock.advance(1)
    assert shown(client)["status"] == 12
    _ok(client.post(VJ + "/1/restart"))
    seen = []
    for _ in range(3):
        seen.append(shown(client)["status"])
        sim.clock.advance(0.5)
    assert seen == [7, 7, 8]
    assert shown(client)["duration"] == 500  # the new run's


def test_a_schedule_completes_the_job(client, sim):
    req = dict(CREATE, job_type="mindinsight",
               schedule=[{"type": "stop", "time_unit": "HOURS", "duration": 1}])
    _ok(client.post(VJ, req))
    sim.clock.advance(2)
    assert "/modelarts2/mindinsight/" in shown(client)["service_url"]
    sim.clock.advance(3599)
    assert shown(client)["status"] == 8
    sim.clock.advance(1)
    job = shown(client)
    assert (job["status"], job["service_url"], job["duration"]) == (10, "", 3_600_000)
    sim.clock.advance(3600)
    assert shown(client)["duration"] == 3_600_000


def test_a_schedule_object_and_zero_hours(client, sim):
    _ok(client.post(VJ, dict(CREATE, schedule={"type": "stop", "time_unit": "HOURS",
                                                "duration": 0})))
    sim.clock.advance(86400 * 2)
    assert shown(client)["status"] == 8


# -- the documented refusals ---------------------------------------------------------------------

def test_cannot_stop_a_completed_job(client, sim):
    _ok(client.post(VJ, dict(CREATE, schedule={"type": "stop", "time_unit": "HOURS",
                                                "duration": 1})))
    sim.clock.advance(3602)
    resp = client.post(VJ + "/1/stop")
    body = refused(client, resp, "ModelArts.0105", trace_name="stopModelArtsTensorboardJob",
                   operation_id="StopVisualizationJob", resource_id="1", resource_name=NAME,
                   request=None)
    assert body["error_message"] == "This job can't be stop. job status: 10"
    _ok(client.post(VJ + "/1/restart"))  # a completed job may be restarted


def test_cannot_restart_a_running_job(client, running):
    resp = client.post(VJ + "/1/restart")
    body = refused(client, resp, "ModelArts.0105", trace_name="restartModelArtsgTensorboardJob",
                   operation_id="RestartVisualizationJob", resource_id="1", resource_name=NAME,
                   request=None)
    assert body["error_message"] == "This job can't be resubmit. job status: 8"


def test_cannot_delete_a_job_being_killed(client, running):
    _ok(client.post(VJ + "/1/stop"))
    resp = client.delete(VJ + "/1")
    body = refused(client, resp, "ModelArts.0105", trace_name="deleteModelArtsTensorboardJob",
                   operation_id="DeleteVisualizationJob", resource_id="1", resource_name=NAME,
                   request=None)
    assert body["error_message"] == "This job can't be delete. job status: 9"
    assert client.post(VJ + "/1/stop").json["error_message"] == \
        "This job can't be stop. job status: 9"
    assert client.post(VJ + "/1/restart").json["error_message"] == \
        "This job can't be resubmit. job status: 9"


def test_duplicate_and_unknown_jobs(client, running):
    resp = client.post(VJ, CREATE)
    body = refused(client, resp, "ModelArts.0103", trace_name="createModelArtsTensorboardJob",
                   operation_id="CreateVisualizationJob", resource_id="", resource_name=NAME,
                   request=CREATE)
    assert body["error_message"] == "Job name:visualization-job is existed"
    resp = client.post(VJ + "/5/restart")
    body = refused(client, resp, "ModelArts.0105", trace_name="restartModelArtsgTensorboardJob",
                   operation_id="RestartVisualizationJob", resource_id="5", resource_name="",
                   request=None)
    assert body["error_message"] == "Job 5 does not exist."
    resp = client.post(VJ + "/five/stop")
    refused(client, resp, "ModelArts.0104", trace_name="stopModelArtsTensorboardJob",
            operation_id="StopVisualizationJob", resource_id="five", resource_name="",
            request=None)


@pytest.mark.parametrize("change, message", [
    ({"job_name": "v" * 21}, "job_name"),
    ({"job_name": "tb job"}, "job_name"),
    ({"job_name": None}, "job_name is required"),
    ({"job_desc": "d" * 257}, "job_desc"),
    ({"train_url": None}, "train_url is required"),
    ({"train_url": "obs/name/"}, "train_url must be an OBS path"),
    ({"train_url": "/obs/empty/"}, "OBS path /obs/empty/ does not exist"),
    ({"train_url": "/no-bucket/name/"}, "OBS path /no-bucket/name/ does not exist"),
    ({"job_type": "visdom"}, "job_type"),
    ({"flavor": {}}, "code is required"),
    ({"flavor": {"code": "modelarts.vm.huge"}}, "code"),
    ({"schedule": {"type": "start", "time_unit": "HOURS", "duration": 1}}, "type"),
    ({"schedule": {"type": "stop", "time_unit": "MINUTES", "duration": 1}}, "time_unit"),
    ({"schedule": {"type": "stop", "time_unit": "HOURS", "duration": 25}}, "duration"),
    ({"schedule": {"type": "stop", "time_unit": "HOURS"}}, "duration is required"),
    ({"schedule": []}, "one item"),
    ({"schedule": "1h"}, "schedule must be an object"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(VJ, req)
    asked = req.get("job_name", "")
    body = refused(client, resp, "ModelArts.0104", trace_name="createModelArtsTensorboardJob",
                   operation_id="CreateVisualizationJob", resource_id="", resource_name=asked,
                   request=req)
    assert message in body["error_message"]


def test_flavor_code_from_the_specifications(client):
    _ok(client.post(VJ, dict(CREATE, flavor={"code": "modelarts.vm.cpu.8u"})))


def test_update_description_validation(client, running):
    for req in ({}, {"job_desc": None}, {"job_desc": "d" * 257}):
        resp = client.put(VJ + "/1", req)
        refused(client, resp, "ModelArts.0104", trace_name="updateModelArtsTensorboardDesc",
                operation_id="UpdateVisualizationJobDescription", resource_id="1",
                resource_name=NAME, request=req or None)


# -- reads ---------------------------------------------------------------------------------------

def test_list_pages_sorts_and_filters(client, sim):
    for name, desc in (("tb-b", "zz"), ("tb-c", "aa"), ("tb-a", "mm")):
        _ok(client.post(VJ, dict(CREATE, job_name=name, job_desc=desc)))
        sim.clock.advance(1)

    def names(**query):
        body = _ok(client.get(VJ, query=query))
        return body["job_total_count"], [j["job_name"] for j in body["jobs"]]

    assert names() == (3, ["tb-b", "tb-c", "tb-a"])  # by job_id
    assert names(sortBy="job_name") == (3, ["tb-a", "tb-b", "tb-c"])
    assert names(sortBy="job_desc", order="desc") == (3, ["tb-b", "tb-a", "tb-c"])
    assert names(sortBy="status") == (3, ["tb-a", "tb-b", "tb-c"])  # 7, 8, 8
    assert names(per_page=1, page=2) == (3, ["tb-c"])
    assert names(status=7) == (1, ["tb-a"])
    assert names(search_content="-a") == (1, ["tb-a"])
    body = _ok(client.get(VJ))
    assert (body["quotas"], body["job_count_limit"]) == (100, 97)
    assert set(body["jobs"][0]) == {"job_id", "job_name", "job_desc", "status", "create_time",
                                    "duration", "service_url", "train_url", "resource_id",
                                    "job_type"}
    resp = client.get(VJ, query={"search_content": "s" * 101})
    assert resp.json == {"is_success": False, "error_code": "ModelArts.0104",
                         "error_message": "The length of search content should be in [0,100]"}
    for query in ({"sortBy": "size"}, {"per_page": 0}, {"status": "running"}):
        assert client.get(VJ, query=query).json["error_code"] == "ModelArts.0104"


# -- /_sim/lifecycle ------------------------------------------------------------------------------

def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_manual_mode_and_advance(client, app, sim):
    _admin(app, "/lifecycle", {"family": "visualization_jobs", "mode": "manual"})
    _ok(client.post(VJ, CREATE))
    sim.clock.advance(3600)
    seen = [shown(client)["status"]]
    for _ in range(3):
        _admin(app, "/lifecycle/advance", {"kind": "visualization-job", "id": "1"})
        seen.append(shown(client)["status"])
    assert seen == [1, 7, 8, 8]


def test_fail_then_restart(client, app, sim, running):
    resp = _admin(app, "/lifecycle/fail", {"kind": "visualization-job",
                                           "id": "%s/1" % PROJECT_ID,
                                           "reason": "log directory unreadable"})
    assert resp.json["status"] == 11
    job = shown(client)
    assert (job["status"], job["failed_reason"], job["service_url"]) == (
        11, "log directory unreadable", "")
    _ok(client.post(VJ + "/1/restart"))
    assert "failed_reason" not in shown(client)
    assert _admin(app, "/lifecycle/fail", {"kind": "visualization-job",
                                           "id": "%s/1" % OTHER_PROJECT_ID}).status_code == 404


# -- who may do what, where ----------------------------------------------------------------------

def test_read_only_auditor_may_read_but_not_write(client, running):
    auditor = client.as_user("auditor")
    assert _ok(auditor.get(VJ))["job_total_count"] == 1
    resp = auditor.post(VJ + "/1/stop")
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    actual = client.last_trace()
    assert actual == expected_record(
        actual, **TRACE, trace_name="stopModelArtsTensorboardJob",
        operation_id="StopVisualizationJob", resource_id="", resource_name="", code=403,
        request=None, response=resp.json, user="auditor", error_code="ModelArts.0108",
        time=client.sim.clock.now_ms())
    assert shown(client)["status"] == 8


def test_jobs_belong_to_their_project(client, app, running):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert _ok(other.get(VJ))["job_total_count"] == 0
    assert other.post(VJ + "/1/stop").json["error_code"] == "ModelArts.0105"
    assert _ok(other.post(VJ, CREATE))["job_id"] == 1
    client.sim.clock.advance(2)
    assert OTHER_PROJECT_ID in _ok(other.get(VJ + "/1"))["service_url"]
    resp = client.as_user("mallory").delete(VJ + "/1")
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert shown(client)["status"] == 8
