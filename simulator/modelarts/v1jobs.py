"""Helpers shared by the old-generation v1 families: training jobs, training job configurations
and visualization jobs (shared/reference/modelarts-api.md sections 4.1-4.3), plus the cluster
look-up and auto stop that the DevEnviron family uses too.

The three training families answer in the ``is_success`` dialect: a success carries
``"is_success": true``, a refusal is ``{"is_success": false, "error_code", "error_message"}``.
Huawei documents no HTTP status for their errors; the simulator answers 200 for every success
and 400 for every refusal (validation, duplicates, state guards, not found). Codes:
ModelArts.0104 for a bad parameter (the code of the documented "length of search content"
refusal), ModelArts.0103 for a duplicate name ("Job name:X is existed"), ModelArts.0105 for a
refused state change ("This job can't be stop. job status: 10") and for a job or version that
does not exist (the reference names no not-found code: a simulator choice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from simulator.modelarts.listing import ordered
from simulator.modelarts.resources import Named
from simulator.modelarts.validate import Checker
from simulator.querystring import query_int, to_int
from simulator.registry import Reply

# -- job status codes (int), used by training job versions and visualization jobs -------------

STATUS_NAMES = (
    "JOBSTAT_UNKNOWN", "JOBSTAT_INIT", "JOBSTAT_IMAGE_CREATING", "JOBSTAT_IMAGE_FAILED",
    "JOBSTAT_SUBMIT_TRYING", "JOBSTAT_SUBMIT_FAILED", "JOBSTAT_DELETE_FAILED", "JOBSTAT_WAITING",
    "JOBSTAT_RUNNING", "JOBSTAT_KILLING", "JOBSTAT_COMPLETED", "JOBSTAT_FAILED",
    "JOBSTAT_KILLED", "JOBSTAT_CANCELED", "JOBSTAT_LOST", "JOBSTAT_SCALING",
    "JOBSTAT_SUBMIT_MODEL_FAILED", "JOBSTAT_DEPLOY_SERVICE_FAILED", "JOBSTAT_CHECK_INIT",
    "JOBSTAT_CHECK_RUNNING", "JOBSTAT_CHECK_RUNNING_COMPLETED", "JOBSTAT_CHECK_FAILED",
)
INIT, WAITING, RUNNING, KILLING, COMPLETED, FAILED, KILLED = 1, 7, 8, 9, 10, 11, 12
# statuses in which a job is still on its way (everything else is where a job rests)
ACTIVE = frozenset({INIT, 2, 4, WAITING, RUNNING, KILLING, 15, 18, 19})
STOPPABLE = ACTIVE - {KILLING}

INVALID = "ModelArts.0104"
DUPLICATE = "ModelArts.0103"
REFUSED = "ModelArts.0105"
NOT_FOUND = REFUSED

ID = re.compile(r"^[0-9]{1,18}$")
NOT_INTEGER = "Parameter {key} must be an integer, not {raw!r}."  # a query or path integer
PER_PAGE_MAX = 1000
QUOTA = 100  # jobs a project may hold (the list's "quotas"; a simulator choice)


class Numbered(Named):
    """A job with an integer id, which its traces name as a string."""
    __slots__ = ()

    @property
    def trace_id(self) -> str:
        return str(self.id)


def checker(resource_id=None, resource_name=None) -> Checker:
    return Checker(INVALID, 400, resource_id=resource_id, resource_name=resource_name)


def ok(body: dict | None = None, *, resource=None) -> Reply:
    """A success in the is_success dialect, naming the resource (if any) for the trace."""
    if resource is None:
        return Reply(200, {"is_success": True, **(body or {})})
    return Reply.of(resource, {"is_success": True, **(body or {})})


def find_job(ctx):
    """The job the path's job_id names."""
    raw = ctx.params["job_id"]
    chk = checker(raw, None)
    job = ctx.state.jobs.get(path_id(ctx, "job_id", chk))
    if job is None:
        chk.fail("Job %s does not exist." % raw, NOT_FOUND)
    return job


def refuse(chk: Checker, action: str, status: int):
    """The documented refusal: "This job can't be stop. job status: 10"."""
    chk.fail("This job can't be %s. job status: %d" % (action, status), REFUSED)


