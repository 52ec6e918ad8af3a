"""Model conversion tasks: /v1/{project_id}/conversions (modelarts-api.md section 4.5).

No public API exists for these (the console feature went offline in 2024): the paths, bodies
and answers are the simulator's own, built from the console's form and the documented error
codes 3054-3064 (answered with HTTP 500, as Huawei's code table lists them).
Every audited call names the task (resource_id = task id, resource_name = task name).
A task runs on its own: INIT -> RUNNING -> SUCCESS (FAILED when /_sim/lifecycle/fail says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.modelarts.lifecycle import Target, lifecycle_kind
from simulator.modelarts.listing import fuzzy, ownership, v1_list
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "conversions"
DWELL = {"conversions_run": 2.0}

INIT, RUNNING, SUCCESS, FAILED = "INIT", "RUNNING", "SUCCESS", "FAILED"
FRAMEWORKS = ("tensorflow", "caffe")
# conversion template -> the input framework it takes (a sample of the console's templates)
TEMPLATES = {
    "TF-FrozenGraph-To-Ascend-C32": "tensorflow",
    "TF-SavedModel-To-Ascend-C32": "tensorflow",
    "TF-FrozenGraph-To-TFLite": "tensorflow",
    "Caffe-To-Ascend-C32": "caffe",
}

INVALID = "ModelArts.0101"
NOT_FOUND = "ModelArts.3054"
STILL_RUNNING = "ModelArts.3055"
BAD_NAME = "ModelArts.3056"
EXISTS = "ModelArts.3062"
BAD_FRAMEWORK = "ModelArts.3064"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Task(Named):
    id: str
    name: str
    description: str
    framework_type: str
    input_path: str
    output_path: str
    template_name: str
    params: dict
    owner: dict
    created_ms: int
    updated_ms: int
    progress: object  # lifecycle.Progress: INIT -> RUNNING -> SUCCESS
    error_msg: str = ""

    def status(self, now: int) -> str:
        return self.progress.status(now)


class State:
    def __init__(self):
        self.tasks: dict[str, Task] = {}


# -- helpers ---------------------------------------------------------------------------------

def _task(ctx) -> Task:
    return find(ctx, ctx.state.tasks, "task_id", NOT_FOUND, "Task ({}) does not exist.", 500)


def _view(t: Task, now: int) -> dict:
    return {
        "task_id": t.id,
        "task_name": t.name,
        "description": t.description,
        "framework_type": t.framework_type,
        "input_path": t.input_path,
        "output_path": t.output_path,
        "template_name": t.template_name,
        "params": dict(t.params),
        "status": t.status(now),
        "error_msg": t.error_msg,
        **t.owner,
        "create_time": t.created_ms,
        "update_time": t.updated_ms,
    }


# -- conversion tasks ------------------------------------------------------------------------

@handler("CreateConversionTask")
def add_conversion_task(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    asked = body.get("task_name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = Checker(BAD_NAME, 500, resource_name=chk.resource_name).name(body, "task_name", 64)
    description = chk.description(body, max_len=100)
    framework = chk.string(body, "framework_type", required=True)
    if framework not in FRAMEWORKS:
        chk.fail("DL Framework Type (%s) not support: use %s." % (
            framework, " or ".join(FRAMEWORKS)), BAD_FRAMEWORK, 500)
    input_path = chk.obs_path(chk.string(body, "input_path", required=True, max_len=1024),
                              "input_path")
    output_path = chk.obs_path(chk.string(body, "output_path", required=True, max_len=1024),
                               "output_path")
    if output_path == input_path:
        chk.fail("Parameter output_path must differ from input_path.")
    template = chk.choice(body, "template_name", tuple(TEMPLATES), required=True)
    if TEMPLATES[template] != framework:
        chk.fail("Template %s converts %s models, not %s." % (
            template, TEMPLATES[template], framework))
    params = chk.mapping(body, "params")
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            chk.fail("Parameter params.%s must be a string or a number." % key)

    state = ctx.state
    if any(t.name == name for t in state.tasks.values()):
        chk.fail("Task (%s) exists." % name, EXISTS, 500)
    task = Task(id=ctx.ids.uuid(), name=name, description=description,
                framework_type=framework, input_path=input_path, output_path=output_path,
                template_name=template, params=dict(params), owner=ownership(ctx),
                created_ms=ctx.now_ms, updated_ms=ctx.now_ms,
                progress=ctx.sim.lifecycles.progress(FAMILY, "conversions_run",
                                                     (INIT, RUNNING, SUCCESS), ctx.now_ms))
    state.tasks[task.id] = task
    return Reply.of(task, {"task_id": task.id})


@handler("UpdateConversionTask")
def update_conversion_task(ctx):
    task = _task(ctx)
    chk = Checker.of(task, INVALID)
    body = chk.body(ctx.body)
    if "description" not in body:
        chk.fail("Parameter description is required.")
    task.description = chk.description(body, max_len=100)
    task.updated_ms = ctx.now_ms
    return Reply.of(task, {})


@handler("DeleteConversionTask")
def delete_conversion_task(ctx):
    task = _task(ctx)
    if task.status(ctx.now_ms) in (INIT, RUNNING):
        Checker.of(task, INVALID).fail("Task (%s) is running cannot be deleted." % task.name,
                                       STILL_RUNNING, 500)
    del ctx.state.tasks[task.id]
    return Reply.of(task, {})


@handler("ListConversionTasks")
def list_conversion_tasks(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    items = list(ctx.state.tasks.values())
    if q.get("task_name"):
        items = [t for t in items if fuzzy(t.name, q["task_name"])]
    if q.get("status"):
        items = [t for t in items if t.status(now) == q["status"]]
    return Reply(200, v1_list(q, chk, items, "tasks", lambda t: _view(t, now), {
        "create_time": lambda t: t.created_ms,
        "task_name": lambda t: t.name,
    }, "create_time"))


@handler("ShowConversionTask")
def show_conversion_task(ctx):
    task = _task(ctx)
    return Reply.of(task, _view(task, ctx.now_ms))


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _record_failure(task: Task):
    def on_fail(now, reason):
        task.error_msg = reason
        task.updated_ms = now
    return on_fail


@lifecycle_kind("conversion", FAMILY)
def _task_target(state: State, resource_id: str):
    task = state.tasks.get(resource_id)
    return Target(task.progress, FAILED, _record_failure(task)) if task else None
