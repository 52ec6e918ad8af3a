"""An ML team's compute: development environments (old DevEnviron instances and the newer
notebooks), training jobs of both generations with saved training configurations and
TensorBoard visualization jobs, and the CI robot's smoke jobs.

Each workflow waits longer than the engine's DWELL for the steps it depends on: a notebook is
stopped once it runs, a training version is deleted once its stop has ended, a visualization
job reads the output a completed training job wrote. What a workflow creates is registered
busy in TeamWork while it works on it and forgotten when it deletes it. Two kinds outlive
their workflow: an engineer's own notebook (one per person, started every morning) and a
completed training job v2 (its output holds a model other workflows may import), which a
later training run tidies in a batch once the team holds more than V2_KEEP of them.

Kinds kept in TeamWork (facts beside "id"): ``devenv``, ``training_v1``, ``visualization``,
``training_config`` (id = name): name; ``notebook``: name, owner (persona name, None for an
experiment's), category, flavor, running_until (ms its lease runs to; 0 once stopped);
``training_v2``: name, output (its output folder), ends_ms (when it ends on the clock),
outcome (completed | failed | stopped), ci (the CI robot's smoke jobs: never idle).
"""

from __future__ import annotations

from simulator.generate.engine import DAY_MS, DWELL, HOUR_MS
from simulator.generate.work.common import HOUR, MINUTE

DEVENV, NOTEBOOK, TRAINING_V1 = "devenv", "notebook", "training_v1"
TRAINING_CONFIG, VISUALIZATION, TRAINING_V2 = "training_config", "visualization", "training_v2"

MISTAKE_RATE = 0.04  # a duplicate name, a wrong path, a second click: refused with a 4xx
BROKEN_DATA_RATE = 0.08  # a training job v2 whose data path has a typo: it fails when it runs
FORGET_RATE = 0.12  # the engineer leaves the notebook running: its lease stops it at night
NOTEBOOK_LIMIT = 8  # personal notebooks a team keeps (the project's quota is 20)
CONFIG_LIMIT = 4  # saved training configurations before the oldest is deleted
V2_KEEP = 6  # finished training jobs v2 kept before a batch delete of the oldest

V2_RUNNING_AFTER = DWELL["training_v2_create"] + DWELL["training_v2_pending"]
V2_ENDS_AFTER = V2_RUNNING_AFTER + DWELL["training_v2_run"]
V1_ENDS_AFTER = DWELL["training_jobs_run"]
CI_PIPELINE_TRACES = 3

MODELS = ("resnet50", "bert-base", "yolov5", "lstm-forecast", "xgb-ranker", "vit-small",
          "wav2vec", "deepfm")
NOTES = ("baseline", "tuned learning rate", "more epochs", "augmented data", "larger batch size",
         "fixed data loader", "mixed precision", "retrained on new labels", "warmup schedule")
V2_ENGINES = (("PyTorch", "pytorch_1.8.0"), ("TensorFlow", "tensorflow_2.1.0"),
              ("MindSpore", "mindspore_1.7.0"))
V2_FLAVORS = ("modelarts.vm.cpu.8u", "modelarts.vm.gpu.p100", "modelarts.p3.large.public")
GPU_FLAVOR = "modelarts.p3.large.public"
V1_SPECS = (1, 3, 4)  # cpu.8u, gpu.p100, gpu.v100 (GET /v1/{project_id}/job/resource-specs)
V1_ENGINES = (2, 3, 5, 6)  # TensorFlow 1.13, MXNet, PyTorch, MindSpore
DEVENV_PROFILES = (("Multi-Engine 1.0 (python3)-cpu", "modelarts.vm.cpu.2u"),
                   ("Multi-Engine 1.0 (python3)-cpu", "modelarts.vm.cpu.8u"),
                   ("Multi-Engine 1.0 (python3)-gpu", "modelarts.vm.gpu.p100"))