def duplicate(chk: Checker, what: str, name: str):
    chk.fail("%s name:%s is existed" % (what, name), DUPLICATE)


def path_id(ctx, key: str, chk: Checker) -> int:
    """An integer id from the path (job_id, version_id)."""
    return to_int(ctx.params[key], key, chk.fail, digits=ID, not_integer=NOT_INTEGER)


def asked_name(body, key: str):
    """What a create call asked for, so that even its refusal names it in the trace."""
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


# -- lists: per_page / page / sortBy / order / search_content ---------------------------------

def list_page(items: list, query, chk: Checker, *, sort_keys: dict, default_sort: str,
              name_of, search_max: int = 64) -> tuple[int, list]:
    """Filter by search_content (in the name), sort by sortBy and order (asc by default), then
    cut the page (per_page 1-1000, default 10; page from 1). Returns (matching count, page)."""
    search = query.get("search_content") or ""
    if len(search) > search_max:
        chk.fail("The length of search content should be in [0,%d]" % search_max)
    if search:
        items = [i for i in items if search.lower() in name_of(i).lower()]
    items = ordered(items, query, chk, sort_keys, default_sort, sort_param="sortBy",
                    default_order="asc")
    return len(items), page_slice(items, query, chk)


def list_jobs(ctx, *, status_of, sort_keys: dict, default_sort: str, view, keep=None,
              search_max: int = 64) -> Reply:
    """A job list: the jobs in the status asked for (and that `keep` keeps), one page of them,
    and how many more the project may hold. status_of, keep and view take a job."""
    chk = checker()
    jobs = list(ctx.state.jobs.values())
    status = query_status(ctx.query, chk)
    if status is not None:
        jobs = [j for j in jobs if status_of(j) == status]
    if keep is not None:
        jobs = [j for j in jobs if keep(j)]
    total, page = list_page(jobs, ctx.query, chk, sort_keys=sort_keys, default_sort=default_sort,
                            name_of=lambda j: j.name, search_max=search_max)
    held = len(ctx.state.jobs)
    return ok({"job_total_count": total, "job_count_limit": max(0, QUOTA - held),
               "quotas": QUOTA, "jobs": [view(j) for j in page]})


def page_slice(items: list, query, chk: Checker) -> list:
    """The page that per_page (1-1000, default 10) and page (from 1) ask for."""
    per_page = query_int(query, "per_page", 10, chk.fail, lo=1, hi=PER_PAGE_MAX,
                         not_integer=NOT_INTEGER)
    page = query_int(query, "page", 1, chk.fail, lo=1, not_integer=NOT_INTEGER)
    return items[(page - 1) * per_page:page * per_page]


def query_status(query, chk: Checker):
    """The optional integer status filter of a list."""
    return query_int(query, "status", None, chk.fail, lo=0, hi=len(STATUS_NAMES) - 1,
                     not_integer=NOT_INTEGER)


# -- one run of a job on the clock ------------------------------------------------------------

@dataclass
class Run:
    """A job's statuses on the clock, with when it ran and why it failed."""
    progress: object  # lifecycle.Progress
    started_ms: int | None = None  # set once the progress that knew it is replaced
    ended_ms: int | None = None
    failed_reason: str | None = None

    def status(self, now: int) -> int:
        return self.progress.status(now)

    def start_time(self, now: int, progress=None) -> int | None:
        if self.started_ms is not None:
            return self.started_ms
        return entered(progress or self.progress, RUNNING, now)

    def duration(self, now: int) -> int:
        """Milliseconds spent running (so far)."""
        start = self.start_time(now)
        if start is None:
            return 0
        end = self.ended_ms
        if end is None and self.progress.final != RUNNING and self.progress.done(now):
            end = self.progress.done_ms
        return max(0, (now if end is None else end) - start)

    def interrupt(self, now: int, progress, before=None) -> None:
        """The run stops being what it was (stopped, failed): keep when it ran."""
        self.started_ms = self.start_time(now, before)
        if self.started_ms is not None and self.ended_ms is None:
            self.ended_ms = now
        self.progress = progress

    def settle(self, after_ms: int | None, now: int) -> None:
        """A job that has run after_ms completes on its own (a visualization job's schedule)."""
        at = auto_stop_at(self.progress, RUNNING, after_ms, now)
        if at is not None:
            before = replace(self.progress)
            self.progress.finish_at(at, COMPLETED)
            self.interrupt(at, self.progress, before)

    def restart(self, progress) -> None:
        self.progress = progress
        self.started_ms = self.ended_ms = self.failed_reason = None

    def on_fail(self):
        """The /_sim/lifecycle/fail hook: records the reason and when the run ended."""
        before = replace(self.progress)

        def record(now: int, reason: str) -> None:
            self.interrupt(now, self.progress, before)
            self.failed_reason = reason
        return record


