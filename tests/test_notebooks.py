"""Notebooks (the newer /v1/{project_id}/notebooks API): the eight audited operations leave
exactly their record (reads with read_only true), refusals answer {"error_code", "error_msg"}
and are traced as warnings, notebooks move on the clock, leases stop them, and the official SDK
drives the whole flow against a real server."""

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import ListTracesRequest
from huaweicloudsdkmodelarts.v1 import (
    CreateNotebookRequest, DeleteNotebookRequest, ListNotebooksRequest, NotebookCreateRequest,
    NotebookUpdateRequest, ShowNotebookRequest, StartNotebookRequest, StopNotebookRequest,
    UpdateNotebookRequest, VolumeMountRequest)

from tests.helpers import FROZEN_MS, OTHER_PROJECT_ID, UUID, SignedClient, check_refusal, \
    check_trace, ok

NB = "/v1/{project_id}/notebooks"
IMAGE = "e1a07296-22a8-4f05-8bc8-e936c8e54090"
CREATE = {"name": "notebooks_test", "feature": "NOTEBOOK", "workspace_id": "0",
          "description": "api-test", "flavor": "modelarts.vm.cpu.2u", "image_id": IMAGE,
          "volume": {"category": "EFS", "ownership": "MANAGED", "capacity": 50}}
TRACE = {"resource_type": "Notebook", "api_version": "v1"}
MISSING = "7d558ef8-c73d-41ea-964c-0255ac100033"


def check(client, resp, **kw):
    return check_trace(client, resp, **TRACE, **kw)


def refused(client, resp, status, code, **kw):
    return check_refusal(client, resp, status, code, **TRACE, **kw)


def show(client, nid):
    return ok(client.get(NB + "/" + nid))


def status(client, nid):
    return show(client, nid)["status"]


@pytest.fixture
def running(client, sim):
    nb = ok(client.post(NB, CREATE))
    sim.clock.advance(1)
    assert status(client, nb["id"]) == "RUNNING"
    return nb["id"]


@pytest.fixture
def stopped(client, sim, running):
    ok(client.post(NB + "/%s/stop" % running))
    sim.clock.advance(1)
    assert status(client, running) == "STOPPED"
    return running


# -- one whole record per audited operation ------------------------------------------------------

def test_create_notebook(client):
    resp = client.post(NB, CREATE)
    body = ok(resp)
    assert UUID.match(body["id"])
    assert (body["name"], body["status"], body["flavor"], body["feature"]) == (
        "notebooks_test", "CREATING", "modelarts.vm.cpu.2u", "NOTEBOOK")
    assert [(s["step"], s["status"]) for s in body["action_progress"]] == [
        (1, "PROCESSING"), (2, "WAITING"), (3, "WAITING"), (4, "WAITING")]
    assert body["lease"] == {"create_at": FROZEN_MS, "duration": 3_600_000, "enable": True,
                             "type": "TIMING", "update_at": FROZEN_MS}
    assert body["volume"]["category"] == "EFS" and body["volume"]["capacity"] == 50
    assert body["image"]["id"] == IMAGE and body["image"]["type"] == "BUILD_IN"
    assert body["user"]["id"] == "f1260ebc7d56ab567714dc919b27dbdf"
    check(client, resp, trace_name="createNotebook", operation_id="CreateNotebook",
          resource_id=body["id"], resource_name="notebooks_test", code=200, request=CREATE,
          response=body, time=FROZEN_MS)


def test_show_notebook(client, running):
    resp = client.get(NB + "/" + running)
    body = ok(resp)
    assert body["status"] == "RUNNING" and body["url"].endswith("/%s/lab" % running)
    assert all(s["status"] == "COMPLETED" for s in body["action_progress"])
    check(client, resp, trace_name="getNotebook", operation_id="ShowNotebook",
          resource_id=running, resource_name="notebooks_test", code=200, request=None,
          response=body, read_only=True)


def test_list_notebooks(client, running):
    resp = client.get(NB)
    body = ok(resp)
    assert (body["current"], body["pages"], body["size"], body["total"]) == (0, 1, 10, 1)
    assert [n["id"] for n in body["data"]] == [running]
    check(client, resp, trace_name="listNotebook", operation_id="ListNotebooks",
          resource_id="", resource_name="", code=200, request=None, response=body,
          read_only=True)


