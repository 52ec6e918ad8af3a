"""Training jobs v2: /v2/{project_id}/training-jobs (shared/reference/modelarts-api.md 7.2).

Every audited call names the job (resource_id = metadata.id, resource_name = metadata.name);
a batch delete leaves one trace per job. Errors answer the training v2 dialect, which adds
``error_solution``; not-found is HTTP 400 (ModelArts.2775), as the real API answers.

Phases, read off the simulation clock: Creating -> Pending -> Running -> Completed; a stop
moves a job to Terminating -> Terminated; /_sim/lifecycle/fail ends it in Failed.
``status.duration`` is the milliseconds the job has spent Running.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from simulator.errors import ApiError
from simulator.modelarts import job_outputs
from simulator.modelarts.lifecycle import Progress, Target, lifecycle_kind, watch_callback
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "training_v2"
# seconds each phase lasts in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "training_v2_create": 1.0,     # Creating
    "training_v2_pending": 1.0,    # Pending (queuing for resources)
    "training_v2_run": 2.0,        # Running, then Completed
    "training_v2_terminate": 1.0,  # Terminating, then Terminated
}

CREATING, PENDING, RUNNING, COMPLETED = "Creating", "Pending", "Running", "Completed"
FAILED, TERMINATING, TERMINATED = "Failed", "Terminating", "Terminated"
PHASES = (CREATING, PENDING, RUNNING, COMPLETED)
PHASES_FAILING = (CREATING, PENDING, RUNNING, FAILED)  # what it reads is missing from OBS
FINISHED = (COMPLETED, FAILED, TERMINATED)
SECONDARY = {CREATING: "Creating", PENDING: "Queuing", RUNNING: "Running",
             COMPLETED: "Completed", FAILED: "Failed", TERMINATING: "Terminating",
             TERMINATED: "Terminated"}
JOB_KINDS = ("job", "federated_pool_job", "edge_job", "hetero_job", "mrs_job",
             "autosearch_job", "diag_job", "visualization_job")
ACCESS_METHODS = ("parameter", "env")
SORT_KEYS = {"create_time": lambda j: j.created_ms, "name": lambda j: j.name,
             "duration": lambda j: j.duration_cached}
FILTER_OPERATORS = ("between", "like", "in", "not")
FILTER_KEYS = ("name", "id", "phase", "user_name", "kind", "create_time", "duration",
               "description")
FLAVORS = {
    "modelarts.vm.cpu.2u": "Computing CPU(2U) instance",
    "modelarts.vm.cpu.8u": "Computing CPU(8U) instance",
    "modelarts.vm.gpu.p100": "Computing GPU(P100) instance",
    "modelarts.p3.large.public": "Computing GPU(Vnt1) instance",
}
MAX_BATCH = 100

INVALID = "ModelArts.2788"
NOT_FOUND = "ModelArts.2775"
DUPLICATE = "ModelArts.2751"
NOT_TERMINABLE = "ModelArts.2796"
NOT_STRING = "Parameter %s.%s must be a string."
SOLUTIONS = {
    INVALID: "Check the request parameters against the API reference and try again.",
    NOT_FOUND: "Check the training job ID. The job may have been deleted.",
    DUPLICATE: "Use another job name, or delete the training job that has this name.",
    NOT_TERMINABLE: "Only a training job that is Creating, Pending or Running can be "
                    "stopped.",
}


# -- state -----------------------------------------------------------------------------------

@dataclass
class Job(Named):
    id: str
    name: str
    kind: str
    workspace_id: str
    description: str
    annotations: dict
    user_name: str
    created_ms: int
    algorithm: dict
    spec: dict
    endpoints: dict | None
    progress: object  # lifecycle.Progress
    tags: dict = field(default_factory=dict)  # key -> value
    run_start: int | None = None
    run_end: int | None = None
    failure: str | None = None  # reason, once failed
    duration_cached: int = 0  # for sorting; refreshed whenever the job is observed
    snapshot: tuple | None = None  # the progress as it was before /_sim/lifecycle steered it

    def observe(self, now: int) -> str:
        """Note when the job started and stopped Running (read off its progress); its phase."""
        if self.snapshot is not None:
            # /_sim/lifecycle steered the progress: what was true just before that instant
            started, steps = self.snapshot
            self.snapshot = None
            self._scan(Progress(started, steps), self.progress.started_ms)
        self._scan(self.progress, now)
        self.duration_cached = self.duration(now)
        return self.progress.status(now)

    def _scan(self, p: Progress, now: int) -> None:
        at = p.started_ms
        for i, (status, dwell) in enumerate(p.steps):
            if status == RUNNING:
                if now >= at and self.run_start is None:
                    self.run_start = at
                end = at + dwell
                if i < len(p.steps) - 1 and now >= end and self.run_end is None:
                    self.run_end = end
                return
            at += dwell
        if self.run_start is not None and self.run_end is None:
            self.run_end = min(p.started_ms, now)

    def duration(self, now: int) -> int:
        if self.run_start is None:
            return 0
        end = self.run_end if self.run_end is not None else now
        return max(0, end - self.run_start)


class State:
    def __init__(self):
        self.jobs: dict[str, Job] = {}


# -- helpers ---------------------------------------------------------------------------------

class _Checker(Checker):
    """A Checker whose refusals carry the dialect's error_solution."""

    def fail(self, message: str, code: str | None = None, status: int | None = None):
        code = code or self.code
        raise ApiError(status or self.status, code, message, resource_id=self.resource_id,
                       resource_name=self.resource_name, solution=SOLUTIONS.get(code, ""))


