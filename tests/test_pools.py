"""Resource pools v2 (/v2/{project_id}/pools): every call audited (reads read_only), the
Kubernetes-style record (resource_id = metadata.name, resource_name = the os.modelarts/name
label), lifecycles, codes and the official SDK."""

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import ListTracesRequest
from huaweicloudsdkmodelarts.v1 import (CreatePoolRequest, DeletePoolRequest,
                                        ListPoolNodesRequest, ListPoolsRequest, PatchPoolRequest,
                                        ShowPoolRequest)

from tests.helpers import check_refusal, check_trace, ok

PL = "/v2/{project_id}/pools"
CREATE = {"apiVersion": "v2", "kind": "Pool",
          "metadata": {"labels": {"os.modelarts/name": "pool-001"}},
          "spec": {"type": "Dedicate", "scope": ["Train", "Infer"], "network": {"name": "net-01"},
                   "resources": [{"flavor": "modelarts.vm.gpu.t4u8", "count": 2}]}}
REC = dict(resource_type="Pool", api_version="v2")


def create(client, sim, running=True):
    body = ok(client.post(PL, CREATE))
    if running:
        sim.clock.advance(2)
    return body["metadata"]["name"]


def test_create(client):
    resp = client.post(PL, CREATE)
    body = ok(resp)
    name = body["metadata"]["name"]
    assert name.startswith("pool-") and 36 <= len(name) <= 63
    assert body["status"]["phase"] == "Creating"
    assert body["metadata"]["creationTimestamp"] == "2026-11-18T11:06:40Z"
    check_trace(client, resp, trace_name="CreatePool", operation_id="CreatePool",
                resource_id=name, resource_name="pool-001", code=200, request=CREATE,
                response=body, **REC)


def test_reads_are_audited_read_only(client, sim):
    name = create(client, sim)
    for op, path in (("ShowPool", PL + "/" + name), ("ListPoolNodes", PL + "/%s/nodes" % name)):
        resp = client.get(path)
        check_trace(client, resp, trace_name=op, operation_id=op, resource_id=name,
                    resource_name="pool-001", code=200, request=None, response=resp.json,
                    read_only=True, **REC)
    resp = client.get(PL)
    assert resp.json["kind"] == "PoolList" and len(resp.json["items"]) == 1
    check_trace(client, resp, trace_name="ListPools", operation_id="ListPools", resource_id="",
                resource_name="", code=200, request=None, response=resp.json, read_only=True,
                **REC)
    nodes = ok(client.get(PL + "/%s/nodes" % name))["items"]
    assert [n["status"]["phase"] for n in nodes] == ["Available", "Available"]


def test_patch_and_delete(client, sim):
    name = create(client, sim)
    req = {"spec": {"resources": [{"flavor": "modelarts.vm.gpu.t4u8", "count": 3}]}}
    resp = client.call("PATCH", PL + "/" + name, req)
    body = ok(resp)
    assert body["spec"]["resources"][0]["count"] == 3 and body["spec"]["scope"] == ["Train",
                                                                                   "Infer"]
    check_trace(client, resp, trace_name="PatchPool", operation_id="PatchPool",
                resource_id=name, resource_name="pool-001", code=200, request=req,
                response=body, **REC)
    assert len(ok(client.get(PL + "/%s/nodes" % name))["items"]) == 3
    resp = client.delete(PL + "/" + name)
    body = ok(resp)
    assert body["status"]["phase"] == "Deleting" and body["metadata"]["deletionTimestamp"]
    check_trace(client, resp, trace_name="DeletePool", operation_id="DeletePool",
                resource_id=name, resource_name="pool-001", code=200, request=None,
                response=body, **REC)
    assert ok(client.get(PL + "/" + name))["status"]["phase"] == "Deleting"
    sim.clock.advance(2)
    assert client.get(PL + "/" + name).status_code == 404


def test_codes(client, sim):
    name = create(client, sim, running=False)
    assert client.call("PATCH", PL + "/" + name, {"spec": {}}).status_code == 400  # Creating
    check_refusal(client, client.post(PL, CREATE), 409, "ModelArts.50015000",
                  trace_name="CreatePool", operation_id="CreatePool", resource_id="",
                  resource_name="pool-001", request=CREATE, **REC)
    check_refusal(client, client.get(PL + "/pool-nope"), 404, "ModelArts.50015001",
                  trace_name="ShowPool", operation_id="ShowPool", resource_id="pool-nope",
                  resource_name="", request=None, read_only=True, **REC)


