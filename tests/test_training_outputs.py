"""Training jobs read OBS and write to it: a job whose code or data is missing fails once it
runs, with the reason; one that completes leaves a model package and a log per worker; a model
is imported only from an OBS path that holds files; a visualization job needs its train_url."""

import orjson
import pytest

from tests.helpers import check_refusal, ok, ok_is_success, obs_keys as listing, obs_put, \
    obs_read

TJ = "/v1/{project_id}/training-jobs"
TJ2 = "/v2/{project_id}/training-jobs"
MODELS = "/v1/{project_id}/models"
CONFIG = {"worker_server_num": 2, "app_url": "/acme-data/code/",
          "boot_file_url": "/acme-data/code/train.py", "data_url": "/acme-data/images/",
          "spec_id": 1, "engine_id": 5, "train_url": "/acme-data/out/",
          "log_url": "/acme-data/logs/"}


@pytest.fixture
def inputs(sim):
    obs_put(sim, "/acme-data/code/train.py", "/acme-data/images/1.jpg")


def v1_job(client, **config) -> tuple[int, int, str]:
    created = ok_is_success(client.post(TJ, {"job_name": "mnist", "config": {**CONFIG,
                                                                             **config}}))
    shown = ok_is_success(client.get(TJ + "/%d/versions/%d" % (created["job_id"],
                                                               created["version_id"])))
    return created["job_id"], created["version_id"], shown["resource_id"]


def test_a_completed_v1_job_writes_its_model_and_a_log_per_worker(client, sim, inputs):
    job_id, version_id, rid = v1_job(client)
    sim.clock.advance(1)
    assert listing(sim, "/acme-data/out/") == []  # still running: nothing yet
    sim.clock.advance(10)
    assert listing(sim, "/acme-data/out/") == ["out/model/config.json", "out/model/model.pth"]
    assert listing(sim, "/acme-data/logs/") == [
        "logs/modelarts-job-%s-worker-0.log" % rid, "logs/modelarts-job-%s-worker-1.log" % rid]
    config = orjson.loads(sim.obs_files.read("/acme-data/out/model/config.json", 4096))
    assert config["model_type"] == "PyTorch"
    log = obs_read(sim, "/acme-data/logs/modelarts-job-%s-worker-1.log" % rid).decode()
    assert "job mnist worker-1" in log and log.endswith("return code: 0\n")
    # what it wrote is a model package: import it, as a pipeline does next
    imported = ok(client.post(MODELS, {"model_name": "mnist", "model_version": "1.0.0",
                                       "model_type": "PyTorch",
                                       "source_location": "/acme-data/out/"}))
    shown = ok(client.get(MODELS + "/" + imported["model_id"]))
    assert shown["model_size"] == sum(o.size for o in sim.obs_files.objects("/acme-data/out/"))


def test_without_log_url_the_logs_go_to_the_output_path(client, sim, inputs):
    _, _, rid = v1_job(client, log_url=None, worker_server_num=1)
    sim.clock.advance(10)
    assert listing(sim, "/acme-data/out/") == [
        "out/model/config.json", "out/model/model.pth", "out/modelarts-job-%s-worker-0.log" % rid]


@pytest.mark.parametrize("missing, reason", [
    ("/acme-data/code/train.py", "Boot file /acme-data/code/train.py: No such file or "
                                 "directory."),
    ("/acme-data/images/1.jpg", "Data /acme-data/images/: file or directory or bucket not "
                                "found."),
])
def test_a_v1_job_whose_inputs_are_missing_fails_once_it_runs(client, sim, inputs, missing,
                                                             reason):
    sim.obs_files.delete(missing)
    if missing.endswith(".py"):
        obs_put(sim, "/acme-data/code/other.py")  # the folder is there, the boot file is not
    job_id, version_id, rid = v1_job(client)
    url = TJ + "/%d/versions/%d" % (job_id, version_id)
    first = ok_is_success(client.get(url))
    assert first["status"] == 1 and "failed_reason" not in first  # created as usual
    sim.clock.advance(10)
    shown = ok_is_success(client.get(url))
    assert (shown["status"], shown["failed_reason"]) == (11, reason)
    assert listing(sim, "/acme-data/out/") == []  # no model
    log = obs_read(sim, "/acme-data/logs/modelarts-job-%s-worker-0.log" % rid).decode()
    assert ("ERROR: " + reason) in log and log.endswith("return code: 1\n")


