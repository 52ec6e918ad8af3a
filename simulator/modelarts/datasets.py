"""Data management: /v2/{project_id}/datasets (shared/reference/modelarts-api.md section 2).

Every audited call names the dataset (resource_id = dataset id, resource_name = its name).
Not-found is HTTP 400 here, as the real API answers (ModelArts.4352).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
from dataclasses import dataclass, field

from simulator.modelarts import dataset_files
from simulator.modelarts.dataset_files import Found, ManifestError
from simulator.modelarts.lifecycle import Progress, Target, lifecycle_kind, watch_callback
from simulator.modelarts.listing import ordered
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import NAME, Checker, page
from simulator.obs.files import split
from simulator.querystring import query_int
from simulator.registry import Reply, handler

FAMILY = "datasets"
# seconds each asynchronous step takes in "time" mode ([lifecycle] in the settings overrides)
DWELL = {
    "dataset_create": 1.0,
    "dataset_import": 1.5,
    "dataset_export": 1.5,
    "dataset_sync": 1.5,
    "dataset_version": 1.5,
}

DATASET_TYPES = {0, 1, 3, 100, 101, 102, 200, 201, 202, 400, 600, 900}
TEXT_TYPES = {100, 101, 102}
DATA_TYPES = {0, 1, 2, 3, 4, 5, 6}
SAMPLE_TYPES = {0, 1, 2, 4, 6, 9}
# dataset status codes
CREATING, NORMAL, ABNORMAL, SYNCING, PUBLISHING, IMPORTING = 0, 1, 4, 5, 6, 8
TASK_STATUSES = ("QUEUING", "STARTING", "RUNNING", "COMPLETED")
EXPORT_STATUSES = ("INIT", "RUNNING", "SUCCESSED")
VERSION_STATUSES = (0, 1)  # creating -> normal
VERSION_FAILED = 4
LABELED, UNLABELED = "__ALL__", "__NONE__"
VERSION_INTERVAL_MS = 60_000  # one version a minute (ModelArts.4370)

INVALID = "ModelArts.4396"
NOT_FOUND = "ModelArts.4352"
NAME_TAKEN = "ModelArts.4351"
NO_BUCKET = "ModelArts.4311"  # "OBS bucket does not exist"
NO_VALID_FILE = "ModelArts.4340"  # "Import path does not contain valid file"
INVALID_PATH = "ModelArts.4374"  # "Invalid path": no such manifest
IMPORT_ERROR = "ModelArts.4362"  # "Import data error"
SYNC_ERROR = "ModelArts.4360"  # "Sync data source error"
FAILED_TASK = "ModelArts.4399"  # a task failed through /_sim/lifecycle (the simulator's own)
MAX_COPY = 1 << 30  # bytes of one sample an export copies


# -- state -----------------------------------------------------------------------------------

@dataclass
class Task:
    id: str
    kind: str  # import | export | sync
    progress: object  # lifecycle.Progress
    created_ms: int
    details: dict = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (error_code, error_msg) once failed


@dataclass
class Version:
    id: str
    name: str
    description: str
    created_ms: int
    progress: object  # lifecycle.Progress
    total: int
    annotated: int
    options: dict
    sample_ids: tuple = ()  # the samples it was published with (its manifest's records)


@dataclass
class Sample:
    id: str
    name: str
    sample_type: int
    labels: list
    metadata: dict
    source: str
    created_ms: int
    size: int


@dataclass
class Dataset(Named):
    id: str
    name: str
    dataset_type: int
    description: str
    data_sources: list
    work_path: str
    work_path_type: int
    workspace_id: str
    data_format: str
    created_ms: int
    updated_ms: int
    creation: object  # lifecycle.Progress
    labels: dict = field(default_factory=dict)  # name -> label object
    versions: dict = field(default_factory=dict)  # id -> Version (insertion order = age)
    current_version_id: str | None = None
    samples: dict = field(default_factory=dict)  # id -> Sample
    tasks: dict = field(default_factory=dict)  # id -> Task
    sync_task_id: str | None = None

    def running(self, kind: str, now: int) -> Task | None:
        for task in self.tasks.values():
            if task.kind == kind and not task.progress.done(now):
                return task
        return None

    def status(self, now: int) -> int:
        if not self.creation.done(now):
            return CREATING
        if self.creation.final == ABNORMAL:
            return ABNORMAL
        if any(not v.progress.done(now) for v in self.versions.values()):
            return PUBLISHING
        if self.running("import", now):
            return IMPORTING
        if self.running("sync", now):
            return SYNCING
        return NORMAL

    def annotated(self) -> int:
        return sum(1 for s in self.samples.values() if s.labels)


class State:
    def __init__(self):
        self.datasets: dict[str, Dataset] = {}


# -- helpers ---------------------------------------------------------------------------------

def _dataset(ctx) -> Dataset:
    return find(ctx, ctx.state.datasets, "dataset_id", NOT_FOUND, "Dataset {} does not exist.")


def _progress(ctx, dwell: str, statuses: tuple):
    return ctx.sim.lifecycles.progress(FAMILY, dwell, statuses, ctx.now_ms)


def _label(chk: Checker, raw, dataset_type: int) -> dict:
    if not isinstance(raw, dict):
        chk.fail("Each label must be an object.")
    name = chk.string(raw, "name", required=True, min_len=1, max_len=1024)
    ltype = chk.integer(raw, "type", default=dataset_type)
    prop = chk.mapping(raw, "property")
    for key in prop:
        if not str(key).startswith("@modelarts:"):
            chk.fail("Label property keys start with @modelarts:, not %r." % key)
    attributes = chk.array(raw, "attributes")
    return {"name": name, "type": ltype, "property": dict(prop), "attributes": attributes}


def _view_label(label: dict, ds: Dataset) -> dict:
    return dict(label)


def _view_dataset(ds: Dataset, now: int) -> dict:
    current = ds.versions.get(ds.current_version_id) if ds.current_version_id else None
    return {
        "dataset_id": ds.id,
        "dataset_name": ds.name,
        "dataset_type": ds.dataset_type,
        "data_format": ds.data_format,
        "status": ds.status(now),
        "description": ds.description,
        "data_sources": ds.data_sources,
        "work_path": ds.work_path,
        "work_path_type": ds.work_path_type,
        "workspace_id": ds.workspace_id,
        "labels": [dict(v) for v in ds.labels.values()],
        "current_version_id": current.id if current else "",
        "current_version_name": current.name if current else "",
        "dataset_version_count": len(ds.versions),
        "total_sample_count": len(ds.samples),
        "annotated_sample_count": ds.annotated(),
        "unconfirmed_sample_count": 0,
        "deleted_sample_count": 0,
        "create_time": ds.created_ms,
        "update_time": ds.updated_ms,
    }


def _view_version(ds: Dataset, v: Version, now: int) -> dict:
    out = {
        "version_id": v.id,
        "version_name": v.name,
        "status": v.progress.status(now),
        "description": v.description,
        "create_time": v.created_ms,
        "total_sample_count": v.total,
        "annotated_sample_count": v.annotated,
        "is_current": ds.current_version_id == v.id,
        "manifest_path": _manifest_path(ds, v),
    }
    out.update(v.options)
    return out


def _view_sample(s: Sample) -> dict:
    return {
        "sample_id": s.id,
        "sample_name": s.name,
        "sample_type": s.sample_type,
        "sample_status": LABELED if s.labels else UNLABELED,
        "labels": s.labels,
        "metadata": s.metadata,
        "source": s.source,
        "sample_time": s.created_ms,
        "sample_size": s.size,
    }


def _view_task(ds: Dataset, task: Task, now: int) -> dict:
    status = task.progress.status(now)
    done = task.progress.done(now)
    elapsed = round(max(0, min(now, task.progress.done_ms) - task.created_ms) / 1000)
    if task.kind == "import":
        return {"task_id": task.id, "dataset_id": ds.id, "status": status,
                "import_path": task.details["import_path"],
                "import_type": task.details["import_type"],
                "imported_sample_count": task.details["count"] if done else 0,
                "annotated_sample_count": task.details.get("annotated", 0) if done else 0,
                "total_sample_count": task.details.get("total", task.details["count"]),
                "elapsed_time": elapsed, "create_time": task.created_ms,
                "update_ms": min(now, task.progress.done_ms),
                "error_code": _err(task, 0), "error_msg": _err(task, 1)}
    if task.kind == "export":
        total = task.details["total"]
        finished = task.details["finished"] if "finished" in task.details else \
            int(total * task.progress.fraction(now))
        return {"task_id": task.id, "dataset_id": ds.id, "status": status,
                "path": task.details["path"], "export_type": task.details["export_type"],
                "export_format": task.details["export_format"],
                "version_id": task.details.get("version_id"),
                "progress": round(task.progress.fraction(now) * 100, 1),
                "total_sample_count": total, "finished_sample_count": finished,
                "create_time": task.created_ms, "update_time": min(now, task.progress.done_ms),
                "error_code": _err(task, 0), "error_msg": _err(task, 1)}
    return {"dataset_id": ds.id, "task_id": task.id, "status": status,
            "add_sample_count": task.details.get("added", 0),
            "deleted_sample_count": task.details.get("deleted", 0),
            "total_sample_count": len(ds.samples), "create_time": task.created_ms,
            "duration_time": elapsed}


def _err(task: Task, i: int):
    return task.error[i] if task.error else None


def _new_task(ctx, ds: Dataset, kind: str, statuses, dwell: str, task_id: str, **details) -> Task:
    task = Task(task_id, kind, _progress(ctx, dwell, statuses), ctx.now_ms, details)
    ds.tasks[task.id] = task
    return task


# -- datasets --------------------------------------------------------------------------------

@handler("CreateDataset")
def create_dataset(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    # a refused create still names what the caller asked for
    asked = body.get("dataset_name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = chk.name(body, "dataset_name", 100)
    dataset_type = chk.integer(body, "dataset_type", choices=DATASET_TYPES, default=0)
    description = chk.description(body)
    sources = chk.array(body, "data_sources", required=True, min_len=1)
    clean_sources = []
    for raw in sources:
        if not isinstance(raw, dict):
            chk.fail("Each data source must be an object.")
        data_type = chk.integer(raw, "data_type", choices=DATA_TYPES, default=0)
        path = chk.string(raw, "data_path", required=data_type == 0)
        if data_type == 0:
            path = chk.obs_path(path, "data_path")
        src = dict(raw)
        src.update({"data_type": data_type, "data_path": path})
        clean_sources.append(src)
    work_path = chk.obs_path(chk.string(body, "work_path", required=True, min_len=3,
                                        max_len=700), "work_path")
    for src in clean_sources:
        if src["data_type"] == 0 and work_path.startswith(src["data_path"]):
            chk.fail("Parameter work_path must not be inside the input path %s." %
                     src["data_path"])
    work_path_type = chk.integer(body, "work_path_type", required=True, choices={0})
    workspace_id = chk.string(body, "workspace_id", default="0")
    data_format = chk.choice(body, "data_format", ("Default", "CarbonData"), default="Default")
    if dataset_type == 400 and not chk.array(body, "schema"):
        chk.fail("Parameter schema is required for table datasets.")
    labels = [_label(chk, raw, dataset_type) for raw in chk.array(body, "labels")]
    annotations = chk.boolean(body, "import_annotations", True)

    state = ctx.state
    if any(d.name == name for d in state.datasets.values()):
        chk.fail("Dataset %s already exists." % name, NAME_TAKEN)
    obs_sources = [src["data_path"] for src in clean_sources if src["data_type"] == 0]
    for path in obs_sources + [work_path]:
        _need_bucket(chk, ctx.sim, path)
    ds = Dataset(id=ctx.ids.alnum(19), name=name, dataset_type=dataset_type,
                 description=description, data_sources=clean_sources, work_path=work_path,
                 work_path_type=work_path_type, workspace_id=workspace_id,
                 data_format=data_format, created_ms=ctx.now_ms, updated_ms=ctx.now_ms,
                 creation=_progress(ctx, "dataset_create", (CREATING, NORMAL)))
    for label in labels:
        ds.labels[label["name"]] = label
    state.datasets[ds.id] = ds
    # the data source is imported as the dataset is created
    first = clean_sources[0]
    task = _new_task(ctx, ds, "import", TASK_STATUSES, "dataset_create",
                     "%s_%s" % (ds.id, ctx.ids.alnum(19)),
                     import_path=first.get("data_path") or "", import_type=0, count=0,
                     total=_takes_count(ctx.sim, obs_sources, dataset_type),
                     paths=obs_sources, annotations=annotations)
    ctx.sim.watch(task.progress,
                  functools.partial(_import_finished, ctx.project.id, ds.id, task.id))
    return Reply.of(ds, {"dataset_id": ds.id, "import_task_id": task.id}, 201)


@handler("DeleteDataset")
def delete_dataset(ctx):
    ds = _dataset(ctx)
    del ctx.state.datasets[ds.id]
    return Reply.of(ds, status=204)


@handler("UpdateDataset")
def update_dataset(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body)
    name = chk.name(body, "dataset_name", 100, required=False)
    description = chk.string(body, "description", max_len=256,
                             forbidden=set('^!<>=&"'))
    version_id = chk.string(body, "current_version_id")
    add = [_label(chk, raw, ds.dataset_type) for raw in chk.array(body, "add_labels")]
    update = [_label(chk, raw, ds.dataset_type) for raw in chk.array(body, "update_labels")]
    delete = [_label(chk, raw, ds.dataset_type) for raw in chk.array(body, "delete_labels")]
    if name and name != ds.name and any(d.name == name for d in ctx.state.datasets.values()):
        chk.fail("Dataset %s already exists." % name, NAME_TAKEN)
    if version_id and version_id not in ds.versions:
        chk.fail("Dataset version %s does not exist." % version_id, "ModelArts.4353")
    for label in add:
        if label["name"] in ds.labels:
            chk.fail("Label %s already exists." % label["name"], "ModelArts.4411")
    for label in update + delete:
        if label["name"] not in ds.labels:
            chk.fail("Label %s does not exist." % label["name"], "ModelArts.4410")
    # checks done: apply
    old_name = ds.name
    if name:
        ds.name = name
    if description is not None:
        ds.description = description
    if version_id:
        ds.current_version_id = version_id
    for label in add + update:
        ds.labels[label["name"]] = label
    for label in delete:
        ds.labels.pop(label["name"], None)
    ds.updated_ms = ctx.now_ms
    reply = Reply.of(ds, {"dataset_id": ds.id})
    reply.resource_name = ds.name if name else old_name
    return reply


@handler("ListDatasets")
def list_datasets(ctx):
    chk = Checker(INVALID)
    offset, limit = page(ctx.query, chk)
    q = ctx.query
    items = list(ctx.state.datasets.values())
    if q.get("search_content"):
        items = [d for d in items if q["search_content"].lower() in d.name.lower()]
    wanted = query_int(q, "dataset_type", None, chk.fail)
    if wanted is not None:
        items = [d for d in items if d.dataset_type == wanted]
    if q.get("workspace_id"):
        items = [d for d in items if d.workspace_id == q["workspace_id"]]
    items = ordered(items, q, chk, {"create_time": lambda d: d.created_ms,
                                    "dataset_name": lambda d: d.name}, "create_time")
    now = ctx.now_ms
    return Reply(200, {"datasets": [_view_dataset(d, now) for d in items[offset:offset + limit]],
                       "total_number": len(items)})


@handler("ShowDataset")
def show_dataset(ctx):
    ds = _dataset(ctx)
    return Reply.of(ds, _view_dataset(ds, ctx.now_ms))


# -- versions --------------------------------------------------------------------------------

@handler("CreateDatasetVersion")
def publish_version(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body, required=False)
    name = chk.string(body, "version_name", min_len=1, max_len=32, pattern=NAME)
    description = chk.description(body)
    fmt = chk.choice(body, "version_format", ("Default", "CarbonData", "CSV"), default="Default")
    ratio = chk.string(body, "train_evaluate_sample_ratio", default="1.00")
    try:
        if not 0 <= float(ratio) <= 1:
            raise ValueError
    except ValueError:
        chk.fail("Parameter train_evaluate_sample_ratio must be a number from 0 to 1.")
    options = {
        "version_format": fmt,
        "train_evaluate_sample_ratio": ratio,
        "clear_hard_property": chk.boolean(body, "clear_hard_property", True),
        "remove_sample_usage": chk.boolean(body, "remove_sample_usage", True),
        "export_images": chk.boolean(body, "export_images", False),
    }
    if ds.status(ctx.now_ms) == CREATING:
        chk.fail("Dataset %s is still being created." % ds.name)
    if name is None:
        name = "V%03d" % (len(ds.versions) + 1)
        while any(v.name == name for v in ds.versions.values()):
            name = name + "_1"
    if any(v.name == name for v in ds.versions.values()):
        chk.fail("Dataset version %s already exists." % name, "ModelArts.4371")
    latest = max((v.created_ms for v in ds.versions.values()), default=None)
    if latest is not None and ctx.now_ms - latest < VERSION_INTERVAL_MS:
        chk.fail("Only one version can be published per minute.", "ModelArts.4370")
    version = Version(ctx.ids.alnum(19), name, description, ctx.now_ms,
                      _progress(ctx, "dataset_version", VERSION_STATUSES),
                      len(ds.samples), ds.annotated(), options, tuple(ds.samples))
    ds.versions[version.id] = version
    ctx.sim.watch(version.progress,
                  functools.partial(_published, ctx.project.id, ds.id, version.id))
    ds.current_version_id = version.id
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, {"version_id": version.id}, 201)


def _version(ctx, ds: Dataset) -> Version:
    return find(ctx, ds.versions, "version_id", "ModelArts.4353",
                "Dataset version {} does not exist.", owner=ds)


@handler("DeleteDatasetVersion")
def delete_version(ctx):
    ds = _dataset(ctx)
    version = _version(ctx, ds)
    del ds.versions[version.id]
    if ds.current_version_id == version.id:
        ds.current_version_id = next(reversed(ds.versions), None) if ds.versions else None
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, status=204)


@handler("ListDatasetVersions")
def list_versions(ctx):
    ds = _dataset(ctx)
    offset, limit = page(ctx.query, Checker.of(ds, INVALID), max_limit=100)
    versions = sorted(ds.versions.values(), key=lambda v: v.created_ms, reverse=True)
    return Reply.of(ds, {"versions": [_view_version(ds, v, ctx.now_ms)
                                      for v in versions[offset:offset + limit]],
                         "total_number": len(versions)})


@handler("ShowDatasetVersion")
def show_version(ctx):
    ds = _dataset(ctx)
    return Reply.of(ds, _view_version(ds, _version(ctx, ds), ctx.now_ms))


# -- synchronisation, import, export -----------------------------------------------------------

@handler("SyncDataSource")
def sync_data_source(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    if ds.dataset_type in TEXT_TYPES:
        chk.fail("Text datasets cannot synchronize their data source.")
    if ds.running("sync", ctx.now_ms):
        chk.fail("A synchronization task already exists for dataset %s." % ds.name,
                 "ModelArts.4355")
    paths = _obs_sources(ds)
    for path in paths:
        _need_bucket(chk, ctx.sim, path)
    task = _new_task(ctx, ds, "sync", TASK_STATUSES, "dataset_sync", ctx.ids.alnum(19),
                     paths=paths)
    ds.sync_task_id = task.id
    ctx.sim.watch(task.progress, functools.partial(_synced, ctx.project.id, ds.id, task.id))
    return Reply.of(ds)


@handler("ShowSyncStatus")
def sync_status(ctx):
    ds = _dataset(ctx)
    task = ds.tasks.get(ds.sync_task_id) if ds.sync_task_id else None
    if task is None:
        return Reply.of(ds, {"dataset_id": ds.id, "status": "NOT_EXIST"})
    return Reply.of(ds, _view_task(ds, task, ctx.now_ms))


@handler("CreateImportTask")
def create_import_task(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body)
    path = chk.string(body, "import_path", required=True, min_len=1)
    import_type = chk.choice(body, "import_type", ("dir", "manifest"), default=None)
    if import_type is None:
        import_type = "manifest" if path.endswith(".manifest") else "dir"
    origin = chk.choice(body, "import_origin", ("obs", "dws", "dli", "rds", "mrs", "inference"),
                        default="obs")
    if origin == "obs":
        path = chk.obs_path(path, "import_path",
                            suffix=".manifest" if import_type == "manifest" else None)
    annotations = chk.boolean(body, "import_annotations", True)
    for key in ("import_samples", "final_annotation", "difficult_only"):
        chk.boolean(body, key)
    for key in ("included_labels", "excluded_labels"):
        for raw in chk.array(body, key):
            _label(chk, raw, ds.dataset_type)
    if ds.running("import", ctx.now_ms):
        chk.fail("An import task is already running for dataset %s." % ds.name, "ModelArts.4356")
    total = 0
    if origin == "obs":
        _need_bucket(chk, ctx.sim, path)
        if import_type == "manifest":
            if not ctx.sim.obs_files.exists(path):
                chk.fail("Invalid path: the manifest %s does not exist." % path, INVALID_PATH)
        else:
            total = _takes_count(ctx.sim, [path], ds.dataset_type)
            if not total:
                chk.fail("Import path %s does not contain valid file." % path, NO_VALID_FILE)
    task = _new_task(ctx, ds, "import", TASK_STATUSES, "dataset_import",
                     "%s_%s" % (ds.id, ctx.ids.alnum(19)), import_path=path,
                     import_type=1 if import_type == "manifest" else 0, count=0, total=total,
                     paths=[path] if origin == "obs" else [], annotations=annotations)
    ctx.sim.watch(task.progress,
                  functools.partial(_import_finished, ctx.project.id, ds.id, task.id))
    return Reply.of(ds, {"task_id": task.id})


def _list_tasks(ctx, kind: str) -> Reply:
    ds = _dataset(ctx)
    tasks = sorted((t for t in ds.tasks.values() if t.kind == kind),
                   key=lambda t: t.created_ms, reverse=True)
    return Reply.of(ds, {kind + "_tasks": [_view_task(ds, t, ctx.now_ms) for t in tasks],
                         "total_count": len(tasks)})


@handler("ListImportTasks")
def list_import_tasks(ctx):
    return _list_tasks(ctx, "import")


def _task(ctx, ds: Dataset, kind: str, code: str) -> Task:
    task = ds.tasks.get(ctx.params["task_id"])
    if task is None or task.kind != kind:
        Checker.of(ds, INVALID).fail("The %s task %s does not exist." % (
            kind, ctx.params["task_id"]), code)
    return task


@handler("ShowImportTask")
def show_import_task(ctx):
    ds = _dataset(ctx)
    return Reply.of(ds, _view_task(ds, _task(ctx, ds, "import", "ModelArts.4357"),
                                   ctx.now_ms))


@handler("CreateExportTask")
def create_export_task(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body, required=False)
    params = chk.mapping(body, "export_params")
    dest = chk.choice(params, "export_dest", ("DIR", "NEW_DATASET"), default="DIR")
    path = chk.string(body, "path")
    if path is None:
        chk.fail("Parameter path is required when exporting to OBS or to a new dataset.")
    path = chk.obs_path(path, "path")
    new_name = work = None
    if dest == "NEW_DATASET":
        new_name = chk.name(params, "export_new_dataset_name", 100)
        work = chk.obs_path(chk.string(params, "export_new_dataset_work_path", required=True),
                            "export_new_dataset_work_path")
        if work.startswith(path):
            chk.fail("Parameter export_new_dataset_work_path must not be inside path %s."
                     % path)
    export_type = chk.integer(body, "export_type", choices={0, 1, 2, 3}, default=2)
    export_format = chk.integer(body, "export_format", choices={1, 2}, default=2)
    chk.choice(body, "annotation_format", ("VOC", "COCO"))
    header = chk.choice(body, "source_type_header", ("obs://", "s3://"), default="obs://")
    version_id = chk.string(body, "version_id")
    if version_id and version_id not in ds.versions:
        chk.fail("Dataset version %s does not exist." % version_id, "ModelArts.4353")
    if new_name is not None and any(d.name == new_name for d in ctx.state.datasets.values()):
        chk.fail("Dataset %s already exists." % new_name, NAME_TAKEN)
    for target in (path, work):
        if target is not None:
            _need_bucket(chk, ctx.sim, target)
    if version_id:
        samples = [ds.samples[i] for i in ds.versions[version_id].sample_ids
                   if i in ds.samples]
    else:
        samples = list(ds.samples.values())
    if export_type == 0:
        samples = [s for s in samples if s.labels]
    elif export_type == 1:
        samples = [s for s in samples if not s.labels]
    task = _new_task(ctx, ds, "export", EXPORT_STATUSES, "dataset_export", ctx.ids.alnum(19),
                     path=path, export_type=export_type, export_format=export_format,
                     version_id=version_id, total=len(samples),
                     sample_ids=[s.id for s in samples], source_header=header,
                     new_dataset=(new_name, work) if new_name else None)
    ctx.sim.watch(task.progress, functools.partial(_exported, ctx.project.id, ds.id, task.id))
    return Reply.of(ds, {"task_id": task.id})


@handler("ListExportTasks")
def list_export_tasks(ctx):
    return _list_tasks(ctx, "export")


@handler("ShowExportTask")
def show_export_task(ctx):
    ds = _dataset(ctx)
    return Reply.of(ds, _view_task(ds, _task(ctx, ds, "export", "ModelArts.4359"),
                                   ctx.now_ms))


# -- labels ----------------------------------------------------------------------------------

def _labels_in(chk: Checker, body, ds: Dataset) -> list[dict]:
    raw = chk.array(chk.body(body), "labels", required=True, min_len=1)
    return [_label(chk, item, ds.dataset_type) for item in raw]


def _results(n: int) -> dict:
    return {"success": True, "results": [{"success": True} for _ in range(n)]}


@handler("CreateLabels")
def create_labels(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    labels = _labels_in(chk, ctx.body, ds)
    seen = set()
    for label in labels:
        if label["name"] in ds.labels or label["name"] in seen:
            chk.fail("Label %s already exists." % label["name"], "ModelArts.4411")
        seen.add(label["name"])
    for label in labels:
        ds.labels[label["name"]] = label
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, _results(len(labels)))


def _rename(ds: Dataset, old: str, new: str) -> None:
    label = ds.labels.pop(old)
    label["name"] = new
    ds.labels[new] = label
    for sample in ds.samples.values():
        for tag in sample.labels:
            if tag.get("name") == old:
                tag["name"] = new


def _apply_property(chk: Checker, ds: Dataset, name: str, prop: dict) -> None:
    new_name = prop.pop("@modelarts:rename_to", None)
    if new_name is not None:
        if not isinstance(new_name, str) or not new_name:
            chk.fail("@modelarts:rename_to must be a non-empty string.")
        if new_name != name and new_name in ds.labels:
            chk.fail("Label %s already exists." % new_name, "ModelArts.4411")
    ds.labels[name]["property"].update(prop)
    if new_name and new_name != name:
        _rename(ds, name, new_name)


@handler("UpdateLabels")
def update_labels(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    labels = _labels_in(chk, ctx.body, ds)
    for label in labels:
        if label["name"] not in ds.labels:
            chk.fail("Label %s does not exist." % label["name"], "ModelArts.4410")
    for label in labels:
        _apply_property(chk, ds, label["name"], dict(label["property"]))
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, _results(len(labels)))


@handler("UpdateLabel")
def update_label(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    name = ctx.params["label_name"]
    prop = chk.body(ctx.body)
    for key in prop:
        if not str(key).startswith("@modelarts:"):
            chk.fail("Label property keys start with @modelarts:, not %r." % key)
    if name not in ds.labels:
        chk.fail("Label %s does not exist." % name, "ModelArts.4410")
    _apply_property(chk, ds, name, dict(prop))
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, status=204)


def _drop_label(sim, ds: Dataset, name: str, with_samples: bool, delete_source: bool) -> None:
    del ds.labels[name]
    for sample_id, sample in list(ds.samples.items()):
        names = {t.get("name") for t in sample.labels}
        if name not in names:
            continue
        if with_samples and names == {name}:
            _remove_sample(sim, ds, sample_id, delete_source)
        else:
            sample.labels = [t for t in sample.labels if t.get("name") != name]


@handler("DeleteLabels")
def delete_labels(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    policy = ctx.query.get("delete_policy", "0")
    if policy not in ("0", "1", "2"):
        chk.fail("Parameter delete_policy must be 0, 1 or 2.")
    raw = chk.array(chk.body(ctx.body), "labels", required=True, min_len=1)
    names = []
    for item in raw:
        if not isinstance(item, dict):
            chk.fail("Each label must be an object.")
        names.append(chk.string(item, "name", required=True, min_len=1))
    for name in names:
        if name not in ds.labels:
            chk.fail("Label %s does not exist." % name, "ModelArts.4410")
    for name in dict.fromkeys(names):
        _drop_label(ctx.sim, ds, name, with_samples=policy != "0", delete_source=policy == "2")
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, {"success": True})


@handler("DeleteLabelAndSamples")
def delete_label_and_samples(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    name = ctx.params["label_name"]
    if ctx.query.get("delete_source") not in (None, "true", "false"):
        chk.fail("Parameter delete_source must be true or false.")
    if name not in ds.labels:
        chk.fail("Label %s does not exist." % name, "ModelArts.4410")
    _drop_label(ctx.sim, ds, name, with_samples=True,
                delete_source=ctx.query.get("delete_source") == "true")
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, status=204)


@handler("ListLabels")
def list_labels(ctx):
    ds = _dataset(ctx)
    labels = [dict(v) for v in ds.labels.values()]
    return Reply.of(ds, {"labels": labels, "total_number": len(labels)})


# -- samples ---------------------------------------------------------------------------------

@handler("UploadSamples")
def upload_samples(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body)
    raw = chk.array(body, "samples", required=True, min_len=1, max_len=1000)
    chk.boolean(body, "final_annotation")
    new: list[Sample] = []
    names = set()
    for item in raw:
        if not isinstance(item, dict):
            chk.fail("Each sample must be an object.")
        name = chk.string(item, "name", required=True, min_len=1, max_len=1024)
        if "/" in name or name in (".", ".."):
            chk.fail("Sample name %r must be a file name, not a path." % name)
        sample_type = chk.integer(item, "sample_type", choices=SAMPLE_TYPES, default=0)
        data = chk.string(item, "data", required=True)
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            chk.fail("Sample %s: data must be base64." % name)
        tags = []
        for tag in chk.array(item, "labels"):
            tags.append(_label(chk, tag, ds.dataset_type))
        metadata = chk.mapping(item, "metadata")
        path = ds.work_path + name
        sample_id = _sample_id(path)
        if sample_id in ds.samples or name in names:
            chk.fail("Sample %s already exists." % name, "ModelArts.4422")
        names.add(name)
        new.append((Sample(sample_id, name, sample_type, tags, dict(metadata),
                           _source(path), ctx.now_ms, len(content)), content))
    _need_bucket(chk, ctx.sim, ds.work_path)
    results = []
    for sample, content in new:  # each file lands in the work path, as ModelArts puts it
        ctx.sim.obs_files.write(ds.work_path + sample.name, content)
        _known_labels(ds, sample.labels)
        ds.samples[sample.id] = sample
        results.append({"success": True, "name": ds.work_path + sample.name,
                        "info": sample.id})
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, {"success": True, "results": results})


@handler("DeleteSamples")
def delete_samples(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    body = chk.body(ctx.body)
    ids = chk.array(body, "samples", required=True, min_len=1)
    delete_source = chk.boolean(body, "delete_source", False)
    for sample_id in ids:
        if not isinstance(sample_id, str):
            chk.fail("Each sample must be given by its id (a string).")
        if sample_id not in ds.samples:
            chk.fail("Sample %s does not exist." % sample_id, "ModelArts.4420")
    for sample_id in dict.fromkeys(ids):
        _remove_sample(ctx.sim, ds, sample_id, delete_source)
    ds.updated_ms = ctx.now_ms
    return Reply.of(ds, {"success": True, "results": [{"success": True} for _ in ids]})


@handler("ListSamples")
def list_samples(ctx):
    ds = _dataset(ctx)
    chk = Checker.of(ds, INVALID)
    offset, limit = page(ctx.query, chk, max_limit=500)
    samples = list(ds.samples.values())
    state = ctx.query.get("sample_state")
    if state:
        if state not in (LABELED, UNLABELED):
            chk.fail("Parameter sample_state must be __ALL__ or __NONE__ here.")
        samples = [s for s in samples if bool(s.labels) == (state == LABELED)]
    label = ctx.query.get("label_name")
    if label:
        samples = [s for s in samples if any(t.get("name") == label for t in s.labels)]
    return Reply.of(ds, {"sample_count": len(samples),
                         "samples": [_view_sample(s) for s in samples[offset:offset + limit]]})


@handler("ShowSample")
def show_sample(ctx):
    ds = _dataset(ctx)
    sample = find(ctx, ds.samples, "sample_id", "ModelArts.4420", "Sample {} does not exist.",
                  owner=ds)
    return Reply.of(ds, _view_sample(sample))


# -- the dataset's files in OBS (dataset_files.py reads and writes their formats) -------------

def _source(path: str) -> str:
    """A sample's source as the API shows it: /bucket/key becomes obs://bucket/key."""
    return "obs:/" + path


