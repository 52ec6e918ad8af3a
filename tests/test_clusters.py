"""Dedicated resource pools of the old generation (only the list is public): the four audited
calls leave exactly their record, and when a created pool leaves deploying the service itself
records createClusterResult (SystemAction, rated by how it ended)."""

import pytest

from tests.helpers import FROZEN_MS, OTHER_PROJECT_ID, PROJECT_ID, SignedClient, \
    expected_record
from tests.test_models import check, ok, refused

CLUSTERS = "/v1/{project_id}/clusters"
CREATE = {"cluster_name": "pool-1", "description": "inference pool",
          "nodes": {"specification": "modelarts.vm.cpu.8ud", "count": 2}}


def _check(client, resp, **kw):
    return check(client, resp, resource_type="cluster", **kw)


def _refused(client, resp, status, code, **kw):
    return refused(client, resp, status, code, resource_type="cluster", **kw)


def create_cluster(client, sim, running=True, **change) -> str:
    cluster_id = ok(client.post(CLUSTERS, {**CREATE, **change}))["cluster_id"]
    if running:
        sim.clock.advance(2)
    return cluster_id


@pytest.fixture
def cluster(client, sim):
    return create_cluster(client, sim)


def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


def result_record(actual, cluster_id, status, *, at, recorded, error_msg=None):
    """The createClusterResult record: recorded by the service, as the pool's creator."""
    response = {"cluster_id": cluster_id, "cluster_name": "pool-1", "status": status}
    if error_msg is not None:
        response["error_msg"] = error_msg
    want = expected_record(actual, trace_name="createClusterResult",
                           operation_id="CreateClusterResult", resource_type="cluster",
                           api_version="v1", resource_id=cluster_id, resource_name="pool-1",
                           code=200, request=None, response=response, time=at,
                           rating="normal" if status == "running" else "warning")
    want.update(trace_type="SystemAction", source_ip="", user_agent="", record_time=recorded)
    want["user"]["access_key_id"] = ""
    return want


# -- one whole record per operation --------------------------------------------------------------

def test_create_cluster(client):
    resp = client.post(CLUSTERS, CREATE)
    body = ok(resp)
    assert set(body) == {"cluster_id"} and len(body["cluster_id"]) == 32
    int(body["cluster_id"], 16)
    _check(client, resp, trace_name="createCluster", operation_id="CreateCluster",
           resource_id=body["cluster_id"], resource_name="pool-1", code=200, request=CREATE,
           response=body, time=FROZEN_MS)


def test_delete_cluster(client, cluster):
    resp = client.delete(CLUSTERS + "/" + cluster)
    assert ok(resp) == {}
    _check(client, resp, trace_name="deleteCluster", operation_id="DeleteCluster",
           resource_id=cluster, resource_name="pool-1", code=200, request=None, response=None)
    assert ok(client.get(CLUSTERS))["total_count"] == 0


def test_add_cluster_node(client, cluster):
    req = {"count": 3}
    resp = client.post(CLUSTERS + "/%s/nodes" % cluster, req)
    body = ok(resp)
    assert body == {"cluster_id": cluster, "count": 5}
    _check(client, resp, trace_name="addClusterNode", operation_id="AddClusterNodes",
           resource_id=cluster, resource_name="pool-1", code=200, request=req, response=body)
    assert ok(client.get(CLUSTERS + "/" + cluster))["nodes"] == {
        "specification": "modelarts.vm.cpu.8ud", "count": 5, "available_count": 5}


def test_delete_cluster_node(client, cluster):
    resp = client.delete(CLUSTERS + "/%s/nodes" % cluster, query={"count": 1})
    body = ok(resp)
    assert body == {"cluster_id": cluster, "count": 1}
    _check(client, resp, trace_name="deleteClusterNode", operation_id="DeleteClusterNodes",
           resource_id=cluster, resource_name="pool-1", code=200, request={"count": "1"},
           response=body)


def test_create_cluster_result_when_running(client, sim):
    cluster_id = create_cluster(client, sim, running=False)
    sim.clock.advance(1)
    assert [t["trace_name"] for t in client.traces()] == ["createCluster"]
    sim.clock.advance(4)
    result, create = client.traces()
    assert create["trace_name"] == "createCluster"
    assert result == result_record(result, cluster_id, "running", at=FROZEN_MS + 2000,
                                   recorded=FROZEN_MS + 5000)
    sim.clock.advance(60)
    assert len(client.traces()) == 2  # recorded once


def test_create_cluster_result_when_abnormal(client, app, sim):
    cluster_id = create_cluster(client, sim, running=False)
    sim.clock.advance(1)
    failed = _admin(app, "/lifecycle/fail", {"kind": "cluster", "id": cluster_id,
                                             "reason": "no capacity for the flavour"}).json
    assert failed == {"kind": "cluster", "id": cluster_id, "status": "abnormal",
                      "changed": True}
    result = client.last_trace()
    assert result == result_record(result, cluster_id, "abnormal", at=FROZEN_MS + 1000,
                                   recorded=FROZEN_MS + 1000,
                                   error_msg="no capacity for the flavour")
    shown = ok(client.get(CLUSTERS + "/" + cluster_id))
    assert (shown["status"], shown["error_msg"], shown["nodes"]["available_count"]) == (
        "abnormal", "no capacity for the flavour", 0)


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_cluster_name(client, cluster):
    resp = client.post(CLUSTERS, CREATE)
    _refused(client, resp, 400, "ModelArts.3554", trace_name="createCluster",
             operation_id="CreateCluster", resource_id="", resource_name="pool-1",
             request=CREATE)


