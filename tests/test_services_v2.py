"""Inference services v2 (/v2/{project_id}/services): whole records for the five audited calls
(batch delete leaves one trace per service), lifecycles on the clock, guards, validation, and the
official SDK end to end."""

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import ListTracesRequest
from huaweicloudsdkmodelarts.v1 import (BatchDeleteInferServicesRequest,
                                        CreateInferServiceRequest, ListInferServicesRequest,
                                        ShowInferServiceRequest, StartInferServiceRequest,
                                        StopInferServiceRequest, UpdateInferServiceRequest)

from tests.helpers import UUID, check_refusal, check_trace, expected_record, ok

SV = "/v2/{project_id}/services"
CREATE = {"name": "svc-a", "type": "REAL_TIME", "description": "demo",
          "group_configs": [{"name": "g1", "count": 1, "weight": 100, "unit_configs": [
              {"image": {"source": "SWR", "swr_path": "swr.cn-north-4.myhuaweicloud.com/o/i:1"},
               "flavor": "modelarts.vm.cpu.2u", "count": 1, "port": 8080}]}],
          "custom_metrics_path": ""}
REC = dict(resource_type="serviceV2", api_version="v2")


def create(client, sim=None, running=True, **change):
    body = ok(client.post(SV, {**CREATE, **change}))
    if running:
        sim.clock.advance(2)
    return body


def _trace(client, resp, op, name, sid, sname, request, response):
    return check_trace(client, resp, trace_name=name, operation_id=op, resource_id=sid,
                       resource_name=sname, code=200, request=request, response=response, **REC)


def test_create(client, sim):
    resp = client.post(SV, CREATE)
    body = ok(resp)
    assert UUID.match(body["id"]) and body["status"] == "DEPLOYING" and body["name"] == "svc-a"
    _trace(client, resp, "CreateInferService", "CreateServiceV2", body["id"], "svc-a", CREATE,
           body)


def test_update_start_stop(client, sim):
    sid = create(client, sim)["id"]
    req = {"description": "changed"}
    resp = client.put(SV + "/" + sid, req)
    body = ok(resp)
    assert body["version"]["description"] == "changed" and body["name"] == "svc-a"
    _trace(client, resp, "UpdateInferService", "UpdateServiceV2", sid, "svc-a", req, body)
    resp = client.post(SV + "/%s/stop" % sid)
    body = ok(resp)
    assert body["status"] == "STOPPING"
    _trace(client, resp, "StopInferService", "StopServiceV2", sid, "svc-a", None, body)
    sim.clock.advance(2)
    assert ok(client.get(SV + "/" + sid))["status"] == "STOPPED"
    resp = client.post(SV + "/%s/start" % sid)
    body = ok(resp)
    assert body["status"] == "DEPLOYING"
    _trace(client, resp, "StartInferService", "StartServiceV2", sid, "svc-a", None, body)
    sim.clock.advance(2)
    assert ok(client.get(SV + "/" + sid))["status"] == "RUNNING"


def test_batch_delete_leaves_one_trace_per_service(client, sim):
    a = create(client, sim)["id"]
    b = create(client, sim, name="svc-b")["id"]
    req = {"service_ids": [a, b]}
    resp = client.post(SV + "/delete", req)
    body = ok(resp)
    assert [s["id"] for s in body["service_responses"]] == [a, b]
    latest, earlier = client.traces()[:2]
    for actual, (sid, name) in ((latest, (b, "svc-b")), (earlier, (a, "svc-a"))):
        assert actual["request_id"] == resp.headers["X-Request-Id"]
        assert actual == expected_record(
            actual, trace_name="DeleteServiceV2", operation_id="BatchDeleteInferServices",
            resource_id=sid, resource_name=name, code=200, request=req, response=body,
            time=sim.clock.now_ms(), **REC)
    assert latest["trace_id"] != earlier["trace_id"]
    assert ok(client.get(SV))["total"] == 0
    assert ok(client.post(SV, CREATE))["name"] == "svc-a"  # the name is free again