NOTEBOOK_IMAGES = {"CPU": "e1a07296-22a8-4f05-8bc8-e936c8e54090",
                   "GPU": "278e88d1-5b71-4766-8502-b3ba72e824d9"}
NOTEBOOK_FLAVORS = {"CPU": ("modelarts.vm.cpu.2u", "modelarts.vm.cpu.8u"),
                    "GPU": ("modelarts.vm.gpu.tnt004", "modelarts.vm.gpu.v100")}
TERMINATE = {"action_type": "terminate"}


# -- small helpers ----------------------------------------------------------------------------

def _slip(rng) -> bool:
    """Whether the person makes a small mistake this time (always draws: runs stay aligned)."""
    return rng.random() < MISTAKE_RATE


def _now(actor) -> int:
    return actor.run.now_ms()


def _past(dwell: str, rng) -> float:
    """Seconds to wait for an asynchronous step to be over, with a person's slack."""
    return DWELL[dwell] + rng.uniform(20, 90)


def _until(actor, at_ms: int, rng) -> float:
    """Seconds to wait until at_ms has passed, with a person's slack."""
    return max(0.0, (at_ms - _now(actor)) / 1000) + rng.uniform(30, 300)


def _hours_left(actor, rng, most: float) -> float:
    """Hours until the person leaves today (their local work end, give or take), 1 to most."""
    p = actor.persona
    local_hour = (_now(actor) + p.utc_offset_h * HOUR_MS) % DAY_MS / HOUR_MS
    return min(most, max(1.0, p.work_end_h - local_hour + rng.uniform(-0.5, 0.75)))


def _obs(path: str) -> str:
    return "obs:/" + path


def _live_name(work, kind: str, rng) -> str | None:
    """The name of a resource of this kind that exists (busy or not), for a duplicate-name slip."""
    names = [f["name"] for f in work.assets.get(kind, {}).values()
             if f.get("name") and not f.get("ci")]
    return rng.choice(names) if names else None


def _try_duplicate(actor, work, rng, kind: str, operation: str, body: dict, key: tuple) -> None:
    """Now and then the create is first sent with a name the team already uses: refused."""
    if not _slip(rng):
        return
    taken = _live_name(work, kind, rng)
    if taken is None:
        return
    holder = body
    for k in key[:-1]:
        holder = holder[k]
    wanted = holder[key[-1]]
    holder[key[-1]] = taken
    actor.call(operation, body)
    holder[key[-1]] = wanted


def _person(actor) -> str:
    return actor.name.replace(".", "-")


# -- DevEnviron instances (old API) -----------------------------------------------------------

def devenv_session(actor, work, rng):
    """An engineer on the old DevEnviron console: creates an instance for a task, works in it
    for a while, stops it over lunch or a meeting, starts it again for the rest of the day, and
    deletes it at the end of the day once the task is done (auto stop guards against a
    forgotten instance)."""
    day = _hours_left(actor, rng, 9.0) * HOUR
    first, pause = day * rng.uniform(0.25, 0.4), day * rng.uniform(0.1, 0.2)
    name = work.name(work.team.name + "-dev")
    profile, flavor = rng.choice(DEVENV_PROFILES)
    body = {"name": name, "description": rng.choice(NOTES), "profile_id": profile,
            "flavor": flavor,
            "spec": {"storage": {"type": "obs",
                                 "location": {"path": work.path("notebooks/%s/" % name)}},
                     "auto_stop": {"enable": True, "duration": 3600 * rng.choice((8, 12))}},
            "workspace": {"id": "0"}}
    _try_duplicate(actor, work, rng, DEVENV, "CreateDevEnvInstance", body, ("name",))
    reply = actor.call("CreateDevEnvInstance", body)
    if reply.status != 200:
        return
    inst = work.add(DEVENV, reply.body["id"], name=name, busy=True)
    yield _past("devenviron_create", rng) + first
    actor.call("StopDevEnvInstance", {"action": "stop"}, instance_id=inst["id"])
    yield _past("devenviron_stop", rng) + pause
    actor.call("StartDevEnvInstance", {"action": "start"}, instance_id=inst["id"])
    yield _past("devenviron_start", rng) + max(0.5 * HOUR, day - first - pause)
    actor.call("StopDevEnvInstance", {"action": "stop"}, instance_id=inst["id"])
    yield _past("devenviron_stop", rng)
    actor.call("DeleteDevEnvInstance", instance_id=inst["id"])
    work.remove(DEVENV, inst["id"])