def test_list_all_notebooks(client, running):
    resp = client.get(NB + "/all")
    body = ok(resp)
    assert body["total"] == 1
    check(client, resp, trace_name="listallNotebook", operation_id="ListAllNotebooks",
          resource_id="", resource_name="", code=200, request=None, response=body,
          read_only=True)


def test_update_notebook(client, running):
    req = {"name": "renamed", "description": "new words"}
    resp = client.put(NB + "/" + running, req)
    body = ok(resp)
    assert (body["name"], body["description"], body["status"]) == (
        "renamed", "new words", "RUNNING")
    check(client, resp, trace_name="updateNotebook", operation_id="UpdateNotebook",
          resource_id=running, resource_name="renamed", code=200, request=req, response=body)


def test_delete_notebook(client, sim, running):
    resp = client.delete(NB + "/" + running)
    body = ok(resp)
    assert body["status"] == "DELETING" and body["id"] == running
    check(client, resp, trace_name="deleteNotebook", operation_id="DeleteNotebook",
          resource_id=running, resource_name="notebooks_test", code=200, request=None,
          response=body)
    assert status(client, running) == "DELETING"
    sim.clock.advance(1)
    assert client.get(NB + "/" + running).status_code == 404
    assert ok(client.get(NB))["total"] == 0


def test_start_notebook(client, stopped):
    resp = client.post(NB + "/%s/start" % stopped,
                       query={"duration": "7200000", "type": "IDLE"})
    body = ok(resp)
    assert body["status"] == "STARTING"
    assert (body["lease"]["duration"], body["lease"]["type"]) == (7_200_000, "IDLE")
    check(client, resp, trace_name="startNotebook", operation_id="StartNotebook",
          resource_id=stopped, resource_name="notebooks_test", code=200,
          request={"duration": "7200000", "type": "IDLE"}, response=body)  # the query


def test_stop_notebook(client, running):
    resp = client.post(NB + "/%s/stop" % running)
    body = ok(resp)
    assert body["status"] == "STOPPING" and body["action_progress"] == []
    check(client, resp, trace_name="stopNotebook", operation_id="StopNotebook",
          resource_id=running, resource_name="notebooks_test", code=200, request=None,
          response=body)


# -- lifecycles on the simulation clock ----------------------------------------------------------

def test_create_stop_start_move_on_the_clock(client, sim, app):
    app.test_client().post("/_sim/lifecycle", json={
        "family": "notebooks", "dwell": {"notebooks_create": 4}})
    nid = ok(client.post(NB, CREATE))["id"]
    seen = []
    for _ in range(5):
        body = show(client, nid)
        seen.append((body["status"], [s["status"] for s in body["action_progress"]].count(
            "COMPLETED")))
        sim.clock.advance(1)
    assert seen == [("CREATING", 0), ("CREATING", 1), ("CREATING", 2), ("CREATING", 3),
                    ("RUNNING", 4)]
    ok(client.post(NB + "/%s/stop" % nid))
    sim.clock.advance(0.999)
    assert status(client, nid) == "STOPPING"
    sim.clock.advance(0.001)
    assert status(client, nid) == "STOPPED"
    assert "url" not in show(client, nid)
    ok(client.post(NB + "/%s/start" % nid))
    assert status(client, nid) == "STARTING"
    sim.clock.advance(1)
    assert status(client, nid) == "RUNNING"


def test_lease_expiry_stops_a_running_notebook(client, sim, running):
    lease = ok(client.get(NB + "/%s/lease" % running))
    assert lease == {"create_at": FROZEN_MS, "duration": 3_600_000, "enable": True,
                     "type": "TIMING", "update_at": FROZEN_MS}
    sim.clock.advance(3598)
    assert status(client, running) == "RUNNING"
    sim.clock.advance(1)
    assert status(client, running) == "STOPPED"
    assert ok(client.get(NB, query={"status": "STOPPED"}))["total"] == 1
    ok(client.post(NB + "/%s/start" % running))  # a new lease
    sim.clock.advance(1)
    assert status(client, running) == "RUNNING"


