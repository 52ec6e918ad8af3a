"""Lifecycle modes and the /_sim/lifecycle controls, on the datasets family; system traces."""


from simulator.modelarts.lifecycle import Progress
from tests.conftest import make_app
from tests.helpers import DOMAIN, FROZEN_MS, PROJECT_ID, SignedClient

DS = "/v2/{project_id}/datasets"
CREATE = {"dataset_name": "d1", "data_sources": [{"data_path": "/acme-data/in/"}],
          "work_path": "/acme-data/out/", "work_path_type": 0}


def _admin(app, path, body=None):
    http = app.test_client()
    return http.post("/_sim" + path, json=body) if body is not None else http.get("/_sim" + path)


def test_progress_advance_and_finish():
    p = Progress.through(1000, ("a", "b", "c"), 2.0)
    assert [p.status(t) for t in (1000, 1999, 2000, 3000)] == ["a", "a", "b", "c"]
    assert p.advance(1500) and p.status(1500) == "b" and p.done_ms == 2500
    assert p.advance(1600) and p.status(1600) == "c" and not p.advance(1700)
    held = Progress.held(0, ("x", "y"))
    assert held.status(10 ** 12) == "x" and held.advance(5) and held.status(5) == "y"
    held.finish_at(9, "failed")
    assert (held.status(9), held.final, held.done(9)) == ("failed", "failed", True)


def test_describe_and_configure(app):
    state = _admin(app, "/lifecycle").json
    assert state["datasets"] == {"mode": "time", "dwell": {
        "dataset_create": 1.0, "dataset_import": 1.5, "dataset_export": 1.5,
        "dataset_sync": 1.5, "dataset_version": 1.5}}
    after = _admin(app, "/lifecycle", {"family": "datasets", "mode": "manual",
                                       "dwell": {"dataset_sync": 4}}).json
    assert after["datasets"]["mode"] == "manual"
    assert after["datasets"]["dwell"]["dataset_sync"] == 4.0
    assert _admin(app, "/lifecycle", {"family": "*", "mode": "immediate"}).json[
        "datasets"]["mode"] == "immediate"
    for bad in ({"family": "nope"}, {"family": "datasets", "mode": "warp"},
                {"family": "datasets", "dwell": {"dataset_sync": -1}},
                {"family": "datasets", "dwell": {"teleport": 1}}, {"mode": "time"}, [1]):
        resp = _admin(app, "/lifecycle", bad)
        assert resp.status_code == 400 and "error" in resp.json, bad


def test_immediate_mode(client, app):
    _admin(app, "/lifecycle", {"family": "datasets", "mode": "immediate"})
    ds = client.post(DS, CREATE).json
    assert client.get(DS + "/" + ds["dataset_id"]).json["status"] == 1
    task = client.get(DS + "/%s/import-tasks/%s" % (ds["dataset_id"], ds["import_task_id"])).json
    assert task["status"] == "COMPLETED"


def test_manual_mode_moves_only_when_told(client, app, sim):
    _admin(app, "/lifecycle", {"family": "datasets", "mode": "manual"})
    ds = client.post(DS, CREATE).json
    url = DS + "/" + ds["dataset_id"]
    sim.clock.advance(3600)
    assert client.get(url).json["status"] == 0
    moved = _admin(app, "/lifecycle/advance", {"kind": "dataset", "id": ds["dataset_id"]}).json
    assert moved == {"kind": "dataset", "id": ds["dataset_id"], "status": 1, "changed": True}
    assert client.get(url).json["status"] == 8  # created; its first import still waits
    task_url = url + "/import-tasks/" + ds["import_task_id"]
    statuses = [client.get(task_url).json["status"]]
    for _ in range(4):
        _admin(app, "/lifecycle/advance", {"kind": "dataset-import", "id": ds["import_task_id"]})
        statuses.append(client.get(task_url).json["status"])
    assert statuses == ["QUEUING", "STARTING", "RUNNING", "COMPLETED", "COMPLETED"]
    assert client.get(url).json["status"] == 1


