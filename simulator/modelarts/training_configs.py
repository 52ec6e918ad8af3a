"""Training job configurations, old generation: /v1/{project_id}/training-job-configs
(modelarts-api.md 4.2).

A configuration is a saved training job config, identified by its name only; it has no
lifecycle. The body is flat (no ``config`` wrapper) and takes the same fields as a training
job's config (validated by v1jobs.check_config: the specification, engine, dataset and pool it
names must exist). Every audited call names the configuration (resource_id = resource_name =
config_name). Errors use the is_success dialect with HTTP 400 throughout (see v1jobs); a
duplicate name is ModelArts.0103 "Config name:X is existed" (the reference names no code: the
training job's is reused). An update names only the fields it changes (naming one field of a
group - data, code, resource - replaces the group): a simulator choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.modelarts import v1jobs
from simulator.registry import Reply, handler

FAMILY = "training_configs"
DWELL: dict[str, float] = {}  # synchronous: nothing moves on the clock


@dataclass
class Config:
    name: str
    desc: str
    config: dict  # v1jobs.check_config output
    created_ms: int

    @property
    def trace_id(self) -> str:  # a configuration is known by its name alone
        return self.name

    trace_name = trace_id


class State:
    def __init__(self):
        self.configs: dict[str, Config] = {}


def _config(ctx) -> Config:
    name = ctx.params["config_name"]
    found = ctx.state.configs.get(name)
    if found is None:
        v1jobs.checker(name, name).fail("Config %s does not exist." % name, v1jobs.NOT_FOUND)
    return found


def _ok(config: Config, body: dict | None = None) -> Reply:
    return v1jobs.ok(body, resource=config)


def _fields(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("config_name", "config_desc")}


def _summary(c: Config) -> dict:
    cfg = c.config
    return {"config_name": c.name, "config_desc": c.desc, "create_time": c.created_ms,
            "engine_type": cfg["engine_type"], "engine_name": cfg["engine_name"],
            "engine_id": cfg["engine_id"], "engine_version": cfg["engine_version"],
            "user_image_url": cfg["user_image_url"], "user_command": cfg["user_command"]}


def _detail(c: Config) -> dict:
    cfg = c.config
    out = _summary(c)
    for key in ("worker_server_num", "app_url", "boot_file_url", "model_id", "parameter",
                "spec_id", "spec_code", "core", "cpu", "gpu_num", "gpu_type", "data_url",
                "dataset_id", "dataset_version_id", "dataset_name", "dataset_version_name",
                "data_source", "train_url", "log_url", "pool_id", "pool_name", "volumes"):
        out[key] = cfg[key]
    return out


@handler("CreateTrainingJobConfig")
def create_config(ctx):
    asked = v1jobs.asked_name(ctx.body, "config_name")
    chk = v1jobs.checker(asked, asked)
    body = chk.body(ctx.body)
    name = chk.name(body, "config_name", 64)
    desc = chk.string(body, "config_desc", max_len=256, default="")
    config = v1jobs.check_config(ctx, chk, _fields(body))
    if name in ctx.state.configs:
        v1jobs.duplicate(chk, "Config", name)
    ctx.state.configs[name] = Config(name, desc, config, ctx.now_ms)
    return _ok(ctx.state.configs[name])


@handler("UpdateTrainingJobConfig")
def update_config(ctx):
    found = _config(ctx)
    chk = v1jobs.checker(found.name, found.name)
    body = chk.body(ctx.body)
    if body.get("config_name") not in (None, found.name):
        chk.fail("The name of a configuration cannot be changed.")
    desc = chk.string(body, "config_desc", max_len=256, default=found.desc)
    found.config = v1jobs.check_config(ctx, chk, v1jobs.merge_config(found.config,
                                                                      _fields(body)))
    found.desc = desc
    return _ok(found)


@handler("DeleteTrainingJobConfig")
def delete_config(ctx):
    found = _config(ctx)
    del ctx.state.configs[found.name]
    return _ok(found)


def _config_type(ctx, chk) -> str:
    return chk.choice(ctx.query, "config_type", ("custom", "sample"), default="custom")


@handler("ListTrainingJobConfigs")
def list_configs(ctx):
    chk = v1jobs.checker()
    # sample configurations are Huawei's own examples: the simulator has none
    configs = list(ctx.state.configs.values()) if _config_type(ctx, chk) == "custom" else []
    sort_keys = {"config_name": lambda c: c.name,
                 "config_desc": lambda c: (c.desc, c.name),
                 "create_time": lambda c: (c.created_ms, c.name)}
    total, page = v1jobs.list_page(configs, ctx.query, chk, sort_keys=sort_keys,
                                   default_sort="config_name", name_of=lambda c: c.name)
    return v1jobs.ok({"config_total_count": total, "configs": [_summary(c) for c in page]})


@handler("ShowTrainingJobConfig")
def show_config(ctx):
    found = _config(ctx)
    _config_type(ctx, v1jobs.checker(found.name, found.name))
    return _ok(found, _detail(found))
