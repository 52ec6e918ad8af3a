"""Training jobs of the old generation (v1), their saved training configurations, and the
TensorBoard visualization jobs on a completed job's output.

Kinds in TeamWork (facts beside "id"): ``training_v1``, ``visualization``,
``training_config`` (id = name): name.
"""

from __future__ import annotations

from simulator.generate.engine import DWELL
from simulator.generate.work.common import (MINUTE, MODELS, NOTES, now_ms, past, slipped,
                                            try_duplicate, until)

TRAINING_V1, TRAINING_CONFIG, VISUALIZATION = "training_v1", "training_config", "visualization"

MISTAKE_RATE = 0.04  # a duplicate name, a wrong path, a second click: refused with a 4xx
CONFIG_LIMIT = 4  # saved training configurations before the oldest is deleted
V1_ENDS_AFTER = DWELL["training_jobs_run"]
V1_SPECS = (1, 3, 4)  # cpu.8u, gpu.p100, gpu.v100 (GET /v1/{project_id}/job/resource-specs)
V1_ENGINES = (2, 3, 5, 6)  # TensorFlow 1.13, MXNet, PyTorch, MindSpore


def _v1_config(work, rng, output: str) -> dict:
    return {"worker_server_num": rng.choice((1, 1, 2)), "app_url": work.path("code/"),
            "boot_file_url": work.path("code/train.py"),
            "parameter": [{"label": "learning_rate", "value": rng.choice(("0.01", "0.001"))},
                          {"label": "epochs", "value": str(rng.choice((10, 20, 50)))}],
            "data_url": work.path("data/train/"), "spec_id": rng.choice(V1_SPECS),
            "engine_id": rng.choice(V1_ENGINES), "train_url": output}


def legacy_training(actor, work, rng):
    """An engineer on the old training API: trains a model, notes the result in the job's
    description, sometimes tries a version with another learning rate (stopping and dropping
    it when they see it was a mistake), sometimes looks at the curves in TensorBoard, and
    deletes the job when done."""
    yield from _legacy_training(actor, work, rng, every_step=False)


def legacy_training_chore(actor, work, rng):
    """The whole old-API training round: job, description, a version stopped and deleted, a
    TensorBoard job on the output (described, stopped, restarted, deleted), the job deleted."""
    yield from _legacy_training(actor, work, rng, every_step=True)


def _legacy_training(actor, work, rng, every_step: bool):
    name = work.name(rng.choice(MODELS) + "-v1")
    output = work.output()
    body = {"job_name": name, "job_desc": rng.choice(NOTES), "workspace_id": "0",
            "config": _v1_config(work, rng, output)}
    try_duplicate(actor, work, rng, TRAINING_V1, "CreateTrainingJob", body, ("job_name",),
                  rate=MISTAKE_RATE)
    reply = actor.call("CreateTrainingJob", body)
    if reply.status != 200:
        return
    job = work.add(TRAINING_V1, str(reply.body["job_id"]), name=name, busy=True)
    first = reply.body["version_id"]
    ends_ms = now_ms(actor) + int(V1_ENDS_AFTER * 1000)
    yield rng.uniform(5, 20) * MINUTE
    if every_step or rng.random() < 0.5:
        actor.call("UpdateTrainingJobDescription", {"job_desc": "%s, %s" % (
            body["job_desc"], rng.choice(NOTES))}, job_id=job["id"])
    yield until(actor, ends_ms, rng)
    if every_step or rng.random() < 0.5:
        yield from _tuning_version(actor, rng, job, first, every_step)
    if every_step or rng.random() < 0.4:
        yield from _tensorboard(actor, work, rng, output, every_step)
    actor.call("DeleteTrainingJob", job_id=job["id"])
    work.remove(TRAINING_V1, job["id"])