def _sample_id(path: str) -> str:
    return hashlib.md5(path.encode()).hexdigest()


def _need_bucket(chk: Checker, sim, path: str) -> None:
    if not sim.obs_files.has_bucket(path):
        chk.fail(_no_bucket(path), NO_BUCKET)


def _no_bucket(path: str) -> str:
    return "OBS bucket %s does not exist." % split(path)[0]


def _obs_sources(ds: Dataset) -> list[str]:
    return [src["data_path"] for src in ds.data_sources if src.get("data_type") == 0]


def _takes_count(sim, paths: list, dataset_type: int) -> int:
    """How many objects under the paths the dataset takes as samples."""
    return sum(1 for path in paths for obj in sim.obs_files.objects(path)
               if dataset_files.takes(dataset_type, obj.key))


def _known_labels(ds: Dataset, labels: list) -> None:
    """A sample's labels that the dataset does not have yet become dataset labels."""
    for tag in labels:
        if tag["name"] not in ds.labels:
            ds.labels[tag["name"]] = {"name": tag["name"], "type": tag["type"],
                                      "property": {}, "attributes": []}


def _add_samples(ds: Dataset, found: list[Found], at_ms: int) -> list[Sample]:
    """Samples for the files the dataset does not hold yet (a file is one sample)."""
    added = []
    for f in found:
        sample_id = _sample_id(f.path)
        if sample_id in ds.samples:
            continue
        sample = Sample(sample_id, f.name, f.sample_type, f.labels, {}, _source(f.path),
                        at_ms, f.size)
        _known_labels(ds, f.labels)
        ds.samples[sample_id] = sample
        added.append(sample)
    if added:
        ds.updated_ms = at_ms
    return added