def test_cluster_not_found(client):
    missing = "f" * 32
    for method, path, op, trace, req in (
            ("DELETE", "", "DeleteCluster", "deleteCluster", None),
            ("POST", "/nodes", "AddClusterNodes", "addClusterNode", {"count": 1}),
            ("DELETE", "/nodes", "DeleteClusterNodes", "deleteClusterNode", None)):
        resp = client.call(method, CLUSTERS + "/" + missing + path, req)
        body = _refused(client, resp, 400, "ModelArts.3547", trace_name=trace, operation_id=op,
                        resource_id=missing, resource_name="", request=req)
        assert body["error_msg"] == "Cluster %s does not exist." % missing
    assert client.get(CLUSTERS + "/" + missing).json["error_code"] == "ModelArts.3547"


def test_node_rules(client, sim, cluster):
    url = CLUSTERS + "/%s/nodes" % cluster
    resp = client.delete(url, query={"count": 2})
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="deleteClusterNode",
                    operation_id="DeleteClusterNodes", resource_id=cluster,
                    resource_name="pool-1", request={"count": "2"})
    assert "at least one" in body["error_msg"]
    for query in ({}, {"count": "x"}, {"count": "0"}, {"count": "-1"}, {"count": "²"}):
        resp = client.delete(url, query=query)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", query
    for req in ({}, {"count": "1"}, {"count": 0}, {"count": 49}, {"count": True}, [1]):
        resp = client.post(url, req)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", req
    deploying = create_cluster(client, sim, running=False, cluster_name="pool-2")
    resp = client.post(CLUSTERS + "/%s/nodes" % deploying, {"count": 1})
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="addClusterNode",
                    operation_id="AddClusterNodes", resource_id=deploying,
                    resource_name="pool-2", request={"count": 1})
    assert "deploying" in body["error_msg"]


@pytest.mark.parametrize("change, message", [
    ({"cluster_name": "pool 1"}, "cluster_name"),
    ({"cluster_name": "p" * 65}, "cluster_name"),
    ({"cluster_name": None}, "cluster_name"),
    ({"description": "a&b"}, "description"),
    ({"nodes": None}, "nodes"),
    ({"nodes": [1]}, "nodes"),
    ({"nodes": {"specification": "modelarts.vm.huge", "count": 1}}, "specification"),
    ({"nodes": {"specification": "modelarts.vm.cpu.8ud"}}, "count"),
    ({"nodes": {"specification": "modelarts.vm.cpu.8ud", "count": 51}}, "count"),
    ({"nodes": {"specification": "modelarts.vm.cpu.8ud", "count": "2"}}, "count"),
])
def test_create_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(CLUSTERS, req)
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="createCluster",
                    operation_id="CreateCluster", resource_id="",
                    resource_name=req.get("cluster_name", ""), request=req)
    assert message in body["error_msg"]


def test_read_only_auditor_is_refused(client, cluster):
    auditor = client.as_user("auditor")
    assert ok(auditor.get(CLUSTERS))["total_count"] == 1
    resp = auditor.post(CLUSTERS + "/%s/nodes" % cluster, {"count": 1})
    _refused(client, resp, 403, "ModelArts.0108", trace_name="addClusterNode",
             operation_id="AddClusterNodes", resource_id="", resource_name="",
             request={"count": 1}, user="auditor")


def test_projects_are_isolated(client, app, cluster):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(CLUSTERS))["total_count"] == 0
    assert other.delete(CLUSTERS + "/" + cluster).json["error_code"] == "ModelArts.3547"
    assert client.as_user("mallory").get(CLUSTERS).json["error_code"] == "ModelArts.0210"


# -- lifecycle -----------------------------------------------------------------------------------

def test_deploying_then_running_and_what_other_families_read(client, sim):
    cluster_id = create_cluster(client, sim, running=False)
    shown = ok(client.get(CLUSTERS + "/" + cluster_id))
    assert (shown["status"], shown["nodes"]["available_count"], shown["allocatable_cpu_cores"]) \
        == ("deploying", 0, 0)
    pool = sim.state("clusters", PROJECT_ID).clusters[cluster_id]
    assert pool.status(sim.clock.now_ms()) == "deploying"
    sim.clock.advance(2)
    assert pool.status(sim.clock.now_ms()) == "running"
    shown = ok(client.get(CLUSTERS + "/" + cluster_id))
    assert {k: shown[k] for k in ("cluster_name", "description", "status", "created_at",
                                  "tenant", "project", "owner", "allocatable_cpu_cores",
                                  "allocatable_memory", "allocatable_gpus")} == {
        "cluster_name": "pool-1", "description": "inference pool", "status": "running",
        "created_at": FROZEN_MS, "tenant": "f3c95789ace1a9542c5d6baed2eac902",
        "project": PROJECT_ID, "owner": "f1260ebc7d56ab567714dc919b27dbdf",
        "allocatable_cpu_cores": 11.0, "allocatable_memory": 8192, "allocatable_gpus": 0}