def _tuning_version(actor, rng, job: dict, first: int, every_step: bool):
    """A new version with another learning rate: kept to the end, or stopped and deleted."""
    rate = rng.choice(("0.005", "0.0005"))
    reply = actor.call("CreateTrainingJobVersion", {
        "job_desc": "learning rate %s" % rate,
        "config": {"pre_version_id": first,
                   "parameter": [{"label": "learning_rate", "value": rate},
                                 {"label": "epochs", "value": "20"}]}}, job_id=job["id"])
    if reply.status != 200:
        return
    version = str(reply.body["version_id"])
    if every_step or rng.random() < 0.4:
        yield rng.uniform(3, 10) * MINUTE
        actor.call("StopTrainingJobVersion", job_id=job["id"], version_id=version)
        yield past("training_jobs_stop", rng)
        actor.call("DeleteTrainingJobVersion", job_id=job["id"], version_id=version)
    else:
        yield until(actor, now_ms(actor) + int(V1_ENDS_AFTER * 1000), rng)


def _tensorboard(actor, work, rng, train_url: str, every_step: bool):
    """TensorBoard on a completed job's output: read, paused for a while, resumed, deleted."""
    body = {"job_name": work.name("tb"), "job_desc": rng.choice(NOTES), "train_url": train_url,
            "job_type": "tensorboard", "flavor": {"code": "modelarts.vm.cpu.2u"},
            "schedule": {"type": "stop", "time_unit": "HOURS", "duration": rng.choice((2, 4))}}
    if slipped(rng, MISTAKE_RATE):  # pointed at a folder no job has written to: refused
        actor.call("CreateVisualizationJob", dict(body, train_url=work.path("output/latest/")))
    reply = actor.call("CreateVisualizationJob", body)
    if reply.status != 200:
        return
    job = work.add(VISUALIZATION, str(reply.body["job_id"]), name=body["job_name"], busy=True)
    yield past("visualization_jobs_start", rng) + rng.uniform(5, 20) * MINUTE
    if every_step or rng.random() < 0.5:
        actor.call("UpdateVisualizationJobDescription",
                   {"job_desc": "curves of %s" % rng.choice(NOTES)}, job_id=job["id"])
    if every_step or rng.random() < 0.5:
        actor.call("StopVisualizationJob", job_id=job["id"])
        yield past("visualization_jobs_stop", rng) + rng.uniform(10, 40) * MINUTE
        actor.call("RestartVisualizationJob", job_id=job["id"])
        yield past("visualization_jobs_restart", rng) + rng.uniform(5, 20) * MINUTE
    actor.call("DeleteVisualizationJob", job_id=job["id"])
    work.remove(VISUALIZATION, job["id"])


def save_training_config(actor, work, rng):
    """An engineer saves a training setup as a configuration for later runs, sometimes adjusts
    it, and deletes the oldest saved one once the team has too many."""
    yield from _training_config(actor, work, rng, every_step=False)


def training_config_chore(actor, work, rng):
    """A configuration saved, adjusted, and the oldest one deleted."""
    yield from _training_config(actor, work, rng, every_step=True)


def _training_config(actor, work, rng, every_step: bool):
    name = work.name("cfg-" + rng.choice(MODELS))
    body = {"config_name": name, "config_desc": rng.choice(NOTES),
            **_v1_config(work, rng, work.output())}
    try_duplicate(actor, work, rng, TRAINING_CONFIG, "CreateTrainingJobConfig", body,
                  ("config_name",), rate=MISTAKE_RATE)
    if actor.call("CreateTrainingJobConfig", body).status != 200:
        return
    cfg = work.add(TRAINING_CONFIG, name, name=name, busy=True)
    yield rng.uniform(10, 60) * MINUTE
    if every_step or rng.random() < 0.6:
        actor.call("UpdateTrainingJobConfig", {
            "config_desc": "%s, %s" % (body["config_desc"], rng.choice(NOTES)),
            "worker_server_num": 2,
            "parameter": [{"label": "learning_rate", "value": "0.005"},
                          {"label": "epochs", "value": "30"}]}, config_name=name)
    work.release(cfg)
    if every_step or work.count(TRAINING_CONFIG) > CONFIG_LIMIT:
        old = work.oldest(TRAINING_CONFIG)
        if old is not None:
            actor.call("DeleteTrainingJobConfig", config_name=old["id"])
            work.remove(TRAINING_CONFIG, old["id"])
