"""Development environment, old DevEnviron API: /v1/{project_id}/demanager/instances
(modelarts-api.md 3.1).

Instances have ids ``DE-`` + uuid and run on the clock: create CREATING -> RUNNING; action stop
RUNNING -> STOPPING -> STOPPED; action start STOPPED -> STARTING -> RUNNING. An instance with
``spec.auto_stop`` enabled stops on its own ``duration`` seconds after it last reached RUNNING.
/_sim/lifecycle/fail ends the step under way in CREATE_FAILED (create), START_FAILED (start) or
UNAVAILABLE (stop) and records the reason in ``spec.failed_reasons`` and ``error_code``.

Every audited call names the instance (resource_id = id, resource_name = name). Errors use the
devenviron dialect ``{"error_code", "error_message"}`` with HTTP 400 throughout, as the real API
answers not-found (ModelArts.6309). Documented codes: 6301 duplicate name, 6304 stop before
deleting, 6305 already running, 6306 starting, 6307 already stopped, 6308 stopping, 6309 not
found. Simulator choices: ModelArts.0101 for a bad parameter (the code a body that is not JSON
gets), ModelArts.6399 for the failure /_sim/lifecycle/fail records; an instance that failed
(CREATE_FAILED, START_FAILED, UNAVAILABLE) may be started again or deleted; stopping one that
is being created or started answers 6306.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.modelarts import v1jobs
from simulator.modelarts.lifecycle import Steps, lifecycle_kind
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.querystring import query_int
from simulator.registry import Reply, handler

FAMILY = "devenviron"
# seconds each asynchronous step takes in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "devenviron_create": 2.0,
    "devenviron_start": 1.0,
    "devenviron_stop": 1.0,
}
CREATING, STARTING, RUNNING = "CREATING", "STARTING", "RUNNING"
STOPPING, STOPPED = "STOPPING", "STOPPED"
CREATE_FAILED, START_FAILED, UNAVAILABLE = "CREATE_FAILED", "START_FAILED", "UNAVAILABLE"
STATUSES = ("CREATE_QUEUING", "START_QUEUING", CREATING, CREATE_FAILED, STARTING, "RESTARTING",
            START_FAILED, RUNNING, STOPPING, STOPPED, UNAVAILABLE, "DELETED", "RESIZING",
            "RESIZE_FAILED")
STEPS = {  # operation -> (statuses, dwell time name, status when it fails)
    "create": ((CREATING, RUNNING), "devenviron_create", CREATE_FAILED),
    "start": ((STARTING, RUNNING), "devenviron_start", START_FAILED),
    "stop": ((STOPPING, STOPPED), "devenviron_stop", UNAVAILABLE),
}
RESTING = {STOPPED, CREATE_FAILED, START_FAILED, UNAVAILABLE}  # may be started or deleted

INVALID = "ModelArts.0101"
DUPLICATE = "ModelArts.6301"
STOP_FIRST = "ModelArts.6304"
ALREADY_RUNNING, BEING_STARTED = "ModelArts.6305", "ModelArts.6306"
ALREADY_STOPPED, BEING_STOPPED = "ModelArts.6307", "ModelArts.6308"
NOT_FOUND = "ModelArts.6309"
FAILED_CODE = "ModelArts.6399"
DESCRIPTION_FORBIDDEN = set("&<>\"'/")
OPERATIONS = Steps(FAMILY, STEPS, failure="failed_reasons",
                   reason=lambda message: {"code": FAILED_CODE, "message": message, "detail": {}})


def _profile(pid, flavor_type, image, description):
    return {"id": pid, "name": pid, "description": description, "de_type": "Notebook",
            "flavor_type": flavor_type,
            "provision": {"type": "Docker", "spec": {"engine": "CCE", "params": {
                "namespace": "atelier", "image_name": image, "image_tag": "2.0.5-B003",
                "annotations": None}}}}


PROFILES = {p["id"]: p for p in (
    _profile("Multi-Engine 1.0 (python3)-cpu", "CPU", "mul-kernel-cpu-cp36",
             "multi engine, cpu, python 3.6 for notebook"),
    _profile("Multi-Engine 1.0 (python3)-gpu", "GPU", "mul-kernel-gpu-cuda-cp36",
             "multi engine, gpu, python 3.6 for notebook"),
)}


def _flavor(name, flavor_type, cpu, memory, gpu=0, gpu_type=None):
    params = {"CPU": cpu, "memory": memory}
    if gpu:
        params.update(GPU=gpu, gpu_type=gpu_type)
    return {"name": name, "params": params, "status": "onSale", "type": flavor_type}


FLAVORS = {f["name"]: f for f in (
    _flavor("modelarts.vm.cpu.2u", "CPU", 2, "8GiB"),
    _flavor("modelarts.vm.cpu.8u", "CPU", 8, "32GiB"),
    _flavor("modelarts.vm.gpu.p100", "GPU", 8, "64GiB", 1, "P100"),
    _flavor("modelarts.bm.gpu.v100NV32", "GPU", 8, "64GiB", 1, "v100NV32"),
)}


# -- state -----------------------------------------------------------------------------------

@dataclass
class Instance(Named):
    id: str
    name: str
    description: str
    profile_id: str
    flavor: str
    storage: dict
    auto_stop: dict  # {enable, duration (s), prompt}
    annotations: dict
    extend_storage: list
    workspace_id: str
    pool: dict | None
    user: dict
    region: str
    created_ms: int
    updated_ms: int
    operation: str  # the step under way or last done: create | start | stop
    progress: object  # lifecycle.Progress
    failed_reasons: dict | None = None

    def status(self, now: int) -> str:
        after = self.auto_stop["duration"] * 1000 if self.auto_stop["enable"] else None
        at = v1jobs.auto_stop_at(self.progress, RUNNING, after, now)
        if at is not None:
            self.progress.finish_at(at, STOPPED)
            self.operation, self.updated_ms = "stop", at
        return self.progress.status(now)


class State:
    def __init__(self):
        self.instances: dict[str, Instance] = {}

    def using_cluster(self, cluster_id: str, now: int) -> list[str]:
        """Instances on a dedicated pool that are not stopped, by name."""
        return ["notebook instance " + i.name for i in self.instances.values()
                if i.pool and i.pool.get("id") == cluster_id and i.status(now) != STOPPED]


# -- helpers ---------------------------------------------------------------------------------

def _instance(ctx) -> Instance:
    return find(ctx, ctx.state.instances, "instance_id", NOT_FOUND, "The instance does not exist.")


def _view(inst: Instance, now: int) -> dict:
    status = inst.status(now)
    auto_stop = dict(inst.auto_stop)
    annotations = dict(inst.annotations)
    if status == RUNNING:
        domain = "https://modelarts-notebook.%s.myhuaweicloud.com" % inst.region
        annotations.update(target_domain=domain,
                           url="%s/modelarts/hubv100/notebook/user/%s" % (domain, inst.id))
        if auto_stop["enable"]:
            stop_at = inst.progress.done_ms + auto_stop["duration"] * 1000
            auto_stop.update(stop_timestamp=stop_at, remain_time=(stop_at - now) // 1000)
    return {
        "id": inst.id, "name": inst.name, "description": inst.description, "status": status,
        "creation_timestamp": str(inst.created_ms),
        "latest_update_timestamp": str(inst.updated_ms),
        "profile": PROFILES[inst.profile_id], "flavor": inst.flavor,
        "flavor_details": FLAVORS[inst.flavor],
        "spec": {"storage": inst.storage, "auto_stop": auto_stop, "annotations": annotations,
                 "extend_storage": inst.extend_storage or None, "extend_params": None,
                 "failed_reasons": inst.failed_reasons, "repository": None},
        "workspace": {"id": inst.workspace_id}, "pool": inst.pool,
        "ai_project": {"id": "default-ai-project"},
        "error_code": inst.failed_reasons["code"] if inst.failed_reasons else None,
        "queuing_info": None, "user": inst.user,
    }


def _description(chk: Checker, body: dict, required=False) -> str:
    return chk.string(body, "description", required=required, max_len=512,
                      forbidden=DESCRIPTION_FORBIDDEN, default="")


def _storage(chk: Checker, spec: dict) -> dict:
    """OBS storage (a directory inside a bucket), or the EVS disk the documented examples show."""
    storage = chk.mapping(spec, "storage", required=True)
    kind = chk.choice(storage, "type", ("obs", "evs"), required=True)
    location = chk.mapping(storage, "location", required=kind == "obs")
    if kind == "obs":
        path = chk.string(location, "path", required=True, min_len=1, max_len=1024)
        return {"type": "obs", "location": {"path": chk.obs_path(path, "path")}}
    size = chk.integer(location, "volume_size", minimum=5, maximum=4096, default=5)
    return {"type": "evs", "location": {"path": "/home/ma-user/work", "volume_size": size}}


def _auto_stop(chk: Checker, spec: dict) -> dict:
    raw = chk.mapping(spec, "auto_stop")
    enable = chk.boolean(raw, "enable", False)
    duration = chk.integer(raw, "duration", required=enable, minimum=3600, maximum=86400)
    return {"enable": enable, "duration": duration, "prompt": chk.boolean(raw, "prompt", True)}


def _pool(ctx, chk: Checker, body: dict) -> dict | None:
    if body.get("pool") is None:
        return None
    pool = chk.mapping(body, "pool")
    pool_id = chk.string(pool, "id", required=True, min_len=1, max_len=64)
    cluster = v1jobs.running_cluster(ctx, chk, pool_id)
    return {"id": pool_id, "type": chk.string(pool, "type", default="USER_DEFINED"),
            "name": v1jobs.cluster_name(cluster),
            "owner": {"project_id": ctx.project.id}}


def _annotations(chk: Checker, spec: dict) -> dict:
    annotations = chk.mapping(spec, "annotations")
    for key, value in annotations.items():
        if not isinstance(value, str):
            chk.fail("Annotation %s must be a string." % key)
    return dict(annotations)


# -- handlers --------------------------------------------------------------------------------

@handler("CreateDevEnvInstance")
def create_instance(ctx):
    asked = ctx.body.get("name") if isinstance(ctx.body, dict) else None
    chk = Checker(INVALID, resource_name=asked if isinstance(asked, str) else None)
    body = chk.body(ctx.body)
    name = chk.name(body, "name", 64)
    profile_id = chk.choice(body, "profile_id", tuple(PROFILES), required=True)
    flavor = chk.choice(body, "flavor", tuple(FLAVORS), required=True)
    if FLAVORS[flavor]["type"] != PROFILES[profile_id]["flavor_type"]:
        chk.fail("Flavor %s does not fit profile %s (%s)." % (
            flavor, profile_id, PROFILES[profile_id]["flavor_type"]))
    description = _description(chk, body)
    spec = chk.mapping(body, "spec", required=True)
    storage = _storage(chk, spec)
    auto_stop = _auto_stop(chk, spec)
    annotations = _annotations(chk, spec)
    extend_storage = chk.array(spec, "extend_storage", max_len=5)
    workspace_id = chk.string(chk.mapping(body, "workspace"), "id", min_len=1, max_len=64,
                              default="0")
    pool = _pool(ctx, chk, body)
    chk.mapping(body, "ai_project")
    if any(i.name == name for i in ctx.state.instances.values()):
        chk.fail("The instance %s already exists." % name, DUPLICATE)
    user = ctx.caller.user if ctx.caller else None
    inst = Instance(
        id="DE-" + ctx.ids.uuid(), name=name, description=description, profile_id=profile_id,
        flavor=flavor, storage=storage, auto_stop=auto_stop, annotations=annotations,
        extend_storage=extend_storage, workspace_id=workspace_id, pool=pool,
        user={"id": user.id, "name": user.name} if user else None,
        region=ctx.settings.region, created_ms=ctx.now_ms, updated_ms=ctx.now_ms,
        operation="create", progress=None)
    OPERATIONS.begin(ctx, inst, "create")
    ctx.state.instances[inst.id] = inst
    return Reply.of(inst, _view(inst, ctx.now_ms))


@handler("DeleteDevEnvInstance")
def delete_instance(ctx):
    inst = _instance(ctx)
    if inst.status(ctx.now_ms) not in RESTING:
        Checker.of(inst, INVALID).fail("Stop the instance before deleting it.", STOP_FIRST)
    del ctx.state.instances[inst.id]
    return Reply.of(inst, {"instance_id": inst.id})


_START_REFUSALS = {RUNNING: (ALREADY_RUNNING, "The instance is already running."),
                   CREATING: (BEING_STARTED, "The instance is being started."),
                   STARTING: (BEING_STARTED, "The instance is being started."),
                   STOPPING: (BEING_STOPPED, "The instance is being stopped.")}
_STOP_REFUSALS = {STOPPED: (ALREADY_STOPPED, "The instance has already been stopped."),
                  CREATE_FAILED: (ALREADY_STOPPED, "The instance has already been stopped."),
                  START_FAILED: (ALREADY_STOPPED, "The instance has already been stopped."),
                  UNAVAILABLE: (ALREADY_STOPPED, "The instance has already been stopped."),
                  CREATING: (BEING_STARTED, "The instance is being started."),
                  STARTING: (BEING_STARTED, "The instance is being started."),
                  STOPPING: (BEING_STOPPED, "The instance is being stopped.")}


def _change(ctx, operation: str, refusals: dict) -> Reply:
    inst = _instance(ctx)
    previous = inst.status(ctx.now_ms)
    if previous in refusals:
        code, message = refusals[previous]
        Checker.of(inst, INVALID).fail(message, code)
    OPERATIONS.begin(ctx, inst, operation)
    return Reply.of(inst, {"current_status": inst.status(ctx.now_ms),
                           "previous_state": previous})


@handler("StartDevEnvInstance")
def start_instance(ctx):
    return _change(ctx, "start", _START_REFUSALS)


@handler("StopDevEnvInstance")
def stop_instance(ctx):
    return _change(ctx, "stop", _STOP_REFUSALS)


@handler("UpdateDevEnvInstance")
def update_instance(ctx):
    inst = _instance(ctx)
    chk = Checker.of(inst, INVALID)
    body = chk.body(ctx.body)
    inst.description = _description(chk, body, required=True)
    inst.updated_ms = ctx.now_ms
    return Reply.of(inst, _view(inst, ctx.now_ms))


@handler("ShowDevEnvInstance")
def show_instance(ctx):
    inst = _instance(ctx)
    return Reply.of(inst, _view(inst, ctx.now_ms))


_NUMBER = re.compile(r"^[0-9]{1,9}$")


def _query_number(chk: Checker, query, key: str) -> int:
    return query_int(query, key, 0, chk.fail, digits=_NUMBER,
                     not_integer="Parameter {key} must be an integer of 0 or more, not {raw!r}.")


@handler("ListDevEnvInstances")
def list_instances(ctx):
    chk = Checker(INVALID)
    q = {k: v for k, v in ctx.query.items() if v != ""}  # an empty parameter is no filter
    if q.get("de_type") is None:
        chk.fail("Parameter de_type is required.")
    chk.choice(q, "de_type", ("Notebook",))
    chk.choice(q, "provision_type", ("Docker",))
    status = chk.choice(q, "status", STATUSES)
    sort_by = chk.choice(q, "sortby", ("name", "creation_timestamp"), default="name")
    order = chk.choice(q, "order", ("asc", "desc"), default="asc")
    offset, limit = _query_number(chk, q, "offset"), _query_number(chk, q, "limit")
    now = ctx.now_ms
    items = list(ctx.state.instances.values())
    if status:
        items = [i for i in items if i.status(now) == status]
    if q.get("workspace_id"):
        items = [i for i in items if i.workspace_id == q["workspace_id"]]
    if q.get("pool_id"):
        items = [i for i in items if i.pool and i.pool["id"] == q["pool_id"]]
    key = (lambda i: (i.name, i.id)) if sort_by == "name" else (lambda i: (i.created_ms, i.id))
    items.sort(key=key, reverse=order == "desc")
    page = items[offset:offset + limit] if limit else items[offset:]  # limit 0: all
    return Reply(200, {"total_count": len(items), "instances": [_view(i, now) for i in page]})


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

@lifecycle_kind("devenv-instance", FAMILY)
def _instance_target(state: State, resource_id: str):
    inst = state.instances.get(resource_id)
    if inst is None:
        return None
    return OPERATIONS.target(inst)