def test_manual_mode_and_advance_record_the_result(client, app, sim):
    _admin(app, "/lifecycle", {"family": "clusters", "mode": "manual"})
    cluster_id = create_cluster(client, sim, running=False)
    sim.clock.advance(600)
    assert [t["trace_name"] for t in client.traces()] == ["createCluster"]
    moved = _admin(app, "/lifecycle/advance", {"kind": "cluster", "id": cluster_id}).json
    assert moved["status"] == "running"
    result = client.last_trace()
    assert result == result_record(result, cluster_id, "running", at=sim.clock.now_ms(),
                                   recorded=sim.clock.now_ms())


def test_no_result_for_a_pool_deleted_while_deploying(client, sim):
    cluster_id = create_cluster(client, sim, running=False)
    ok(client.delete(CLUSTERS + "/" + cluster_id))
    sim.clock.advance(10)
    assert [t["trace_name"] for t in client.traces()] == ["deleteCluster", "createCluster"]


def test_results_survive_a_restart(tmp_path):
    """The watcher is saved with the resources (--data-dir) and fires after a restart."""
    from tests.conftest import make_app
    app = make_app(data_dir=str(tmp_path))
    client = SignedClient(app)
    cluster_id = ok(client.post(CLUSTERS, CREATE))["cluster_id"]
    app.extensions["modelarts_sim"].close()
    again = make_app(data_dir=str(tmp_path))
    sim = again.extensions["modelarts_sim"]
    sim.clock.advance(5)
    client = SignedClient(again)
    assert [(t["trace_name"], t["resource_id"]) for t in client.traces()] == [
        ("createClusterResult", cluster_id), ("createCluster", cluster_id)]
    sim.close()


# -- lists ---------------------------------------------------------------------------------------

def test_list_paging_sorting_and_filters(client, sim):
    for i in range(5):
        create_cluster(client, sim, running=False, cluster_name="pool-%d" % i)
        sim.clock.advance(1)
    listed = ok(client.get(CLUSTERS))
    assert (listed["total_count"], listed["count"]) == (5, 5)
    assert [c["cluster_name"] for c in listed["clusters"]] == [
        "pool-%d" % i for i in (4, 3, 2, 1, 0)]
    page = ok(client.get(CLUSTERS, query={"offset": 2, "limit": 2, "sort_by": "cluster_name",
                                          "order": "asc"}))
    assert [c["cluster_name"] for c in page["clusters"]] == ["pool-4"]
    assert ok(client.get(CLUSTERS, query={"status": "running"}))["total_count"] == 4
    assert ok(client.get(CLUSTERS, query={"status": "deploying"}))["total_count"] == 1
    assert ok(client.get(CLUSTERS, query={"cluster_name": "POOL-3"}))["total_count"] == 1
    for bad in ({"sort_by": "status"}, {"order": "random"}, {"limit": 1001}):
        assert client.get(CLUSTERS, query=bad).json["error_code"] == "ModelArts.0101", bad


def test_a_pool_in_use_by_any_workload_cannot_be_deleted(client, sim, cluster):
    """Services, running training jobs and notebook instances on a pool each keep it."""
    instance = ok(client.post("/v1/{project_id}/demanager/instances", {
        "name": "nb-on-pool", "profile_id": "Multi-Engine 1.0 (python3)-gpu",
        "flavor": "modelarts.vm.gpu.p100", "pool": {"id": cluster},
        "spec": {"storage": {"type": "obs", "location": {"path": "/acme-bucket/nb/"}}}}))["id"]
    job = ok(client.post("/v1/{project_id}/training-jobs", {
        "job_name": "on-pool", "config": {
            "worker_server_num": 1, "app_url": "/usr/app/", "boot_file_url": "/usr/app/boot.py",
            "data_url": "/usr/data/", "pool_id": cluster, "engine_id": 1,
            "train_url": "/usr/train/"}}))
    resp = client.delete(CLUSTERS + "/" + cluster)
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="deleteCluster",
                    operation_id="DeleteCluster", resource_id=cluster, resource_name="pool-1",
                    request=None)
    assert body["error_msg"] == (
        "Cluster pool-1 is in use by notebook instance nb-on-pool, training job on-pool V0001: "
        "stop or delete them first.")
    sim.clock.advance(3600)  # the training job completes
    ok(client.post("/v1/{project_id}/demanager/instances/%s/action" % instance,
                   {"action": "stop"}))
    sim.clock.advance(60)
    assert client.delete(CLUSTERS + "/" + cluster).status_code == 200, job