def _remove_sample(sim, ds: Dataset, sample_id: str, delete_source: bool) -> None:
    sample = ds.samples.pop(sample_id)
    if delete_source:
        sim.obs_files.delete(sample.source)


def _fail(task: Task, at_ms: int, code: str, message: str) -> None:
    task.error = (code, message)
    task.progress.finish_at(at_ms, "FAILED")


def _live_task(sim, project_id: str, dataset_id: str, task_id: str):
    """(dataset, task) when both still exist and the task has not failed; else (None, None)."""
    ds = sim.state(FAMILY, project_id).datasets.get(dataset_id)
    task = ds.tasks.get(task_id) if ds is not None else None
    if task is None or task.error is not None:
        return None, None
    return ds, task


# Run by Simulator.settle once a lifecycle is done (arguments: the ids, then sim, at_ms, final).

@watch_callback
def _import_finished(project_id, dataset_id, task_id, sim, at_ms, final) -> None:
    """An import task (a dataset's first one included) reads its files once it completes."""
    ds, task = _live_task(sim, project_id, dataset_id, task_id)
    if task is not None and final == "COMPLETED":
        _import(sim, ds, task, at_ms)


def _import(sim, ds: Dataset, task: Task, at_ms: int) -> None:
    files, details = sim.obs_files, task.details
    found, total = [], 0
    for path in details.get("paths", []):
        if not files.has_bucket(path):
            return _fail(task, at_ms, NO_BUCKET, _no_bucket(path))
        if details["import_type"] == 1:
            try:
                got, lines = dataset_files.read_manifest(files, path, ds.dataset_type,
                                                         details["annotations"])
            except ManifestError as exc:
                return _fail(task, at_ms, IMPORT_ERROR, "Import data error: %s" % exc)
            total += lines
        else:
            got = dataset_files.scan(files, path, ds.dataset_type, details["annotations"])
            total += len(got)
        found += got
    added = _add_samples(ds, found, at_ms)
    details.update(count=len(added), total=total,
                   annotated=sum(1 for sample in added if sample.labels))


