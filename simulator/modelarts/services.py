"""Service management: /v1/{project_id}/services (modelarts-api.md section 5.1).

Every audited call names the service (resource_id = service id, resource_name = its name);
deleting several services at once (comma-separated ids) leaves one trace per service.
Start and stop share the update path: a body with ``status`` is startOrStopService.

A service deploys its models on its own: real-time deploying -> running, batch deploying ->
running -> finished; a stop is immediate, a start deploys again; failed when
/_sim/lifecycle/fail says so (with error_msg). A real-time service with a ``schedule`` stops
by itself when its running time is up.

Services reference other families for real: each config's model must exist in the project and
be published; a ``cluster_id`` must name a running dedicated pool. Models and pools ask
``State.using_model`` / ``State.using_cluster`` before they let themselves be deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.modelarts import clusters, models
from simulator.modelarts.lifecycle import Progress, Target, lifecycle_kind
from simulator.modelarts.listing import fuzzy, ownership, v1_list
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "services"
DWELL = {"services_deploy": 2.0, "services_batch": 3.0}

REAL_TIME, BATCH = "real-time", "batch"
DEPLOYING, RUNNING, STOPPED, FAILED, FINISHED = (
    "deploying", "running", "stopped", "failed", "finished")
STOPPABLE = (DEPLOYING, RUNNING)
STARTABLE = (STOPPED, FAILED, FINISHED)
UNIT_MS = {"DAYS": 86_400_000, "HOURS": 3_600_000, "MINUTES": 60_000}
SPECIFICATION = re.compile(r"^modelarts\.[a-z0-9]+(\.[a-z0-9]+)+$")
NETWORK = ("vpc_id", "subnet_network_id", "security_group_id")
UPDATABLE = ("description", "config", "schedule", "additional_properties")
MAX_CONFIGS = 10
MAX_INSTANCES = 128

INVALID = "ModelArts.0101"
NOT_FOUND = "ModelArts.3502"
EXISTS = "ModelArts.3503"
MODEL_PUBLISHING = "ModelArts.3515"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Service(Named):
    id: str
    name: str
    infer_type: str
    description: str
    workspace_id: str
    cluster_id: str | None
    network: dict  # vpc_id, subnet_network_id, security_group_id
    config: list  # validated entries, with the model's name and version
    schedule: list
    additional_properties: dict
    owner: dict
    access_address: str
    resource_ids: list
    publish_ms: int
    updated_ms: int
    progress: object  # lifecycle.Progress of the latest deployment, start or stop
    error_msg: str = ""

    def state_at(self, now: int) -> tuple[str, int, int | None]:
        """(status, since when, until when if it moves on by itself)."""
        at = self.progress.started_ms
        for status, dwell in self.progress.steps[:-1]:
            if now < at + dwell:
                return status, at, at + dwell
            at += dwell
        due = self.due_ms()
        if due is not None and now >= due:
            return STOPPED, due, None
        return self.progress.final, at, None

    def status(self, now: int) -> str:
        return self.state_at(now)[0]

    def due_ms(self) -> int | None:
        """When a scheduled real-time service stops by itself."""
        if self.infer_type != REAL_TIME or not self.schedule or self.progress.final != RUNNING:
            return None
        rule = self.schedule[0]
        return self.progress.done_ms + rule["duration"] * UNIT_MS[rule["time_unit"]]

    def model_ids(self) -> set:
        return {entry["model_id"] for entry in self.config}

    def cluster_ids(self) -> set:
        found = {entry.get("cluster_id") for entry in self.config} | {self.cluster_id}
        return found - {None}


class State:
    def __init__(self):
        self.services: dict[str, Service] = {}

    def using_model(self, model_id: str) -> list[Service]:
        return [s for s in self.services.values() if model_id in s.model_ids()]

    def using_cluster(self, cluster_id: str, now: int) -> list[str]:
        """What runs on a dedicated pool, by name (clusters asks before deleting one)."""
        return ["service " + s.name for s in self.services.values()
                if cluster_id in s.cluster_ids()]


# -- helpers ---------------------------------------------------------------------------------

def _service(ctx) -> Service:
    return find(ctx, ctx.state.services, "service_id", NOT_FOUND, "Service {} does not exist.",
                404)


def _deployment(ctx, infer_type: str) -> Progress:
    if infer_type == BATCH:
        return ctx.sim.lifecycles.progress(FAMILY, "services_batch",
                                           (DEPLOYING, RUNNING, FINISHED), ctx.now_ms)
    return ctx.sim.lifecycles.progress(FAMILY, "services_deploy", (DEPLOYING, RUNNING),
                                       ctx.now_ms)


def _redeploy(ctx, service: Service) -> None:
    """The service deploys its models again (it starts, or a live one's config changed)."""
    service.progress = _deployment(ctx, service.infer_type)
    service.error_msg = ""


def _published_model(ctx, chk: Checker, model_id: str, infer_type: str):
    model = ctx.sim.state(models.FAMILY, ctx.project.id).models.get(model_id)
    if model is None:
        chk.fail("Model %s does not exist." % model_id, models.NOT_FOUND, 404)
    status = model.status(ctx.now_ms)
    if status == models.PUBLISHING:
        chk.fail("Model %s %s is still publishing and cannot be deployed yet." % (
            model.name, model.version), MODEL_PUBLISHING)
    if status != models.PUBLISHED:
        chk.fail("Model %s %s is %s and cannot be deployed." % (model.name, model.version,
                                                                 status))
    if infer_type not in model.install_type:
        chk.fail("Model %s %s cannot be deployed as a %s service (install_type %s)." % (
            model.name, model.version, infer_type, ", ".join(model.install_type)))
    return model


def _running_cluster(ctx, chk: Checker, cluster_id: str) -> None:
    cluster = ctx.sim.state(clusters.FAMILY, ctx.project.id).clusters.get(cluster_id)
    if cluster is None:
        chk.fail("Cluster %s does not exist." % cluster_id, clusters.NOT_FOUND)
    status = cluster.status(ctx.now_ms)
    if status != clusters.RUNNING:
        chk.fail("Cluster %s is %s: services deploy to running pools only." % (
            cluster.name, status))


def _batch_fields(chk: Checker, item: dict) -> dict:
    src_type = chk.choice(item, "src_type", ("ManifestFile",))
    fields = {
        "src_path": chk.obs_path(chk.string(item, "src_path", required=True), "src_path",
                                 suffix=".manifest" if src_type else None),
        "dest_path": chk.obs_path(chk.string(item, "dest_path", required=True), "dest_path"),
        "req_uri": chk.string(item, "req_uri", required=True, min_len=1, max_len=256),
        "mapping_type": chk.choice(item, "mapping_type", ("file", "csv"), required=True),
    }
    if not fields["req_uri"].startswith("/"):
        chk.fail("Parameter req_uri must be a path of the model's API, starting with /.")
    rule = chk.mapping(item, "mapping_rule", required=fields["mapping_type"] == "csv")
    if rule:
        fields["mapping_rule"] = rule
    if src_type:
        fields["src_type"] = src_type
    return fields


def _number(chk: Checker, obj: dict, key: str, *, required=False, above=None, maximum=None,
            default=None):
    """A JSON number (custom_spec takes fractions of a CPU or GPU)."""
    value = obj.get(key)
    if value is None:
        if required:
            chk.fail("Parameter %s is required." % key)
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        chk.fail("Parameter %s must be a number." % key)
    if value < 0 or (above is not None and value <= above) or (
            maximum is not None and value > maximum):
        chk.fail("Parameter %s must be %s and at most %s." % (
            key, "above %s" % above if above is not None else "0 or more", maximum))
    return value


def _config_entry(ctx, chk: Checker, item, infer_type: str) -> dict:
    if not isinstance(item, dict):
        chk.fail("Each config entry must be an object.")
    entry = {"model_id": chk.string(item, "model_id", required=True, min_len=1, max_len=64)}
    specification = chk.string(item, "specification", required=True, min_len=1, max_len=64)
    if specification != "custom" and not SPECIFICATION.match(specification):
        chk.fail("Parameter specification must be a flavour such as modelarts.vm.cpu.2u or "
                 "custom, not %r." % specification)
    entry["specification"] = specification
    if specification == "custom":
        spec = chk.mapping(item, "custom_spec", required=True)
        entry["custom_spec"] = {
            "cpu": _number(chk, spec, "cpu", required=True, above=0, maximum=64),
            "memory": chk.integer(spec, "memory", required=True, minimum=512,
                                  maximum=262_144),
            "gpu_p4": _number(chk, spec, "gpu_p4", maximum=8, default=0),
            "ascend_a310": chk.integer(spec, "ascend_a310", minimum=0, maximum=8, default=0),
        }
    entry["instance_count"] = chk.integer(item, "instance_count", required=True, minimum=1,
                                          maximum=MAX_INSTANCES)
    envs = chk.mapping(item, "envs")
    if any(not isinstance(v, str) for v in envs.values()):
        chk.fail("Parameter envs must map names to strings.")
    entry["envs"] = dict(envs)
    if infer_type == REAL_TIME:
        entry["weight"] = chk.integer(item, "weight", required=True, minimum=0, maximum=100)
    else:
        entry.update(_batch_fields(chk, item))
    cluster_id = chk.string(item, "cluster_id", min_len=1, max_len=64)
    if cluster_id:
        _running_cluster(ctx, chk, cluster_id)
        entry["cluster_id"] = cluster_id
    model = _published_model(ctx, chk, entry["model_id"], infer_type)
    entry.update(model_name=model.name, model_version=model.version)
    return entry


def _config(ctx, chk: Checker, body: dict, infer_type: str) -> list[dict]:
    raw = chk.array(body, "config", required=True, min_len=1, max_len=MAX_CONFIGS)
    if infer_type == BATCH and len(raw) != 1:
        chk.fail("A batch service takes exactly one config entry, not %d." % len(raw))
    config = [_config_entry(ctx, chk, item, infer_type) for item in raw]
    if infer_type == REAL_TIME:
        total = sum(entry["weight"] for entry in config)
        if total != 100:
            chk.fail("The weights of the config entries must add up to 100, not %d." % total)
    return config


def _schedule(chk: Checker, body: dict) -> list[dict]:
    rules = chk.array(body, "schedule", max_len=1)
    for rule in rules:
        if not isinstance(rule, dict):
            chk.fail("Each schedule entry must be an object.")
        chk.choice(rule, "type", ("stop",), required=True)
        chk.choice(rule, "time_unit", tuple(UNIT_MS), required=True)
        chk.integer(rule, "duration", required=True, minimum=1, maximum=1000)
    return [{"type": r["type"], "time_unit": r["time_unit"], "duration": r["duration"]}
            for r in rules]


def _view(s: Service, now: int) -> dict:
    status, since, until = s.state_at(now)
    if status == DEPLOYING:
        progress = int(100 * (now - since) / (until - since)) if until > since else 0
    else:
        progress = 0 if status == FAILED else 100
    return {
        "service_id": s.id,
        "service_name": s.name,
        "description": s.description,
        **s.owner,
        "publish_at": s.publish_ms,
        "update_time": s.updated_ms,
        "infer_type": s.infer_type,
        "workspace_id": s.workspace_id,
        "status": status,
        "progress": progress,
        "invocation_times": 0,
        "failed_times": 0,
        "is_shared": False,
        "shared_count": 0,
        "schedule": [dict(r) for r in s.schedule],
        "due_time": s.due_ms() if status in STOPPABLE else None,
        "operation_time": s.updated_ms,
        "transition_at": since,
        "is_free": False,
        "additional_properties": dict(s.additional_properties),
    }


def _view_detail(s: Service, now: int) -> dict:
    out = _view(s, now)
    ready = "ready" if out["status"] in (RUNNING, FINISHED) else "notReady"
    out.update({
        "cluster_id": s.cluster_id or "",
        **{key: s.network.get(key) or "" for key in NETWORK},
        "error_msg": s.error_msg,
        "config": [dict(entry, status=ready) for entry in s.config],
        "access_address": s.access_address,
        "bind_access_address": "",
        "debug_url": "",
        "resource_ids": list(s.resource_ids),
    })
    return out


# -- services --------------------------------------------------------------------------------

@handler("CreateService")
def deploy_service(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    asked = body.get("service_name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = chk.name(body, "service_name", 64)
    infer_type = chk.choice(body, "infer_type", (REAL_TIME, BATCH), required=True)
    description = chk.description(body, max_len=100)
    workspace_id = chk.string(body, "workspace_id", min_len=1, max_len=64, default="0")
    cluster_id = chk.string(body, "cluster_id", min_len=1, max_len=64)
    network = {key: chk.string(body, key, min_len=1, max_len=64) for key in NETWORK}
    schedule = _schedule(chk, body)
    properties = chk.mapping(body, "additional_properties")

    state = ctx.state
    if any(s.name == name for s in state.services.values()):
        chk.fail("Service %s already exists." % name, EXISTS, 409)
    if cluster_id:
        _running_cluster(ctx, chk, cluster_id)
    config = _config(ctx, chk, body, infer_type)
    service_id = ctx.ids.uuid()
    address = ("https://%s.apig.%s.huaweicloudapis.com/v1/infers/%s" % (
        ctx.ids.hex(32), ctx.project.region, service_id)) if infer_type == REAL_TIME else ""
    service = Service(
        id=service_id, name=name, infer_type=infer_type, description=description,
        workspace_id=workspace_id, cluster_id=cluster_id,
        network={k: v for k, v in network.items() if v}, config=config, schedule=schedule,
        additional_properties=dict(properties), owner=ownership(ctx), access_address=address,
        resource_ids=["INF-%s@%d" % (ctx.ids.hex(16), ctx.now_ms)], publish_ms=ctx.now_ms,
        updated_ms=ctx.now_ms, progress=_deployment(ctx, infer_type))
    state.services[service.id] = service
    return Reply.of(service, {"service_id": service.id, "resource_ids": list(service.resource_ids)})


@handler("UpdateService")
def update_service(ctx):
    service = _service(ctx)
    chk = Checker.of(service, INVALID)
    body = chk.body(ctx.body)
    if not any(key in body for key in UPDATABLE):
        chk.fail("Give %s to update." % ", ".join(UPDATABLE))
    description = chk.description(body, max_len=100) if "description" in body else None
    schedule = _schedule(chk, body) if "schedule" in body else None
    properties = chk.mapping(body, "additional_properties") \
        if "additional_properties" in body else None
    config = _config(ctx, chk, body, service.infer_type) if "config" in body else None

    if description is not None:
        service.description = description
    if schedule is not None:
        service.schedule = schedule
    if properties is not None:
        service.additional_properties = dict(properties)
    if config is not None:
        service.config = config
        if service.status(ctx.now_ms) in STOPPABLE:  # a live service redeploys its models
            _redeploy(ctx, service)
    service.updated_ms = ctx.now_ms
    return Reply.of(service, {})


@handler("StartOrStopService")
def start_or_stop_service(ctx):
    service = _service(ctx)
    chk = Checker.of(service, INVALID)
    body = chk.body(ctx.body)
    if "config" in body:
        chk.fail("Parameters status and config cannot be sent together.")
    wanted = chk.choice(body, "status", (RUNNING, STOPPED), required=True)
    status = service.status(ctx.now_ms)
    if wanted == STOPPED:
        if status not in STOPPABLE:
            chk.fail("Service %s is %s and cannot be stopped." % (service.name, status))
        service.progress = Progress(ctx.now_ms, ((STOPPED, 0),))
    else:
        if status not in STARTABLE:
            chk.fail("Service %s is %s and cannot be started." % (service.name, status))
        _redeploy(ctx, service)
    service.updated_ms = ctx.now_ms
    return Reply.of(service, {})


@handler("DeleteService")
def delete_service(ctx):
    given = ctx.params["service_id"]
    ids = [part.strip() for part in given.split(",")]
    if not all(ids):
        Checker(INVALID, resource_id=given).fail(
            "Parameter service_id must be service ids separated by commas, not %r." % given)
    state = ctx.state
    found = []
    for service_id in dict.fromkeys(ids):
        service = state.services.get(service_id)
        if service is None:
            Checker(INVALID, resource_id=service_id).fail(
                "Service %s does not exist." % service_id, NOT_FOUND, 404)
        found.append(service)
    for service in found:
        del state.services[service.id]
    return Reply(200, {}, resources=[(s.id, s.name) for s in found])


@handler("ListServices")
def list_services(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    items = list(ctx.state.services.values())
    if q.get("service_name"):
        items = [s for s in items if fuzzy(s.name, q["service_name"])]
    for key, matches in (("service_id", lambda s, v: s.id == v),
                         ("model_id", lambda s, v: v in s.model_ids()),
                         ("cluster_id", lambda s, v: v in s.cluster_ids()),
                         ("workspace_id", lambda s, v: s.workspace_id == v),
                         ("infer_type", lambda s, v: s.infer_type == v),
                         ("status", lambda s, v: s.status(now) == v)):
        if q.get(key):
            items = [s for s in items if matches(s, q[key])]
    return Reply(200, v1_list(q, chk, items, "services", lambda s: _view(s, now), {
        "publish_at": lambda s: s.publish_ms,
        "service_name": lambda s: s.name,
        "transition_at": lambda s: s.state_at(now)[1],
    }, "publish_at"))


@handler("ShowService")
def show_service(ctx):
    service = _service(ctx)
    return Reply.of(service, _view_detail(service, ctx.now_ms))


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _record_failure(service: Service):
    def on_fail(now, reason):
        service.error_msg = reason
    return on_fail


@lifecycle_kind("service", FAMILY)
def _service_target(state: State, resource_id: str):
    service = state.services.get(resource_id)
    return Target(service.progress, FAILED, _record_failure(service)) if service else None
