"""Model conversion tasks (the simulator's own shape): the three audited operations leave
exactly their record, the 30xx codes answer with HTTP 500, and tasks run on the clock."""

import pytest

from tests.helpers import FROZEN_MS, OTHER_PROJECT_ID, SignedClient
from tests.test_models import check, ok, refused

TASKS = "/v1/{project_id}/conversions"
CREATE = {"task_name": "convert-mnist", "description": "to Ascend",
          "framework_type": "tensorflow", "input_path": "/acme-models/mnist/",
          "output_path": "/acme-models/mnist-om/",
          "template_name": "TF-FrozenGraph-To-Ascend-C32", "params": {"precision": "FP16"}}


def _check(client, resp, **kw):
    return check(client, resp, resource_type="convert", **kw)


def _refused(client, resp, status, code, **kw):
    return refused(client, resp, status, code, resource_type="convert", **kw)


@pytest.fixture
def task(client):
    return ok(client.post(TASKS, CREATE))["task_id"]


def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


# -- one whole record per operation --------------------------------------------------------------

def test_add_convert(client):
    resp = client.post(TASKS, CREATE)
    body = ok(resp)
    assert set(body) == {"task_id"}
    _check(client, resp, trace_name="addConvert", operation_id="CreateConversionTask",
           resource_id=body["task_id"], resource_name="convert-mnist", code=200,
           request=CREATE, response=body, time=FROZEN_MS)


def test_update_convert(client, task):
    req = {"description": "to Ascend, FP16"}
    resp = client.put(TASKS + "/" + task, req)
    assert ok(resp) == {}
    _check(client, resp, trace_name="updateConvert", operation_id="UpdateConversionTask",
           resource_id=task, resource_name="convert-mnist", code=200, request=req,
           response=None)
    assert ok(client.get(TASKS + "/" + task))["description"] == "to Ascend, FP16"


def test_delete_convert(client, sim, task):
    sim.clock.advance(2)
    resp = client.delete(TASKS + "/" + task)
    assert ok(resp) == {}
    _check(client, resp, trace_name="deleteConvert", operation_id="DeleteConversionTask",
           resource_id=task, resource_name="convert-mnist", code=200, request=None,
           response=None)
    assert ok(client.get(TASKS + "/" + task), 500)["error_code"] == "ModelArts.3054"


# -- refusals: the model-management codes, HTTP 500 as Huawei's table lists them -----------------

def test_running_task_cannot_be_deleted(client, sim, task):
    resp = client.delete(TASKS + "/" + task)
    body = _refused(client, resp, 500, "ModelArts.3055", trace_name="deleteConvert",
                    operation_id="DeleteConversionTask", resource_id=task,
                    resource_name="convert-mnist", request=None)
    assert body["error_msg"] == "Task (convert-mnist) is running cannot be deleted."
    sim.clock.advance(1)  # RUNNING now
    assert client.delete(TASKS + "/" + task).json["error_code"] == "ModelArts.3055"
    sim.clock.advance(1)
    ok(client.delete(TASKS + "/" + task))


def test_task_not_found(client):
    resp = client.put(TASKS + "/nope", {"description": "x"})
    _refused(client, resp, 500, "ModelArts.3054", trace_name="updateConvert",
             operation_id="UpdateConversionTask", resource_id="nope", resource_name="",
             request={"description": "x"})
    resp = client.delete(TASKS + "/nope")
    _refused(client, resp, 500, "ModelArts.3054", trace_name="deleteConvert",
             operation_id="DeleteConversionTask", resource_id="nope", resource_name="",
             request=None)


def test_task_exists(client, task):
    resp = client.post(TASKS, CREATE)
    body = _refused(client, resp, 500, "ModelArts.3062", trace_name="addConvert",
                    operation_id="CreateConversionTask", resource_id="",
                    resource_name="convert-mnist", request=CREATE)
    assert body["error_msg"] == "Task (convert-mnist) exists."