@watch_callback
def _synced(project_id, dataset_id, task_id, sim, at_ms, final) -> None:
    """Samples for the files added to the data sources, none for the files gone from them."""
    ds, task = _live_task(sim, project_id, dataset_id, task_id)
    if task is None or final != "COMPLETED":
        return
    found: dict[str, Found] = {}
    for path in task.details["paths"]:
        if not sim.obs_files.has_bucket(path):
            return _fail(task, at_ms, SYNC_ERROR, "Sync data source error: " + _no_bucket(path))
        for f in dataset_files.scan(sim.obs_files, path, ds.dataset_type, annotations=False):
            found[_sample_id(f.path)] = f
    roots = tuple(_source(path) for path in task.details["paths"])
    held = {}  # bucket -> its keys: a sample whose file still exists stays, whatever its type
    gone = []
    for sample_id, sample in ds.samples.items():
        if not sample.source.startswith(roots):
            continue
        bucket, key = split(sample.source)
        if bucket not in held:
            held[bucket] = sim.obs_files.sizes(bucket)
        if key not in held[bucket]:
            gone.append(sample_id)
    for sample_id in gone:
        del ds.samples[sample_id]
    added = _add_samples(ds, list(found.values()), at_ms)
    task.details.update(added=len(added), deleted=len(gone))


