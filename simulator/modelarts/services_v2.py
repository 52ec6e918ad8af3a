"""Inference services v2: /v2/{project_id}/services (modelarts-api.md section 7.3).

Image-based services (no model_id). Create, update, start, stop and the batch delete are
audited (resource type serviceV2; resource_id = service id, resource_name = service name; the
batch delete leaves one trace per service); show and list are served, not audited. Huawei
publishes no trace name for these five calls: the catalog's names are inferred.

Lifecycle on the clock: create and start DEPLOYING -> RUNNING (dwell services_v2_deploy), stop
STOPPING -> STOPPED (services_v2_stop), an update of group_configs of a running service
UPGRADING -> RUNNING. /_sim/lifecycle kind "service-v2": advance, or fail (-> FAILED with the
reason in failure_reason).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from simulator.modelarts.lifecycle import Target, lifecycle_kind
from simulator.modelarts.resources import Named, find, update_given
from simulator.modelarts.validate import Checker, page
from simulator.registry import Reply, handler

FAMILY = "services_v2"
DWELL = {"services_v2_deploy": 1.0, "services_v2_stop": 1.0}

INIT, DEPLOYING, RUNNING, STOPPING, STOPPED, FAILED, UPGRADING = (
    "INIT", "DEPLOYING", "RUNNING", "STOPPING", "STOPPED", "FAILED", "UPGRADING")
TYPES = ("REAL_TIME", "ASYNC_REAL_TIME")
DEPLOY_TYPES = ("SINGLE", "MULTI")
FRAMEWORKS = ("COMMON", "VLLM", "MINDIE")
AUTH_TYPES = ("TOKEN", "API_KEY", "NONE")

INVALID = "ModelArts.0101"  # 400
NOT_FOUND = "ModelArts.3502"  # 404
EXISTS = "ModelArts.3503"  # 409
BAD_STATE = "ModelArts.3530"  # 400: the service's status does not allow the call (inferred)

SERVICE_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fa5]+$")
VERSION = re.compile(r"^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}$")


# -- state -----------------------------------------------------------------------------------

@dataclass
class Service(Named):
    id: str
    name: str
    type: str
    deploy_type: str
    workspace_id: str
    description: str
    version: str
    version_id: str
    group_configs: list
    runtime_config: dict
    custom_metrics_path: str
    owner: str
    created_ms: int
    updated_ms: int
    progress: object | None  # lifecycle.Progress, None while INIT (no group to deploy)
    failure_reason: str = ""
    tags: list = field(default_factory=list)

    def status(self, now_ms: int) -> str:
        return INIT if self.progress is None else self.progress.status(now_ms)


class State:
    def __init__(self):
        self.services: dict[str, Service] = {}


# -- helpers ---------------------------------------------------------------------------------

def _service(ctx) -> Service:
    return find(ctx, ctx.state.services, "service_id", NOT_FOUND, "Service {} does not exist.",
                404)


def _progress(ctx, dwell: str, statuses: tuple):
    return ctx.sim.lifecycles.progress(FAMILY, dwell, statuses, ctx.now_ms)


def _group_configs(ctx, chk: Checker, body: dict) -> list:
    groups = chk.array(body, "group_configs", required=True, max_len=1)
    out = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            chk.fail("Parameter group_configs[%d] must be an object." % i)
        name = chk.name(group, "name", 64, required=False) or "group-%d" % (i + 1)
        pool_id = chk.string(group, "pool_id", max_len=64)
        if pool_id:
            pools = ctx.sim.state("pools", ctx.project.id).pools
            if pool_id not in pools:
                chk.fail("Parameter group_configs[%d].pool_id: pool %s does not exist." % (
                    i, pool_id))
        count = chk.integer(group, "count", minimum=1, maximum=128, default=1)
        weight = chk.integer(group, "weight", minimum=0, maximum=100, default=100)
        framework = chk.choice(group, "framework", FRAMEWORKS, default="COMMON")
        units = chk.array(group, "unit_configs", required=True, min_len=1, max_len=8)
        unit_out = []
        for j, unit in enumerate(units):
            if not isinstance(unit, dict):
                chk.fail("Parameter unit_configs[%d] must be an object." % j)
            image = chk.mapping(unit, "image", required=True)
            source = chk.choice(image, "source", ("SWR", "IMAGE"), required=True)
            swr_path = chk.string(image, "swr_path", required=source == "SWR", min_len=1,
                                  max_len=512)
            image_id = chk.string(image, "id", required=source == "IMAGE", min_len=1,
                                  max_len=64)
            flavor = chk.string(unit, "flavor", min_len=1, max_len=128)
            spec = chk.mapping(unit, "custom_spec")
            if (flavor is None) == (not spec):
                chk.fail("Parameter unit_configs[%d] needs exactly one of flavor and "
                         "custom_spec." % j)
            custom = None
            if spec:
                custom = {}
                for key in ("cpu", "gpu"):
                    v = spec.get(key)
                    if v is not None:
                        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                            chk.fail("Parameter custom_spec.%s must be a number." % key)
                        custom[key] = v
                for key in ("memory", "ascend"):
                    v = chk.integer(spec, key, minimum=0)
                    if v is not None:
                        custom[key] = v
                arch = chk.choice(spec, "arch", ("x86", "arm"))
                if arch:
                    custom["arch"] = arch
            unit_count = chk.integer(unit, "count", minimum=1, maximum=128, default=1)
            cmd = chk.string(unit, "cmd", max_len=4096)
            envs = chk.mapping(unit, "envs")
            if any(not isinstance(v, str) for v in envs.values()):
                chk.fail("Parameter envs must map names to strings.")
            port = chk.integer(unit, "port", minimum=1, maximum=65535)
            img = {"source": source}
            if swr_path is not None:
                img["swr_path"] = swr_path
            if image_id is not None:
                img["id"] = image_id
            u = {"id": ctx.ids.uuid(), "name": chk.string(unit, "name", max_len=64) or
                 "unit-%d" % (j + 1), "image": img, "count": unit_count}
            if flavor is not None:
                u["flavor"] = flavor
            if custom is not None:
                u["custom_spec"] = custom
            if cmd is not None:
                u["cmd"] = cmd
            if envs:
                u["envs"] = dict(envs)
            if port is not None:
                u["port"] = port
            unit_out.append(u)
        g = {"id": ctx.ids.uuid(), "name": name, "count": count, "weight": weight,
             "framework": framework, "unit_configs": unit_out}
        if pool_id:
            g["pool_id"] = pool_id
        out.append(g)
    return out


def _runtime_config(chk: Checker, body: dict) -> dict:
    rc = chk.mapping(body, "runtime_config")
    if rc:
        invoke = chk.mapping(rc, "service_invoke")
        if invoke:
            chk.integer(invoke, "port", required=True, minimum=1, maximum=65535)
            chk.choice(invoke, "auth_type", AUTH_TYPES, required=True)
            chk.choice(invoke, "protocol", ("HTTP", "HTTPS", "GRPC", "GRPCS"))
        limit = chk.mapping(rc, "service_limit")
        if limit:
            chk.integer(limit, "rate_limit", required=True, minimum=1)
            chk.integer(limit, "request_timeout", required=True, minimum=1)
    return rc


def _view(s: Service, now: int, detail: bool = True) -> dict:
    status = s.status(now)
    groups = []
    for g in s.group_configs:
        running = g["count"] if status == RUNNING else 0
        groups.append({**g, "status": status, "running_count": running,
                       "version": s.version, "version_id": s.version_id})
    out = {
        "id": s.id, "name": s.name, "workspace_id": s.workspace_id, "type": s.type,
        "deploy_type": s.deploy_type, "status": status, "failure_reason": s.failure_reason,
        "version": {"id": s.version_id, "version": s.version, "description": s.description,
                    "runtime_config": s.runtime_config, "instance_groups": groups},
        "tags": list(s.tags), "schedule": [],
        "create_at": str(s.created_ms), "update_at": str(s.updated_ms),
        "provider": s.owner,
    }
    if detail:
        base = "https://%s.apig.cn-north-4.huaweicloudapis.com/v2/infers/%s" % (
            s.id[:8], s.id)
        out["predict_url"] = [{"type": "PUBLIC", "urls": [base]}] if status == RUNNING else []
    return out


def _name_taken(ctx, name: str, but: str | None = None) -> bool:
    return any(s.name == name and s.id != but for s in ctx.state.services.values())


# -- handlers --------------------------------------------------------------------------------

@handler("CreateInferService")
def create_infer_service(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    asked = body.get("name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = chk.string(body, "name", required=True, min_len=1, max_len=64, pattern=SERVICE_NAME)
    kind = chk.choice(body, "type", TYPES, required=True)
    groups = _group_configs(ctx, chk, body)
    runtime = _runtime_config(chk, body)
    metrics = chk.string(body, "custom_metrics_path", max_len=256, default="")
    version = chk.string(body, "version", pattern=VERSION, max_len=8, default="1.0.0")
    description = chk.string(body, "description", max_len=512, default="")
    deploy_type = chk.choice(body, "deploy_type", DEPLOY_TYPES, default="SINGLE")
    workspace = chk.string(body, "workspace_id", max_len=64, default="0")
    tags = chk.array(body, "tags", max_len=20)
    for t in tags:
        if not isinstance(t, dict) or not isinstance(t.get("key"), str) or \
                not isinstance(t.get("value", ""), str):
            chk.fail("Parameter tags must hold {key, value} strings.")
    if _name_taken(ctx, name):
        chk.fail("Service name %s already exists." % name, EXISTS, 409)
    progress = _progress(ctx, "services_v2_deploy", (DEPLOYING, RUNNING)) if groups else None
    service = Service(
        id=ctx.ids.uuid(), name=name, type=kind, deploy_type=deploy_type,
        workspace_id=workspace, description=description, version=version,
        version_id=ctx.ids.uuid(), group_configs=groups, runtime_config=runtime,
        custom_metrics_path=metrics, owner=ctx.caller.user.name if ctx.caller else "",
        created_ms=ctx.now_ms, updated_ms=ctx.now_ms, progress=progress,
        tags=[{"key": t["key"], "value": t.get("value", "")} for t in tags])
    ctx.state.services[service.id] = service
    return Reply.of(service, _view(service, ctx.now_ms))


@handler("ShowInferService")
def show_infer_service(ctx):
    service = _service(ctx)
    return Reply.of(service, _view(service, ctx.now_ms))


_SORT = {"create_at": lambda s: s.created_ms, "update_at": lambda s: s.updated_ms}


@handler("ListInferServices")
def list_infer_services(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    offset, limit = page(q, chk, default_limit=10, max_limit=500)
    if offset % limit:
        chk.fail("Parameter offset must be a multiple of limit.")
    keys = [k.strip() for k in (q.get("sort_key") or "update_at").split(",")]
    for k in keys:
        if k not in _SORT:
            chk.fail("Parameter sort_key must be create_at or update_at, not %r." % k)
    direction = (q.get("sort_dir") or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        chk.fail("Parameter sort_dir must be ASC or DESC.")
    for key in ("status", "type"):
        value = q.get(key)
        allowed = TYPES if key == "type" else (INIT, DEPLOYING, RUNNING, STOPPING, STOPPED,
                                               FAILED, UPGRADING, "DELETING", "CONCERNING",
                                               "ERROR", "INTERRUPTING")
        if value and value not in allowed:
            chk.fail("Parameter %s must be one of %s, not %r." % (key, ", ".join(allowed), value))
    items = list(ctx.state.services.values())
    if q.get("id"):
        items = [s for s in items if s.id == q["id"]]
    if q.get("name"):
        items = [s for s in items if q["name"].lower() in s.name.lower()]
    if q.get("description"):
        items = [s for s in items if q["description"].lower() in s.description.lower()]
    if q.get("status"):
        items = [s for s in items if s.status(now) == q["status"]]
    if q.get("type"):
        items = [s for s in items if s.type == q["type"]]
    if q.get("workspace_id"):
        items = [s for s in items if s.workspace_id == q["workspace_id"]]
    if q.get("pool_id"):
        items = [s for s in items
                 if any(g.get("pool_id") == q["pool_id"] for g in s.group_configs)]
    ranked = [s for _, s in sorted(
        enumerate(items), key=lambda p: (tuple(_SORT[k](p[1]) for k in keys), p[0]),
        reverse=direction == "DESC")]
    shown = ranked[offset:offset + limit]
    return Reply(200, {"data": [_view(s, now, detail=False) for s in shown],
                       "current": offset // limit, "size": len(shown),
                       "pages": math.ceil(len(ranked) / limit), "total": len(ranked)})


_BUSY = (DEPLOYING, STOPPING, UPGRADING)


@handler("UpdateInferService")
def update_infer_service(ctx):
    service = _service(ctx)
    chk = Checker.of(service, INVALID)
    body = chk.body(ctx.body)
    status = service.status(ctx.now_ms)
    if status in _BUSY:
        chk.fail("Service %s is %s: wait until it settles before updating it." % (
            service.name, status), BAD_STATE)
    name = chk.string(body, "name", min_len=1, max_len=64, pattern=SERVICE_NAME)
    description = chk.string(body, "description", max_len=512)
    version = chk.string(body, "version", pattern=VERSION, max_len=8)
    workspace = chk.string(body, "workspace_id", max_len=64)
    metrics = chk.string(body, "custom_metrics_path", max_len=256)
    groups = _group_configs(ctx, chk, body) if body.get("group_configs") is not None else None
    runtime = _runtime_config(chk, body) if body.get("runtime_config") is not None else None
    if name is not None and _name_taken(ctx, name, but=service.id):
        chk.fail("Service name %s already exists." % name, EXISTS, 409)
    update_given(service, name=name, description=description, version=version,
                 workspace_id=workspace, custom_metrics_path=metrics, runtime_config=runtime)
    if groups is not None:
        service.group_configs = groups
        service.version_id = ctx.ids.uuid()
        if status == RUNNING and groups:
            service.progress = _progress(ctx, "services_v2_deploy", (UPGRADING, RUNNING))
        elif not groups and status in (INIT,):
            service.progress = None
    service.updated_ms = ctx.now_ms
    return Reply.of(service, _view(service, ctx.now_ms))


@handler("StartInferService")
def start_infer_service(ctx):
    service = _service(ctx)
    status = service.status(ctx.now_ms)
    chk = Checker.of(service, INVALID)
    if status not in (STOPPED, FAILED, INIT) or not service.group_configs:
        chk.fail("Service %s is %s: only a stopped or failed service with an instance group "
                 "starts." % (service.name, status), BAD_STATE)
    service.progress = _progress(ctx, "services_v2_deploy", (DEPLOYING, RUNNING))
    service.failure_reason = ""
    service.updated_ms = ctx.now_ms
    return Reply.of(service, _view(service, ctx.now_ms))


@handler("StopInferService")
def stop_infer_service(ctx):
    service = _service(ctx)
    status = service.status(ctx.now_ms)
    if status not in (RUNNING, DEPLOYING, UPGRADING, FAILED):
        Checker.of(service, INVALID).fail("Service %s is %s: only a running, deploying or "
                                          "failed service stops." % (service.name, status),
                                          BAD_STATE)
    service.progress = _progress(ctx, "services_v2_stop", (STOPPING, STOPPED))
    service.updated_ms = ctx.now_ms
    return Reply.of(service, _view(service, ctx.now_ms))


@handler("BatchDeleteInferServices")
def batch_delete_infer_services(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    ids = chk.array(body, "service_ids", required=True, min_len=1, max_len=100)
    if any(not isinstance(i, str) for i in ids):
        chk.fail("Parameter service_ids must hold service ids (strings).")
    if len(set(ids)) != len(ids):
        chk.fail("Parameter service_ids names a service twice.")
    services = ctx.state.services
    for service_id in ids:
        if service_id not in services:
            Checker(INVALID, resource_id=service_id).fail(
                "Service %s does not exist." % service_id, NOT_FOUND, 404)
    gone = [services.pop(i) for i in ids]
    out = []
    for s in gone:
        view = _view(s, ctx.now_ms, detail=False)
        view["status"] = "DELETING"
        out.append(view)
    return Reply(200, {"service_responses": out}, resources=[(s.id, s.name) for s in gone])


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _on_fail(service: Service):
    def on_fail(now, reason):
        service.failure_reason = reason
    return on_fail


@lifecycle_kind("service-v2", FAMILY)
def _service_target(state: State, resource_id: str):
    service = state.services.get(resource_id)
    if service is None or service.progress is None:
        return None
    return Target(service.progress, FAILED, _on_fail(service))
