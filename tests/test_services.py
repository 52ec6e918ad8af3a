"""Service management v1: the four audited operations leave exactly their record (deleting
several services leaves one trace each), lifecycles move on the clock, and services reference
models and dedicated pools for real."""

import re

import pytest

from tests.helpers import OTHER_PROJECT_ID, PROJECT_ID, SignedClient, \
    expected_record
from tests.test_clusters import CLUSTERS, create_cluster
from tests.test_models import MODELS, check, import_model, ok, refused

SERVICES = "/v1/{project_id}/services"


def _check(client, resp, **kw):
    return check(client, resp, resource_type="service", **kw)


def _refused(client, resp, status, code, **kw):
    return refused(client, resp, status, code, resource_type="service", **kw)


def _admin(app, path, body):
    return app.test_client().post("/_sim" + path, json=body)


@pytest.fixture
def model(client, sim):
    return import_model(client, sim)


def real_time(model_id, **change):
    return {"service_name": "mnist-svc", "description": "mnist service",
            "infer_type": "real-time",
            "config": [{"model_id": model_id, "weight": 100,
                        "specification": "modelarts.vm.cpu.2u", "instance_count": 1}],
            **change}


def batch(model_id, **change):
    return {"service_name": "mnist-batch", "infer_type": "batch",
            "config": [{"model_id": model_id, "specification": "modelarts.vm.cpu.2u",
                        "instance_count": 1, "src_path": "/acme-data/in/",
                        "dest_path": "/acme-data/out/", "req_uri": "/",
                        "mapping_type": "file"}],
            **change}


def deploy(client, sim, body, running=True) -> str:
    service_id = ok(client.post(SERVICES, body))["service_id"]
    if running:
        sim.clock.advance(2)
    return service_id


@pytest.fixture
def service(client, sim, model):
    return deploy(client, sim, real_time(model))


def status_of(client, service_id):
    return ok(client.get(SERVICES + "/" + service_id))["status"]


# -- one whole record per operation --------------------------------------------------------------

def test_add_service(client, model):
    req = real_time(model, schedule=[{"type": "stop", "time_unit": "HOURS", "duration": 1}])
    resp = client.post(SERVICES, req)
    body = ok(resp)
    assert set(body) == {"service_id", "resource_ids"}
    [resource] = body["resource_ids"]
    assert re.match(r"^INF-[0-9a-f]{16}@%d$" % client.sim.clock.now_ms(), resource)
    _check(client, resp, trace_name="addService", operation_id="CreateService",
           resource_id=body["service_id"], resource_name="mnist-svc", code=200, request=req,
           response=body)


def test_delete_service(client, service):
    resp = client.delete(SERVICES + "/" + service)
    assert ok(resp) == {}
    _check(client, resp, trace_name="deleteService", operation_id="DeleteService",
           resource_id=service, resource_name="mnist-svc", code=200, request=None,
           response=None)
    assert ok(client.get(SERVICES + "/" + service), 404)["error_code"] == "ModelArts.3502"


def test_update_service(client, service):
    req = {"description": "digits, v2", "schedule": [
        {"type": "stop", "time_unit": "MINUTES", "duration": 30}]}
    resp = client.put(SERVICES + "/" + service, req)
    assert ok(resp) == {}
    _check(client, resp, trace_name="updateService", operation_id="UpdateService",
           resource_id=service, resource_name="mnist-svc", code=200, request=req,
           response=None)
    shown = ok(client.get(SERVICES + "/" + service))
    assert (shown["description"], shown["schedule"]) == ("digits, v2", req["schedule"])


def test_start_or_stop_service(client, sim, service):
    resp = client.put(SERVICES + "/" + service, {"status": "stopped"})
    assert ok(resp) == {}
    _check(client, resp, trace_name="startOrStopService", operation_id="StartOrStopService",
           resource_id=service, resource_name="mnist-svc", code=200,
           request={"status": "stopped"}, response=None)
    assert status_of(client, service) == "stopped"
    resp = client.put(SERVICES + "/" + service, {"status": "running"})
    _check(client, resp, trace_name="startOrStopService", operation_id="StartOrStopService",
           resource_id=service, resource_name="mnist-svc", code=200,
           request={"status": "running"}, response=None)
    assert status_of(client, service) == "deploying"
    sim.clock.advance(2)
    assert status_of(client, service) == "running"


