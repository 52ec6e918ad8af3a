"""Notebooks, the newer development environment API: /v1/{project_id}/notebooks
(modelarts-api.md 3.2 and 7.1; what huaweicloudsdkmodelarts calls).

Notebooks have uuid4 ids and run on the clock: create CREATING -> RUNNING; stop STOPPING ->
STOPPED; start STARTING -> RUNNING; delete DELETING -> gone (404 afterwards). Creating and
starting report a four-step ``action_progress`` read off the clock. A notebook runs under a
lease (``lease.create_at + lease.duration``, ms): a running notebook whose lease has expired
is STOPPED when next read (at the instant the lease ran out). Starting sets a new lease
(query ``duration`` 3600000-259200000 ms, ``type`` TIMING|IDLE); renewing (PATCH .../lease)
makes the lease run out ``duration`` ms after now. /_sim/lifecycle/fail ends the step under way
in CREATE_FAILED (create), START_FAILED (start), ERROR (stop) or DELETE_FAILED (delete) and
records the reason in ``fail_reason``.

Errors use the ModelArts dialect ``{"error_code", "error_msg"}``. Documented: ModelArts.0113
(notebook quota). Simulator choices (the reference has no notebook codes for them):
404 ModelArts.6404 not found, 400 ModelArts.0101 bad parameter, 409 ModelArts.6409 the
notebook's status does not allow the call. Names may repeat. See docs/api/notebooks.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.modelarts.lifecycle import Steps, lifecycle_kind
from simulator.modelarts.resources import Named, find, update_given
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "notebooks"
# seconds each asynchronous step takes in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "notebooks_create": 1.0,
    "notebooks_start": 1.0,
    "notebooks_stop": 1.0,
    "notebooks_delete": 1.0,
}
INIT, CREATING, STARTING, STOPPING = "INIT", "CREATING", "STARTING", "STOPPING"
DELETING, RUNNING, STOPPED = "DELETING", "RUNNING", "STOPPED"
CREATE_FAILED, START_FAILED, DELETE_FAILED = "CREATE_FAILED", "START_FAILED", "DELETE_FAILED"
ERROR, DELETED = "ERROR", "DELETED"
STATUSES = (INIT, CREATING, STARTING, STOPPING, DELETING, RUNNING, STOPPED, "SNAPSHOTTING",
            CREATE_FAILED, START_FAILED, DELETE_FAILED, ERROR, DELETED, "FROZEN")
STEPS = {  # operation -> (statuses, dwell time name, status when it fails)
    "create": ((CREATING, RUNNING), "notebooks_create", CREATE_FAILED),
    "start": ((STARTING, RUNNING), "notebooks_start", START_FAILED),
    "stop": ((STOPPING, STOPPED), "notebooks_stop", ERROR),
    "delete": ((DELETING, DELETED), "notebooks_delete", DELETE_FAILED),
}
OPERATIONS = Steps(FAMILY, STEPS, failure="fail_reason")
PROGRESS_STEPS = ("Preparing the storage", "Pulling the image", "Scheduling the instance",
                  "Starting the notebook service")

INVALID = "ModelArts.0101"
QUOTA_CODE = "ModelArts.0113"
NOT_FOUND = "ModelArts.6404"
CONFLICT = "ModelArts.6409"
QUOTA = 20  # billed notebooks per project (feature NOTEBOOK); DEFAULT (CodeLab): one
LEASE_MIN, LEASE_MAX, LEASE_DEFAULT = 3_600_000, 259_200_000, 3_600_000

NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fa5]+$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
POOL_ID = re.compile(r"^[a-z][a-z0-9-]{2,62}[a-z0-9]$")
DESCRIPTION_FORBIDDEN = set("<>")
CATEGORIES = ("EFS", "EVS", "OBS", "OBSFS")
OWNERSHIPS = ("MANAGED", "DEDICATED")
LEASE_TYPES = ("TIMING", "IDLE")
FEATURES = ("NOTEBOOK", "DEFAULT")


def _image(iid, name, tag, arch="x86_64"):
    return {"id": iid, "name": name, "tag": tag, "type": "BUILD_IN", "arch": arch,
            "swr_path": "swr.cn-north-4.myhuaweicloud.com/atelier/%s:%s" % (name, tag),
            "namespace": "atelier", "origin": "CUSTOMIZE", "service_type": "COMMON",
            "status": "ACTIVE", "visibility": "PUBLIC", "dev_services": ["NOTEBOOK", "SSH"],
            "workspace_id": "0"}


IMAGES = {i["id"]: i for i in (
    _image("e1a07296-22a8-4f05-8bc8-e936c8e54090", "notebook2.0-mul-kernel-cpu-cp36",
           "3.3.2-release-v1"),
    _image("278e88d1-5b71-4766-8502-b3ba72e824d9", "pytorch1.8-cuda10.2-cudnn7-ubuntu18.04",
           "2.0.2-release-v1"),
    _image("1a29e4c5-8f13-4bc5-a1b5-b4e6f6a86a20", "mindspore1.7.0-py3.7-ubuntu18.04",
           "2.0.0-release-v1", "aarch64"),
)}


def _flavor(fid, category, vcpus, memory_gb, gpu=None, arch="x86", free=False):
    return {"id": fid, "name": fid, "category": category, "arch": arch, "vcpus": vcpus,
            "memory": memory_gb * 1024, "free": free, "sold_out": False,
            "feature": "DEFAULT" if free else "NOTEBOOK",
            "description": "%s | %d vCPUs | %d GiB%s" % (
                category, vcpus, memory_gb, " | %d x %s" % (gpu[0], gpu[1]) if gpu else ""),
            "gpu": {"gpu": gpu[0], "gpu_memory": gpu[2], "type": gpu[1]} if gpu else None,
            "billing": {"code": fid, "unit_num": 1},
            "storages": ["EFS", "EVS", "OBS", "OBSFS"]}


FLAVORS = {f["id"]: f for f in (
    _flavor("modelarts.vm.cpu.free", "CPU", 1, 4, free=True),
    _flavor("modelarts.vm.cpu.2u", "CPU", 2, 8),
    _flavor("modelarts.vm.cpu.8u", "CPU", 8, 32),
    _flavor("modelarts.vm.gpu.tnt004", "GPU", 8, 32, (1, "T4", "16GB")),
    _flavor("modelarts.vm.gpu.pnt004", "GPU", 8, 64, (1, "P4", "8GB")),
    _flavor("modelarts.vm.gpu.v100", "GPU", 8, 64, (1, "V100", "32GB")),
)}
DEFAULT_FLAVOR = "modelarts.vm.cpu.2u"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Notebook(Named):
    id: str
    name: str
    description: str
    feature: str
    flavor: str
    image: dict
    volume: dict
    workspace_id: str
    pool: dict | None
    user: dict
    lease: dict  # {create_at, duration, enable, type, update_at}
    region: str
    created_ms: int
    updated_ms: int
    operation: str  # the step under way or last done: create | start | stop | delete
    progress: object  # lifecycle.Progress
    fail_reason: str | None = None

    def expires_at(self) -> int:
        return self.lease["create_at"] + self.lease["duration"]

    def status(self, now: int) -> str:
        p = self.progress
        if p.final == RUNNING and self.lease["enable"]:
            at = max(self.expires_at(), p.done_ms)
            if at <= now:
                p.finish_at(at, STOPPED)
                self.operation, self.updated_ms = "stop", at
        return p.status(now)


class State:
    def __init__(self):
        self.notebooks: dict[str, Notebook] = {}

    def live(self, now: int) -> list[Notebook]:
        """Notebooks not yet gone (a finished delete removes them)."""
        for nb in list(self.notebooks.values()):
            if nb.status(now) == DELETED:
                del self.notebooks[nb.id]
        return list(self.notebooks.values())


# -- helpers ---------------------------------------------------------------------------------

def _notebook(ctx) -> Notebook:
    ctx.state.live(ctx.now_ms)  # a finished delete removes the notebook
    return find(ctx, ctx.state.notebooks, "id", NOT_FOUND, "The notebook {} does not exist.", 404)


def _action_progress(nb: Notebook, status: str, now: int) -> list:
    if nb.operation not in ("create", "start"):
        return []
    n = len(PROGRESS_STEPS)
    if status == RUNNING:
        states = ["COMPLETED"] * n
    else:
        done = min(int(nb.progress.fraction(now) * n), n - 1)
        current = "FAILED" if status in (CREATE_FAILED, START_FAILED) else "PROCESSING"
        states = ["COMPLETED"] * done + [current] + ["WAITING"] * (n - done - 1)
    return [{"step": i + 1, "status": s, "description": d}
            for i, (s, d) in enumerate(zip(states, PROGRESS_STEPS))]


def _view(nb: Notebook, now: int) -> dict:
    status = nb.status(now)
    body = {
        "id": nb.id, "name": nb.name, "description": nb.description, "status": status,
        "feature": nb.feature, "flavor": nb.flavor,
        "action_progress": _action_progress(nb, status, now),
        "image": dict(nb.image), "lease": dict(nb.lease), "volume": dict(nb.volume),
        "workspace_id": nb.workspace_id, "user": dict(nb.user), "billing_items": ["ALL"],
    }
    if nb.pool is not None:
        body["pool"] = dict(nb.pool)
    if nb.fail_reason:
        body["fail_reason"] = nb.fail_reason
    if status == RUNNING:
        body["url"] = "https://authoring-modelarts-%s.huaweicloud.com/%s/lab" % (
            nb.region.replace("-", ""), nb.id)
    return body


def _description(chk: Checker, body: dict) -> str:
    return chk.string(body, "description", max_len=512, forbidden=DESCRIPTION_FORBIDDEN,
                      default="")


def _volume(chk: Checker, body: dict) -> dict:
    raw = chk.mapping(body, "volume", required=True)
    category = chk.choice(raw, "category", CATEGORIES, required=True)
    ownership = chk.choice(raw, "ownership", OWNERSHIPS, required=True)
    capacity = chk.integer(raw, "capacity", minimum=5, maximum=4096,
                           default=5 if category == "EVS" else None)
    uri = chk.string(raw, "uri", min_len=1, max_len=1024,
                     required=ownership == "DEDICATED" and category in ("OBS", "OBSFS"))
    volume = {"category": category, "ownership": ownership,
              "mount_path": chk.string(raw, "mount_path", min_len=1, max_len=256,
                                       default="/home/ma-user/work/"),
              "read_only": chk.boolean(raw, "read_only", False), "status": "MOUNTED"}
    if capacity is not None:
        volume["capacity"] = capacity
    if uri is not None:
        volume["uri"] = uri
    vid = chk.string(raw, "id", min_len=1, max_len=64)
    if vid is not None:
        volume["id"] = vid
    return volume


def _lease_request(chk: Checker, raw: dict, key_duration="duration", key_type="type"):
    duration = chk.integer(raw, key_duration, minimum=LEASE_MIN, maximum=LEASE_MAX)
    kind = chk.choice(raw, key_type, LEASE_TYPES)
    return duration, kind


def _query_lease(chk: Checker, query) -> tuple[int | None, str | None]:
    raw = {}
    d = query.get("duration")
    if d not in (None, ""):
        if not re.match(r"^[0-9]{1,12}$", d):
            chk.fail("Parameter duration must be an integer number of milliseconds, not %r." % d)
        raw["duration"] = int(d)
    t = query.get("type")
    if t not in (None, ""):
        raw["type"] = t
    return _lease_request(chk, raw)


def _new_lease(now: int, duration: int | None, kind: str | None) -> dict:
    return {"create_at": now, "duration": duration or LEASE_DEFAULT, "enable": True,
            "type": kind or "TIMING", "update_at": now}


def _image_of(chk: Checker, body: dict, required: bool) -> dict | None:
    image_id = chk.string(body, "image_id", required=required, min_len=36, max_len=36)
    if image_id is None:
        return None
    if not UUID.match(image_id):
        chk.fail("Parameter image_id must be a UUID, not %r." % image_id)
    known = IMAGES.get(image_id.lower())
    if known is not None:
        return dict(known)
    return {"id": image_id.lower(), "name": "custom-image", "tag": "latest", "type": "DEDICATED",
            "arch": "x86_64", "swr_path": "swr.cn-north-4.myhuaweicloud.com/custom/"
            "custom-image:latest", "namespace": "custom", "origin": "CUSTOMIZE",
            "service_type": "COMMON", "status": "ACTIVE", "visibility": "PRIVATE",
            "dev_services": ["NOTEBOOK", "SSH"], "workspace_id": "0"}


# -- handlers --------------------------------------------------------------------------------

@handler("CreateNotebook")
def create_notebook(ctx):
    asked = ctx.body.get("name") if isinstance(ctx.body, dict) else None
    chk = Checker(INVALID, resource_name=asked if isinstance(asked, str) else None)
    body = chk.body(ctx.body)
    name = chk.string(body, "name", required=True, min_len=1, max_len=128, pattern=NAME)
    image = _image_of(chk, body, required=True)
    volume = _volume(chk, body)
    feature = chk.choice(body, "feature", FEATURES, default="NOTEBOOK")
    flavor = chk.choice(body, "flavor", tuple(FLAVORS),
                        default="modelarts.vm.cpu.free" if feature == "DEFAULT" else DEFAULT_FLAVOR)
    if FLAVORS[flavor]["free"] != (feature == "DEFAULT"):
        chk.fail("Flavor %s cannot be used for a %s notebook." % (flavor, feature))
    description = _description(chk, body)
    workspace_id = chk.string(body, "workspace_id", min_len=1, max_len=64, default="0")
    pool_id = chk.string(body, "pool_id", min_len=4, max_len=64, pattern=POOL_ID)
    duration, kind = _lease_request(chk, chk.mapping(body, "lease"))
    top = chk.integer(body, "duration", minimum=LEASE_MIN, maximum=LEASE_MAX)
    for key in ("endpoints", "data_volumes"):
        chk.array(body, key)
    for key in ("custom_spec", "hooks", "affinity", "run_user", "user_vpc",
                "public_network_config"):
        chk.mapping(body, key)
    live = ctx.state.live(ctx.now_ms)
    if feature == "DEFAULT" and any(nb.feature == "DEFAULT" for nb in live):
        chk.fail("Only one free CodeLab notebook (feature DEFAULT) may exist.", QUOTA_CODE)
    if feature == "NOTEBOOK" and sum(nb.feature == "NOTEBOOK" for nb in live) >= QUOTA:
        chk.fail("The notebook quota (%d) is used up." % QUOTA, QUOTA_CODE)
    user = ctx.caller.user if ctx.caller else None
    nb = Notebook(
        id=ctx.ids.uuid(), name=name, description=description, feature=feature, flavor=flavor,
        image=image, volume=volume, workspace_id=workspace_id,
        pool={"id": pool_id, "name": pool_id} if pool_id else None,
        user={"id": user.id, "name": user.name,
              "domain": {"id": user.domain.id, "name": user.domain.name}} if user else {},
        lease=_new_lease(ctx.now_ms, duration or top, kind), region=ctx.settings.region,
        created_ms=ctx.now_ms, updated_ms=ctx.now_ms, operation="create", progress=None)
    OPERATIONS.begin(ctx, nb, "create")
    ctx.state.notebooks[nb.id] = nb
    return Reply.of(nb, _view(nb, ctx.now_ms))


@handler("ShowNotebook")
def show_notebook(ctx):
    nb = _notebook(ctx)
    return Reply.of(nb, _view(nb, ctx.now_ms))


_SORT_KEYS = {"name": lambda nb, st: nb.name, "status": lambda nb, st: st[nb.id],
              "create_at": lambda nb, st: nb.created_ms, "update_at": lambda nb, st: nb.updated_ms,
              "flavor": lambda nb, st: nb.flavor}
_FUZZY = ("name", "description")
_EXACT = {"status": lambda nb, now: nb.status(now), "workspace_id": lambda nb, now: nb.workspace_id,
          "feature": lambda nb, now: nb.feature, "flavor": lambda nb, now: nb.flavor,
          "image_id": lambda nb, now: nb.image["id"], "id": lambda nb, now: nb.id,
          "pool_id": lambda nb, now: (nb.pool or {}).get("id"),
          "owner": lambda nb, now: nb.user.get("id"),
          "username": lambda nb, now: nb.user.get("name")}


def _list(ctx, mine: bool) -> Reply:
    chk = Checker(INVALID)
    q = {k: v for k, v in ctx.query.items() if v != ""}  # an empty parameter is no filter
    limit = q.get("limit", "10")
    if limit not in ("10", "20", "50"):
        chk.fail("Parameter limit must be one of 10, 20, 50, not %r." % limit)
    limit = int(limit)
    offset = q.get("offset", "0")
    if not re.match(r"^[0-9]{1,9}$", offset):
        chk.fail("Parameter offset must be an integer of 0 or more, not %r." % offset)
    offset = int(offset)
    chk.choice(q, "status", STATUSES)
    chk.choice(q, "feature", FEATURES)
    chk.string(q, "name", max_len=128, pattern=NAME)
    sort_dir = q.get("sort_dir", "DESC")
    if sort_dir not in ("ASC", "DESC"):
        chk.fail("Parameter sort_dir must be ASC or DESC, not %r." % sort_dir)
    sort_keys = q.get("sort_key", "create_at").split(",")
    for key in sort_keys:
        if key not in _SORT_KEYS:
            chk.fail("Parameter sort_key must name fields among %s, not %r." % (
                ", ".join(_SORT_KEYS), key))
    now = ctx.now_ms
    items = ctx.state.live(now)
    if mine and ctx.caller is not None:
        items = [nb for nb in items if nb.user.get("id") == ctx.caller.user.id]
    for key in _FUZZY:
        if key in q:
            items = [nb for nb in items if q[key].lower() in getattr(nb, key).lower()]
    for key, get in _EXACT.items():
        if key in q:
            items = [nb for nb in items if get(nb, now) == q[key]]
    statuses = {nb.id: nb.status(now) for nb in items}
    items = [nb for _, nb in sorted(
        enumerate(items),
        key=lambda p: (tuple(_SORT_KEYS[k](p[1], statuses) for k in sort_keys), p[0]),
        reverse=sort_dir == "DESC")]
    shown = items[offset:offset + limit]
    return Reply(200, {"current": offset // limit, "data": [_view(nb, now) for nb in shown],
                       "pages": -(-len(items) // limit), "size": limit, "total": len(items)})


@handler("ListNotebooks")
def list_notebooks(ctx):
    return _list(ctx, mine=True)


@handler("ListAllNotebooks")
def list_all_notebooks(ctx):
    return _list(ctx, mine=False)


@handler("UpdateNotebook")
def update_notebook(ctx):
    nb = _notebook(ctx)
    chk = Checker.of(nb, INVALID)
    body = chk.body(ctx.body)
    name = chk.string(body, "name", min_len=1, max_len=128, pattern=NAME)
    description = chk.string(body, "description", max_len=512, forbidden=DESCRIPTION_FORBIDDEN)
    flavor = chk.choice(body, "flavor", tuple(FLAVORS))
    image = _image_of(chk, body, required=False)
    size = chk.integer(body, "storage_new_size", minimum=5, maximum=4096)
    for key in ("endpoints", "data_volumes"):
        chk.array(body, key)
    for key in ("custom_spec", "hooks", "affinity", "public_network_config"):
        chk.mapping(body, key)
    chk.string(body, "dew_secret_name", max_len=128)
    status = nb.status(ctx.now_ms)
    if status in (DELETING,):
        chk.fail("The notebook is being deleted.", CONFLICT, 409)
    if (flavor is not None and flavor != nb.flavor) or image is not None:
        if status != STOPPED:
            chk.fail("Stop the notebook before changing its flavor or image (status %s)."
                     % status, CONFLICT, 409)
        if flavor is not None and FLAVORS[flavor]["free"] != (nb.feature == "DEFAULT"):
            chk.fail("Flavor %s cannot be used for a %s notebook." % (flavor, nb.feature))
    if size is not None:
        if nb.volume["category"] != "EVS":
            chk.fail("Only an EVS volume can be resized.")
        if size < nb.volume.get("capacity", 5):
            chk.fail("Parameter storage_new_size must not be smaller than the volume (%d GB)."
                     % nb.volume.get("capacity", 5))
    update_given(nb, name=name, description=description, flavor=flavor, image=image)
    if size is not None:
        nb.volume["capacity"] = size
    nb.updated_ms = ctx.now_ms
    return Reply.of(nb, _view(nb, ctx.now_ms))


@handler("DeleteNotebook")
def delete_notebook(ctx):
    nb = _notebook(ctx)
    if nb.status(ctx.now_ms) == DELETING:
        Checker.of(nb, INVALID).fail("The notebook is being deleted.", CONFLICT, 409)
    OPERATIONS.begin(ctx, nb, "delete")
    return Reply.of(nb, _view(nb, ctx.now_ms))


_START_REFUSALS = {RUNNING: "The notebook is already running.",
                   CREATING: "The notebook is being started.",
                   STARTING: "The notebook is being started.",
                   STOPPING: "The notebook is being stopped.",
                   DELETING: "The notebook is being deleted.",
                   CREATE_FAILED: "A notebook that failed to be created cannot be started.",
                   DELETE_FAILED: "A notebook that failed to be deleted cannot be started."}
_STOP_REFUSALS = {STOPPED: "The notebook has already been stopped.",
                  START_FAILED: "The notebook has already been stopped.",
                  CREATE_FAILED: "The notebook has already been stopped.",
                  DELETE_FAILED: "The notebook has already been stopped.",
                  CREATING: "The notebook is being started.",
                  STARTING: "The notebook is being started.",
                  STOPPING: "The notebook is being stopped.",
                  DELETING: "The notebook is being deleted."}


@handler("StartNotebook")
def start_notebook(ctx):
    nb = _notebook(ctx)
    chk = Checker.of(nb, INVALID)
    duration, kind = _query_lease(chk, ctx.query)
    status = nb.status(ctx.now_ms)
    if status in _START_REFUSALS:
        chk.fail(_START_REFUSALS[status], CONFLICT, 409)
    OPERATIONS.begin(ctx, nb, "start")
    nb.lease = _new_lease(ctx.now_ms, duration, kind)
    return Reply.of(nb, _view(nb, ctx.now_ms))


@handler("StopNotebook")
def stop_notebook(ctx):
    nb = _notebook(ctx)
    status = nb.status(ctx.now_ms)
    if status in _STOP_REFUSALS:
        Checker.of(nb, INVALID).fail(_STOP_REFUSALS[status], CONFLICT, 409)
    OPERATIONS.begin(ctx, nb, "stop")
    return Reply.of(nb, _view(nb, ctx.now_ms))


@handler("ShowLease")
def show_lease(ctx):
    nb = _notebook(ctx)
    nb.status(ctx.now_ms)
    return Reply.of(nb, dict(nb.lease))


@handler("RenewLease")
def renew_lease(ctx):
    nb = _notebook(ctx)
    chk = Checker.of(nb, INVALID)
    duration, _ = _query_lease(chk, {"duration": ctx.query.get("duration")})
    kind = "TIMING" if duration is not None else None
    if duration is None:
        body = chk.body(ctx.body)
        duration, kind = _lease_request(chk, body)
        if duration is None:
            chk.fail("Parameter duration is required.")
    status = nb.status(ctx.now_ms)
    if status not in (CREATING, STARTING, RUNNING):
        chk.fail("Only a running notebook's lease can be renewed (status %s)." % status,
                 CONFLICT, 409)
    now = ctx.now_ms
    nb.lease.update(duration=now - nb.lease["create_at"] + duration, update_at=now,
                    type=kind or nb.lease["type"])
    return Reply.of(nb, dict(nb.lease))


@handler("ListFlavors")
def list_flavors(ctx):
    chk = Checker(INVALID)
    q = {k: v for k, v in ctx.query.items() if v != ""}
    category = chk.choice(q, "category", ("CPU", "GPU", "ASCEND"))
    feature = chk.choice(q, "feature", FEATURES)
    chk.choice(q, "type", OWNERSHIPS)
    chk.choice(q, "sort_dir", ("ASC", "DESC"))
    items = [f for f in FLAVORS.values()
             if (category is None or f["category"] == category)
             and (feature is None or f["feature"] == feature)]
    offset = q.get("offset", "0")
    limit = q.get("limit", str(max(len(items), 1)))
    for key, raw in (("offset", offset), ("limit", limit)):
        if not re.match(r"^[0-9]{1,9}$", raw):
            chk.fail("Parameter %s must be an integer of 0 or more, not %r." % (key, raw))
    offset, limit = int(offset), max(int(limit), 1)
    shown = [dict(f) for f in items[offset:offset + limit]]
    return Reply(200, {"current": offset // limit, "data": shown,
                       "pages": -(-len(items) // limit), "size": limit, "total": len(items)})


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

@lifecycle_kind("notebook", FAMILY)
def _notebook_target(state: State, resource_id: str):
    nb = state.notebooks.get(resource_id)
    if nb is None:
        return None
    return OPERATIONS.target(nb)