def _job(ctx) -> Job:
    return find(ctx, ctx.state.jobs, "training_job_id", NOT_FOUND,
                "Training job {} does not exist.", checker=_Checker)


def _progress(ctx, statuses: tuple, dwells: tuple) -> Progress:
    lc = ctx.sim.lifecycles
    mode = lc.modes[FAMILY]
    if mode == "manual":
        return Progress.held(ctx.now_ms, statuses)
    steps = []
    for status, name in zip(statuses[:-1], dwells):
        seconds = 0.0 if mode == "immediate" else lc.dwell[name]
        steps.append((status, int(round(seconds * 1000))))
    steps.append((statuses[-1], 0))
    return Progress(ctx.now_ms, tuple(steps))


def _view(job: Job, now: int) -> dict:
    phase = job.observe(now)
    secondary = SECONDARY[phase]
    if phase == FAILED and job.run_start is None:
        secondary = "CreateFailed"
    nodes = job.spec["resource"]["node_count"]
    tasks = ["worker-%d" % i for i in range(nodes)]
    if phase == FAILED:
        statuses = [{"task": t, "exit_code": 1, "message": job.failure or ""} for t in tasks]
    elif phase in (COMPLETED, TERMINATED):
        statuses = [{"task": t, "exit_code": 0 if phase == COMPLETED else 137, "message": ""}
                    for t in tasks]
    else:
        statuses = []
    status = {"phase": phase, "secondary_phase": secondary, "duration": job.duration(now),
              "tasks": tasks if job.run_start is not None else [],
              "task_statuses": statuses}
    if job.run_start is not None:
        status["start_time"] = job.run_start
    out = {"kind": job.kind,
           "metadata": {"id": job.id, "name": job.name, "workspace_id": job.workspace_id,
                        "description": job.description, "create_time": job.created_ms,
                        "user_name": job.user_name, "annotations": dict(job.annotations)},
           "status": status,
           "algorithm": _view_algorithm(job.algorithm),
           "spec": job.spec}
    if job.endpoints is not None:
        out["endpoints"] = job.endpoints
    return out


def _view_algorithm(algorithm: dict) -> dict:
    out = dict(algorithm)
    env = out.get("environments")
    if isinstance(env, dict):  # the request takes a map, the answer a list of maps
        out["environments"] = [{k: v} for k, v in env.items()]
    return out


def _obs_url(chk: _Checker, holder: dict, what: str) -> str:
    url = chk.string(holder, "obs_url", required=True, min_len=1, max_len=1024)
    chk.obs_path(url, what, directory=False)
    return url


