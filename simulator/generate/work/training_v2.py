"""Training jobs v2: an engineer's everyday runs (some fail on a typo in their data path,
some are stopped early), a learning-rate sweep, the CI robot's smoke job on every push, and
the large night runs the scenarios start.

A completed job outlives its workflow (its output holds a model that models.py may import);
a later run tidies them in a batch once the team holds more than V2_KEEP. The
``training_v2`` kind in TeamWork (facts beside "id"): name, output (its output folder),
ends_ms (when it ends on the clock), outcome (completed | failed | stopped), ci (the CI
robot's smoke jobs: never idle).
"""

from __future__ import annotations

from simulator.generate.engine import DWELL
from simulator.generate.work.common import (MINUTE, MODELS, NOTES, now_ms, past,
                                            try_duplicate, until)

TRAINING_V2 = "training_v2"

MISTAKE_RATE = 0.04  # a duplicate name, a wrong path, a second click: refused with a 4xx
BROKEN_DATA_RATE = 0.08  # a training job v2 whose data path has a typo: it fails when it runs
V2_KEEP = 6  # finished training jobs v2 kept before a batch delete of the oldest

V2_RUNNING_AFTER = DWELL["training_v2_create"] + DWELL["training_v2_pending"]
V2_ENDS_AFTER = V2_RUNNING_AFTER + DWELL["training_v2_run"]
CI_PIPELINE_TRACES = 3

V2_ENGINES = (("PyTorch", "pytorch_1.8.0"), ("TensorFlow", "tensorflow_2.1.0"),
              ("MindSpore", "mindspore_1.7.0"))
V2_FLAVORS = ("modelarts.vm.cpu.8u", "modelarts.vm.gpu.p100", "modelarts.p3.large.public")
GPU_FLAVOR = "modelarts.p3.large.public"
TERMINATE = {"action_type": "terminate"}


def _obs(path: str) -> str:
    return "obs:/" + path


def _v2_body(work, rng, name: str, *, output: str, flavor: str, nodes: int = 1,
             data: str = "data/train/", description: str = "", pool_id: str | None = None,
             image_url: str | None = None, at=None) -> dict:
    """`at(key)` is the path of a key (default work.path: the team's bucket)."""
    at = at or work.path
    engine_name, engine_version = rng.choice(V2_ENGINES)
    if image_url:
        algorithm = {"engine": {"image_url": image_url},
                     "command": "bash /home/ma-user/run_train.sh"}
    else:
        algorithm = {"code_dir": _obs(at("code/")),
                     "boot_file": _obs(at("code/train.py")),
                     "engine": {"engine_name": engine_name, "engine_version": engine_version}}
    algorithm["parameters"] = [
        {"name": "learning_rate", "value": rng.choice(("0.1", "0.01", "0.001"))},
        {"name": "epochs", "value": str(rng.choice((5, 10, 30)))},
        {"name": "batch_size", "value": str(rng.choice((32, 64, 128)))}]
    algorithm["inputs"] = [{"name": "data_url",
                            "remote": {"obs": {"obs_url": _obs(at(data))}}}]
    algorithm["outputs"] = [{"name": "train_url", "remote": {"obs": {"obs_url": _obs(output)}}}]
    resource = {"flavor_id": flavor, "node_count": nodes}
    if pool_id:
        resource["pool_id"] = pool_id
    return {"kind": "job",
            "metadata": {"name": name, "workspace_id": "0", "description": description},
            "algorithm": algorithm, "spec": {"resource": resource}}


def _create_v2(actor, work, body: dict, *, broken: bool = False, **facts):
    """Create a training job v2 and register it busy (facts: output, ends_ms, outcome)."""
    reply = actor.call("CreateTrainingJobV2", body)
    if reply.status != 201:
        return None
    output = body["algorithm"]["outputs"][0]["remote"]["obs"]["obs_url"][len("obs:/"):]
    return work.add(TRAINING_V2, reply.body["metadata"]["id"], name=body["metadata"]["name"],
                    output=output, ends_ms=now_ms(actor) + int(V2_ENDS_AFTER * 1000),
                    outcome="failed" if broken else "completed", busy=True, **facts)


