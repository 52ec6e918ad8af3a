"""Visualization (TensorBoard / MindInsight) jobs, old generation:
/v1/{project_id}/visualization-jobs (modelarts-api.md 4.3).

Integer job ids, counted from 1 in each project. A job starts 1 (INIT) -> 7 (WAITING) ->
8 (RUNNING) and serves its ``service_url`` while running; its ``schedule`` (stop after N hours)
ends it in 10 (COMPLETED); stop goes 9 (KILLING) -> 12 (KILLED); restart takes a job that is
not running back through 7 -> 8; /_sim/lifecycle/fail ends it in 11 (FAILED) with the reason in
``failed_reason`` (a simulator field). The documented refusals (ModelArts.0105): stopping a job
that is not on its way ("This job can't be stop. job status: 10"), restarting one that is
("This job can't be resubmit. job status: 8"), deleting one being killed ("This job can't be
delete. job status: 9").

Every audited call names the job (resource_id = job_id as a string, resource_name = job_name).
Errors use the is_success dialect with HTTP 400 throughout (see v1jobs). A schedule of 0 hours
never stops the job (a simulator choice).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.modelarts import v1jobs
from simulator.modelarts.lifecycle import Target, lifecycle_kind
from simulator.modelarts.v1jobs import FAILED, INIT, KILLED, KILLING, RUNNING, WAITING, Run
from simulator.modelarts.validate import Checker
from simulator.registry import handler

FAMILY = "visualization_jobs"
# seconds each asynchronous step takes in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "visualization_jobs_start": 2.0,  # INIT and WAITING
    "visualization_jobs_restart": 1.0,  # WAITING
    "visualization_jobs_stop": 1.0,  # KILLING
}
START = (INIT, WAITING, RUNNING)
RESTART = (WAITING, RUNNING)
STOP = (KILLING, KILLED)
JOB_TYPES = ("tensorboard", "mindinsight")
HOUR_MS = 3_600_000


@dataclass
class VisualizationJob(v1jobs.Numbered):
    id: int
    name: str
    desc: str
    job_type: str
    train_url: str
    flavor: str
    stop_after_hours: int  # 0: never
    project_id: str
    region: str
    created_ms: int
    resource_id: str
    run: Run

    def status(self, now: int) -> int:
        self.run.settle(self.stop_after_hours * HOUR_MS, now)
        return self.run.status(now)


class State:
    def __init__(self):
        self.jobs: dict[int, VisualizationJob] = {}
        self.last_job_id = 0


# -- helpers ---------------------------------------------------------------------------------

def _progress(ctx, dwell: str, statuses: tuple):
    return ctx.sim.lifecycles.progress(FAMILY, dwell, statuses, ctx.now_ms)


def _service_url(job: VisualizationJob, status: int) -> str:
    if status != RUNNING:
        return ""
    return "https://modelarts.%s.myhuaweicloud.com/modelarts2/%s/%s/%d/" % (
        job.region, job.job_type, job.project_id, job.id)


def _view(job: VisualizationJob, now: int) -> dict:
    status = job.status(now)
    out = {"job_id": job.id, "job_name": job.name, "job_desc": job.desc, "status": status,
           "create_time": job.created_ms, "duration": job.run.duration(now),
           "service_url": _service_url(job, status), "train_url": job.train_url,
           "resource_id": job.resource_id, "job_type": job.job_type}
    if job.run.failed_reason is not None:
        out["failed_reason"] = job.run.failed_reason
    return out


def _schedule(chk, body: dict) -> int:
    """Hours after which the job stops on its own: schedule is {type: stop, time_unit: HOURS,
    duration: 0-24}, or a list holding one (the documented example sends a list)."""
    raw = body.get("schedule")
    if raw is None:
        return 0
    if isinstance(raw, list):
        if len(raw) != 1:
            chk.fail("Parameter schedule must hold one item.")
        raw = raw[0]
    if not isinstance(raw, dict):
        chk.fail("Parameter schedule must be an object.")
    chk.choice(raw, "type", ("stop",), required=True)
    chk.choice(raw, "time_unit", ("HOURS",), required=True)
    return chk.integer(raw, "duration", required=True, minimum=0, maximum=24)


# -- handlers --------------------------------------------------------------------------------

@handler("CreateVisualizationJob")
def create_job(ctx):
    chk = v1jobs.checker(None, v1jobs.asked_name(ctx.body, "job_name"))
    body = chk.body(ctx.body)
    name = chk.name(body, "job_name", 20)
    desc = chk.string(body, "job_desc", max_len=256, default="")
    train_url = chk.obs_path(chk.string(body, "train_url", required=True, min_len=1,
                                        max_len=1024), "train_url")
    job_type = chk.choice(body, "job_type", JOB_TYPES, default="tensorboard")
    flavor = chk.mapping(body, "flavor")
    code = chk.choice(flavor, "code", v1jobs.SPEC_CODES, required=body.get("flavor") is not None,
                      default="modelarts.vm.cpu.2u")
    hours = _schedule(chk, body)
    state = ctx.state
    if any(j.name == name for j in state.jobs.values()):
        v1jobs.duplicate(chk, "Job", name)
    if not ctx.sim.obs_files.exists(train_url):  # the event files it shows are read from here
        chk.fail("Parameter train_url: OBS path %s does not exist." % train_url)
    state.last_job_id += 1
    job = VisualizationJob(state.last_job_id, name, desc, job_type, train_url, code, hours,
                           ctx.project.id, ctx.settings.region, ctx.now_ms,
                           ctx.ids.uuid(), Run(_progress(ctx, "visualization_jobs_start",
                                                         START)))
    state.jobs[job.id] = job
    status = job.status(ctx.now_ms)
    return v1jobs.ok({"job_id": job.id, "job_name": job.name, "status": status,
                      "create_time": job.created_ms, "service_url": _service_url(job, status)},
                     resource=job)


@handler("DeleteVisualizationJob")
def delete_job(ctx):
    job = v1jobs.find_job(ctx)
    status = job.status(ctx.now_ms)
    if status == KILLING:
        v1jobs.refuse(Checker.of(job, v1jobs.INVALID), "delete", status)
    del ctx.state.jobs[job.id]
    return v1jobs.ok(resource=job)


@handler("UpdateVisualizationJobDescription")
def update_description(ctx):
    job = v1jobs.find_job(ctx)
    chk = Checker.of(job, v1jobs.INVALID)
    job.desc = chk.string(chk.body(ctx.body), "job_desc", required=True, max_len=256)
    return v1jobs.ok(resource=job)


@handler("StopVisualizationJob")
def stop_job(ctx):
    job = v1jobs.find_job(ctx)
    status = job.status(ctx.now_ms)
    if status not in v1jobs.STOPPABLE:
        v1jobs.refuse(Checker.of(job, v1jobs.INVALID), "stop", status)
    job.run.interrupt(ctx.now_ms, _progress(ctx, "visualization_jobs_stop", STOP))
    return v1jobs.ok(resource=job)


@handler("RestartVisualizationJob")
def restart_job(ctx):
    job = v1jobs.find_job(ctx)
    status = job.status(ctx.now_ms)
    if status in v1jobs.ACTIVE:
        v1jobs.refuse(Checker.of(job, v1jobs.INVALID), "resubmit", status)
    job.run.restart(_progress(ctx, "visualization_jobs_restart", RESTART))
    return v1jobs.ok(resource=job)


@handler("ListVisualizationJobs")
def list_jobs(ctx):
    now = ctx.now_ms
    sort_keys = {
        "job_id": lambda j: j.id,
        "job_name": lambda j: (j.name, j.id),
        "job_desc": lambda j: (j.desc, j.id),
        "status": lambda j: (j.status(now), j.id),
        "duration": lambda j: (j.run.duration(now), j.id),
        "create_time": lambda j: (j.created_ms, j.id),
    }
    return v1jobs.list_jobs(ctx, status_of=lambda j: j.status(now), sort_keys=sort_keys,
                            default_sort="job_id", view=lambda j: _view(j, now),
                            search_max=100)


@handler("ShowVisualizationJob")
def show_job(ctx):
    job = v1jobs.find_job(ctx)
    return v1jobs.ok(_view(job, ctx.now_ms), resource=job)


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

@lifecycle_kind("visualization-job", FAMILY)
def _job_target(state: State, resource_id: str):
    """id: a job id, or "<project_id>/<job_id>"."""
    project_id, job_id = v1jobs.scoped_id(resource_id)
    job = state.jobs.get(job_id)
    if job is None or project_id not in (None, job.project_id):
        return None
    return Target(job.run.progress, FAILED, job.run.on_fail())