def _remote(chk: _Checker, ctx, item: dict, what: str, datasets: bool) -> dict:
    remote = chk.mapping(item, "remote", required=True)
    dataset, obs = remote.get("dataset"), remote.get("obs")
    if (dataset is None) == (obs is None):
        chk.fail("Parameter %s.remote must name exactly one of %s." % (
            what, "dataset or obs" if datasets else "obs"))
    if dataset is not None:
        if not datasets:
            chk.fail("Parameter %s.remote must be an OBS path." % what)
        if not isinstance(dataset, dict):
            chk.fail("Parameter %s.remote.dataset must be an object." % what)
        ds_id = chk.string(dataset, "id", required=True, min_len=1, max_len=64)
        version_id = chk.string(dataset, "version_id", max_len=64)
        if dataset.get("obs_url") is not None:
            _obs_url(chk, dataset, what + ".remote.dataset.obs_url")
        found = ctx.sim.state("datasets", ctx.project.id).datasets.get(ds_id)
        if found is None:
            chk.fail("Dataset %s of input %s does not exist." % (ds_id, item.get("name")))
        if version_id and version_id not in found.versions:
            chk.fail("Version %s of dataset %s does not exist." % (version_id, ds_id))
        return {"dataset": dict(dataset)}
    if not isinstance(obs, dict):
        chk.fail("Parameter %s.remote.obs must be an object." % what)
    _obs_url(chk, obs, what + ".remote.obs.obs_url")
    return {"obs": dict(obs)}


def _data_items(chk: _Checker, ctx, algorithm: dict, key: str, datasets: bool) -> list:
    items, names = [], set()
    for raw in chk.array(algorithm, key, max_len=100):
        if not isinstance(raw, dict):
            chk.fail("Each item of algorithm.%s must be an object." % key)
        name = chk.string(raw, "name", required=True, min_len=1, max_len=64)
        if name in names:
            chk.fail("Name %s appears twice in algorithm.%s." % (name, key))
        names.add(name)
        chk.string(raw, "description", max_len=256)
        chk.string(raw, "local_dir", max_len=1024)
        chk.choice(raw, "access_method", ACCESS_METHODS)
        item = dict(raw)
        item["remote"] = _remote(chk, ctx, raw, "algorithm.%s[%s]" % (key, name), datasets)
        items.append(item)
    return items


def _algorithm(chk: _Checker, ctx, body: dict) -> dict:
    alg = chk.mapping(body, "algorithm", required=True)
    for key in ("id", "subscription_id", "item_version_id", "code_dir", "boot_file",
                "command", "local_code_dir", "working_dir", "name"):
        chk.string(alg, key, max_len=4096)
    engine = chk.mapping(alg, "engine")
    for key in ("engine_id", "engine_name", "engine_version", "image_url"):
        chk.string(engine, key, max_len=1024)
    by_id = bool(alg.get("id"))
    by_subscription = bool(alg.get("subscription_id")) and bool(alg.get("item_version_id"))
    by_code = bool(alg.get("code_dir")) and bool(alg.get("boot_file"))
    by_image = bool(engine.get("image_url"))
    if not (by_id or by_subscription or by_code or by_image):
        chk.fail("Parameter algorithm must give id, subscription_id and item_version_id, "
                 "code_dir and boot_file, or engine.image_url.")
    if by_code:
        chk.obs_path(alg["code_dir"], "algorithm.code_dir")
        chk.obs_path(alg["boot_file"], "algorithm.boot_file", directory=False)
        if not (engine.get("engine_id") or engine.get("image_url")
                or (engine.get("engine_name") and engine.get("engine_version"))):
            chk.fail("Parameter algorithm.engine must give engine_id, engine_name and "
                     "engine_version, or image_url.")
    for raw in chk.array(alg, "parameters", max_len=100):
        if not isinstance(raw, dict):
            chk.fail("Each item of algorithm.parameters must be an object.")
        chk.string(raw, "name", required=True, min_len=1, max_len=64)
        chk.string(raw, "value", max_len=1024)
        chk.string(raw, "description", max_len=256)
    env = chk.mapping(alg, "environments")
    for k, v in env.items():
        if not isinstance(v, str):
            chk.fail("Parameter algorithm.environments.%s must be a string." % k)
    out = dict(alg)
    out["inputs"] = _data_items(chk, ctx, alg, "inputs", datasets=True)
    out["outputs"] = _data_items(chk, ctx, alg, "outputs", datasets=False)
    return out