def entered(progress, status, now: int) -> int | None:
    """When progress entered status, if its steps say it has by now."""
    at = progress.started_ms
    for step, dwell in progress.steps:
        if step == status:
            return at if at <= now else None
        at += dwell
    return None


def auto_stop_at(progress, running, after_ms: int | None, now: int) -> int | None:
    """When a resource that came to rest in `running` stops on its own, after_ms after it got
    there, if that instant has come by now (else None)."""
    if not after_ms or progress.final != running or not progress.done(now):
        return None
    at = progress.done_ms + after_ms
    return at if at <= now else None


def scoped_id(resource_id: str) -> tuple[str | None, int | None]:
    """/_sim/lifecycle ids of integer-id resources: "7", or "<project_id>/7" where several
    projects hold a job 7 (ids count from 1 in each project)."""
    project_id, _, raw = resource_id.rpartition("/")
    return project_id or None, int(raw) if ID.match(raw) else None


# -- resource specifications and AI engines (GET /v1/{project_id}/job/...) ---------------------

def _spec(spec_id, code, core, cpu, gpu_num=0, gpu_type="", max_num=5, storage=""):
    return {"spec_id": spec_id, "core": core, "cpu": cpu, "gpu_num": gpu_num,
            "gpu_type": gpu_type, "spec_code": code, "max_num": max_num, "unit_num": 1,
            "storage": storage, "interface_type": 1, "no_resource": False}


SPECS = (
    _spec(1, "modelarts.vm.cpu.8u", "8", "32"),
    _spec(2, "modelarts.vm.cpu.2u", "2", "8", max_num=2),
    _spec(3, "modelarts.vm.gpu.p100", "8", "64", 1, "P100", storage="800GB"),
    _spec(4, "modelarts.vm.gpu.v100", "8", "64", 1, "V100", storage="800GB"),
    _spec(5, "modelarts.bm.gpu.8v100", "64", "512", 8, "V100", max_num=10, storage="3200GB"),
)
ENGINES = (
    {"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 1,
     "engine_version": "TF-1.4.0-python2.7"},
    {"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 2,
     "engine_version": "TF-1.13.1-python3.6"},
    {"engine_type": 2, "engine_name": "MXNet", "engine_id": 3,
     "engine_version": "MXNet-1.2.1-python3.6"},
    {"engine_type": 3, "engine_name": "Caffe", "engine_id": 4,
     "engine_version": "Caffe-1.0.0-python2.7"},
    {"engine_type": 5, "engine_name": "PyTorch", "engine_id": 5,
     "engine_version": "PyTorch-1.0.0-python3.6"},
    {"engine_type": 6, "engine_name": "MindSpore", "engine_id": 6,
     "engine_version": "MindSpore-1.1.1-python3.7"},
)
SPEC_BY_ID = {s["spec_id"]: s for s in SPECS}
ENGINE_BY_ID = {e["engine_id"]: e for e in ENGINES}
SPEC_CODES = tuple(s["spec_code"] for s in SPECS)


# -- resources of other families ---------------------------------------------------------------

def find_cluster(ctx, pool_id: str):
    """A dedicated resource pool of the caller's project (the clusters family), or None."""
    try:
        state = ctx.sim.state("clusters", ctx.project.id)
    except KeyError:  # no clusters family in this build
        return None
    return getattr(state, "clusters", {}).get(pool_id)


def running_cluster(ctx, chk: Checker, pool_id: str):
    """The pool a workload is to run on: it must exist and be running."""
    cluster = find_cluster(ctx, pool_id)
    if cluster is None:
        chk.fail("Resource pool %s does not exist." % pool_id)
    status = cluster.status(ctx.now_ms) if hasattr(cluster, "status") else "running"
    if status != "running":
        chk.fail("Resource pool %s is %s, not running." % (pool_id, status))
    return cluster