# -- notebooks (newer API) --------------------------------------------------------------------

def _lease_ms(hours: float, rng) -> int:
    """A lease that outlasts the working day by a margin (the notebook stops when it runs out)."""
    return int((hours + rng.uniform(1.5, 3.0)) * HOUR * 1000)


def _running(nb: dict, now_ms: int) -> bool:
    return now_ms < nb.get("running_until", 0)


def notebook_body(name: str, flavor: str, *, description: str = "", capacity: int = 5,
                  lease_ms: int | None = None) -> dict:
    """A CreateNotebook body: the image that goes with the flavor's kind (CPU or GPU)."""
    category = "GPU" if ".gpu." in flavor else "CPU"
    body = {"name": name, "description": description, "feature": "NOTEBOOK",
            "workspace_id": "0", "flavor": flavor, "image_id": NOTEBOOK_IMAGES[category],
            "volume": {"category": "EFS", "ownership": "MANAGED", "capacity": capacity}}
    if lease_ms is not None:
        body["lease"] = {"duration": lease_ms, "type": "TIMING"}
    return body


def _create_notebook(actor, work, rng, name: str, lease_ms: int, owner: str | None):
    category = "GPU" if rng.random() < 0.3 else "CPU"
    flavor = rng.choice(NOTEBOOK_FLAVORS[category])
    description = rng.choice(NOTES)
    reply = actor.call("CreateNotebook", notebook_body(
        name, flavor, description=description, capacity=rng.choice((5, 20, 50)),
        lease_ms=lease_ms))
    if reply.status != 200:
        return None
    return work.add(NOTEBOOK, reply.body["id"], name=name, owner=owner, category=category,
                    flavor=flavor, running_until=_now(actor) + lease_ms, busy=True)


def _start_notebook(actor, nb: dict, lease_ms: int) -> bool:
    reply = actor.call("StartNotebook", query={"duration": str(lease_ms), "type": "TIMING"},
                       id=nb["id"])
    if reply.status == 200:
        nb["running_until"] = _now(actor) + lease_ms
    return reply.status == 200


def _stop_notebook(actor, nb: dict) -> None:
    if actor.call("StopNotebook", id=nb["id"]).status == 200:
        nb["running_until"] = 0


def _resize_notebook(actor, nb: dict) -> None:
    """A stopped notebook moved to the other flavor of its kind (a bigger or cheaper one)."""
    flavor = next(f for f in NOTEBOOK_FLAVORS[nb["category"]] if f != nb["flavor"])
    if actor.call("UpdateNotebook", {"flavor": flavor}, id=nb["id"]).status == 200:
        nb["flavor"] = flavor


def _look_at_notebook(actor, nb: dict) -> None:
    """The console lists the notebooks and opens one; an SDK script polls its status once."""
    if actor.via == "console":
        actor.call("ListNotebooks", query={"feature": "NOTEBOOK", "limit": "10", "offset": "0"})
    actor.call("ShowNotebook", id=nb["id"])


def _own_notebook(actor, work, rng):
    """The person's notebook, taken, and False; or None, and whether they have one that
    another of their workflows is using."""
    nb = work.take(NOTEBOOK, rng, owner=actor.name)
    if nb is not None:
        return nb, False
    return None, any(f.get("owner") == actor.name for f in work.assets.get(NOTEBOOK, {}).values())


