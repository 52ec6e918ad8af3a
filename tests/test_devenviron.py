"""Development environment (old DevEnviron API): the four audited operations leave exactly their
record, every refusal answers the devenviron dialect with HTTP 400 and is traced as a warning,
and instances move CREATING -> RUNNING, STOPPING -> STOPPED, STARTING -> RUNNING on the clock."""

import pytest

from tests.helpers import check_refusal, check_trace, ok, FROZEN_MS, OTHER_PROJECT_ID, UUID, SignedClient, expected_record

DE = "/v1/{project_id}/demanager/instances"
CREATE = {"name": "notebook-d115", "profile_id": "Multi-Engine 1.0 (python3)-gpu",
          "flavor": "modelarts.vm.gpu.p100",
          "spec": {"storage": {"type": "obs", "location": {"path": "/acme-data/work/"}},
                   "auto_stop": {"enable": True, "duration": 3600}},
          "workspace": {"id": "0"}}
TRACE = {"resource_type": "Notebook", "api_version": "v1"}


_ok = ok


def check(client, resp, **kw):
    return check_trace(client, resp, **TRACE, **kw)


def refused(client, resp, code, **kw):
    return check_refusal(client, resp, 400, code, dialect="devenviron", **TRACE, **kw)


def status(client, instance_id):
    return _ok(client.get(DE + "/" + instance_id))["status"]


def action(client, instance_id, what):
    return client.post(DE + "/%s/action" % instance_id, {"action": what})


@pytest.fixture
def running(client, sim):
    inst = _ok(client.post(DE, CREATE))
    sim.clock.advance(2)
    assert status(client, inst["id"]) == "RUNNING"
    return inst["id"]


@pytest.fixture
def stopped(client, sim, running):
    _ok(action(client, running, "stop"))
    sim.clock.advance(1)
    assert status(client, running) == "STOPPED"
    return running


# -- one whole record per audited operation ------------------------------------------------------

def test_create_instance(client):
    resp = client.post(DE, CREATE)
    body = _ok(resp)
    assert body["id"].startswith("DE-") and UUID.match(body["id"][3:])
    assert (body["name"], body["status"], body["flavor"], body["creation_timestamp"]) == (
        "notebook-d115", "CREATING", "modelarts.vm.gpu.p100", str(FROZEN_MS))
    assert body["profile"]["de_type"] == "Notebook" and body["profile"]["flavor_type"] == "GPU"
    assert body["flavor_details"]["params"]["GPU"] == 1
    assert body["spec"]["storage"] == CREATE["spec"]["storage"]
    assert body["user"] == {"id": "f1260ebc7d56ab567714dc919b27dbdf", "name": "admin"}
    check(client, resp, trace_name="create_instance", operation_id="CreateDevEnvInstance",
          resource_id=body["id"], resource_name="notebook-d115", code=200, request=CREATE,
          response=body, time=FROZEN_MS)


def test_delete_instance(client, stopped):
    resp = client.delete(DE + "/" + stopped)
    assert _ok(resp) == {"instance_id": stopped}
    check(client, resp, trace_name="delete_instance", operation_id="DeleteDevEnvInstance",
          resource_id=stopped, resource_name="notebook-d115", code=200, request=None,
          response={"instance_id": stopped})
    assert client.get(DE + "/" + stopped).json["error_code"] == "ModelArts.6309"


def test_start_instance(client, stopped):
    resp = action(client, stopped, "start")
    body = _ok(resp)
    assert body == {"current_status": "STARTING", "previous_state": "STOPPED"}
    check(client, resp, trace_name="change_instance_status", operation_id="StartDevEnvInstance",
          resource_id=stopped, resource_name="notebook-d115", code=200,
          request={"action": "start"}, response=body)


def test_stop_instance(client, running):
    resp = action(client, running, "stop")
    body = _ok(resp)
    assert body == {"current_status": "STOPPING", "previous_state": "RUNNING"}
    check(client, resp, trace_name="change_instance_status", operation_id="StopDevEnvInstance",
          resource_id=running, resource_name="notebook-d115", code=200,
          request={"action": "stop"}, response=body)


# -- lifecycles on the simulation clock ----------------------------------------------------------