def test_deleting_several_services_leaves_one_trace_each(client, sim, model):
    first = deploy(client, sim, real_time(model))
    second = deploy(client, sim, real_time(model, service_name="mnist-svc-2"))
    resp = client.delete(SERVICES + "/%s,%s" % (first, second))
    assert ok(resp) == {}
    latest, earlier = client.traces()[:2]
    for actual, (service_id, name) in ((latest, (second, "mnist-svc-2")),
                                       (earlier, (first, "mnist-svc"))):
        assert actual["request_id"] == resp.headers["X-Request-Id"]
        assert actual == expected_record(
            actual, trace_name="deleteService", operation_id="DeleteService",
            resource_type="service", api_version="v1", resource_id=service_id,
            resource_name=name, code=200, request=None, response=None,
            time=sim.clock.now_ms())
    assert latest["trace_id"] != earlier["trace_id"]
    assert ok(client.get(SERVICES))["total_count"] == 0


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_service_name(client, service, model):
    req = real_time(model)
    resp = client.post(SERVICES, req)
    _refused(client, resp, 409, "ModelArts.3503", trace_name="addService",
             operation_id="CreateService", resource_id="", resource_name="mnist-svc",
             request=req)


def test_service_not_found_is_404(client):
    for method, body, op, trace in (("PUT", {"description": "x"}, "UpdateService",
                                     "updateService"),
                                    ("PUT", {"status": "stopped"}, "StartOrStopService",
                                     "startOrStopService"),
                                    ("DELETE", None, "DeleteService", "deleteService")):
        resp = client.call(method, SERVICES + "/nope", body)
        body_out = _refused(client, resp, 404, "ModelArts.3502", trace_name=trace,
                            operation_id=op, resource_id="nope", resource_name="",
                            request=body)
        assert body_out["error_msg"] == "Service nope does not exist."


def test_a_comma_list_with_an_unknown_id_deletes_nothing(client, service):
    resp = client.delete(SERVICES + "/%s,nope" % service)
    _refused(client, resp, 404, "ModelArts.3502", trace_name="deleteService",
             operation_id="DeleteService", resource_id="nope", resource_name="", request=None)
    assert status_of(client, service) == "running"
    resp = client.delete(SERVICES + "/%s," % service)
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"


def test_models_must_exist_and_be_published(client, sim, model):
    req = real_time("0" * 8 + "-0000-4000-8000-" + "0" * 12)
    resp = client.post(SERVICES, req)
    _refused(client, resp, 404, "ModelArts.3001", trace_name="addService",
             operation_id="CreateService", resource_id="", resource_name="mnist-svc",
             request=req)
    publishing = import_model(client, sim, published=False, model_version="0.0.2")
    req = real_time(publishing)
    resp = client.post(SERVICES, req)
    body = _refused(client, resp, 400, "ModelArts.3515", trace_name="addService",
                    operation_id="CreateService", resource_id="", resource_name="mnist-svc",
                    request=req)
    assert "still publishing" in body["error_msg"]
    sim.clock.advance(1)
    ok(client.post(SERVICES, req))


def test_a_failed_or_unfit_model_is_not_deployed(client, app, sim):
    failed = import_model(client, sim, published=False)
    _admin(app, "/lifecycle/fail", {"kind": "model", "id": failed})
    resp = client.post(SERVICES, real_time(failed))
    assert resp.status_code == 400 and "failed" in resp.json["error_msg"]
    online_only = import_model(client, sim, model_version="0.0.2", install_type=["real-time"])
    resp = client.post(SERVICES, batch(online_only))
    assert resp.status_code == 400 and "install_type" in resp.json["error_msg"]


@pytest.mark.parametrize("change, message", [
    ({"service_name": "mnist svc"}, "service_name"),
    ({"service_name": "s" * 65}, "service_name"),
    ({"service_name": None}, "service_name"),
    ({"infer_type": "edge"}, "infer_type"),
    ({"infer_type": None}, "infer_type"),
    ({"description": "x" * 101}, "description"),
    ({"config": []}, "config"),
    ({"config": None}, "config"),
    ({"config": "model"}, "config"),
    ({"config": ["model"]}, "config entry"),
    ({"schedule": [{"type": "start", "time_unit": "HOURS", "duration": 1}]}, "type"),
    ({"schedule": [{"type": "stop", "time_unit": "WEEKS", "duration": 1}]}, "time_unit"),
    ({"schedule": [{"type": "stop", "time_unit": "HOURS", "duration": 0}]}, "duration"),
    ({"schedule": [{"type": "stop", "time_unit": "HOURS", "duration": "1"}]}, "duration"),
    ({"additional_properties": []}, "additional_properties"),
    ({"vpc_id": 5}, "vpc_id"),
])
def test_deploy_validation(client, model, change, message):
    req = {k: v for k, v in real_time(model, **change).items() if v is not None}
    resp = client.post(SERVICES, req)
    name = req.get("service_name")
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="addService",
                    operation_id="CreateService", resource_id="",
                    resource_name=name if isinstance(name, str) else "", request=req)
    assert message in body["error_msg"]