@pytest.mark.parametrize("change, status, code, message", [
    ({"task_name": "bad name"}, 500, "ModelArts.3056", "task_name"),
    ({"task_name": "x" * 65}, 500, "ModelArts.3056", "task_name"),
    ({"task_name": None}, 500, "ModelArts.3056", "task_name"),
    ({"task_name": ["a"]}, 500, "ModelArts.3056", "task_name"),
    ({"framework_type": "onnx"}, 500, "ModelArts.3064", "DL Framework Type"),
    ({"framework_type": 1}, 400, "ModelArts.0101", "framework_type"),
    ({"input_path": "no-slash/"}, 400, "ModelArts.0101", "input_path"),
    ({"output_path": "/acme-models/mnist/"}, 400, "ModelArts.0101", "differ"),
    ({"output_path": None}, 400, "ModelArts.0101", "output_path"),
    ({"template_name": "Magic"}, 400, "ModelArts.0101", "template_name"),
    ({"template_name": "Caffe-To-Ascend-C32"}, 400, "ModelArts.0101", "converts caffe"),
    ({"params": {"precision": ["FP16"]}}, 400, "ModelArts.0101", "params.precision"),
    ({"params": "FP16"}, 400, "ModelArts.0101", "params"),
    ({"description": "x" * 101}, 400, "ModelArts.0101", "description"),
])
def test_create_validation(client, change, status, code, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(TASKS, req)
    name = req.get("task_name")
    body = _refused(client, resp, status, code, trace_name="addConvert",
                    operation_id="CreateConversionTask", resource_id="",
                    resource_name=name if isinstance(name, str) else "", request=req)
    assert message in body["error_msg"]


def test_update_needs_a_description(client, task):
    for req in ({"params": {}}, {"description": "<x>"}, {"description": 5}):
        resp = client.put(TASKS + "/" + task, req)
        _refused(client, resp, 400, "ModelArts.0101", trace_name="updateConvert",
                 operation_id="UpdateConversionTask", resource_id=task,
                 resource_name="convert-mnist", request=req)


def test_read_only_auditor_is_refused(client, task):
    resp = client.as_user("auditor").delete(TASKS + "/" + task)
    _refused(client, resp, 403, "ModelArts.0108", trace_name="deleteConvert",
             operation_id="DeleteConversionTask", resource_id="", resource_name="",
             request=None, user="auditor")


def test_projects_are_isolated(client, app, task):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(TASKS))["total_count"] == 0
    assert other.get(TASKS + "/" + task).json["error_code"] == "ModelArts.3054"
    ok(other.post(TASKS, CREATE))  # names are unique per project only


# -- lifecycle -----------------------------------------------------------------------------------

def test_task_runs_on_the_clock(client, sim, task):
    seen = []
    for _ in range(4):
        seen.append(ok(client.get(TASKS + "/" + task))["status"])
        sim.clock.advance(0.75)
    assert seen == ["INIT", "INIT", "RUNNING", "SUCCESS"]
    shown = ok(client.get(TASKS + "/" + task))
    assert {k: shown[k] for k in CREATE} == CREATE
    assert (shown["error_msg"], shown["create_time"], shown["owner"]) == (
        "", FROZEN_MS, "f1260ebc7d56ab567714dc919b27dbdf")


def test_sim_lifecycle_controls_for_conversions(client, app, sim, task):
    moved = _admin(app, "/lifecycle/advance", {"kind": "conversion", "id": task}).json
    assert moved["status"] == "RUNNING"
    failed = _admin(app, "/lifecycle/fail", {"kind": "conversion", "id": task,
                                             "reason": "unsupported operator"}).json
    assert failed["status"] == "FAILED"
    shown = ok(client.get(TASKS + "/" + task))
    assert (shown["status"], shown["error_msg"]) == ("FAILED", "unsupported operator")
    ok(client.delete(TASKS + "/" + task))  # a failed task is not running


# -- lists ---------------------------------------------------------------------------------------

def test_list_paging_sorting_and_filters(client, sim):
    for i in range(5):
        ok(client.post(TASKS, dict(CREATE, task_name="task-%d" % i)))
        sim.clock.advance(1)
    listed = ok(client.get(TASKS))
    assert (listed["total_count"], listed["count"]) == (5, 5)
    assert [t["task_name"] for t in listed["tasks"]] == ["task-%d" % i for i in (4, 3, 2, 1, 0)]
    page = ok(client.get(TASKS, query={"offset": 1, "limit": 2, "sort_by": "task_name",
                                       "order": "asc"}))
    assert [t["task_name"] for t in page["tasks"]] == ["task-2", "task-3"]
    assert ok(client.get(TASKS, query={"status": "SUCCESS"}))["total_count"] == 4
    assert ok(client.get(TASKS, query={"task_name": "TASK-4"}))["total_count"] == 1
    assert client.get(TASKS, query={"sort_by": "size"}).json["error_code"] == "ModelArts.0101"