def test_renewing_the_lease_postpones_the_stop(client, sim, running):
    sim.clock.advance(3000)
    resp = client.call("PATCH", NB + "/%s/lease" % running, query={"duration": "3600000"})
    lease = ok(resp)
    now = sim.clock.now_ms()
    assert lease["create_at"] + lease["duration"] == now + 3_600_000
    assert lease["update_at"] == now
    sim.clock.advance(3599)
    assert status(client, running) == "RUNNING"
    sim.clock.advance(1)
    assert status(client, running) == "STOPPED"
    resp = client.call("PATCH", NB + "/%s/lease" % running, {"duration": 3_600_000})
    assert resp.status_code == 409 and resp.json["error_code"] == "ModelArts.6409"


def test_lease_calls_are_not_audited(client, running):
    before = len(client.traces())
    ok(client.get(NB + "/%s/lease" % running))
    ok(client.call("PATCH", NB + "/%s/lease" % running, {"duration": 7_200_000, "type": "IDLE"}))
    ok(client.get(NB + "/flavors"))
    assert len(client.traces()) == before


def test_flavors(client):
    body = ok(client.get(NB + "/flavors"))
    assert body["total"] == len(body["data"]) >= 4
    assert {"id", "name", "category", "vcpus", "memory", "arch"} <= set(body["data"][0])
    gpus = ok(client.get(NB + "/flavors", query={"category": "GPU"}))["data"]
    assert gpus and all(f["category"] == "GPU" and f["gpu"]["gpu"] >= 1 for f in gpus)
    assert client.get(NB + "/flavors", query={"category": "TPU"}).status_code == 400


# -- guards --------------------------------------------------------------------------------------

def test_start_refusals(client, sim, running):
    resp = client.post(NB + "/%s/start" % running)
    body = refused(client, resp, 409, "ModelArts.6409", trace_name="startNotebook",
                   operation_id="StartNotebook", resource_id=running,
                   resource_name="notebooks_test", request=None)
    assert body["error_msg"] == "The notebook is already running."
    ok(client.post(NB + "/%s/stop" % running))
    assert client.post(NB + "/%s/start" % running).json["error_msg"] == \
        "The notebook is being stopped."
    fresh = ok(client.post(NB, CREATE))["id"]  # names may repeat
    assert client.post(NB + "/%s/start" % fresh).json["error_msg"] == \
        "The notebook is being started."


def test_stop_refusals(client, sim, stopped):
    resp = client.post(NB + "/%s/stop" % stopped)
    body = refused(client, resp, 409, "ModelArts.6409", trace_name="stopNotebook",
                   operation_id="StopNotebook", resource_id=stopped,
                   resource_name="notebooks_test", request=None)
    assert body["error_msg"] == "The notebook has already been stopped."


def test_start_duration_bounds(client, stopped):
    for query in ({"duration": "3599999"}, {"duration": "259200001"}, {"duration": "x"},
                  {"type": "SOMETIMES"}):
        resp = client.post(NB + "/%s/start" % stopped, query=query)
        refused(client, resp, 400, "ModelArts.0101", trace_name="startNotebook",
                operation_id="StartNotebook", resource_id=stopped,
                resource_name="notebooks_test", request=query)
    ok(client.post(NB + "/%s/start" % stopped, query={"duration": "259200000"}))


def test_not_found_is_404(client):
    for call, trace, op in [
            (lambda: client.get(NB + "/" + MISSING), "getNotebook", "ShowNotebook"),
            (lambda: client.delete(NB + "/" + MISSING), "deleteNotebook", "DeleteNotebook"),
            (lambda: client.post(NB + "/%s/stop" % MISSING), "stopNotebook", "StopNotebook"),
            (lambda: client.post(NB + "/%s/start" % MISSING), "startNotebook",
             "StartNotebook")]:
        body = refused(client, call(), 404, "ModelArts.6404", trace_name=trace,
                       operation_id=op, resource_id=MISSING, resource_name="", request=None,
                       read_only=op == "ShowNotebook")
        assert MISSING in body["error_msg"]
    assert client.get(NB + "/%s/lease" % MISSING).status_code == 404