@pytest.mark.parametrize("entry, message", [
    ({"weight": 60}, "add up to 100"),
    ({"weight": None}, "weight"),
    ({"weight": 101}, "weight"),
    ({"weight": "100"}, "weight"),
    ({"specification": "big"}, "specification"),
    ({"specification": "custom"}, "custom_spec"),
    ({"specification": "custom", "custom_spec": {"cpu": 0, "memory": 1024}}, "cpu"),
    ({"specification": "custom", "custom_spec": {"cpu": 1.5, "memory": 100}}, "memory"),
    ({"specification": "custom", "custom_spec": {"cpu": "2", "memory": 1024}}, "cpu"),
    ({"instance_count": 0}, "instance_count"),
    ({"instance_count": None}, "instance_count"),
    ({"envs": {"MODE": 1}}, "envs"),
    ({"model_id": 42}, "model_id"),
])
def test_config_validation(client, model, entry, message):
    config = {k: v for k, v in {**real_time(model)["config"][0], **entry}.items()
              if v is not None}
    resp = client.post(SERVICES, real_time(model, config=[config]))
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
    assert message in resp.json["error_msg"]


def test_weights_share_traffic_between_models(client, sim, model):
    other = import_model(client, sim, model_version="0.0.2")
    base = real_time(model)["config"][0]
    config = [dict(base, weight=70), dict(base, model_id=other, weight=30)]
    service_id = deploy(client, sim, real_time(model, config=config))
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert [(c["model_version"], c["weight"], c["status"]) for c in shown["config"]] == [
        ("0.0.1", 70, "ready"), ("0.0.2", 30, "ready")]
    custom = dict(base, specification="custom", custom_spec={"cpu": 1.5, "memory": 2048})
    ok(client.post(SERVICES, real_time(model, service_name="custom", config=[custom])))


@pytest.mark.parametrize("entry, message", [
    ({"src_path": None}, "src_path"),
    ({"dest_path": "out/"}, "dest_path"),
    ({"req_uri": "predict"}, "req_uri"),
    ({"mapping_type": "json"}, "mapping_type"),
    ({"mapping_type": "csv"}, "mapping_rule"),
    ({"src_type": "ManifestFile"}, ".manifest"),
])
def test_batch_config_validation(client, model, entry, message):
    config = {k: v for k, v in {**batch(model)["config"][0], **entry}.items() if v is not None}
    resp = client.post(SERVICES, batch(model, config=[config]))
    assert resp.status_code == 400 and message in resp.json["error_msg"], resp.json
    resp = client.post(SERVICES, batch(model, config=[batch(model)["config"][0]] * 2))
    assert resp.status_code == 400 and "exactly one" in resp.json["error_msg"]


def test_status_rules(client, sim, service, model):
    url = SERVICES + "/" + service
    req = {"status": "stopped", "config": real_time(model)["config"]}
    resp = client.put(url, req)
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="startOrStopService",
                    operation_id="StartOrStopService", resource_id=service,
                    resource_name="mnist-svc", request=req)
    assert body["error_msg"] == "Parameters status and config cannot be sent together."
    for bad in ({"status": "paused"}, {"status": None}, {"status": 1}):
        resp = client.put(url, bad)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", bad
        assert client.last_trace()["trace_name"] == "startOrStopService"
    resp = client.put(url, {"status": "running"})
    assert resp.status_code == 400 and "is running and cannot be started" in \
        resp.json["error_msg"]
    ok(client.put(url, {"status": "stopped"}))
    resp = client.put(url, {"status": "stopped"})
    assert resp.status_code == 400 and "cannot be stopped" in resp.json["error_msg"]


def test_update_rules(client, sim, service):
    url = SERVICES + "/" + service
    for req, message in (({}, "to update"), ({"description": "<b>"}, "description"),
                         ({"config": [{"model_id": "nope", "weight": 100,
                                       "specification": "modelarts.vm.cpu.2u",
                                       "instance_count": 1}]}, "does not exist")):
        resp = client.put(url, req)
        assert resp.status_code in (400, 404) and message in resp.json["error_msg"], req
        trace = client.last_trace()
        assert (trace["trace_name"], trace["resource_id"], trace["resource_name"],
                trace["trace_rating"]) == ("updateService", service, "mnist-svc", "warning")