def cluster_name(cluster) -> str:
    return getattr(cluster, "name", None) or getattr(cluster, "cluster_name", "") or ""


def find_dataset(ctx, dataset_id: str):
    return ctx.sim.state("datasets", ctx.project.id).datasets.get(dataset_id)


# -- the training configuration (a training job version's config, a training job config) ------

DATA_KEYS = ("data_url", "dataset_id", "dataset_version_id", "data_source")
CODE_KEYS = ("app_url", "boot_file_url", "model_id", "user_image_url", "user_command")
RESOURCE_KEYS = ("spec_id", "pool_id")
INPUT_KEYS = (("worker_server_num", "engine_id", "parameter", "train_url", "log_url",
               "volumes") + DATA_KEYS + CODE_KEYS + RESOURCE_KEYS)


def merge_config(old: dict, new: dict) -> dict:
    """A new version's (or an updated config's) fields: the old ones, with what the call names
    replacing them. Naming one field of a group (data, code, resource) replaces the group."""
    merged = {k: old[k] for k in INPUT_KEYS if old.get(k) not in (None, "", [])}
    for group in (DATA_KEYS, CODE_KEYS, RESOURCE_KEYS):
        if any(new.get(k) is not None for k in group):
            for k in group:
                merged.pop(k, None)
    merged.update({k: v for k, v in new.items() if v is not None})
    return merged


def check_config(ctx, chk: Checker, cfg: dict) -> dict:
    """Validate a training configuration and return it normalised, with what it refers to
    (engine, specification, dataset and pool names) filled in for the views."""
    out: dict = {}
    out.update(_check_resources(ctx, chk, cfg))
    out.update(_check_code(chk, cfg))
    out.update(_check_data(ctx, chk, cfg))
    params = []
    for item in chk.array(cfg, "parameter", max_len=100):
        if not isinstance(item, dict):
            chk.fail("Each parameter must be an object with label and value.")
        label = chk.string(item, "label", required=True, min_len=1, max_len=128)
        value = item.get("value", "")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            chk.fail("Parameter %s must have a string or number value." % label)
        params.append({"label": label, "value": value})
    out["parameter"] = params
    for key in ("train_url", "log_url"):
        path = chk.string(cfg, key, max_len=1024)
        out[key] = chk.obs_path(path, key) if path else ""
    out["volumes"] = _check_volumes(chk, cfg, out["pool_id"])
    return out


def _check_resources(ctx, chk: Checker, cfg: dict) -> dict:
    pool_id = chk.string(cfg, "pool_id", min_len=1, max_len=64)
    spec_id = chk.integer(cfg, "spec_id", required=pool_id is None)
    spec = SPEC_BY_ID.get(spec_id) if spec_id is not None else None
    if spec_id is not None and spec is None:
        chk.fail("Resource specification %d does not exist (see GET /v1/{project_id}/job/"
                 "resource-specs)." % spec_id)
    pool = None
    if pool_id is not None:
        pool = running_cluster(ctx, chk, pool_id)
    most = spec["max_num"] if spec else 100
    workers = chk.integer(cfg, "worker_server_num", required=True, minimum=1, maximum=most)
    engine_id = chk.integer(cfg, "engine_id", default=1)
    engine = ENGINE_BY_ID.get(engine_id)
    if engine is None:
        chk.fail("AI engine %d does not exist (see GET /v1/{project_id}/job/ai-engines)."
                 % engine_id)
    spec = spec or {"spec_code": "", "core": "", "cpu": "", "gpu_num": 0, "gpu_type": ""}
    return {"worker_server_num": workers, "spec_id": spec_id, "spec_code": spec["spec_code"],
            "core": spec["core"], "cpu": spec["cpu"], "gpu_num": spec["gpu_num"],
            "gpu_type": spec["gpu_type"], "pool_id": pool_id or "",
            "pool_name": cluster_name(pool) if pool is not None else "", **engine}