@watch_callback
def _exported(project_id, dataset_id, task_id, sim, at_ms, final) -> None:
    """The samples' files, their labels and a manifest, written under the export path."""
    ds, task = _live_task(sim, project_id, dataset_id, task_id)
    if task is None or final != EXPORT_STATUSES[-1]:
        return
    details, files = task.details, sim.obs_files
    folder = details["path"]
    new = details.get("new_dataset")
    for path in (folder, new[1] if new else folder):
        if not files.has_bucket(path):
            details["finished"] = 0
            return _fail(task, at_ms, NO_BUCKET, _no_bucket(path))
    if new and any(d.name == new[0] for d in sim.state(FAMILY, project_id).datasets.values()):
        details["finished"] = 0
        return _fail(task, at_ms, NAME_TAKEN, "Dataset %s already exists." % new[0])
    written, lines, used = [], [], set()
    for sample_id in details["sample_ids"]:
        sample = ds.samples.get(sample_id)
        if sample is None:
            continue  # deleted since the export began
        target = _export_sample(files, ds, sample, folder, details["export_format"], used)
        if target is None:
            continue  # its file is gone from OBS
        # a copy: the exported-to dataset's samples must not share the list (each is a row
        # of its own, and a rename in one must not reach the other)
        written.append(Found(target, sample.size, sample.sample_type, copy.deepcopy(sample.labels)))
        lines.append(dataset_files.manifest_line(
            details["source_header"] + target.lstrip("/"), sample.labels, ds.dataset_type,
            at_ms))
    files.write(folder + ds.name + ".manifest", b"\n".join(lines) + b"\n" if lines else b"")
    details["finished"] = len(written)
    if new:
        _new_dataset(sim, project_id, ds, new, folder, written, at_ms)