def test_deleting_twice_and_a_deleting_notebook(client, running):
    ok(client.delete(NB + "/" + running))
    resp = client.delete(NB + "/" + running)
    assert resp.status_code == 409 and resp.json["error_code"] == "ModelArts.6409"
    assert client.post(NB + "/%s/start" % running).status_code == 409


def test_quota(client, sim):
    sim.lifecycles.configure("notebooks", mode="immediate")
    for _ in range(20):
        ok(client.post(NB, CREATE))
    resp = client.post(NB, CREATE)
    refused(client, resp, 400, "ModelArts.0113", trace_name="createNotebook",
            operation_id="CreateNotebook", resource_id="", resource_name="notebooks_test",
            request=CREATE)
    free = dict(CREATE, feature="DEFAULT", flavor="modelarts.vm.cpu.free")
    ok(client.post(NB, free))
    assert client.post(NB, free).json["error_code"] == "ModelArts.0113"


def test_changing_the_flavor_needs_a_stopped_notebook(client, sim, running):
    resp = client.put(NB + "/" + running, {"flavor": "modelarts.vm.cpu.8u"})
    assert resp.status_code == 409 and resp.json["error_code"] == "ModelArts.6409"
    ok(client.post(NB + "/%s/stop" % running))
    sim.clock.advance(1)
    assert ok(client.put(NB + "/" + running, {"flavor": "modelarts.vm.cpu.8u"}))[
        "flavor"] == "modelarts.vm.cpu.8u"