def notebook_workday(actor, work, rng):
    """An ML engineer's day: when they come in they start their notebook (creating it the
    first time), work in it until they leave, and stop it then, now and then moving it to
    another flavor; sometimes they forget it and its lease stops it during the night, and once
    a project is over they delete it."""
    hours = _hours_left(actor, rng, 10.0)
    lease_ms = _lease_ms(hours, rng)
    nb, in_use = _own_notebook(actor, work, rng)
    if nb is None:
        if in_use or work.count(NOTEBOOK) >= NOTEBOOK_LIMIT:
            return
        nb = _create_notebook(actor, work, rng, "%s-notebook" % _person(actor), lease_ms,
                              actor.name)
        if nb is None:
            return
        wait = _past("notebooks_create", rng)
    elif _running(nb, _now(actor)):  # left running overnight and still on its lease
        wait = rng.uniform(1, 5) * MINUTE
    else:
        if not _start_notebook(actor, nb, lease_ms):
            work.release(nb)
            return
        if _slip(rng):  # a second click on Start while it starts: refused
            actor.call("StartNotebook", query={"duration": str(lease_ms), "type": "TIMING"},
                       id=nb["id"])
        wait = _past("notebooks_start", rng)
    yield wait
    _look_at_notebook(actor, nb)
    yield hours * HOUR
    yield from _evening(actor, work, rng, nb)


def _evening(actor, work, rng, nb: dict):
    if not _running(nb, _now(actor)) or rng.random() < FORGET_RATE:
        work.release(nb)
        return
    if rng.random() < 0.05:
        actor.call("DeleteNotebook", id=nb["id"])
        work.remove(NOTEBOOK, nb["id"])
        return
    _stop_notebook(actor, nb)
    if rng.random() < 0.1:
        yield _past("notebooks_stop", rng)
        _resize_notebook(actor, nb)
    work.release(nb)


def notebook_experiment(actor, work, rng):
    """A short experiment in a fresh notebook: create it, check it came up, note what it is
    for, stop it to move it to another flavor, start it again for the heavy part, and delete
    it when the experiment is over."""
    nb = _create_notebook(actor, work, rng, work.name("%s-exp" % _person(actor)),
                          int(4 * HOUR * 1000), None)
    if nb is None:
        return
    yield _past("notebooks_create", rng)
    actor.call("ShowNotebook", id=nb["id"])
    actor.call("ListNotebooks", query={"limit": "10", "offset": "0"})
    yield rng.uniform(20, 60) * MINUTE
    actor.call("UpdateNotebook", {"description": rng.choice(NOTES)}, id=nb["id"])
    yield rng.uniform(20, 60) * MINUTE
    _stop_notebook(actor, nb)
    yield _past("notebooks_stop", rng)
    _resize_notebook(actor, nb)
    _start_notebook(actor, nb, int(3 * HOUR * 1000))
    yield _past("notebooks_start", rng) + rng.uniform(30, 90) * MINUTE
    _stop_notebook(actor, nb)
    yield _past("notebooks_stop", rng)
    actor.call("DeleteNotebook", id=nb["id"])
    work.remove(NOTEBOOK, nb["id"])


# -- training jobs, old generation (v1), their configurations and visualization jobs ----------

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
    _try_duplicate(actor, work, rng, TRAINING_V1, "CreateTrainingJob", body, ("job_name",))
    reply = actor.call("CreateTrainingJob", body)
    if reply.status != 200:
        return
    job = work.add(TRAINING_V1, str(reply.body["job_id"]), name=name, busy=True)
    first = reply.body["version_id"]
    ends_ms = _now(actor) + int(V1_ENDS_AFTER * 1000)
    yield rng.uniform(5, 20) * MINUTE
    if every_step or rng.random() < 0.5:
        actor.call("UpdateTrainingJobDescription", {"job_desc": "%s, %s" % (
            body["job_desc"], rng.choice(NOTES))}, job_id=job["id"])
    yield _until(actor, ends_ms, rng)
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
        yield _past("training_jobs_stop", rng)
        actor.call("DeleteTrainingJobVersion", job_id=job["id"], version_id=version)
    else:
        yield _until(actor, _now(actor) + int(V1_ENDS_AFTER * 1000), rng)