def _export_sample(files, ds: Dataset, sample: Sample, folder: str, export_format: int,
                   used: set):
    """Copy one sample's file: tree (1) puts it in its first label's folder, tile (2) puts it
    in the export folder with a same-named label file (.txt, or .xml for object detection).
    Two samples of one name (from two folders) do not overwrite each other: the second is
    written as {sample_id[:8]}_{name}; a label file never replaces an exported file."""
    names = [t["name"] for t in sample.labels]
    under = folder + names[0] + "/" if export_format == 1 and names else folder
    name = sample.name
    if under + name in used:
        name = "%s_%s" % (sample.id[:8], name)
    target = under + name
    if not files.copy(sample.source, target, MAX_COPY):
        return None
    used.add(target)
    if export_format == 2 and names:
        stem = under + (name.rsplit(".", 1)[0] if "." in name else name)
        if ds.dataset_type == dataset_files.OBJECT_DETECTION:
            label_file = (stem + ".xml", dataset_files.voc(name, sample.labels))
        else:
            label_file = (stem + ".txt", "\n".join(dict.fromkeys(names)).encode() + b"\n")
        if label_file[0] not in used:
            files.write(*label_file)
            used.add(label_file[0])
    return target


def _new_dataset(sim, project_id: str, ds: Dataset, new: tuple, folder: str, found: list,
                 at_ms: int) -> None:
    """An export to NEW_DATASET: a dataset over the exported files, created when it ends."""
    name, work_path = new
    created = Dataset(id=sim.ids.alnum(19), name=name, dataset_type=ds.dataset_type,
                      description="", data_sources=[{"data_type": 0, "data_path": folder}],
                      work_path=work_path, work_path_type=0, workspace_id=ds.workspace_id,
                      data_format=ds.data_format, created_ms=at_ms, updated_ms=at_ms,
                      creation=Progress.through(at_ms, (CREATING, NORMAL), 0))
    _add_samples(created, found, at_ms)
    sim.state(FAMILY, project_id).datasets[created.id] = created