# -- validation: the dialect, never a 500 ---------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"name": "bad name!"}, "name"),
    ({"name": "n" * 129}, "name"),
    ({"name": 42}, "name"),
    ({"name": None}, "name is required"),
    ({"image_id": None}, "image_id is required"),
    ({"image_id": "not-a-uuid-at-all-but-36-characters!"}, "UUID"),
    ({"image_id": 7}, "image_id"),
    ({"volume": None}, "volume is required"),
    ({"volume": "EFS"}, "volume must be an object"),
    ({"volume": {"ownership": "MANAGED"}}, "category is required"),
    ({"volume": {"category": "NFS", "ownership": "MANAGED"}}, "category"),
    ({"volume": {"category": "EVS"}}, "ownership is required"),
    ({"volume": {"category": "EVS", "ownership": "SHARED"}}, "ownership"),
    ({"volume": {"category": "EVS", "ownership": "MANAGED", "capacity": "5"}}, "capacity"),
    ({"volume": {"category": "OBS", "ownership": "DEDICATED"}}, "uri is required"),
    ({"flavor": "modelarts.vm.huge"}, "flavor"),
    ({"flavor": "modelarts.vm.cpu.free"}, "cannot be used"),
    ({"feature": "CODELAB"}, "feature"),
    ({"description": "<b>"}, "description"),
    ({"description": "d" * 513}, "description"),
    ({"lease": {"duration": 60}}, "duration"),
    ({"lease": {"type": "NEVER"}}, "type"),
    ({"lease": []}, "lease must be an object"),
    ({"duration": True}, "duration"),
    ({"pool_id": "Bad_Pool"}, "pool_id"),
    ({"endpoints": {}}, "endpoints"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(NB, req)
    asked = req.get("name") if isinstance(req.get("name"), str) else ""
    body = refused(client, resp, 400, "ModelArts.0101", trace_name="createNotebook",
                   operation_id="CreateNotebook", resource_id="", resource_name=asked,
                   request=req)
    assert message in body["error_msg"]


def test_bodies_that_are_not_objects(client, running):
    for path, method in ((NB, "POST"), (NB + "/" + running, "PUT")):
        for raw in (b"[1]", b'"x"', b"{bad"):
            resp = client.call(method, path, raw=raw)
            assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
            assert set(resp.json) == {"error_code", "error_msg"}


@pytest.mark.parametrize("change", [{"name": ""}, {"name": "a b"}, {"description": ">"},
                                    {"flavor": "nope"}, {"image_id": "x"},
                                    {"storage_new_size": 10}, {"hooks": 1}])
def test_update_validation(client, running, change):
    resp = client.put(NB + "/" + running, change)
    refused(client, resp, 400, "ModelArts.0101", trace_name="updateNotebook",
            operation_id="UpdateNotebook", resource_id=running, resource_name="notebooks_test",
            request=change)


def test_list_queries(client, sim):
    for name in ("nb-b", "nb-c", "nb-a"):
        sim.clock.advance(1)
        ok(client.post(NB, dict(CREATE, name=name)))
    for query in ({"limit": "15"}, {"limit": "x"}, {"offset": "-1"}, {"sort_dir": "UP"},
                  {"sort_key": "size"}, {"status": "SLEEPING"}, {"name": "a b"},
                  {"feature": "X"}):
        resp = client.get(NB, query=query)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", query
        assert set(resp.json) == {"error_code", "error_msg"}

    def names(**query):
        body = ok(client.get(NB, query=query))
        return body["total"], [n["name"] for n in body["data"]]

    assert names() == (3, ["nb-a", "nb-c", "nb-b"])  # newest first
    assert names(sort_dir="ASC") == (3, ["nb-b", "nb-c", "nb-a"])
    assert names(sort_key="name", sort_dir="ASC") == (3, ["nb-a", "nb-b", "nb-c"])
    assert names(name="-C") == (1, ["nb-c"])
    assert names(status="CREATING") == (1, ["nb-a"])
    assert names(status="RUNNING", sort_key="status,name") == (2, ["nb-c", "nb-b"])
    assert names(workspace_id="other") == (0, [])
    assert names(offset="2") == (3, ["nb-b"])
    for _ in range(9):
        ok(client.post(NB, CREATE))
    body = ok(client.get(NB, query={"offset": "10", "limit": "10"}))
    assert (body["current"], body["pages"], body["size"], body["total"], len(body["data"])) \
        == (1, 2, 10, 12, 2)


def test_list_shows_the_callers_own_and_list_all_everyones(client, app):
    developer = client.as_user("developer")
    ok(client.post(NB, CREATE))
    ok(developer.post(NB, dict(CREATE, name="dev-nb")))
    assert [n["name"] for n in ok(developer.get(NB))["data"]] == ["dev-nb"]
    assert ok(developer.get(NB + "/all"))["total"] == 2
    admin_id = ok(client.get(NB))["data"][0]["user"]["id"]
    assert ok(developer.get(NB + "/all", query={"owner": admin_id}))["total"] == 1


# -- /_sim/lifecycle ------------------------------------------------------------------------------

def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_manual_mode_and_advance(client, app, sim):
    _admin(app, "/lifecycle", {"family": "notebooks", "mode": "manual"})
    nid = ok(client.post(NB, CREATE))["id"]
    sim.clock.advance(600)
    assert status(client, nid) == "CREATING"
    moved = _admin(app, "/lifecycle/advance", {"kind": "notebook", "id": nid}).json
    assert moved == {"kind": "notebook", "id": nid, "status": "RUNNING", "changed": True}
    ok(client.post(NB + "/%s/stop" % nid))
    sim.clock.advance(600)
    assert status(client, nid) == "STOPPING"
    _admin(app, "/lifecycle/advance", {"kind": "notebook", "id": nid})
    assert status(client, nid) == "STOPPED"
    ok(client.delete(NB + "/" + nid))
    _admin(app, "/lifecycle/advance", {"kind": "notebook", "id": nid})
    assert client.get(NB + "/" + nid).status_code == 404


@pytest.mark.parametrize("step, failed", [("create", "CREATE_FAILED"),
                                          ("start", "START_FAILED"), ("stop", "ERROR"),
                                          ("delete", "DELETE_FAILED")])
def test_a_failed_step_records_its_reason(client, app, sim, step, failed):
    nid = ok(client.post(NB, CREATE))["id"]
    if step != "create":
        sim.clock.advance(1)
    if step in ("start", "stop"):
        ok(client.post(NB + "/%s/stop" % nid))
    if step == "start":
        sim.clock.advance(1)
        ok(client.post(NB + "/%s/start" % nid))
    if step == "delete":
        ok(client.delete(NB + "/" + nid))
    resp = _admin(app, "/lifecycle/fail", {"kind": "notebook", "id": nid,
                                           "reason": "no capacity left in the zone"})
    assert resp.json["status"] == failed
    shown = show(client, nid)
    assert (shown["status"], shown["fail_reason"]) == (failed, "no capacity left in the zone")
    if step in ("create", "start"):
        assert "FAILED" in [s["status"] for s in shown["action_progress"]]
    ok(client.delete(NB + "/" + nid))  # a failed notebook may be deleted


def test_unknown_notebook_for_the_controls(app):
    resp = _admin(app, "/lifecycle/advance", {"kind": "notebook", "id": MISSING})
    assert resp.status_code == 404


# -- who may do what, where ----------------------------------------------------------------------

def test_read_only_auditor_may_read_but_not_write(client, running):
    auditor = client.as_user("auditor")
    assert ok(auditor.get(NB + "/all"))["total"] == 1
    resp = auditor.post(NB + "/%s/stop" % running)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    assert set(resp.json) == {"error_code", "error_msg"}
    assert status(client, running) == "RUNNING"


def test_notebooks_belong_to_their_project(client, app, running):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(NB))["total"] == 0
    assert other.get(NB + "/" + running).status_code == 404
    mallory = client.as_user("mallory")
    resp = mallory.post(NB + "/%s/stop" % running)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert status(client, running) == "RUNNING"