def _spec(chk: _Checker, body: dict) -> dict:
    spec = chk.mapping(body, "spec", required=True)
    resource = chk.mapping(spec, "resource", required=True)
    flavor_id = chk.string(resource, "flavor_id", min_len=1, max_len=128)
    pool_id = chk.string(resource, "pool_id", min_len=1, max_len=128)
    if not flavor_id and not pool_id:
        chk.fail("Parameter spec.resource must give flavor_id or pool_id.")
    node_count = chk.integer(resource, "node_count", minimum=1, maximum=1024, default=1)
    out_resource = {"flavor_id": flavor_id or "", "flavor_name": FLAVORS.get(flavor_id or "",
                                                                              flavor_id or ""),
                    "node_count": node_count}
    if pool_id:
        out_resource["pool_id"] = pool_id
    out = {"resource": out_resource}
    for key in ("log_export_path", "schedule_policy", "auto_stop", "notification"):
        value = chk.mapping(spec, key)
        if value:
            out[key] = dict(value)
    if out.get("schedule_policy"):
        chk.integer(out["schedule_policy"], "priority", minimum=1, maximum=3)
        chk.boolean(out["schedule_policy"], "preemptible")
    if out.get("auto_stop"):
        chk.choice(out["auto_stop"], "time_unit", ("HOURS",), required=True)
        chk.integer(out["auto_stop"], "duration", minimum=1, maximum=720)
    volumes = chk.array(spec, "volumes", max_len=64)
    if volumes:
        out["volumes"] = list(volumes)
    return out


def _name_taken(state: State, name: str, workspace_id: str) -> bool:
    return any(j.name == name and j.workspace_id == workspace_id for j in state.jobs.values())


# -- jobs ------------------------------------------------------------------------------------

@handler("CreateTrainingJobV2")
def create_training_job(ctx):
    chk = _Checker(INVALID)
    body = chk.body(ctx.body)
    meta = chk.mapping(body, "metadata", required=True)
    asked = meta.get("name")
    chk.resource_name = asked if isinstance(asked, str) else None
    kind = chk.choice(body, "kind", JOB_KINDS, required=True)
    name = chk.name(meta, "name", 64)
    workspace_id = chk.string(meta, "workspace_id", min_len=1, max_len=64, default="0")
    description = chk.string(meta, "description", max_len=256, default="")
    annotations = chk.strings(meta, "annotations", NOT_STRING)
    algorithm = _algorithm(chk, ctx, body)
    spec = _spec(chk, body)
    endpoints = chk.mapping(body, "endpoints") or None
    if _name_taken(ctx.state, name, workspace_id):
        chk.fail("Training job name %s already exists." % name, DUPLICATE)
    problem = job_outputs.missing_input(
        ctx.sim.obs_files, code_dir=algorithm.get("code_dir") or "",
        boot_file=algorithm.get("boot_file") or "",
        data=tuple(i["remote"]["obs"]["obs_url"] for i in algorithm["inputs"]
                   if "obs" in i["remote"]),
        output=_output(algorithm))
    job = Job(id=ctx.ids.uuid(), name=name, kind=kind, workspace_id=workspace_id,
              description=description, annotations=annotations,
              user_name=ctx.caller.user.name if ctx.caller else "", created_ms=ctx.now_ms,
              algorithm=algorithm, spec=spec, endpoints=dict(endpoints) if endpoints else None,
              progress=_progress(ctx, PHASES if problem is None else PHASES_FAILING,
                                 ("training_v2_create", "training_v2_pending",
                                  "training_v2_run")),
              failure=problem)
    ctx.state.jobs[job.id] = job
    ctx.sim.watch(job.progress, functools.partial(_ended, ctx.project.id, job.id))
    return Reply.of(job, _view(job, ctx.now_ms), 201)


def _output(algorithm: dict) -> str:
    """Where the job writes its model: its first output's OBS path."""
    outputs = algorithm.get("outputs") or []
    return outputs[0]["remote"]["obs"]["obs_url"] if outputs else ""


@watch_callback
def _ended(project_id, job_id, sim, at_ms, final) -> None:
    """A job that completed or failed leaves its output and logs in OBS (a terminated one,
    whose progress was replaced, leaves nothing)."""
    job = sim.state(FAMILY, project_id).jobs.get(job_id)
    if job is None or job.progress.final not in (COMPLETED, FAILED) \
            or not job.progress.done(at_ms):
        return
    job.observe(at_ms)
    engine = job.algorithm.get("engine") or {}
    job_outputs.write(sim.obs_files, job_id=job.id, job_name=job.name,
                      engine=engine.get("engine_name") or "",
                      workers=job.spec["resource"]["node_count"], output=_output(job.algorithm),
                      log_dir=(job.spec.get("log_export_path") or {}).get("obs_url") or "",
                      started_ms=job.run_start or at_ms, ended_ms=at_ms,
                      failed=None if job.progress.final == COMPLETED else
                      job.failure or "The job failed.")