@watch_callback
def _published(project_id, dataset_id, version_id, sim, at_ms, final) -> None:
    """A published version's manifest, at the manifest_path its view names."""
    ds = sim.state(FAMILY, project_id).datasets.get(dataset_id)
    version = ds.versions.get(version_id) if ds is not None else None
    if version is None or final != VERSION_STATUSES[-1]:
        return
    lines = [dataset_files.manifest_line(ds.samples[i].source, ds.samples[i].labels,
                                         ds.dataset_type, at_ms)
             for i in version.sample_ids if i in ds.samples]
    sim.obs_files.write(_manifest_path(ds, version),
                        b"\n".join(lines) + b"\n" if lines else b"")


def _manifest_path(ds: Dataset, version: Version) -> str:
    return "%sannotation/%s/%s.manifest" % (ds.work_path, version.name, version.name)


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _fail_task(task: Task):
    def on_fail(now, reason):
        task.error = (FAILED_TASK, reason)
    return on_fail


@lifecycle_kind("dataset", FAMILY)
def _dataset_target(state: State, resource_id: str):
    ds = state.datasets.get(resource_id)
    return Target(ds.creation, ABNORMAL) if ds else None


def _task_finder(kind: str, failed: str):
    def find(state: State, resource_id: str):
        for ds in state.datasets.values():
            task = ds.tasks.get(resource_id)
            if task is not None and task.kind == kind:
                return Target(task.progress, failed, _fail_task(task))
        return None
    return find


lifecycle_kind("dataset-import", FAMILY)(_task_finder("import", "FAILED"))
lifecycle_kind("dataset-export", FAMILY)(_task_finder("export", "FAILED"))
lifecycle_kind("dataset-sync", FAMILY)(_task_finder("sync", "FAILED"))


@lifecycle_kind("dataset-version", FAMILY)
def _version_target(state: State, resource_id: str):
    for ds in state.datasets.values():
        if resource_id in ds.versions:
            return Target(ds.versions[resource_id].progress, VERSION_FAILED)
    return None
