"""Training jobs, old generation: /v1/{project_id}/training-jobs (modelarts-api.md 4.1).

Jobs and their versions have integer ids, counted from 1 in each project; versions are named
V0001, V0002, ... A version runs on the clock 1 (INIT) -> 7 (WAITING) -> 8 (RUNNING) ->
10 (COMPLETED); stopping it goes 9 (KILLING) -> 12 (KILLED); /_sim/lifecycle/fail ends it in
11 (FAILED) and the version detail shows the reason in ``failed_reason`` (a simulator field).

Every audited call names the job (resource_id = job_id as a string, resource_name = job_name).
Errors use the is_success dialect with HTTP 400 throughout (see v1jobs). Simulator choices where
the reference is silent: a job's last version cannot be deleted (delete the job instead), and a
version or job being killed (status 9) cannot be deleted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from simulator.modelarts import job_outputs, v1jobs
from simulator.modelarts.lifecycle import Target, lifecycle_kind, watch_callback
from simulator.modelarts.v1jobs import (COMPLETED, FAILED, INIT, KILLED, KILLING, RUNNING,
                                        WAITING, Run)
from simulator.modelarts.validate import Checker
from simulator.querystring import query_int
from simulator.registry import handler

FAMILY = "training_jobs"
# seconds each asynchronous step takes in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "training_jobs_run": 3.0,  # spread over INIT, WAITING and RUNNING
    "training_jobs_stop": 1.0,
}
RUN = (INIT, WAITING, RUNNING, COMPLETED)
RUN_FAILING = (INIT, WAITING, RUNNING, FAILED)  # what it reads is missing from OBS
STOP = (KILLING, KILLED)


# -- state -----------------------------------------------------------------------------------

@dataclass
class Version:
    id: int
    name: str
    pre_version_id: int | None
    job_desc: str
    config: dict  # v1jobs.check_config output
    created_ms: int
    resource_id: str
    run: Run


@dataclass
class Job(v1jobs.Numbered):
    id: int
    name: str
    desc: str
    workspace_id: str
    project_id: str
    created_ms: int
    versions: dict = field(default_factory=dict)  # version id -> Version, oldest first
    versions_made: int = 0

    def latest(self) -> Version:
        return self.versions[max(self.versions)]


class State:
    def __init__(self):
        self.jobs: dict[int, Job] = {}
        self.last_job_id = 0
        self.last_version_id = 0

    def using_cluster(self, cluster_id: str, now: int) -> list[str]:
        """Versions still running (or about to) on a dedicated pool, by name."""
        return ["training job %s %s" % (job.name, v.name) for job in self.jobs.values()
                for v in job.versions.values()
                if v.config.get("pool_id") == cluster_id and v.run.status(now) in v1jobs.ACTIVE]


# -- helpers ---------------------------------------------------------------------------------

def _version(ctx, job: Job) -> Version:
    chk = Checker.of(job, v1jobs.INVALID)
    version = job.versions.get(v1jobs.path_id(ctx, "version_id", chk))
    if version is None:
        chk.fail("Version %s of job %s does not exist." % (ctx.params["version_id"], job.name),
                 v1jobs.NOT_FOUND)
    return version


def _new_version(ctx, job: Job, config: dict, pre_version_id, job_desc: str) -> Version:
    state = ctx.state
    state.last_version_id += 1
    job.versions_made += 1
    problem = job_outputs.missing_input(
        ctx.sim.obs_files, code_dir=config["app_url"], boot_file=config["boot_file_url"],
        data=(config["data_url"],) + tuple(d["data_url"] for d in config["data_source"]
                                           if d["type"] == "obs"),
        output=config["train_url"])
    run = Run(ctx.sim.lifecycles.progress(FAMILY, "training_jobs_run",
                                          RUN if problem is None else RUN_FAILING, ctx.now_ms),
              failed_reason=problem)
    version = Version(
        id=state.last_version_id, name="V%04d" % job.versions_made,
        pre_version_id=pre_version_id, job_desc=job_desc, config=config,
        created_ms=ctx.now_ms, resource_id="job" + ctx.ids.hex(8), run=run)
    job.versions[version.id] = version
    ctx.sim.watch(run.progress, functools.partial(_ended, ctx.project.id, job.id, version.id))
    return version


@watch_callback
def _ended(project_id, job_id, version_id, sim, at_ms, final) -> None:
    """A run that completed or failed leaves its output and logs in OBS (a stopped one, whose
    progress was replaced, leaves nothing)."""
    job = sim.state(FAMILY, project_id).jobs.get(job_id)
    version = job.versions.get(version_id) if job is not None else None
    if version is None:
        return
    progress = version.run.progress
    if progress.final not in (COMPLETED, FAILED) or not progress.done(at_ms):
        return
    cfg = version.config
    job_outputs.write(sim.obs_files, job_id=version.resource_id, job_name=job.name,
                      engine=cfg["engine_name"], workers=cfg["worker_server_num"],
                      output=cfg["train_url"], log_dir=cfg["log_url"],
                      started_ms=version.run.start_time(at_ms) or at_ms, ended_ms=at_ms,
                      failed=None if progress.final == COMPLETED else
                      version.run.failed_reason or "The job failed.")


def _created(job: Job, version: Version, now: int) -> dict:
    return {"job_id": job.id, "job_name": job.name, "status": version.run.status(now),
            "create_time": version.created_ms, "version_id": version.id,
            "version_name": version.name, "resource_id": version.resource_id}


def _view_version(job: Job, v: Version, now: int) -> dict:
    cfg = v.config
    out = {
        "job_id": job.id, "job_name": job.name, "job_desc": v.job_desc,
        "version_id": v.id, "version_name": v.name, "pre_version_id": v.pre_version_id,
        "engine_type": cfg["engine_type"], "engine_name": cfg["engine_name"],
        "engine_id": cfg["engine_id"], "engine_version": cfg["engine_version"],
        "status": v.run.status(now), "app_url": cfg["app_url"],
        "boot_file_url": cfg["boot_file_url"], "create_time": v.created_ms,
        "parameter": cfg["parameter"], "duration": v.run.duration(now),
        "spec_id": cfg["spec_id"], "spec_code": cfg["spec_code"], "core": cfg["core"],
        "cpu": cfg["cpu"], "gpu_num": cfg["gpu_num"], "gpu_type": cfg["gpu_type"],
        "worker_server_num": cfg["worker_server_num"], "data_url": cfg["data_url"],
        "train_url": cfg["train_url"], "log_url": cfg["log_url"],
        "dataset_id": cfg["dataset_id"], "dataset_version_id": cfg["dataset_version_id"],
        "dataset_name": cfg["dataset_name"], "dataset_version_name": cfg["dataset_version_name"],
        "data_source": cfg["data_source"], "user_image_url": cfg["user_image_url"],
        "user_command": cfg["user_command"], "model_id": cfg["model_id"],
        "start_time": v.run.start_time(now), "volumes": cfg["volumes"],
        "pool_id": cfg["pool_id"], "pool_name": cfg["pool_name"],
        "resource_id": v.resource_id,
    }
    if v.run.failed_reason is not None and v.run.status(now) == FAILED:
        out["failed_reason"] = v.run.failed_reason
    return out


def _view_job(job: Job, now: int) -> dict:
    latest = job.latest()
    return {"job_id": job.id, "job_name": job.name, "version_id": latest.id,
            "status": latest.run.status(now), "create_time": job.created_ms,
            "duration": latest.run.duration(now), "job_desc": job.desc,
            "version_count": len(job.versions)}


# -- jobs and versions -----------------------------------------------------------------------

@handler("CreateTrainingJob")
def create_job(ctx):
    chk = v1jobs.checker(None, v1jobs.asked_name(ctx.body, "job_name"))
    body = chk.body(ctx.body)
    name = chk.name(body, "job_name", 64)
    desc = chk.string(body, "job_desc", max_len=256, default="")
    workspace_id = chk.string(body, "workspace_id", min_len=1, max_len=64, default="0")
    raw = chk.mapping(body, "config", required=True)
    chk.boolean(raw, "create_version", True)
    config = v1jobs.check_config(ctx, chk, raw)
    state = ctx.state
    if any(j.name == name for j in state.jobs.values()):
        v1jobs.duplicate(chk, "Job", name)
    state.last_job_id += 1
    job = Job(state.last_job_id, name, desc, workspace_id, ctx.project.id, ctx.now_ms)
    state.jobs[job.id] = job
    version = _new_version(ctx, job, config, None, desc)
    return v1jobs.ok(_created(job, version, ctx.now_ms), resource=job)


@handler("CreateTrainingJobVersion")
def create_version(ctx):
    job = v1jobs.find_job(ctx)
    chk = Checker.of(job, v1jobs.INVALID)
    body = chk.body(ctx.body)
    desc = chk.string(body, "job_desc", max_len=256, default=job.desc)
    raw = chk.mapping(body, "config", required=True)
    pre_id = chk.integer(raw, "pre_version_id", required=True, minimum=1)
    pre = job.versions.get(pre_id)
    if pre is None:
        chk.fail("Version %d of job %s does not exist." % (pre_id, job.name), v1jobs.NOT_FOUND)
    given = {k: v for k, v in raw.items() if k not in ("pre_version_id", "create_version")}
    config = v1jobs.check_config(ctx, chk, v1jobs.merge_config(pre.config, given))
    version = _new_version(ctx, job, config, pre_id, desc)
    return v1jobs.ok(_created(job, version, ctx.now_ms), resource=job)


@handler("StopTrainingJobVersion")
def stop_version(ctx):
    job = v1jobs.find_job(ctx)
    version = _version(ctx, job)
    status = version.run.status(ctx.now_ms)
    if status not in v1jobs.STOPPABLE:
        v1jobs.refuse(Checker.of(job, v1jobs.INVALID), "stop", status)
    stop = ctx.sim.lifecycles.progress(FAMILY, "training_jobs_stop", STOP, ctx.now_ms)
    version.run.interrupt(ctx.now_ms, stop)
    return v1jobs.ok(resource=job)


@handler("UpdateTrainingJobDescription")
def update_description(ctx):
    job = v1jobs.find_job(ctx)
    chk = Checker.of(job, v1jobs.INVALID)
    body = chk.body(ctx.body)
    job.desc = chk.string(body, "job_desc", required=True, max_len=256)
    return v1jobs.ok(resource=job)


@handler("DeleteTrainingJobVersion")
def delete_version(ctx):
    job = v1jobs.find_job(ctx)
    version = _version(ctx, job)
    chk = Checker.of(job, v1jobs.INVALID)
    status = version.run.status(ctx.now_ms)
    if status == KILLING:
        v1jobs.refuse(chk, "delete", status)
    if len(job.versions) == 1:
        chk.fail("Version %s is the last version of job %s: delete the job instead."
                 % (version.name, job.name), v1jobs.REFUSED)
    del job.versions[version.id]
    return v1jobs.ok(resource=job)


@handler("DeleteTrainingJob")
def delete_job(ctx):
    job = v1jobs.find_job(ctx)
    for version in job.versions.values():
        status = version.run.status(ctx.now_ms)
        if status == KILLING:
            v1jobs.refuse(Checker.of(job, v1jobs.INVALID), "delete", status)
    del ctx.state.jobs[job.id]
    return v1jobs.ok(resource=job)


@handler("ListTrainingJobs")
def list_jobs(ctx):
    now = ctx.now_ms
    workspace_id = ctx.query.get("workspace_id")
    sort_keys = {
        "job_name": lambda j: (j.name, j.id),
        "job_desc": lambda j: (j.desc, j.id),
        "status": lambda j: (j.latest().run.status(now), j.id),
        "duration": lambda j: (j.latest().run.duration(now), j.id),
        "version_count": lambda j: (len(j.versions), j.id),
        "create_time": lambda j: (j.created_ms, j.id),
    }
    keep = (lambda j: j.workspace_id == workspace_id) if workspace_id else None
    return v1jobs.list_jobs(ctx, status_of=lambda j: j.latest().run.status(now), keep=keep,
                            sort_keys=sort_keys, default_sort="job_name",
                            view=lambda j: _view_job(j, now))


@handler("ListTrainingJobVersions")
def list_versions(ctx):
    job = v1jobs.find_job(ctx)
    chk = Checker.of(job, v1jobs.INVALID)
    versions = sorted(job.versions.values(), key=lambda v: v.id, reverse=True)
    shown = v1jobs.page_slice(versions, ctx.query, chk)
    return v1jobs.ok({"job_id": job.id, "job_name": job.name, "job_desc": job.desc,
                      "version_count": len(versions),
                      "versions": [_view_version(job, v, ctx.now_ms) for v in shown]},
                     resource=job)


@handler("ShowTrainingJobVersion")
def show_version(ctx):
    job = v1jobs.find_job(ctx)
    return v1jobs.ok(_view_version(job, _version(ctx, job), ctx.now_ms), resource=job)


# -- what a job may run on -------------------------------------------------------------------

def _job_type(ctx):
    chk = v1jobs.checker()
    chk.choice(ctx.query, "job_type", ("train", "inference"))
    return chk


@handler("ListTrainingResourceSpecs")
def list_resource_specs(ctx):
    chk = _job_type(ctx)
    for key in ("engine_id", "project_type"):
        query_int(ctx.query, key, 0, chk.fail, lo=0, not_integer=v1jobs.NOT_INTEGER)
    specs = [dict(s) for s in v1jobs.SPECS]
    return v1jobs.ok({"spec_total_count": len(specs), "specs": specs})


@handler("ListTrainingEngines")
def list_engines(ctx):
    _job_type(ctx)
    return v1jobs.ok({"engines": [dict(e) for e in v1jobs.ENGINES]})


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

@lifecycle_kind("training-job-version", FAMILY)
def _version_target(state: State, resource_id: str):
    """id: a version id, or "<project_id>/<version_id>"."""
    project_id, version_id = v1jobs.scoped_id(resource_id)
    for job in state.jobs.values():
        version = job.versions.get(version_id)
        if version is not None and project_id in (None, job.project_id):
            return Target(version.run.progress, FAILED, version.run.on_fail())
    return None