def test_fail_a_task_and_a_dataset(client, app):
    ds = client.post(DS, CREATE).json
    url = DS + "/" + ds["dataset_id"]
    resp = _admin(app, "/lifecycle/fail", {"kind": "dataset-import", "id": ds["import_task_id"],
                                           "reason": "OBS path not readable"})
    assert resp.json["status"] == "FAILED"
    task = client.get(url + "/import-tasks/" + ds["import_task_id"]).json
    assert (task["status"], task["error_code"], task["error_msg"]) == (
        "FAILED", "ModelArts.4399", "OBS path not readable")
    _admin(app, "/lifecycle/fail", {"kind": "dataset", "id": ds["dataset_id"]})
    assert client.get(url).json["status"] == 4


def test_steering_errors(app):
    for path, body, status in [("/lifecycle/advance", {"kind": "dataset", "id": "nope"}, 404),
                               ("/lifecycle/advance", {"kind": "spaceship", "id": "x"}, 400),
                               ("/lifecycle/fail", {"kind": "dataset"}, 400),
                               ("/lifecycle/fail", {"kind": "dataset", "id": "x", "reason": 5},
                                400)]:
        resp = _admin(app, path, body)
        assert resp.status_code == status and "error" in resp.json


def test_settings_start_every_family_in_a_mode():
    app = make_app(lifecycle_mode="immediate")
    client = SignedClient(app)
    ds = client.post(DS, CREATE).json
    assert client.get(DS + "/" + ds["dataset_id"]).json["status"] == 1


def test_watchers_record_system_traces_when_the_clock_says(sim, client):
    """The hook a family uses for traces the service records on its own (createClusterResult)."""
    project = sim.directory.project(PROJECT_ID)
    user = sim.directory.default_user()
    progress = Progress.through(FROZEN_MS, ("deploying", "running"), 3.0)
    sim.watch(progress, lambda s, at, final: s.record_system(
        "CreateClusterResult", project, at_ms=at, resource_id="c" * 32, resource_name="pool-1",
        response={"status": final}, rating="normal", user=user))
    sim.settle()
    assert client.traces() == []
    sim.clock.advance(10)
    sim.settle()
    sim.settle()
    [trace] = client.traces()
    assert trace == {
        "trace_id": trace["trace_id"], "trace_name": "createClusterResult",
        "trace_rating": "normal", "trace_type": "SystemAction", "service_type": "ModelArts",
        "resource_type": "cluster", "resource_id": "c" * 32, "resource_name": "pool-1",
        "time": FROZEN_MS + 3000, "record_time": FROZEN_MS + 10_000, "request": "",
        "response": '{"status":"running"}', "code": "200", "api_version": "v1",
        "message": None, "source_ip": "", "request_id": trace["request_id"],
        "location_info": None, "endpoint": None, "resource_url": None,
        "user": {"id": user.id, "name": "admin", "user_name": "admin", "type": "User",
                 "account_id": DOMAIN["id"], "domain": DOMAIN, "access_key_id": "",
                 "principal_id": user.id,
                 "principal_urn": "iam::%s:user:admin" % DOMAIN["id"],
                 "principal_is_root_user": "false"},
        "enterprise_project_id": "0", "read_only": False, "operation_id": "CreateClusterResult",
        "tracker_name": "system", "project_id": PROJECT_ID, "domain_id": DOMAIN["id"],
        "event_type": "system", "user_agent": ""}


def test_a_broken_end_neither_fails_the_request_nor_costs_the_others(client, sim):
    from simulator.modelarts.lifecycle import Progress
    ran = []

    def broken(_sim, at, final):
        raise RuntimeError("boom")

    now = sim.clock.now_ms()
    sim.watch(Progress.through(now, ("a", "b"), 1), broken)
    sim.watch(Progress.through(now, ("a", "b"), 2), lambda _sim, at, final: ran.append(
        (at - now, final)))
    sim.clock.advance(3)
    assert client.get(DS).status_code == 200  # settle ran first, and the request went on
    assert ran == [(2000, "b")]