@pytest.mark.parametrize("change", [
    {"apiVersion": "v1"}, {"apiVersion": None}, {"kind": "Node"}, {"metadata": None},
    {"metadata": {"labels": {}}}, {"metadata": {"labels": {"os.modelarts/name": 3}}},
    {"metadata": {"labels": {"os.modelarts/name": "Bad_Name"}}}, {"spec": None},
    {"spec": {"type": "Other", "resources": [{"flavor": "f", "count": 1}]}},
    {"spec": {"type": "Logical", "resources": []}},
    {"spec": {"type": "Logical", "resources": [{"flavor": "f", "count": "2"}]}},
    {"spec": {"type": "Logical", "resources": [{"count": 1}]}},
    {"spec": {"type": "Logical", "resources": [1]}},
    {"spec": {"type": "Logical", "scope": ["Nope"], "resources": [{"flavor": "f", "count": 1}]}},
    {"spec": {"type": "Dedicate", "resources": [{"flavor": "f", "count": 1}]}},
])
def test_validation_is_400_never_500(client, change):
    resp = client.post(PL, {**CREATE, **change})
    assert resp.status_code == 400, resp.json
    assert resp.json["error_code"] == "ModelArts.50004000"


def test_list_filters_and_lifecycle_controls(client, app, sim):
    name = create(client, sim, running=False)
    assert len(ok(client.get(PL, query={"status": "creating"}))["items"]) == 1
    assert ok(client.get(PL, query={"status": "created"}))["items"] == []
    sel = {"labelSelector": "os.modelarts/name=pool-001"}
    assert len(ok(client.get(PL, query=sel))["items"]) == 1
    assert ok(client.get(PL, query={"labelSelector": "os.modelarts/name=x"}))["items"] == []
    assert client.get(PL, query={"status": "weird"}).status_code == 400
    admin = app.test_client()
    assert admin.post("/_sim/lifecycle/advance",
                      json={"kind": "pool", "id": name}).json["status"] == "Running"
    failed = admin.post("/_sim/lifecycle/fail", json={"kind": "pool", "id": name,
                                                     "reason": "no quota"}).json
    assert failed["status"] == "Error"
    shown = ok(client.get(PL + "/" + name))
    assert (shown["status"]["phase"], shown["status"]["message"]) == ("Error", "no quota")


# -- the official SDK ------------------------------------------------------------------------------

def test_sdk_flow(sdk):
    created = sdk.modelarts.create_pool(CreatePoolRequest(body=CREATE))
    name = created.metadata.name
    deadline = time.monotonic() + 15
    while sdk.modelarts.show_pool(ShowPoolRequest(pool_name=name)).status.phase != "Running":
        assert time.monotonic() < deadline, "the pool never ran"
        time.sleep(0.2)
    listed = sdk.modelarts.list_pools(ListPoolsRequest())
    assert [p.metadata.name for p in listed.items] == [name]
    patched = sdk.modelarts.patch_pool(PatchPoolRequest(pool_name=name, body={
        "spec": {"resources": [{"flavor": "modelarts.vm.gpu.t4u8", "count": 3}]}}))
    assert patched.spec.resources[0].count == 3
    nodes = sdk.modelarts.list_pool_nodes(ListPoolNodesRequest(pool_name=name))
    assert len(nodes.items) == 3
    deleted = sdk.modelarts.delete_pool(DeletePoolRequest(pool_name=name))
    assert deleted.status.phase == "Deleting"
    traces = sdk.cts.list_traces(ListTracesRequest(service_type="ModelArts",
                                                   resource_type="Pool", limit=200)).traces
    names = [t.trace_name for t in traces]
    polls = names.count("ShowPool")
    assert polls >= 1
    assert names == ["DeletePool", "ListPoolNodes", "PatchPool", "ListPools"] + \
        ["ShowPool"] * polls + ["CreatePool"]


def test_sdk_exception_carries_the_error(sdk):
    with pytest.raises(ClientRequestException) as info:
        sdk.modelarts.show_pool(ShowPoolRequest(pool_name="pool-missing"))
    err = info.value
    assert (err.status_code, err.error_code) == (404, "ModelArts.50015001")
    assert "pool-missing" in err.error_msg and err.request_id
