"""Resource pools v2: /v2/{project_id}/pools (modelarts-api.md section 7.4).

Kubernetes-style objects: {apiVersion, kind, metadata, spec, status}. Every call is audited,
reads too (read_only true); resource_id = metadata.name (the generated pool id),
resource_name = metadata.labels["os.modelarts/name"] (the display name).

Lifecycle on the clock: a created pool is Creating -> Running (dwell pools_create); a deleted
pool answers phase Deleting with metadata.deletionTimestamp and is gone after pools_delete.
/_sim/lifecycle kind "pool": advance, or fail (-> Error with the reason in status.message).
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass

from simulator.modelarts.lifecycle import Target, lifecycle_kind
from simulator.modelarts.resources import find
from simulator.modelarts.validate import Checker
from simulator.querystring import ASCII_DIGITS, query_int
from simulator.registry import Reply, handler

FAMILY = "pools"
DWELL = {"pools_create": 1.0, "pools_delete": 1.0}

CREATING, RUNNING, ABNORMAL, DELETING, ERROR, GONE = (
    "Creating", "Running", "Abnormal", "Deleting", "Error", "Deleted")
NAME_LABEL = "os.modelarts/name"
WORKSPACE_LABEL = "os.modelarts/workspace.id"
TYPES = ("Dedicate", "Logical")
SCOPES = ("Train", "Infer", "Notebook")
MAX_COUNT = 1000

INVALID = "ModelArts.50004000"  # 400
EXISTS = "ModelArts.50015000"  # 409
NOT_FOUND = "ModelArts.50015001"  # 404

DISPLAY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,29}$|^[a-z0-9]{1,2}$|^[a-z0-9-]{1,30}$")
# status query values (the reference's created|failed|creating) and the phases they mean
STATUS_FILTER = {"created": (RUNNING,), "failed": (ERROR, ABNORMAL), "creating": (CREATING,)}


def rfc3339(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


# -- state -----------------------------------------------------------------------------------

@dataclass
class Pool:
    name: str  # metadata.name: the pool id
    labels: dict
    annotations: dict
    spec: dict
    created_ms: int
    creation: object  # lifecycle.Progress: Creating -> Running
    deletion: object | None = None  # lifecycle.Progress: Deleting -> Deleted
    deleted_ms: int | None = None
    message: str = ""

    @property
    def display(self) -> str:
        return self.labels.get(NAME_LABEL, "")

    @property
    def trace_id(self) -> str:  # what traces name it by (see resources.py)
        return self.name

    @property
    def trace_name(self) -> str:
        return self.display

    def phase(self, now_ms: int) -> str:
        if self.deletion is not None:
            return self.deletion.status(now_ms)
        return self.creation.status(now_ms)


class State:
    def __init__(self):
        self.pools: dict[str, Pool] = {}

    def live(self, now_ms: int) -> dict[str, Pool]:
        """The pools, once those whose deletion has finished are dropped."""
        for name in [n for n, p in self.pools.items()
                     if p.deletion is not None and p.deletion.status(now_ms) == GONE]:
            del self.pools[name]
        return self.pools


# -- helpers ---------------------------------------------------------------------------------

def _pool(ctx) -> Pool:
    return find(ctx, ctx.state.live(ctx.now_ms), "pool_name", NOT_FOUND, "pool {} not found", 404)


def _resources(chk: Checker, spec: dict) -> list:
    items = chk.array(spec, "resources", required=True, min_len=1, max_len=20)
    out, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            chk.fail("spec.resources[%d] must be an object." % i)
        flavor = chk.string(item, "flavor", required=True, min_len=1, max_len=128)
        count = chk.integer(item, "count", required=True, minimum=0, maximum=MAX_COUNT)
        max_count = chk.integer(item, "maxCount", minimum=count, maximum=MAX_COUNT)
        if flavor in seen:
            chk.fail("spec.resources names flavor %s twice." % flavor)
        seen.add(flavor)
        entry = {"flavor": flavor, "count": count}
        if max_count is not None:
            entry["maxCount"] = max_count
        for key in ("extendParams", "os", "azs", "nodePool"):
            if item.get(key) is not None:
                entry[key] = item[key]
        out.append(entry)
    if not any(r["count"] for r in out):
        chk.fail("spec.resources must ask for at least one node.")
    return out


def _spec(chk: Checker, spec: dict) -> dict:
    kind = chk.choice(spec, "type", TYPES, required=True)
    scope = chk.array(spec, "scope", max_len=3)
    if any(s not in SCOPES for s in scope) or len(set(scope)) != len(scope):
        chk.fail("spec.scope must hold distinct values of %s." % ", ".join(SCOPES))
    out = {"type": kind, "scope": list(scope) or ["Train", "Infer"],
           "resources": _resources(chk, spec)}
    network = chk.mapping(spec, "network", required=kind == "Dedicate")
    if network:
        chk.string(network, "name", required=True, min_len=1, max_len=64)
        out["network"] = dict(network)
    for key in ("jobFlavors", "driver"):
        if spec.get(key) is not None:
            out[key] = spec[key]
    return out


def _view(p: Pool, now: int) -> dict:
    phase = p.phase(now)
    metadata = {"name": p.name, "creationTimestamp": rfc3339(p.created_ms),
                "labels": dict(p.labels), "annotations": dict(p.annotations)}
    if p.deleted_ms is not None:
        metadata["deletionTimestamp"] = rfc3339(p.deleted_ms)
    state = "Enabled" if phase == RUNNING else "Enabling" if phase == CREATING else "Disabled"
    status = {"phase": phase, "message": p.message,
              "scope": [{"scopeType": s, "state": state} for s in p.spec.get("scope", [])]}
    return {"apiVersion": "v2", "kind": "Pool", "metadata": metadata,
            "spec": copy.deepcopy(p.spec), "status": status}


def _merge(target: dict, patch: dict) -> dict:
    """RFC 7386 merge patch: objects merge, null removes, anything else replaces."""
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# -- handlers --------------------------------------------------------------------------------

@handler("CreatePool")
def create_pool(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    meta = body.get("metadata")
    asked = meta.get("labels") if isinstance(meta, dict) else None
    if isinstance(asked, dict) and isinstance(asked.get(NAME_LABEL), str):
        chk.resource_name = asked[NAME_LABEL]
    chk.choice(body, "apiVersion", ("v2",), required=True)
    chk.choice(body, "kind", ("Pool",))
    meta = chk.mapping(body, "metadata", required=True)
    labels = chk.strings(meta, "labels", "metadata.%s[%s] must be a string.")
    display = chk.string(labels, NAME_LABEL, required=True, min_len=1, max_len=30)
    if not re.match(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$", display):
        chk.fail("metadata.labels[%s] must be lowercase letters, digits and hyphens, starting "
                 "with a letter and not ending with a hyphen." % NAME_LABEL)
    annotations = chk.strings(meta, "annotations", "metadata.%s[%s] must be a string.")
    if annotations.get("os.modelarts/description") is not None:
        chk.string(annotations, "os.modelarts/description", max_len=256)
    chk.choice(annotations, "os.modelarts/billing.mode", ("0", "1"))
    spec = _spec(chk, chk.mapping(body, "spec", required=True))

    pools = ctx.state.live(ctx.now_ms)
    if any(p.display == display for p in pools.values()):
        chk.fail("Pool already exists: %s." % display, EXISTS, 409)
    name = "pool-" + ctx.ids.hex(32)
    labels.setdefault(WORKSPACE_LABEL, "0")
    labels.update({"os.modelarts/resource.id": name,
                   "os.modelarts/tenant.project.id": ctx.project.id,
                   "os.modelarts/tenant.domain.id": ctx.project.domain.id})
    annotations.setdefault("os.modelarts/description", "")
    annotations.setdefault("os.modelarts/billing.mode", "0")
    progress = ctx.sim.lifecycles.progress(FAMILY, "pools_create", (CREATING, RUNNING),
                                           ctx.now_ms)
    pool = Pool(name=name, labels=labels, annotations=annotations, spec=spec,
                created_ms=ctx.now_ms, creation=progress)
    pools[name] = pool
    return Reply.of(pool, _view(pool, ctx.now_ms))


def _selector(chk: Checker, raw: str):
    tests = []
    for term in raw.split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            tests.append(lambda labels, k=k.strip(), v=v.strip(): labels.get(k) != v)
        elif "=" in term:
            k, v = term.split("=", 1)
            k, v = k.strip(), v.strip().lstrip("=").strip()
            tests.append(lambda labels, k=k, v=v: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:].strip(): k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)
    return lambda labels: all(t(labels) for t in tests)


@handler("ListPools")
def list_pools(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    items = sorted(ctx.state.live(now).values(), key=lambda p: p.created_ms)
    status = q.get("status")
    if status:
        phases = STATUS_FILTER.get(status.lower()) or (
            (status,) if status in (CREATING, RUNNING, ABNORMAL, DELETING, ERROR) else None)
        if phases is None:
            chk.fail("Parameter status must be one of created, failed, creating (or a phase), "
                     "not %r." % status)
        items = [p for p in items if p.phase(now) in phases]
    if q.get("workspaceId"):
        items = [p for p in items if p.labels.get(WORKSPACE_LABEL) == q["workspaceId"]]
    if q.get("labelSelector"):
        match = _selector(chk, q["labelSelector"])
        items = [p for p in items if match(p.labels)]
    return Reply(200, {"apiVersion": "v2", "kind": "PoolList",
                       "items": [_view(p, now) for p in items]})


@handler("ShowPool")
def show_pool(ctx):
    pool = _pool(ctx)
    return Reply.of(pool, _view(pool, ctx.now_ms))


@handler("PatchPool")
def patch_pool(ctx):
    pool = _pool(ctx)
    chk = Checker.of(pool, INVALID)
    body = chk.body(ctx.body)
    unknown = sorted(set(body) - {"metadata", "spec", "apiVersion", "kind"})
    if unknown:
        chk.fail("Only metadata and spec can be patched, not %s." % ", ".join(unknown))
    phase = pool.phase(ctx.now_ms)
    if phase not in (RUNNING, ABNORMAL):
        chk.fail("Pool %s is %s: it can be changed only while Running." % (pool.name, phase))
    meta = chk.mapping(body, "metadata")
    spec_patch = chk.mapping(body, "spec")
    labels, annotations = pool.labels, pool.annotations
    if meta:
        unknown = sorted(set(meta) - {"labels", "annotations"})
        if unknown:
            chk.fail("Only metadata.labels and metadata.annotations can be patched.")
        labels = _merge(pool.labels, chk.mapping(meta, "labels"))
        annotations = _merge(pool.annotations, chk.mapping(meta, "annotations"))
        for where, values in (("labels", labels), ("annotations", annotations)):
            if any(not isinstance(v, str) for v in values.values()):
                chk.fail("metadata.%s must map names to strings." % where)
        for fixed in (NAME_LABEL, "os.modelarts/resource.id", "os.modelarts/tenant.project.id",
                      "os.modelarts/tenant.domain.id"):
            if labels.get(fixed) != pool.labels.get(fixed):
                chk.fail("metadata.labels[%s] cannot be changed." % fixed)
    spec = pool.spec
    if spec_patch:
        if "type" in spec_patch and spec_patch["type"] != pool.spec["type"]:
            chk.fail("spec.type cannot be changed.")
        spec = _spec(chk, _merge(pool.spec, spec_patch))
    pool.labels, pool.annotations, pool.spec = labels, annotations, spec
    return Reply.of(pool, _view(pool, ctx.now_ms))


@handler("DeletePool")
def delete_pool(ctx):
    pool = _pool(ctx)
    if pool.deletion is None:
        pool.deletion = ctx.sim.lifecycles.progress(FAMILY, "pools_delete", (DELETING, GONE),
                                                    ctx.now_ms)
        pool.deleted_ms = ctx.now_ms
    view = _view(pool, ctx.now_ms)
    view["status"]["phase"] = DELETING
    return Reply.of(pool, view)


@handler("ListPoolNodes")
def list_pool_nodes(ctx):
    pool = _pool(ctx)
    chk = Checker.of(pool, INVALID)
    q, now = ctx.query, ctx.now_ms
    bad_limit = "Parameter limit must be a number from 1 to 500."
    limit = query_int(q, "limit", None, chk.fail, lo=1, hi=500, digits=ASCII_DIGITS,
                      not_integer=bad_limit, out_of_range=bad_limit)
    start = query_int(q, "continue", 0, chk.fail, digits=ASCII_DIGITS,
                      not_integer="Parameter continue is not a marker this list gave.")
    phase = pool.phase(now)
    node_phase = {RUNNING: "Available", CREATING: "Creating", DELETING: "Deleting"}.get(
        phase, "Abnormal")
    nodes = []
    for r in pool.spec["resources"]:
        for i in range(r["count"]):
            nodes.append(_node(pool, r["flavor"], len(nodes), node_phase))
    end = len(nodes) if limit is None else min(len(nodes), start + limit)
    shown = nodes[start:end]
    meta = {"continue": str(end) if end < len(nodes) else "",
            "remainingItemCount": len(nodes) - end}
    return Reply.of(pool, {"apiVersion": "v1", "kind": "NodeList", "metadata": meta,
                           "items": shown})


def _node(pool: Pool, flavor: str, index: int, phase: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "os-node-%s-%03d" % (pool.name[5:17], index),
                     "creationTimestamp": rfc3339(pool.created_ms),
                     "labels": {"os.modelarts/resource.id": pool.name,
                                "os.modelarts/tenant.project.id":
                                    pool.labels.get("os.modelarts/tenant.project.id", ""),
                                "os.modelarts.node/cluster": pool.name}},
        "spec": {"flavor": flavor},
        "status": {"phase": phase, "az": "cn-north-4a",
                   "privateIp": "192.168.%d.%d" % (index // 250, index % 250 + 2)},
    }


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _on_fail(pool: Pool):
    def on_fail(now, reason):
        pool.message = reason
    return on_fail


@lifecycle_kind("pool", FAMILY)
def _pool_target(state: State, resource_id: str):
    pool = state.pools.get(resource_id)
    if pool is None:
        return None
    if pool.deletion is not None:
        return Target(pool.deletion, ERROR, _on_fail(pool))
    return Target(pool.creation, ERROR, _on_fail(pool))