def _check_code(chk: Checker, cfg: dict) -> dict:
    """Where the code comes from: a built-in algorithm (model_id), a custom image
    (user_image_url + user_command), or an OBS code directory and its boot file."""
    model_id = chk.integer(cfg, "model_id", minimum=1)
    image = chk.string(cfg, "user_image_url", min_len=1, max_len=1024)
    command = chk.string(cfg, "user_command", min_len=1, max_len=4096,
                         required=image is not None)
    if command is not None and image is None:
        chk.fail("Parameter user_command needs user_image_url.")
    needs_code = model_id is None and image is None
    app_url = chk.string(cfg, "app_url", required=needs_code, max_len=1024)
    boot = chk.string(cfg, "boot_file_url", required=needs_code, max_len=1024)
    if app_url:
        app_url = chk.obs_path(app_url, "app_url")
    if boot:
        boot = chk.obs_path(boot, "boot_file_url", directory=False)
        if boot.endswith("/"):
            chk.fail("Parameter boot_file_url must name a file, not a directory.")
        if app_url and not boot.startswith(app_url):
            chk.fail("Parameter boot_file_url must be inside the code directory %s." % app_url)
    return {"app_url": app_url or "", "boot_file_url": boot or "", "model_id": model_id,
            "user_image_url": image or "", "user_command": command or ""}


def _check_data(ctx, chk: Checker, cfg: dict) -> dict:
    named = [k for k in ("data_url", "dataset_id", "data_source") if cfg.get(k) is not None]
    if len(named) != 1:
        chk.fail("Give the training data as exactly one of data_url, dataset_id with "
                 "dataset_version_id, or data_source.")
    out = {"data_url": "", "dataset_id": "", "dataset_version_id": "", "dataset_name": "",
           "dataset_version_name": "", "data_source": []}
    if named == ["data_url"]:
        out["data_url"] = chk.obs_path(chk.string(cfg, "data_url", min_len=1), "data_url")
    elif named == ["dataset_id"]:
        dataset_id = chk.string(cfg, "dataset_id", min_len=1, max_len=64)
        version_id = chk.string(cfg, "dataset_version_id", required=True, min_len=1,
                                max_len=64)
        ds, version = _dataset_version(ctx, chk, dataset_id, version_id)
        out.update(dataset_id=dataset_id, dataset_version_id=version_id, dataset_name=ds.name,
                   dataset_version_name=version.name)
    else:
        for raw in chk.array(cfg, "data_source", min_len=1, max_len=10):
            if not isinstance(raw, dict):
                chk.fail("Each data_source item must be an object.")
            kind = chk.choice(raw, "type", ("obs", "dataset"), required=True)
            if kind == "obs":
                url = chk.obs_path(chk.string(raw, "data_url", required=True, min_len=1),
                                   "data_url")
                out["data_source"].append({"type": "obs", "data_url": url})
            else:
                dataset_id = chk.string(raw, "dataset_id", required=True, min_len=1)
                version_id = chk.string(raw, "dataset_version", required=True, min_len=1)
                _dataset_version(ctx, chk, dataset_id, version_id)
                out["data_source"].append({"type": "dataset", "dataset_id": dataset_id,
                                           "dataset_version": version_id})
    return out


def _dataset_version(ctx, chk: Checker, dataset_id: str, version_id: str):
    ds = find_dataset(ctx, dataset_id)
    if ds is None:
        chk.fail("Dataset %s does not exist." % dataset_id)
    version = ds.versions.get(version_id)
    if version is None:
        chk.fail("Dataset %s has no version %s." % (dataset_id, version_id))
    return ds, version


def _check_volumes(chk: Checker, cfg: dict, pool_id: str) -> list:
    volumes = []
    for raw in chk.array(cfg, "volumes", max_len=10):
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in (
                "nfs", "host_path"):
            chk.fail("Each volume must be an object with one key, nfs or host_path.")
        kind, spec = next(iter(raw.items()))
        if not isinstance(spec, dict):
            chk.fail("Volume %s must be an object." % kind)
        if kind == "host_path" and not pool_id:
            chk.fail("host_path volumes need a dedicated resource pool (pool_id).")
        volume = {"id": chk.string(spec, "id", required=True, min_len=1)} if kind == "nfs" \
            else {}
        volume["src_path"] = chk.string(spec, "src_path", required=True, min_len=1)
        volume["dest_path"] = chk.string(spec, "dest_path", required=True, min_len=1)
        volume["read_only"] = chk.boolean(spec, "read_only", False)
        volumes.append({kind: volume})
    return volumes