def test_create_stop_start_move_on_the_clock(client, sim):
    inst = _ok(client.post(DE, CREATE))["id"]
    seen = []
    for _ in range(3):
        seen.append(status(client, inst))
        sim.clock.advance(1)
    assert seen == ["CREATING", "CREATING", "RUNNING"]
    shown = _ok(client.get(DE + "/" + inst))
    assert shown["spec"]["annotations"]["url"].endswith("/notebook/user/" + inst)

    _ok(action(client, inst, "stop"))
    assert status(client, inst) == "STOPPING"
    assert _ok(client.get(DE + "/" + inst))["spec"]["annotations"] == {}
    sim.clock.advance(0.999)
    assert status(client, inst) == "STOPPING"
    sim.clock.advance(0.001)
    assert status(client, inst) == "STOPPED"

    _ok(action(client, inst, "start"))
    assert status(client, inst) == "STARTING"
    sim.clock.advance(1)
    shown = _ok(client.get(DE + "/" + inst))
    assert shown["status"] == "RUNNING"
    assert shown["latest_update_timestamp"] == str(sim.clock.now_ms() - 1000)


def test_auto_stop_after_its_duration(client, sim, running):
    auto = _ok(client.get(DE + "/" + running))["spec"]["auto_stop"]
    assert auto == {"enable": True, "duration": 3600, "prompt": True,
                    "stop_timestamp": FROZEN_MS + 2000 + 3_600_000, "remain_time": 3600}
    sim.clock.advance(3599)
    assert status(client, running) == "RUNNING"
    sim.clock.advance(1)
    shown = _ok(client.get(DE + "/" + running))
    assert shown["status"] == "STOPPED"
    assert shown["latest_update_timestamp"] == str(FROZEN_MS + 2000 + 3_600_000)
    assert _ok(action(client, running, "start"))["previous_state"] == "STOPPED"


def test_without_auto_stop_an_instance_runs_on(client, sim):
    req = dict(CREATE, spec={"storage": {"type": "evs"}})
    inst = _ok(client.post(DE, req))
    assert inst["spec"]["storage"] == {"type": "evs", "location": {
        "path": "/home/ma-user/work", "volume_size": 5}}
    sim.clock.advance(86400 * 3)
    assert status(client, inst["id"]) == "RUNNING"


# -- guards --------------------------------------------------------------------------------------

def test_start_refusals(client, sim, running):
    resp = action(client, running, "start")
    body = refused(client, resp, "ModelArts.6305", trace_name="change_instance_status",
                   operation_id="StartDevEnvInstance", resource_id=running,
                   resource_name="notebook-d115", request={"action": "start"})
    assert body["error_message"] == "The instance is already running."
    _ok(action(client, running, "stop"))
    assert action(client, running, "start").json["error_code"] == "ModelArts.6308"
    sim.clock.advance(1)
    _ok(action(client, running, "start"))
    assert action(client, running, "start").json["error_code"] == "ModelArts.6306"
    fresh = _ok(client.post(DE, dict(CREATE, name="fresh")))["id"]
    assert action(client, fresh, "start").json["error_code"] == "ModelArts.6306"


def test_stop_refusals(client, sim, stopped):
    resp = action(client, stopped, "stop")
    refused(client, resp, "ModelArts.6307", trace_name="change_instance_status",
            operation_id="StopDevEnvInstance", resource_id=stopped,
            resource_name="notebook-d115", request={"action": "stop"})
    _ok(action(client, stopped, "start"))
    assert action(client, stopped, "stop").json["error_code"] == "ModelArts.6306"
    sim.clock.advance(1)
    _ok(action(client, stopped, "stop"))
    resp = action(client, stopped, "stop")
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.6308"


def test_stop_before_deleting(client, sim, running):
    resp = client.delete(DE + "/" + running)
    body = refused(client, resp, "ModelArts.6304", trace_name="delete_instance",
                   operation_id="DeleteDevEnvInstance", resource_id=running,
                   resource_name="notebook-d115", request=None)
    assert body["error_message"] == "Stop the instance before deleting it."
    _ok(action(client, running, "stop"))
    assert client.delete(DE + "/" + running).json["error_code"] == "ModelArts.6304"
    sim.clock.advance(1)
    _ok(client.delete(DE + "/" + running))


def test_not_found_is_http_400(client):
    missing = "DE-7d558ef8-c73d-11ea-964c-0255ac100033"
    for call, trace, op, req in [
            (lambda: client.delete(DE + "/" + missing), "delete_instance",
             "DeleteDevEnvInstance", None),
            (lambda: action(client, missing, "stop"), "change_instance_status",
             "StopDevEnvInstance", {"action": "stop"})]:
        body = refused(client, call(), "ModelArts.6309", trace_name=trace, operation_id=op,
                       resource_id=missing, resource_name="", request=req)
        assert body["error_message"] == "The instance does not exist."
    assert client.get(DE + "/" + missing).status_code == 400