# -- the official SDK against a real server -------------------------------------------------------

def _wait(ma, nid, wanted, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        current = ma.show_notebook(ShowNotebookRequest(id=nid)).status
        if current == wanted:
            return
        assert time.monotonic() < deadline, "still %s, not %s" % (current, wanted)
        time.sleep(0.1)


def test_sdk_flow(sdk):  # noqa: F811
    ma = sdk.modelarts
    created = ma.create_notebook(CreateNotebookRequest(body=NotebookCreateRequest(
        name="sdk-notebook", image_id=IMAGE, flavor="modelarts.vm.cpu.2u", description="sdk",
        volume=VolumeMountRequest(category="EVS", ownership="MANAGED", capacity=5))))
    nid = created.id
    assert UUID.match(nid) and created.status == "CREATING"
    assert len(created.action_progress) == 4 and created.lease.duration == 3_600_000
    _wait(ma, nid, "RUNNING")
    listed = ma.list_notebooks(ListNotebooksRequest(limit=10, name="sdk"))
    assert listed.total == 1 and listed.data[0].id == nid
    updated = ma.update_notebook(UpdateNotebookRequest(id=nid, body=NotebookUpdateRequest(
        description="changed by the SDK")))
    assert updated.description == "changed by the SDK"
    assert ma.stop_notebook(StopNotebookRequest(id=nid)).status == "STOPPING"
    _wait(ma, nid, "STOPPED")
    started = ma.start_notebook(StartNotebookRequest(id=nid, duration=7_200_000, type="TIMING"))
    assert started.status == "STARTING" and started.lease.duration == 7_200_000
    _wait(ma, nid, "RUNNING")
    assert ma.delete_notebook(DeleteNotebookRequest(id=nid)).status == "DELETING"

    traces = sdk.cts.list_traces(ListTracesRequest(
        service_type="ModelArts", resource_type="Notebook", limit=200)).traces
    names = [t.trace_name for t in traces]
    head = ["deleteNotebook", "getNotebook", "startNotebook", "getNotebook", "stopNotebook",
            "updateNotebook", "listNotebook", "getNotebook", "createNotebook"]
    assert names[:1] == head[:1] and names[-1] == "createNotebook"
    collapsed = [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]
    assert collapsed == head, names
    assert all(t.resource_id == nid for t in traces if t.trace_name != "listNotebook")

    with pytest.raises(ClientRequestException) as caught:
        ma.show_notebook(ShowNotebookRequest(id=MISSING))
    err = caught.value
    assert (err.status_code, err.error_code) == (404, "ModelArts.6404")
    assert err.error_msg == "The notebook %s does not exist." % MISSING
    last = sdk.cts.list_traces(ListTracesRequest(
        service_type="ModelArts", resource_type="Notebook", limit=1)).traces[0]
    assert last.request_id == err.request_id and last.trace_name == "getNotebook"