def _stop_v2(actor, job: dict) -> None:
    if actor.call("StopTrainingJobV2", TERMINATE, training_job_id=job["id"]).status == 202:
        job["outcome"] = "stopped"
        job["ends_ms"] = now_ms(actor) + int(DWELL["training_v2_terminate"] * 1000)


def _delete_v2(actor, work, jobs: list) -> None:
    """One job with DeleteTrainingJobV2, several in one batch delete."""
    if len(jobs) > 1:
        _batch_delete(actor, work, jobs)
    elif jobs:
        actor.call("DeleteTrainingJobV2", training_job_id=jobs[0]["id"])
        work.remove(TRAINING_V2, jobs[0]["id"])


def _batch_delete(actor, work, jobs: list) -> None:
    actor.call("BatchDeleteTrainingJobs", {"jobs": [
        {"kind": "job", "metadata": {"id": j["id"]}} for j in jobs]})
    for j in jobs:
        work.remove(TRAINING_V2, j["id"])


def _tidy_v2(actor, work, rng) -> None:
    """Delete the oldest finished jobs in one batch once the team keeps too many."""
    now = now_ms(actor)
    idle = [f for f in work.assets.get(TRAINING_V2, {}).values()
            if not f.get("busy") and f.get("ends_ms", 0) <= now]
    if len(idle) > V2_KEEP:
        _delete_v2(actor, work, idle[:rng.randint(2, 5)])


def _data_path(broken: bool) -> str:
    return "data/trian/" if broken else "data/train/"


def train_model(actor, work, rng):
    """An engineer's everyday training run on the new API: clears out old jobs, starts a job
    (now and then with a typo in the data path, so it fails once it runs), tags it, notes
    what it tries, and either stops it early when the loss looks wrong or lets it finish; a
    failed job is deleted, a completed one kept for its model."""
    _tidy_v2(actor, work, rng)
    model = rng.choice(MODELS)
    broken = rng.random() < BROKEN_DATA_RATE
    body = _v2_body(work, rng, work.name(model), output=work.output(),
                    flavor=rng.choice(V2_FLAVORS), nodes=rng.choice((1, 1, 2, 4)),
                    data=_data_path(broken), description=rng.choice(NOTES))
    try_duplicate(actor, work, rng, TRAINING_V2, "CreateTrainingJobV2", body,
                  ("metadata", "name"), rate=MISTAKE_RATE)
    job = _create_v2(actor, work, body, broken=broken)
    if job is None:
        return
    tagged = rng.random() < 0.35
    if tagged:
        actor.call("CreateTrainingJobTags", {"tags": [
            {"key": "project", "value": work.team.name}, {"key": "model", "value": model},
            {"key": "stage", "value": "experiment"}]}, training_job_id=job["id"])
    yield rng.uniform(5, 25) * MINUTE
    if rng.random() < 0.3:
        actor.call("ChangeTrainingJobDescription",
                   {"description": "%s, %s" % (body["metadata"]["description"],
                                               rng.choice(NOTES))}, training_job_id=job["id"])
    if rng.random() < 0.15:
        yield from _stop_early(actor, work, rng, job)
    else:
        yield from _see_it_end(actor, work, rng, job, tagged)


def _stop_early(actor, work, rng, job: dict):
    """The loss looks wrong a few minutes into the run: stop it, and maybe delete it."""
    running_ms = job["ends_ms"] - int(DWELL["training_v2_run"] * 1000)
    yield until(actor, running_ms, rng) + rng.uniform(5, 20) * MINUTE
    _stop_v2(actor, job)
    yield past("training_v2_terminate", rng)
    if rng.random() < 0.5:
        _delete_v2(actor, work, [job])
    else:
        work.release(job)