def test_lifecycle_by_polling(client, sim):
    sid = create(client, sim, running=False)["id"]
    seen = []
    for _ in range(5):
        seen.append(ok(client.get(SV + "/" + sid))["status"])
        sim.clock.advance(0.5)
    assert seen[0] == "DEPLOYING" and seen[-1] == "RUNNING"
    shown = ok(client.get(SV + "/" + sid))
    assert shown["predict_url"] and shown["version"]["instance_groups"][0]["running_count"] == 1


def test_guards_and_codes(client, sim):
    resp = client.post(SV, CREATE)
    sid = ok(resp)["id"]
    check_refusal(client, client.post(SV + "/%s/start" % sid), 400, "ModelArts.3530",
                  trace_name="StartServiceV2", operation_id="StartInferService",
                  resource_id=sid, resource_name="svc-a", request=None, **REC)
    check_refusal(client, client.post(SV, CREATE), 409, "ModelArts.3503",
                  trace_name="CreateServiceV2", operation_id="CreateInferService",
                  resource_id="", resource_name="svc-a", request=CREATE, **REC)
    missing = "00000000-0000-4000-8000-000000000000"
    check_refusal(client, client.post(SV + "/%s/stop" % missing), 404, "ModelArts.3502",
                  trace_name="StopServiceV2", operation_id="StopInferService",
                  resource_id=missing, resource_name="", request=None, **REC)
    assert client.get(SV + "/" + missing).status_code == 404
    req = {"service_ids": [sid, missing]}
    check_refusal(client, client.post(SV + "/delete", req), 404, "ModelArts.3502",
                  trace_name="DeleteServiceV2", operation_id="BatchDeleteInferServices",
                  resource_id=missing, resource_name="", request=req, **REC)
    assert ok(client.get(SV))["total"] == 1  # nothing deleted


@pytest.mark.parametrize("change", [
    {"name": ""}, {"name": "x" * 65}, {"name": "bad name!"}, {"type": "BATCH"}, {"type": None},
    {"group_configs": None}, {"group_configs": [{}, {}]}, {"group_configs": "x"},
    {"group_configs": [{"unit_configs": [{"image": {"source": "SWR"}, "flavor": "f"}]}]},
    {"group_configs": [{"unit_configs": [{"image": {"source": "SWR", "swr_path": "p"}}]}]},
    {"group_configs": [{"count": 0, "unit_configs": [
        {"image": {"source": "SWR", "swr_path": "p"}, "flavor": "f"}]}]},
    {"group_configs": [{"count": 129, "unit_configs": [
        {"image": {"source": "SWR", "swr_path": "p"}, "flavor": "f"}]}]},
    {"group_configs": [{"unit_configs": [[]]}]}, {"group_configs": [[1]]},
    {"description": "d" * 513}, {"version": "one"}, {"deploy_type": "X"}, {"runtime_config": 3},
    {"runtime_config": {"service_invoke": {"port": "x"}}}, {"tags": [1]},
])
def test_validation_is_400_never_500(client, change):
    resp = client.post(SV, {**CREATE, **change})
    assert resp.status_code == 400, resp.json
    assert set(resp.json) == {"error_code", "error_msg"}
    assert resp.json["error_code"] == "ModelArts.0101"


@pytest.mark.parametrize("raw", [b"[]", b"null", b"\"x\"", b"{bad"])
def test_bad_bodies(client, raw):
    assert client.call("POST", SV, raw=raw).status_code == 400
    assert client.call("POST", SV + "/delete", raw=raw).status_code == 400


def test_list_filters_and_paging(client, sim):
    for i in range(3):
        create(client, sim, name="svc-%d" % i, running=False)
        sim.clock.advance(1)
    listed = ok(client.get(SV, query={"limit": 2, "offset": 0}))
    assert (listed["total"], listed["pages"], listed["size"], listed["current"]) == (3, 2, 2, 0)
    assert [s["name"] for s in listed["data"]] == ["svc-2", "svc-1"]
    asc = ok(client.get(SV, query={"sort_dir": "ASC", "sort_key": "create_at"}))
    assert [s["name"] for s in asc["data"]] == ["svc-0", "svc-1", "svc-2"]
    assert ok(client.get(SV, query={"name": "svc-1"}))["total"] == 1
    assert ok(client.get(SV, query={"status": "RUNNING"}))["total"] == 3
    assert ok(client.get(SV, query={"type": "ASYNC_REAL_TIME"}))["total"] == 0
    for bad in ({"limit": 0}, {"offset": 1, "limit": 2}, {"sort_key": "name"},
                {"sort_dir": "up"}, {"status": "GONE"}):
        assert client.get(SV, query=bad).status_code == 400