@handler("ShowTrainingJobDetails")
def show_training_job(ctx):
    job = _job(ctx)
    return Reply.of(job, _view(job, ctx.now_ms))


def _filter(chk: _Checker, raw, now: int):
    if not isinstance(raw, dict):
        chk.fail("Each item of filters must be an object.")
    key = chk.choice(raw, "key", FILTER_KEYS, required=True)
    op = chk.choice(raw, "operator", FILTER_OPERATORS, required=True)
    values = chk.array(raw, "value", required=True, min_len=1, max_len=100)
    if not all(isinstance(v, str) for v in values):
        chk.fail("Parameter filters.value must be a list of strings.")
    numeric = key in ("create_time", "duration")
    if op == "between":
        if not numeric or len(values) != 2:
            chk.fail("Operator between takes create_time or duration and two values.")
        try:
            lo, hi = int(values[0]), int(values[1])
        except ValueError:
            chk.fail("Operator between takes two integers.")

    def field_of(job: Job):
        phase = job.observe(now)
        return {"name": job.name, "id": job.id, "phase": phase, "user_name": job.user_name,
                "kind": job.kind, "create_time": job.created_ms,
                "duration": job.duration(now), "description": job.description}[key]

    def match(job: Job) -> bool:
        value = field_of(job)
        if op == "between":
            return lo <= value <= hi
        if op == "like":
            return any(v.lower() in str(value).lower() for v in values)
        hit = str(value) in values
        return hit if op == "in" else not hit
    return match


def _tag_filter(chk: _Checker, raw):
    if not isinstance(raw, dict):
        chk.fail("Each item of tags must be an object.")
    key = chk.string(raw, "key", required=True, min_len=1, max_len=128)
    values = chk.array(raw, "values")
    return lambda job: key in job.tags and (not values or job.tags[key] in values)


@handler("ListTrainingJobsV2")
def search_training_jobs(ctx):
    chk = _Checker(INVALID)
    body = chk.body(ctx.body, required=False)
    offset = chk.integer(body, "offset", minimum=0, maximum=10 ** 9, default=0)
    limit = chk.integer(body, "limit", minimum=1, maximum=50, default=10)
    sort_by = chk.choice(body, "sort_by", tuple(SORT_KEYS), default="create_time")
    order = chk.choice(body, "order", ("asc", "desc"), default="desc")
    group_by = chk.string(body, "group_by", max_len=64, default="")
    workspace_id = chk.string(body, "workspace_id", max_len=64)
    now = ctx.now_ms
    tests = [_filter(chk, raw, now) for raw in chk.array(body, "filters", max_len=20)]
    tests += [_tag_filter(chk, raw) for raw in chk.array(body, "tags", max_len=20)]
    jobs = list(ctx.state.jobs.values())
    for job in jobs:
        job.observe(now)
    if workspace_id:
        jobs = [j for j in jobs if j.workspace_id == workspace_id]
    jobs = [j for j in jobs if all(t(j) for t in tests)]
    key = SORT_KEYS[sort_by]
    ranked = [j for _, j in sorted(enumerate(jobs), key=lambda p: (key(p[1]), p[0]),
                                   reverse=order == "desc")]
    shown = ranked[offset * limit:(offset + 1) * limit]
    return Reply(200, {"total": len(ranked), "count": len(shown), "limit": limit,
                       "offset": offset, "sort_by": sort_by, "order": order,
                       "group_by": group_by, "workspace_id": workspace_id or "",
                       "items": [_view(j, now) for j in shown]})


@handler("ChangeTrainingJobDescription")
def change_description(ctx):
    job = _job(ctx)
    chk = _Checker.of(job, INVALID)
    body = chk.body(ctx.body)
    description = chk.string(body, "description", max_len=256)
    meta = chk.mapping(body, "metadata")
    annotations = chk.strings(meta, "annotation", NOT_STRING) if meta else None
    spec = chk.mapping(body, "spec")
    schedule = chk.mapping(spec, "schedule_policy")
    if schedule:
        chk.integer(schedule, "priority", minimum=1, maximum=3)
    notification = chk.mapping(spec, "notification")
    endpoints = chk.mapping(body, "endpoints")
    if description is not None:
        job.description = description
    if annotations:
        job.annotations.update(annotations)
    if schedule:
        job.spec.setdefault("schedule_policy", {}).update(schedule)
    if notification:
        job.spec["notification"] = dict(notification)
    if endpoints:
        job.endpoints = dict(endpoints)
    return Reply.of(job)