def test_cluster_must_exist_and_run(client, sim, model):
    missing = "f" * 32
    req = real_time(model, cluster_id=missing)
    resp = client.post(SERVICES, req)
    _refused(client, resp, 400, "ModelArts.3547", trace_name="addService",
             operation_id="CreateService", resource_id="", resource_name="mnist-svc",
             request=req)
    deploying = create_cluster(client, sim, running=False)
    resp = client.post(SERVICES, real_time(model, cluster_id=deploying))
    assert resp.status_code == 400 and "deploying" in resp.json["error_msg"]
    sim.clock.advance(2)
    service_id = deploy(client, sim, real_time(model, cluster_id=deploying))
    assert ok(client.get(SERVICES + "/" + service_id))["cluster_id"] == deploying
    config = dict(real_time(model)["config"][0], cluster_id=missing)
    resp = client.post(SERVICES, real_time(model, service_name="other", config=[config]))
    assert resp.json["error_code"] == "ModelArts.3547"


def test_read_only_auditor_is_refused(client, service):
    auditor = client.as_user("auditor")
    assert ok(auditor.get(SERVICES + "/" + service))["status"] == "running"
    resp = auditor.put(SERVICES + "/" + service, {"status": "stopped"})
    _refused(client, resp, 403, "ModelArts.0108", trace_name="startOrStopService",
             operation_id="StartOrStopService", resource_id="", resource_name="",
             request={"status": "stopped"}, user="auditor")
    assert status_of(client, service) == "running"


def test_projects_are_isolated(client, app, model, service):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(SERVICES))["total_count"] == 0
    assert other.delete(SERVICES + "/" + service).json["error_code"] == "ModelArts.3502"
    resp = other.post(SERVICES, real_time(model))  # the model lives in another project
    assert resp.status_code == 404 and resp.json["error_code"] == "ModelArts.3001"
    assert client.as_user("mallory").delete(SERVICES + "/" + service).json[
        "error_code"] == "ModelArts.0210"


# -- lifecycles ----------------------------------------------------------------------------------

def test_real_time_deploys_with_progress(client, sim, model):
    t0 = sim.clock.now_ms()
    service_id = deploy(client, sim, real_time(model), running=False)
    url = SERVICES + "/" + service_id
    seen = []
    for _ in range(3):
        shown = ok(client.get(url))
        seen.append((shown["status"], shown["progress"]))
        sim.clock.advance(1)
    assert seen == [("deploying", 0), ("deploying", 50), ("running", 100)]
    shown = ok(client.get(url))
    assert {k: shown[k] for k in ("service_name", "infer_type", "publish_at", "transition_at",
                                  "tenant", "project", "owner", "error_msg")} == {
        "service_name": "mnist-svc", "infer_type": "real-time", "publish_at": t0,
        "transition_at": t0 + 2000, "tenant": "f3c95789ace1a9542c5d6baed2eac902",
        "project": PROJECT_ID, "owner": "f1260ebc7d56ab567714dc919b27dbdf", "error_msg": ""}
    assert shown["access_address"].endswith("/v1/infers/" + service_id)
    assert [c["status"] for c in shown["config"]] == ["ready"]


def test_batch_runs_then_finishes(client, sim, model):
    service_id = deploy(client, sim, batch(model), running=False)
    seen = []
    for _ in range(4):
        seen.append(status_of(client, service_id))
        sim.clock.advance(1)
    assert seen == ["deploying", "deploying", "running", "finished"]
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert (shown["access_address"], shown["config"][0]["dest_path"]) == ("", "/acme-data/out/")
    resp = client.put(SERVICES + "/" + service_id, {"status": "stopped"})
    assert resp.status_code == 400  # a finished batch is not stopped
    ok(client.put(SERVICES + "/" + service_id, {"status": "running"}))  # ... but runs again
    assert status_of(client, service_id) == "deploying"


def test_schedule_stops_a_service_when_its_time_is_up(client, sim, model):
    req = real_time(model, schedule=[{"type": "stop", "time_unit": "MINUTES", "duration": 30}])
    t0 = sim.clock.now_ms()
    service_id = deploy(client, sim, req)
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert (shown["status"], shown["due_time"]) == ("running", t0 + 2000 + 1_800_000)
    sim.clock.advance(1800)
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert (shown["status"], shown["transition_at"], shown["due_time"]) == (
        "stopped", t0 + 2000 + 1_800_000, None)
    ok(client.put(SERVICES + "/" + service_id, {"status": "running"}))
    sim.clock.advance(2)
    assert status_of(client, service_id) == "running"