def _tensorboard(actor, work, rng, train_url: str, every_step: bool):
    """TensorBoard on a completed job's output: read, paused for a while, resumed, deleted."""
    body = {"job_name": work.name("tb"), "job_desc": rng.choice(NOTES), "train_url": train_url,
            "job_type": "tensorboard", "flavor": {"code": "modelarts.vm.cpu.2u"},
            "schedule": {"type": "stop", "time_unit": "HOURS", "duration": rng.choice((2, 4))}}
    if _slip(rng):  # pointed at a folder no job has written to: refused
        actor.call("CreateVisualizationJob", dict(body, train_url=work.path("output/latest/")))
    reply = actor.call("CreateVisualizationJob", body)
    if reply.status != 200:
        return
    job = work.add(VISUALIZATION, str(reply.body["job_id"]), name=body["job_name"], busy=True)
    yield _past("visualization_jobs_start", rng) + rng.uniform(5, 20) * MINUTE
    if every_step or rng.random() < 0.5:
        actor.call("UpdateVisualizationJobDescription",
                   {"job_desc": "curves of %s" % rng.choice(NOTES)}, job_id=job["id"])
    if every_step or rng.random() < 0.5:
        actor.call("StopVisualizationJob", job_id=job["id"])
        yield _past("visualization_jobs_stop", rng) + rng.uniform(10, 40) * MINUTE
        actor.call("RestartVisualizationJob", job_id=job["id"])
        yield _past("visualization_jobs_restart", rng) + rng.uniform(5, 20) * MINUTE
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
    _try_duplicate(actor, work, rng, TRAINING_CONFIG, "CreateTrainingJobConfig", body,
                   ("config_name",))
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


# -- training jobs v2 -------------------------------------------------------------------------

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
                    output=output, ends_ms=_now(actor) + int(V2_ENDS_AFTER * 1000),
                    outcome="failed" if broken else "completed", busy=True, **facts)


def _stop_v2(actor, job: dict) -> None:
    if actor.call("StopTrainingJobV2", TERMINATE, training_job_id=job["id"]).status == 202:
        job["outcome"] = "stopped"
        job["ends_ms"] = _now(actor) + int(DWELL["training_v2_terminate"] * 1000)


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
    now = _now(actor)
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
    _try_duplicate(actor, work, rng, TRAINING_V2, "CreateTrainingJobV2", body,
                   ("metadata", "name"))
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
    yield _until(actor, running_ms, rng) + rng.uniform(5, 20) * MINUTE
    _stop_v2(actor, job)
    yield _past("training_v2_terminate", rng)
    if rng.random() < 0.5:
        _delete_v2(actor, work, [job])
    else:
        work.release(job)


def _see_it_end(actor, work, rng, job: dict, tagged: bool):
    """After the run: a failed job is deleted; a completed one loses its experiment tag now
    and then and is kept for its model."""
    yield _until(actor, job["ends_ms"], rng)
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
        yield _past("training_v2_terminate", rng)
        _delete_v2(actor, work, [candidate])
    if sweep:
        yield _until(actor, max(j["ends_ms"] for j in sweep), rng)
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
    yield _past("training_v2_terminate", rng)
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
    yield _until(actor, job["ends_ms"], rng)
    work.release(job)
    return job


CHORES = [("ml-engineer", devenv_session), ("ml-engineer", notebook_experiment),
          ("ml-engineer", legacy_training_chore), ("ml-engineer", training_config_chore),
          ("ml-engineer", training_v2_chore)]

ROUTINES = {
    "ml-engineer": [(6, train_model), (4, notebook_workday), (1, notebook_experiment),
                    (1, legacy_training), (1, save_training_config), (1, devenv_session)],
    "ci-robot": [(1, ci_pipeline)],
}