def test_duplicate_name(client, running):
    resp = client.post(DE, CREATE)
    refused(client, resp, "ModelArts.6301", trace_name="create_instance",
            operation_id="CreateDevEnvInstance", resource_id="", resource_name="notebook-d115",
            request=CREATE)


def test_an_unknown_action_is_refused_and_traced(client, running):
    resp = client.post(DE + "/%s/action" % running, {"action": "restart"})
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
    assert client.last_trace()["trace_name"] == "change_instance_status"


# -- validation: the dialect, never a 500 ---------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"name": "bad name!"}, "name"),
    ({"name": "n" * 65}, "name"),
    ({"name": 42}, "name"),
    ({"name": None}, "name is required"),
    ({"profile_id": None}, "profile_id is required"),
    ({"profile_id": "Windows 95"}, "profile_id"),
    ({"flavor": "modelarts.vm.huge"}, "flavor"),
    ({"flavor": "modelarts.vm.cpu.2u"}, "does not fit profile"),
    ({"description": "a/b"}, "description"),
    ({"description": "d" * 513}, "description"),
    ({"spec": None}, "spec is required"),
    ({"spec": "notebook"}, "spec must be an object"),
    ({"spec": {}}, "storage is required"),
    ({"spec": {"storage": {"type": "nfs"}}}, "type"),
    ({"spec": {"storage": {"type": "obs"}}}, "location is required"),
    ({"spec": {"storage": {"type": "obs", "location": {"path": "/acme-data/"}}}}, "bucket"),
    ({"spec": {"storage": {"type": "obs", "location": {"path": "/acme-data/w"}}}}, "end with /"),
    ({"spec": dict(CREATE["spec"], auto_stop={"enable": True})}, "duration is required"),
    ({"spec": dict(CREATE["spec"], auto_stop={"enable": True, "duration": 60})}, "duration"),
    ({"spec": dict(CREATE["spec"], auto_stop={"enable": "yes"})}, "enable"),
    ({"spec": dict(CREATE["spec"], annotations={"k": 1})}, "Annotation"),
    ({"workspace": {"id": 0}}, "id"),
    ({"pool": {"id": "ff808081673fbb3d01673fbb824d0000"}}, "does not exist"),
    ({"pool": {}}, "id is required"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(DE, req)
    asked = req.get("name") if isinstance(req.get("name"), str) else ""
    body = refused(client, resp, "ModelArts.0101", trace_name="create_instance",
                   operation_id="CreateDevEnvInstance", resource_id="", resource_name=asked,
                   request=req)
    assert message in body["error_message"]


def test_bodies_that_are_not_objects(client):
    for raw in (b"[1]", b'"x"', b"{bad"):
        resp = client.call("POST", DE, raw=raw)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
        assert set(resp.json) == {"error_code", "error_message"}


def test_instance_on_a_dedicated_pool(client, sim):
    cluster = _ok(client.post("/v1/{project_id}/clusters", {
        "cluster_name": "pool-1", "nodes": {"specification": "modelarts.vm.gpu.v100",
                                            "count": 1}}))["cluster_id"]
    req = dict(CREATE, pool={"id": cluster})
    resp = client.post(DE, req)
    assert resp.json["error_code"] == "ModelArts.0101" and "not running" in \
        resp.json["error_message"]
    sim.clock.advance(5)
    inst = _ok(client.post(DE, req))
    assert inst["pool"] == {"id": cluster, "type": "USER_DEFINED", "name": "pool-1",
                            "owner": {"project_id": client.project_id}}
    listed = _ok(client.get(DE, query={"de_type": "Notebook", "pool_id": cluster}))
    assert [i["id"] for i in listed["instances"]] == [inst["id"]]


# -- reads and the unaudited description update --------------------------------------------------

def test_update_description_is_not_audited(client, running):
    before = len(client.traces())
    body = _ok(client.put(DE + "/" + running, {"description": "my notebook"}))
    assert body["description"] == "my notebook" and body["id"] == running
    assert len(client.traces()) == before
    assert client.put(DE + "/" + running, {"description": "<b>"}).json[
        "error_code"] == "ModelArts.0101"
    assert client.put(DE + "/" + running, {}).json["error_code"] == "ModelArts.0101"


def test_list_needs_de_type_and_pages_and_sorts(client, sim):
    for name in ("nb-b", "nb-c", "nb-a"):
        _ok(client.post(DE, dict(CREATE, name=name)))
        sim.clock.advance(1)
    for query in ({}, {"de_type": "notebook"}, {"de_type": "Notebook", "sortby": "status"},
                  {"de_type": "Notebook", "order": "up"}, {"de_type": "Notebook", "limit": "-1"},
                  {"de_type": "Notebook", "offset": "x"},
                  {"de_type": "Notebook", "status": "SLEEPING"}):
        resp = client.get(DE, query=query)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", query

    def names(**query):
        body = _ok(client.get(DE, query={"de_type": "Notebook", **query}))
        return body["total_count"], [i["name"] for i in body["instances"]]

    assert names() == (3, ["nb-a", "nb-b", "nb-c"])
    assert names(order="desc") == (3, ["nb-c", "nb-b", "nb-a"])
    assert names(sortby="creation_timestamp") == (3, ["nb-b", "nb-c", "nb-a"])
    assert names(offset="1", limit="1") == (3, ["nb-b"])
    assert names(status="RUNNING") == (2, ["nb-b", "nb-c"])
    assert names(status="CREATING", provision_type="Docker") == (1, ["nb-a"])
    assert names(workspace_id="other") == (0, [])


# -- /_sim/lifecycle ------------------------------------------------------------------------------

def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def test_manual_mode_and_advance(client, app, sim):
    _admin(app, "/lifecycle", {"family": "devenviron", "mode": "manual"})
    inst = _ok(client.post(DE, CREATE))["id"]
    sim.clock.advance(3600)
    assert status(client, inst) == "CREATING"
    moved = _admin(app, "/lifecycle/advance", {"kind": "devenv-instance", "id": inst}).json
    assert moved == {"kind": "devenv-instance", "id": inst, "status": "RUNNING", "changed": True}
    _ok(action(client, inst, "stop"))
    sim.clock.advance(3600)
    assert status(client, inst) == "STOPPING"
    _admin(app, "/lifecycle/advance", {"kind": "devenv-instance", "id": inst})
    assert status(client, inst) == "STOPPED"


@pytest.mark.parametrize("step, failed", [("create", "CREATE_FAILED"),
                                          ("start", "START_FAILED"), ("stop", "UNAVAILABLE")])
def test_a_failed_step_records_its_reason(client, app, sim, step, failed):
    inst = _ok(client.post(DE, CREATE))["id"]
    if step != "create":
        sim.clock.advance(2)
        _ok(action(client, inst, "stop"))
    if step == "start":
        sim.clock.advance(1)
        _ok(action(client, inst, "start"))
    resp = _admin(app, "/lifecycle/fail", {"kind": "devenv-instance", "id": inst,
                                           "reason": "no GPU left in the zone"})
    assert resp.json["status"] == failed
    shown = _ok(client.get(DE + "/" + inst))
    assert (shown["status"], shown["error_code"], shown["spec"]["failed_reasons"]) == (
        failed, "ModelArts.6399", {"code": "ModelArts.6399",
                                   "message": "no GPU left in the zone", "detail": {}})
    _ok(action(client, inst, "start"))  # a failed instance may be started again
    assert _ok(client.get(DE + "/" + inst))["spec"]["failed_reasons"] is None


def test_unknown_instance_for_the_controls(app):
    resp = _admin(app, "/lifecycle/advance", {"kind": "devenv-instance", "id": "DE-nope"})
    assert resp.status_code == 404


# -- who may do what, where ----------------------------------------------------------------------

def test_read_only_auditor_may_read_but_not_write(client, running):
    auditor = client.as_user("auditor")
    assert _ok(auditor.get(DE, query={"de_type": "Notebook"}))["total_count"] == 1
    resp = auditor.post(DE + "/%s/action" % running, {"action": "stop"})
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    assert set(resp.json) == {"error_code", "error_message"}
    actual = client.last_trace()
    assert actual == expected_record(
        actual, **TRACE, trace_name="change_instance_status", operation_id="StopDevEnvInstance",
        resource_id="", resource_name="", code=403, request={"action": "stop"},
        response=resp.json, user="auditor", error_code="ModelArts.0108",
        time=client.sim.clock.now_ms())
    assert status(client, running) == "RUNNING"


def test_instances_belong_to_their_project(client, app, running):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert _ok(other.get(DE, query={"de_type": "Notebook"}))["total_count"] == 0
    assert other.get(DE + "/" + running).json["error_code"] == "ModelArts.6309"
    _ok(other.post(DE, CREATE))  # the same name is free in another project
    mallory = client.as_user("mallory")
    resp = mallory.post(DE + "/%s/action" % running, {"action": "stop"})
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert status(client, running) == "RUNNING"