def test_config_update_redeploys_a_live_service(client, sim, service, model):
    other = import_model(client, sim, model_version="0.0.2")
    config = [dict(real_time(model)["config"][0], model_id=other, instance_count=2)]
    ok(client.put(SERVICES + "/" + service, {"config": config}))
    shown = ok(client.get(SERVICES + "/" + service))
    assert (shown["status"], shown["config"][0]["model_version"]) == ("deploying", "0.0.2")
    sim.clock.advance(2)
    assert status_of(client, service) == "running"
    ok(client.put(SERVICES + "/" + service, {"status": "stopped"}))
    ok(client.put(SERVICES + "/" + service, {"config": real_time(model)["config"]}))
    assert status_of(client, service) == "stopped"  # a stopped service stays stopped


def test_sim_lifecycle_controls_for_services(client, app, sim, model):
    service_id = deploy(client, sim, real_time(model), running=False)
    moved = _admin(app, "/lifecycle/advance", {"kind": "service", "id": service_id}).json
    assert moved["status"] == "running"
    failed = _admin(app, "/lifecycle/fail", {"kind": "service", "id": service_id,
                                             "reason": "instance crashed"}).json
    assert failed["status"] == "failed"
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert (shown["status"], shown["error_msg"], shown["progress"]) == (
        "failed", "instance crashed", 0)
    ok(client.put(SERVICES + "/" + service_id, {"status": "running"}))
    shown = ok(client.get(SERVICES + "/" + service_id))
    assert (shown["status"], shown["error_msg"]) == ("deploying", "")
    _admin(app, "/lifecycle", {"family": "services", "mode": "manual"})
    manual = deploy(client, sim, real_time(model, service_name="held"))
    sim.clock.advance(600)
    assert status_of(client, manual) == "deploying"


# -- what services hold on to --------------------------------------------------------------------

def test_a_deployed_model_is_not_deleted(client, sim, model, service):
    resp = client.delete(MODELS + "/" + model)
    body = ok(resp)
    assert body["delete_success_list"] == []
    [failure] = body["delete_failed_list"]
    assert (failure["model_id"], failure["error_code"]) == (model, "ModelArts.3009")
    assert "mnist-svc" in failure["error_message"]
    check(client, resp, trace_name="deleteModel", operation_id="DeleteModel",
          resource_type="model", resource_id=model, resource_name="mnist", code=200,
          request=None, response=body)
    assert ok(client.get(MODELS + "/" + model))["model_status"] == "published"
    ok(client.delete(SERVICES + "/" + service))
    assert ok(client.delete(MODELS + "/" + model))["delete_success_list"] == [model]


def test_cascade_deletes_every_undeployed_version(client, sim, model, service):
    second = import_model(client, sim, model_version="0.0.2")
    third = import_model(client, sim, model_version="0.0.3")
    other = import_model(client, sim, model_name="resnet")
    resp = client.delete(MODELS + "/" + second, query={"cascade": "true"})
    body = ok(resp)
    assert sorted(body["delete_success_list"]) == sorted([second, third])
    assert [f["model_id"] for f in body["delete_failed_list"]] == [model]
    check(client, resp, trace_name="deleteModel", operation_id="DeleteModel",
          resource_type="model", resource_id=second, resource_name="mnist", code=200,
          request={"cascade": "true"}, response=body)
    remaining = {m["model_id"] for m in ok(client.get(MODELS))["models"]}
    assert remaining == {model, other}


def test_a_pool_in_use_is_not_deleted(client, sim, model):
    cluster_id = create_cluster(client, sim)
    service_id = deploy(client, sim, real_time(model, cluster_id=cluster_id))
    resp = client.delete(CLUSTERS + "/" + cluster_id)
    body = refused(client, resp, 400, "ModelArts.0101", trace_name="deleteCluster",
                   operation_id="DeleteCluster", resource_type="cluster",
                   resource_id=cluster_id, resource_name="pool-1", request=None)
    assert "mnist-svc" in body["error_msg"]
    ok(client.delete(SERVICES + "/" + service_id))
    ok(client.delete(CLUSTERS + "/" + cluster_id))


# -- lists ---------------------------------------------------------------------------------------

