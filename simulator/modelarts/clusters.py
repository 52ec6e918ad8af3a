"""Dedicated resource pools of the old generation: /v1/{project_id}/clusters
(modelarts-api.md section 5.2).

Only the list is public; creating, deleting and scaling a pool and its detail are the
simulator's own shapes, modelled on the list record. Every audited call names the pool
(resource_id = cluster id, 32 hex, resource_name = cluster name).

A created pool deploys on its own: deploying -> running (abnormal when /_sim/lifecycle/fail
says so). When it leaves deploying, the service itself records createClusterResult: a
SystemAction trace with no source IP, rated normal (running) or warning (abnormal).

Other families look pools up in ``State.clusters`` (cluster id -> Cluster, with
``status(now_ms)``): services deploy to them, training jobs run on them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from simulator import registry
from simulator.modelarts.lifecycle import Target, lifecycle_kind, watch_callback
from simulator.modelarts.listing import fuzzy, ownership, v1_list
from simulator.modelarts.resources import Named, find
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "clusters"
# recorded by the simulator itself when a created pool leaves "deploying"
SYSTEM_OPERATIONS = ("CreateClusterResult",)
DWELL = {"clusters_create": 2.0}

DEPLOYING, RUNNING, ABNORMAL = "deploying", "running", "abnormal"
MAX_NODES = 50
# node flavour -> what one node offers to workloads: (CPU cores, memory MB, GPUs)
SPECIFICATIONS = {
    "modelarts.vm.cpu.8ud": (5.5, 4096, 0),
    "modelarts.vm.cpu.16ud": (13.5, 45056, 0),
    "modelarts.vm.gpu.p4": (5.5, 45056, 0.5),
    "modelarts.vm.gpu.v100": (5.5, 45056, 1),
    "modelarts.vm.ai1.a310": (5.5, 12288, 0),
}

INVALID = "ModelArts.0101"
NOT_FOUND = "ModelArts.3547"
NAME_USED = "ModelArts.3554"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Cluster(Named):
    id: str
    name: str
    description: str
    specification: str
    count: int
    owner: dict
    created_ms: int
    creation: object  # lifecycle.Progress: deploying -> running
    error_msg: str = ""

    def status(self, now_ms: int) -> str:
        return self.creation.status(now_ms)


class State:
    def __init__(self):
        self.clusters: dict[str, Cluster] = {}


# -- helpers ---------------------------------------------------------------------------------

def _cluster(ctx) -> Cluster:
    return find(ctx, ctx.state.clusters, "cluster_id", NOT_FOUND, "Cluster {} does not exist.")


def _view(c: Cluster, now: int) -> dict:
    cpu, memory, gpus = SPECIFICATIONS[c.specification]
    available = c.count if c.status(now) == RUNNING else 0
    return {
        "cluster_id": c.id,
        "cluster_name": c.name,
        "description": c.description,
        **c.owner,
        "created_at": c.created_ms,
        "status": c.status(now),
        "error_msg": c.error_msg,
        "nodes": {"specification": c.specification, "count": c.count,
                  "available_count": available},
        "allocatable_cpu_cores": cpu * available,
        "allocatable_memory": memory * available,
        "allocatable_gpus": gpus * available,
        "product_id": "",
        "order_id": "",
        "period_type": "",
        "period_num": 0,
    }


def _result(cluster: Cluster, status: str) -> dict:
    out = {"cluster_id": cluster.id, "cluster_name": cluster.name, "status": status}
    if status == ABNORMAL:
        out["error_msg"] = cluster.error_msg
    return out


@watch_callback
def _cluster_result(project_id: str, cluster_id: str, sim, at_ms: int, final_status: str):
    """The service records how the creation ended (createClusterResult), as the creator."""
    cluster = sim.state(FAMILY, project_id).clusters.get(cluster_id)
    if cluster is None:  # deleted while it was deploying: the creation never ended
        return
    sim.record_system("CreateClusterResult", sim.directory.project(project_id), at_ms=at_ms,
                      resource_id=cluster.id, resource_name=cluster.name,
                      response=_result(cluster, final_status),
                      rating="normal" if final_status == RUNNING else "warning",
                      user=sim.directory.user_by_id(cluster.owner["owner"]))


def _node_count(chk: Checker, obj: dict) -> int:
    return chk.integer(obj, "count", required=True, minimum=1, maximum=MAX_NODES)


# -- pools -----------------------------------------------------------------------------------

@handler("CreateCluster")
def create_cluster(ctx):
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    asked = body.get("cluster_name")
    chk.resource_name = asked if isinstance(asked, str) else None
    name = chk.name(body, "cluster_name", 64)
    description = chk.description(body, max_len=256)
    nodes = chk.mapping(body, "nodes", required=True)
    specification = chk.choice(nodes, "specification", tuple(SPECIFICATIONS), required=True)
    count = _node_count(chk, nodes)

    state = ctx.state
    if any(c.name == name for c in state.clusters.values()):
        chk.fail("Cluster name %s is already used." % name, NAME_USED)
    progress = ctx.sim.lifecycles.progress(FAMILY, "clusters_create", (DEPLOYING, RUNNING),
                                           ctx.now_ms)
    cluster = Cluster(id=ctx.ids.hex(32), name=name, description=description,
                      specification=specification, count=count, owner=ownership(ctx),
                      created_ms=ctx.now_ms, creation=progress)
    state.clusters[cluster.id] = cluster
    ctx.sim.watch(progress, functools.partial(_cluster_result, ctx.project.id, cluster.id))
    return Reply.of(cluster, {"cluster_id": cluster.id})


@handler("DeleteCluster")
def delete_cluster(ctx):
    cluster = _cluster(ctx)
    users = _workloads(ctx, cluster.id)
    if users:
        Checker.of(cluster, INVALID).fail("Cluster %s is in use by %s: stop or delete them "
                                          "first." % (cluster.name, ", ".join(users)))
    del ctx.state.clusters[cluster.id]
    return Reply.of(cluster, {})


def _workloads(ctx, cluster_id: str) -> list[str]:
    """What runs on the pool, asked of every family that can use one (State.using_cluster)."""
    found = []
    for module in registry.family_modules():
        if hasattr(module.State, "using_cluster"):
            state = ctx.sim.state(module.FAMILY, ctx.project.id)
            found += state.using_cluster(cluster_id, ctx.now_ms)
    return found


def _running(ctx, cluster: Cluster) -> Checker:
    chk = Checker.of(cluster, INVALID)
    status = cluster.status(ctx.now_ms)
    if status != RUNNING:
        chk.fail("Cluster %s is %s: nodes change only while it runs." % (cluster.name, status))
    return chk


@handler("AddClusterNodes")
def add_cluster_nodes(ctx):
    cluster = _cluster(ctx)
    chk = _running(ctx, cluster)
    count = _node_count(chk, chk.body(ctx.body))
    if cluster.count + count > MAX_NODES:
        chk.fail("Cluster %s would have %d nodes: at most %d." % (
            cluster.name, cluster.count + count, MAX_NODES))
    cluster.count += count
    return Reply.of(cluster, {"cluster_id": cluster.id, "count": cluster.count})


@handler("DeleteClusterNodes")
def delete_cluster_nodes(ctx):
    cluster = _cluster(ctx)
    chk = _running(ctx, cluster)
    raw = ctx.query.get("count", "")
    if not (raw.isascii() and raw.isdigit()):
        chk.fail("Parameter count must be a whole number of nodes, not %r." % raw)
    count = _node_count(chk, {"count": int(raw)})
    if count >= cluster.count:
        chk.fail("Cluster %s has %d node(s) and keeps at least one." % (
            cluster.name, cluster.count))
    cluster.count -= count
    return Reply.of(cluster, {"cluster_id": cluster.id, "count": cluster.count})


@handler("ListClusters")
def list_clusters(ctx):
    chk = Checker(INVALID)
    q, now = ctx.query, ctx.now_ms
    items = list(ctx.state.clusters.values())
    if q.get("cluster_name"):
        items = [c for c in items if fuzzy(c.name, q["cluster_name"])]
    if q.get("status"):
        items = [c for c in items if c.status(now) == q["status"]]
    return Reply(200, v1_list(q, chk, items, "clusters", lambda c: _view(c, now), {
        "created_at": lambda c: c.created_ms,
        "cluster_name": lambda c: c.name,
    }, "created_at"))


@handler("ShowCluster")
def show_cluster(ctx):
    cluster = _cluster(ctx)
    return Reply.of(cluster, _view(cluster, ctx.now_ms))


# -- lifecycle controls (/_sim/lifecycle) -----------------------------------------------------

def _record_failure(cluster: Cluster):
    def on_fail(now, reason):
        cluster.error_msg = reason
    return on_fail


@lifecycle_kind("cluster", FAMILY)
def _cluster_target(state: State, resource_id: str):
    cluster = state.clusters.get(resource_id)
    return Target(cluster.creation, ABNORMAL, _record_failure(cluster)) if cluster else None