@handler("DeleteTrainingJobV2")
def delete_training_job(ctx):
    job = _job(ctx)
    del ctx.state.jobs[job.id]
    return Reply.of(job, status=202)


@handler("StopTrainingJobV2")
def stop_training_job(ctx):
    job = _job(ctx)
    chk = _Checker.of(job, INVALID)
    body = chk.body(ctx.body)
    chk.choice(body, "action_type", ("terminate",), required=True)
    phase = job.observe(ctx.now_ms)
    if phase in FINISHED or phase == TERMINATING:
        chk.fail("Training job %s is %s and cannot be terminated." % (job.id, phase),
                 NOT_TERMINABLE, 409)
    job.progress = _progress(ctx, (TERMINATING, TERMINATED), ("training_v2_terminate",))
    return Reply.of(job, _view(job, ctx.now_ms), 202)


@handler("BatchDeleteTrainingJobs")
def batch_delete(ctx):
    chk = _Checker(INVALID)
    body = chk.body(ctx.body)
    items = chk.array(body, "jobs", required=True, min_len=1, max_len=MAX_BATCH)
    ids = []
    for raw in items:
        if not isinstance(raw, dict):
            chk.fail("Each item of jobs must be an object.")
        chk.choice(raw, "kind", JOB_KINDS, required=True)
        meta = chk.mapping(raw, "metadata", required=True)
        ids.append(chk.string(meta, "id", required=True, min_len=1, max_len=64))
    ids = list(dict.fromkeys(ids))
    for job_id in ids:
        if job_id not in ctx.state.jobs:
            _Checker(INVALID, resource_id=job_id).fail(
                "Training job %s does not exist." % job_id, NOT_FOUND)
    jobs = [ctx.state.jobs[i] for i in ids]
    if len({j.workspace_id for j in jobs}) > 1:
        chk.fail("The jobs of one batch delete must be in the same workspace.")
    for job in jobs:
        del ctx.state.jobs[job.id]
    return Reply(202, None, resources=[(j.id, j.name) for j in jobs])


@handler("ValidateTrainingJobName")
def validate_name(ctx):
    chk = _Checker(INVALID)
    query = {k: v for k, v in ctx.query.items()}
    name = chk.string(query, "job_name", required=True, min_len=1, max_len=64)
    workspace_id = chk.string(query, "workspace_id", min_len=1, max_len=64, default="0")
    return Reply(200, {"is_duplicate": _name_taken(ctx.state, name, workspace_id)})


@handler("CreateTrainingJobTags")
def create_tags(ctx):
    job = _job(ctx)
    chk = _Checker.of(job, INVALID)
    tags = chk.array(chk.body(ctx.body), "tags", required=True, min_len=1, max_len=20)
    new = {}
    for raw in tags:
        if not isinstance(raw, dict):
            chk.fail("Each tag must be an object.")
        key = chk.string(raw, "key", required=True, min_len=1, max_len=128)
        new[key] = chk.string(raw, "value", max_len=255, default="")
    if len(set(job.tags) | set(new)) > 20:
        chk.fail("A training job has at most 20 tags.")
    job.tags.update(new)
    return Reply.of(job, status=204)


@handler("DeleteTrainingJobTags")
def delete_tags(ctx):
    job = _job(ctx)
    chk = _Checker.of(job, INVALID)
    tags = chk.array(chk.body(ctx.body), "tags", required=True, min_len=1, max_len=20)
    keys = []
    for raw in tags:
        if not isinstance(raw, dict):
            chk.fail("Each tag must be an object.")
        keys.append(chk.string(raw, "key", required=True, min_len=1, max_len=128))
    for key in keys:
        job.tags.pop(key, None)
    return Reply.of(job, status=204)


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _record_failure(job: Job):
    def on_fail(now, reason):
        job.failure = reason
        job.observe(now)
    return on_fail


@lifecycle_kind("training-job", FAMILY)  # the current API's training jobs, by their id
@lifecycle_kind("training-job-v2", FAMILY)
def _job_target(state: State, resource_id: str):
    job = state.jobs.get(resource_id)
    if job is None:
        return None
    # the finder runs just before the step: keep the progress as it was, so that the
    # Running interval it held is still known afterwards (see Job.observe)
    job.snapshot = (job.progress.started_ms, job.progress.steps)
    return Target(job.progress, FAILED, _record_failure(job))