def test_a_v1_job_without_its_code_folder_or_output_bucket_fails(client, sim):
    obs_put(sim, "/acme-data/images/1.jpg")
    job_id, version_id, _ = v1_job(client)
    sim.clock.advance(10)
    shown = ok_is_success(client.get(TJ + "/%d/versions/%d" % (job_id, version_id)))
    assert shown["failed_reason"] == ("Failed to download the code directory "
                                      "/acme-data/code/: no such OBS path.")
    obs_put(sim, "/acme-data/code/train.py")
    created = ok_is_success(client.post(TJ, {"job_name": "nowhere", "config": {
        **CONFIG, "train_url": "/gone-bucket/out/", "log_url": None}}))
    sim.clock.advance(10)
    shown = ok_is_success(client.get(TJ + "/%d/versions/%d" % (created["job_id"],
                                                               created["version_id"])))
    assert shown["failed_reason"] == "Output /gone-bucket/out/: the OBS bucket does not exist."


def test_a_stopped_v1_job_writes_nothing(client, sim, inputs):
    job_id, version_id, _ = v1_job(client)
    sim.clock.advance(1)
    ok_is_success(client.post(TJ + "/%d/versions/%d/stop" % (job_id, version_id)))
    sim.clock.advance(30)
    assert listing(sim, "/acme-data/out/") == listing(sim, "/acme-data/logs/") == []


def test_a_v1_job_failed_by_hand_writes_its_logs_with_the_reason(client, app, sim, inputs):
    job_id, version_id, rid = v1_job(client, worker_server_num=1)
    resp = app.test_client().post("/_sim/lifecycle/fail", json={
        "kind": "training-job-version", "id": str(version_id), "reason": "OOM killed"})
    assert resp.status_code == 200, resp.json
    assert listing(sim, "/acme-data/out/") == []
    assert b"ERROR: OOM killed" in obs_read(
        sim, "/acme-data/logs/modelarts-job-%s-worker-0.log" % rid)


V2 = {"kind": "job", "metadata": {"name": "resnet"},
      "algorithm": {"code_dir": "obs://acme-data/code/",
                    "boot_file": "obs://acme-data/code/train.py",
                    "engine": {"engine_name": "TensorFlow", "engine_version": "2.1"},
                    "inputs": [{"name": "data_url",
                                "remote": {"obs": {"obs_url": "obs://acme-data/images/"}}}],
                    "outputs": [{"name": "train_url",
                                 "remote": {"obs": {"obs_url": "obs://acme-data/v2out/"}}}]},
      "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.8u", "node_count": 1},
               "log_export_path": {"obs_url": "obs://acme-data/v2logs/"}}}


def test_a_completed_v2_job_writes_its_model_and_logs(client, sim, inputs):
    job = ok(client.post(TJ2, V2), 201)
    sim.clock.advance(10)
    assert ok(client.get(TJ2 + "/" + job["metadata"]["id"]))["status"]["phase"] == "Completed"
    assert listing(sim, "/acme-data/v2out/") == ["v2out/model/config.json",
                                                 "v2out/model/saved_model.pb"]
    assert listing(sim, "/acme-data/v2logs/") == [
        "v2logs/modelarts-job-%s-worker-0.log" % job["metadata"]["id"]]


def test_a_v2_job_whose_data_is_missing_fails_with_the_reason(client, sim):
    obs_put(sim, "/acme-data/code/train.py")
    job = ok(client.post(TJ2, V2), 201)
    sim.clock.advance(10)
    status = ok(client.get(TJ2 + "/" + job["metadata"]["id"]))["status"]
    reason = "Data obs://acme-data/images/: file or directory or bucket not found."
    assert (status["phase"], status["task_statuses"]) == (
        "Failed", [{"task": "worker-0", "exit_code": 1, "message": reason}])
    assert listing(sim, "/acme-data/v2out/") == []
    assert ("ERROR: " + reason).encode() in obs_read(
        sim, "/acme-data/v2logs/modelarts-job-%s-worker-0.log" % job["metadata"]["id"])


def test_a_model_is_imported_only_from_a_path_that_holds_files(client, sim):
    req = {"model_name": "empty", "model_version": "1.0.0", "model_type": "TensorFlow",
           "source_location": "/acme-models/nothing/"}
    resp = client.post(MODELS, req)
    check_refusal(client, resp, 400, "ModelArts.3017", trace_name="addModel",
                  operation_id="CreateModel", resource_id="", resource_name="empty",
                  request=req, resource_type="model", api_version="v1")
    assert resp.json["error_msg"] == ("Failed to publish model because source location "
                                      "noncompliance: /acme-models/nothing/ holds no files.")
    assert ok(client.get(MODELS))["total_count"] == 0


def test_a_visualization_job_needs_its_event_files(client, sim):
    req = {"job_name": "tb", "train_url": "/acme-data/events/"}
    resp = client.post("/v1/{project_id}/visualization-jobs", req)
    assert resp.status_code == 400 and resp.json["error_message"] == (
        "Parameter train_url: OBS path /acme-data/events/ does not exist.")
    obs_put(sim, "/acme-data/events/events.out.tfevents.1")
    ok_is_success(client.post("/v1/{project_id}/visualization-jobs", req))