def test_list_filters_paging_and_sorting(client, sim, model):
    other = import_model(client, sim, model_version="0.0.2")
    cluster_id = create_cluster(client, sim)
    for i in range(4):
        deploy(client, sim, real_time(other if i == 3 else model, service_name="svc-%d" % i),
               running=False)
        sim.clock.advance(1)
    deploy(client, sim, batch(model, cluster_id=cluster_id), running=False)
    listed = ok(client.get(SERVICES))
    assert (listed["total_count"], listed["count"]) == (5, 5)
    assert [s["service_name"] for s in listed["services"]] == [
        "mnist-batch", "svc-3", "svc-2", "svc-1", "svc-0"]
    assert set(listed["services"][0]) >= {
        "service_id", "service_name", "description", "tenant", "project", "owner",
        "publish_at", "infer_type", "workspace_id", "status", "progress", "invocation_times",
        "failed_times", "is_shared", "shared_count", "schedule", "due_time", "operation_time",
        "transition_at", "is_free", "additional_properties"}
    page = ok(client.get(SERVICES, query={"offset": 1, "limit": 2, "sort_by": "service_name",
                                          "order": "asc"}))
    assert [s["service_name"] for s in page["services"]] == ["svc-1", "svc-2"]
    for query, total in (({"service_name": "SVC"}, 4), ({"model_id": other}, 1),
                         ({"cluster_id": cluster_id}, 1), ({"infer_type": "batch"}, 1),
                         ({"status": "running"}, 3), ({"status": "deploying"}, 2),
                         ({"service_id": listed["services"][1]["service_id"]}, 1)):
        assert ok(client.get(SERVICES, query=query))["total_count"] == total, query
    for bad in ({"limit": "ten"}, {"sort_by": "status"}, {"order": "sideways"}):
        assert client.get(SERVICES, query=bad).json["error_code"] == "ModelArts.0101", bad


# -- bad input never answers 500 -----------------------------------------------------------------

WEIRD = (None, 0, -1, 1.5, True, "", "x", [], [1], {}, {"a": 1}, "x" * 5000)


def test_no_bad_type_in_any_body_is_a_500(client, sim, model):
    """Every field of every old-generation write body, replaced by every JSON type: the answer
    is the family's refusal or a success, never a server error (the conversion codes are 500
    by design)."""
    from tests.test_authorizations import AGENCY, AUTH, CREDENTIAL
    from tests.test_clusters import CREATE as POOL
    from tests.test_conversions import CREATE as CONVERSION, TASKS
    from tests.test_models import IMPORT

    cluster_id = create_cluster(client, sim)
    service_id = deploy(client, sim, real_time(model))
    task_id = ok(client.post(TASKS, CONVERSION))["task_id"]
    bodies = [
        ("POST", MODELS, dict(IMPORT, model_name="m2"), None),
        ("PUT", MODELS + "/" + model, {"description": "x", "model_docs": []}, None),
        ("POST", TASKS, dict(CONVERSION, task_name="t2"), None),
        ("PUT", TASKS + "/" + task_id, {"description": "x"}, None),
        ("POST", CLUSTERS, dict(POOL, cluster_name="p2"), "nodes"),
        ("POST", CLUSTERS + "/%s/nodes" % cluster_id, {"count": 1}, None),
        ("POST", SERVICES, real_time(model, service_name="s2", schedule=[
            {"type": "stop", "time_unit": "HOURS", "duration": 1}]), "config"),
        ("POST", SERVICES, batch(model, service_name="s3"), "config"),
        ("PUT", SERVICES + "/" + service_id, {"description": "x", "schedule": [],
                                              "additional_properties": {}}, None),
        ("PUT", SERVICES + "/" + service_id, {"status": "stopped"}, None),
        ("POST", AUTH, CREDENTIAL, None),
        ("POST", AUTH, AGENCY, None),
    ]

    def variants(body, nested):
        for key in body:
            for value in WEIRD:
                yield dict(body, **{key: value})
        if nested:
            inner = body[nested][0] if isinstance(body[nested], list) else body[nested]
            for key in inner:
                for value in WEIRD:
                    changed = dict(inner, **{key: value})
                    yield dict(body, **{nested: [changed] if isinstance(body[nested], list)
                                        else changed})

    for method, path, body, nested in bodies:
        for variant in variants(body, nested):
            resp = client.call(method, path, variant)
            assert resp.status_code < 500 or resp.json["error_code"].startswith(
                "ModelArts.30"), (method, path, variant, resp.get_data(as_text=True))