def test_sim_lifecycle_advance_and_fail(client, app, sim):
    sid = create(client, sim, running=False)["id"]
    admin = app.test_client()
    moved = admin.post("/_sim/lifecycle/advance", json={"kind": "service-v2", "id": sid}).json
    assert moved["status"] == "RUNNING" and moved["changed"] is True
    client.post(SV + "/%s/stop" % sid)
    failed = admin.post("/_sim/lifecycle/fail", json={"kind": "service-v2", "id": sid,
                                                     "reason": "image pull failed"}).json
    assert failed["status"] == "FAILED"
    shown = ok(client.get(SV + "/" + sid))
    assert (shown["status"], shown["failure_reason"]) == ("FAILED", "image pull failed")
    assert ok(client.post(SV + "/%s/start" % sid))["status"] == "DEPLOYING"


def test_update_rules(client, sim):
    sid = create(client, sim, running=False)["id"]
    assert client.put(SV + "/" + sid, {"description": "x"}).status_code == 400  # deploying
    sim.clock.advance(2)
    create(client, sim, name="svc-b")
    assert client.put(SV + "/" + sid, {"name": "svc-b"}).status_code == 409
    body = ok(client.put(SV + "/" + sid, {"group_configs": CREATE["group_configs"]}))
    assert body["status"] == "UPGRADING" and body["version"]["description"] == "demo"


def test_read_only_auditor_is_refused(client):
    resp = client.as_user("auditor").post(SV, CREATE)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"


# -- the official SDK ------------------------------------------------------------------------------

def _poll(sdk, sid, want, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = sdk.modelarts.show_infer_service(ShowInferServiceRequest(service_id=sid)).status
        if status == want:
            return
        time.sleep(0.2)
    raise AssertionError("service %s never reached %s" % (sid, want))


def test_sdk_flow(sdk):
    created = sdk.modelarts.create_infer_service(CreateInferServiceRequest(body=CREATE))
    assert created.status == "DEPLOYING" and UUID.match(created.id)
    _poll(sdk, created.id, "RUNNING")
    listed = sdk.modelarts.list_infer_services(ListInferServicesRequest(name="svc-a"))
    assert listed.total == 1 and listed.data[0].id == created.id
    updated = sdk.modelarts.update_infer_service(UpdateInferServiceRequest(
        service_id=created.id, body={"description": "via sdk"}))
    assert updated.version.description == "via sdk"
    sdk.modelarts.stop_infer_service(StopInferServiceRequest(service_id=created.id))
    _poll(sdk, created.id, "STOPPED")
    sdk.modelarts.start_infer_service(StartInferServiceRequest(service_id=created.id))
    _poll(sdk, created.id, "RUNNING")
    gone = sdk.modelarts.batch_delete_infer_services(BatchDeleteInferServicesRequest(
        body={"service_ids": [created.id]}))
    assert [s.id for s in gone.service_responses] == [created.id]
    traces = sdk.cts.list_traces(ListTracesRequest(service_type="ModelArts",
                                                   resource_type="serviceV2", limit=200)).traces
    assert [t.trace_name for t in traces] == ["DeleteServiceV2", "StartServiceV2",
                                              "StopServiceV2", "UpdateServiceV2",
                                              "CreateServiceV2"]
    assert {t.resource_id for t in traces} == {created.id}


def test_sdk_exception_carries_the_error(sdk):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClientRequestException) as info:
        sdk.modelarts.show_infer_service(ShowInferServiceRequest(service_id=missing))
    err = info.value
    assert (err.status_code, err.error_code) == (404, "ModelArts.3502")
    assert missing in err.error_msg and err.request_id
