"""Model management: /v1/{project_id}/models (shared/reference/modelarts-api.md section 4.4).

Every audited call names the model (resource_id = model id, resource_name = its name).
Importing is asynchronous: publishing -> published (failed when /_sim/lifecycle/fail says so).
A model some service deploys cannot be deleted: it lands in delete_failed_list (ModelArts.3009)
and the call still answers 200. updateModel has no public API: its body is the simulator's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from simulator.modelarts.lifecycle import Target, lifecycle_kind
from simulator.modelarts.listing import fuzzy, ownership, v1_list
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "models"
DWELL = {"models_publish": 1.0}
SERVICES = "services"  # the family whose services deploy models (services.State.using_model)

MODEL_TYPES = ("TensorFlow", "MXNet", "Caffe", "Spark_MLlib", "Scikit_Learn", "XGBoost", "Image",
               "PyTorch", "MindSpore", "Template")
INSTALL_TYPES = ("real-time", "batch", "edge")
PUBLISHING, PUBLISHED, FAILED = "publishing", "published", "failed"
# X.Y.Z, each part 0-99 without a leading zero ("01.0.0" is refused)
VERSION = re.compile(r"^(0|[1-9]\d?)\.(0|[1-9]\d?)\.(0|[1-9]\d?)$")
SWR_IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+:[A-Za-z0-9._-]+$")
RESTRAINTS = ("EXACT", "ATLEAST", "ATMOST")
OPTIONAL_STRINGS = ("runtime", "execution_code", "model_algorithm", "model_metrics",
                    "initial_config", "source_job_id", "source_job_version")

INVALID = "ModelArts.0101"
NOT_FOUND = "ModelArts.3001"
EXISTS = "ModelArts.3002"
SOURCE_NONCOMPLIANT = "ModelArts.3017"  # "source location noncompliance"
DEPLOYED = "ModelArts.3009"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Model(Named):
    id: str
    name: str
    version: str
    model_type: str
    source_location: str
    description: str
    install_type: list
    model_docs: list
    workspace_id: str
    owner: dict
    size: int
    created_ms: int
    updated_ms: int
    progress: object  # lifecycle.Progress: publishing -> published
    details: dict = field(default_factory=dict)  # the optional fields, as given
    error_msg: str = ""

    def status(self, now: int) -> str:
        return self.progress.status(now)


class State:
    def __init__(self):
        self.models: dict[str, Model] = {}


# -- helpers ---------------------------------------------------------------------------------

def _model(ctx) -> Model:
    return find(ctx, ctx.state.models, "model_id", NOT_FOUND, "Model {} does not exist.", 404)


def _deployed_in(ctx, model_id: str) -> list:
    return ctx.sim.state(SERVICES, ctx.project.id).using_model(model_id)


def _source_location(chk: Checker, value: str, model_type: str) -> str:
    if model_type == "Image":
        if not SWR_IMAGE.match(value):
            chk.fail("Parameter source_location must be an SWR image such as "
                     "swr.cn-north-4.myhuaweicloud.com/org/image:tag, not %r." % value)
        return value
    return chk.obs_path(value, "source_location")


def _model_docs(chk: Checker, body: dict) -> list:
    docs = chk.array(body, "model_docs", max_len=3)
    for doc in docs:
        if not isinstance(doc, dict):
            chk.fail("Each model_docs entry must be an object.")
        chk.string(doc, "doc_name", required=True, min_len=1, max_len=48)
        url = chk.string(doc, "doc_url", required=True, min_len=1, max_len=512)
        if not url.startswith(("http://", "https://")):
            chk.fail("Parameter doc_url must be an http(s) address, not %r." % url)
    return [{"doc_name": d["doc_name"], "doc_url": d["doc_url"]} for d in docs]


def _dependencies(chk: Checker, body: dict) -> list:
    deps = chk.array(body, "dependencies")
    for dep in deps:
        if not isinstance(dep, dict):
            chk.fail("Each dependencies entry must be an object.")
        chk.choice(dep, "installer", ("pip",), required=True)
        for package in chk.array(dep, "packages", required=True, min_len=1):
            if not isinstance(package, dict):
                chk.fail("Each package must be an object.")
            chk.string(package, "package_name", required=True, min_len=1, max_len=128)
            chk.string(package, "package_version", max_len=64)
            chk.choice(package, "restraint", RESTRAINTS)
    return deps


def _template(chk: Checker, body: dict) -> dict:
    template = chk.mapping(body, "template", required=True)
    chk.string(template, "template_id", required=True, min_len=1, max_len=128)
    chk.string(template, "infer_format", max_len=128)
    for item in chk.array(template, "template_inputs"):
        if not isinstance(item, dict):
            chk.fail("Each template_inputs entry must be an object.")
        chk.string(item, "input_id", required=True, min_len=1)
        chk.string(item, "input", required=True, min_len=1)
    return template


def _size(source_location: str) -> int:
    """An image model's size, which stays the same for the same image (bytes, 1 MB to
    500 MB); a model read from OBS is the size of its files."""
    digest = hashlib.sha256(source_location.encode()).digest()
    return 1_000_000 + int.from_bytes(digest[:4], "big") % 499_000_000


def _version_key(version: str) -> tuple:
    return tuple(int(part) for part in version.split("."))


def _view(m: Model, now: int) -> dict:
    return {
        "model_id": m.id,
        "model_name": m.name,
        "model_version": m.version,
        "model_type": m.model_type,
        "model_size": m.size,
        "model_status": m.status(now),
        "description": m.description,
        "source_type": m.details.get("source_type", ""),
        "install_type": list(m.install_type),
        "workspace_id": m.workspace_id,
        **m.owner,
        "create_at": m.created_ms,
        "update_at": m.updated_ms,
    }


def _view_detail(m: Model, now: int) -> dict:
    out = _view(m, now)
    out.update({
        "source_location": m.source_location,
        "runtime": m.details.get("runtime", ""),
        "execution_code": m.details.get("execution_code", ""),
        "model_algorithm": m.details.get("model_algorithm", ""),
        "model_metrics": m.details.get("model_metrics", ""),
        "initial_config": m.details.get("initial_config", ""),
        "source_job_id": m.details.get("source_job_id", ""),
        "source_job_version": m.details.get("source_job_version", ""),
        "image_address": "",
        "input_params": m.details.get("input_params", []),
        "output_params": m.details.get("output_params", []),
        "apis": m.details.get("apis", []),
        "dependencies": m.details.get("dependencies", []),
        "model_docs": list(m.model_docs),
        "template": m.details.get("template"),
        "error_msg": m.error_msg,
    })
    return out


# -- models ----------------------------------------------------------------------------------

@handler("CreateModel")
def import_model(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    asked = body.get("model_name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = chk.name(body, "model_name", 64)
    version = chk.string(body, "model_version", required=True)
    if not VERSION.match(version):
        chk.fail("Parameter model_version must look like X.Y.Z, each part 0-99 without a "
                 "leading zero, not %r." % version)
    model_type = chk.choice(body, "model_type", MODEL_TYPES, required=True)
    source = _source_location(chk, chk.string(body, "source_location", required=True,
                                              min_len=1, max_len=1024), model_type)
    description = chk.description(body, max_len=100)
    details = {key: chk.string(body, key, max_len=4096) for key in OPTIONAL_STRINGS}
    details["source_type"] = chk.choice(body, "source_type", ("auto", ""), default="")
    for key in ("input_params", "output_params", "apis"):
        details[key] = chk.array(body, key)
    details["dependencies"] = _dependencies(chk, body)
    if model_type == "Template":
        details["template"] = _template(chk, body)
    docs = _model_docs(chk, body)
    install_type = chk.array(body, "install_type", max_len=len(INSTALL_TYPES)) or [
        "real-time", "batch"]
    for kind in install_type:
        if kind not in INSTALL_TYPES:
            chk.fail("Parameter install_type holds %r: it takes %s." % (
                kind, ", ".join(INSTALL_TYPES)))
    workspace_id = chk.string(body, "workspace_id", min_len=1, max_len=64, default="0")

    state = ctx.state
    if any(m.name == name and m.version == version for m in state.models.values()):
        chk.fail("Model %s of version %s already exists." % (name, version), EXISTS, 409)
    size = _size(source)
    if model_type != "Image":  # the package is read from OBS: it must be there
        files = ctx.sim.obs_files.objects(source)
        if not files:
            chk.fail("Failed to publish model because source location noncompliance: %s "
                     "holds no files." % source, SOURCE_NONCOMPLIANT)
        size = sum(f.size for f in files)
    model = Model(
        id=ctx.ids.uuid(), name=name, version=version, model_type=model_type,
        source_location=source, description=description, install_type=list(install_type),
        model_docs=docs, workspace_id=workspace_id, owner=ownership(ctx), size=size,
        created_ms=ctx.now_ms, updated_ms=ctx.now_ms,
        progress=ctx.sim.lifecycles.progress(FAMILY, "models_publish", (PUBLISHING, PUBLISHED),
                                             ctx.now_ms),
        details={k: v for k, v in details.items() if v not in (None, "", [])})
    state.models[model.id] = model
    return Reply.of(model, {"model_id": model.id})


@handler("UpdateModel")
def update_model(ctx):
    model = _model(ctx)
    chk = Checker.of(model, INVALID)
    body = chk.body(ctx.body)
    if "description" not in body and "model_docs" not in body:
        chk.fail("Give description and/or model_docs to update.")
    description = chk.description(body, max_len=100) if "description" in body else None
    docs = _model_docs(chk, body) if "model_docs" in body else None
    if description is not None:
        model.description = description
    if docs is not None:
        model.model_docs = docs
    model.updated_ms = ctx.now_ms
    return Reply.of(model, {})


@handler("DeleteModel")
def delete_model(ctx):
    model = _model(ctx)
    chk = Checker.of(model, INVALID)
    cascade = ctx.query.get("cascade", "false")
    if cascade not in ("true", "false"):
        chk.fail("Parameter cascade must be true or false.")
    state = ctx.state
    targets = [m for m in state.models.values() if m.name == model.name] \
        if cascade == "true" else [model]
    deleted, failed = [], []
    for target in targets:
        services = _deployed_in(ctx, target.id)
        if services:
            failed.append({"model_id": target.id, "error_code": DEPLOYED,
                           "error_message": "Model %s %s is already deployed as service %s." % (
                               target.name, target.version,
                               ", ".join(s.name for s in services))})
        else:
            deleted.append(target.id)
    for model_id in deleted:
        del state.models[model_id]
    return Reply.of(model, {"delete_success_list": deleted, "delete_failed_list": failed})


@handler("ListModels")
def list_models(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    items = list(ctx.state.models.values())
    name = q.get("model_name")
    if name:
        exact = q.get("exact_match", "false")
        if exact not in ("true", "false"):
            chk.fail("Parameter exact_match must be true or false.")
        items = [m for m in items if (m.name == name if exact == "true" else fuzzy(m.name, name))]
    if q.get("description"):
        items = [m for m in items if fuzzy(m.description, q["description"])]
    for key, value_of in (("model_version", lambda m: m.version),
                          ("model_type", lambda m: m.model_type),
                          ("model_status", lambda m: m.status(now)),
                          ("workspace_id", lambda m: m.workspace_id)):
        if q.get(key):
            items = [m for m in items if value_of(m) == q[key]]
    if q.get("not_model_type"):
        items = [m for m in items if m.model_type != q["not_model_type"]]
    return Reply(200, v1_list(q, chk, items, "models", lambda m: _view(m, now), {
        "create_at": lambda m: m.created_ms,
        "model_version": lambda m: _version_key(m.version),
        "model_size": lambda m: m.size,
    }, "create_at", default_limit=100))


@handler("ShowModel")
def show_model(ctx):
    model = _model(ctx)
    return Reply.of(model, _view_detail(model, ctx.now_ms))


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _record_failure(model: Model):
    def on_fail(now, reason):
        model.error_msg = reason
    return on_fail


@lifecycle_kind("model", FAMILY)
def _model_target(state: State, resource_id: str):
    model = state.models.get(resource_id)
    return Target(model.progress, FAILED, _record_failure(model)) if model else None