def _see_it_end(actor, work, rng, job: dict, tagged: bool):
    """After the run: a failed job is deleted; a completed one loses its experiment tag now
    and then and is kept for its model."""
    yield until(actor, job["ends_ms"], rng)
    if job["outcome"] == "failed":
        _delete_v2(actor, work, [job])
        return
    if tagged and rng.random() < 0.3:
        actor.call("DeleteTrainingJobTags", {"tags": [{"key": "stage"}]},
                   training_job_id=job["id"])
    work.release(job)


def training_v2_chore(actor, work, rng):
    """A candidate job described, tagged, untagged when it is stopped early and deleted, beside
    a two-job learning-rate sweep that runs to its end and is deleted in one batch."""
    model = rng.choice(MODELS)
    candidate = _create_v2(actor, work, _v2_body(
        work, rng, work.name(model), output=work.output(), flavor=GPU_FLAVOR,
        description=rng.choice(NOTES)))
    sweep = []
    for _ in range(2):
        broken = rng.random() < BROKEN_DATA_RATE
        job = _create_v2(actor, work, _v2_body(
            work, rng, work.name(model + "-sweep"), output=work.output(),
            flavor="modelarts.vm.cpu.8u", data=_data_path(broken), description="lr sweep"),
            broken=broken)
        if job is not None:
            sweep.append(job)
    yield rng.uniform(2, 5) * MINUTE
    if candidate is not None:
        actor.call("ChangeTrainingJobDescription", {"description": "release candidate"},
                   training_job_id=candidate["id"])
        actor.call("CreateTrainingJobTags", {"tags": [{"key": "stage", "value": "candidate"}]},
                   training_job_id=candidate["id"])
        yield V2_RUNNING_AFTER + rng.uniform(5, 15) * MINUTE
        actor.call("DeleteTrainingJobTags", {"tags": [{"key": "stage"}]},
                   training_job_id=candidate["id"])
        _stop_v2(actor, candidate)
        yield past("training_v2_terminate", rng)
        _delete_v2(actor, work, [candidate])
    if sweep:
        yield until(actor, max(j["ends_ms"] for j in sweep), rng)
        _batch_delete(actor, work, sweep)


def ci_pipeline(actor, work, rng):
    """The team's CI robot on every push: a one-node smoke training job on the new code,
    stopped as soon as it runs, then deleted (CI_PIPELINE_TRACES calls, no reads)."""
    body = _v2_body(work, rng, work.name("ci-smoke"), output=work.ci_path("smoke/"),
                    flavor="modelarts.vm.cpu.8u", data="data/train/part-00000.csv",
                    description="CI smoke test", at=work.ci_path)
    job = _create_v2(actor, work, body, ci=True)
    if job is None:
        return
    yield V2_RUNNING_AFTER + rng.uniform(30, 180)
    _stop_v2(actor, job)
    yield past("training_v2_terminate", rng)
    actor.call("DeleteTrainingJobV2", training_job_id=job["id"])
    work.remove(TRAINING_V2, job["id"])


def night_training(actor, work, rng, pool_id: str | None = None, flavor: str = GPU_FLAVOR,
                   nodes: int | None = None, image_url: str | None = None):
    """A large multi-node GPU training job started at night (on a dedicated pool when pool_id
    is given, from a custom image when image_url is): waits until it has ended, then leaves it
    registered for the team's tidy. Returns the job's facts (None when refused)."""
    name = work.name(rng.choice(MODELS) + "-full")
    job = _create_v2(actor, work, _v2_body(
        work, rng, name, output=work.output(), flavor=flavor,
        nodes=nodes or rng.choice((4, 8)), description="full training run",
        pool_id=pool_id, image_url=image_url))
    if job is None:
        return None
    yield until(actor, job["ends_ms"], rng)
    work.release(job)
    return job
