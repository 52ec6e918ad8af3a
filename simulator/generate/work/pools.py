"""Dedicated resource pools, old clusters and v2 pools (admins and engineers): created,
resized to the week's load, looked over, deleted.

Kinds in TeamWork (facts beside "id"): ``cluster``: name, nodes; ``pool`` (id =
metadata.name): display, flavor, nodes.
"""

from __future__ import annotations

from simulator.generate.work.common import (HOUR, MINUTE, call, cycled_name, reclaim_soon,
                                            slipped, taken_oldest)

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_CLUSTERS, MAX_POOLS = 2, 2

POOL_READY = 20 * MINUTE  # clusters_create / pools_create 900 s (longer than DWELL)
CLUSTER_SPECS = ("modelarts.vm.cpu.8ud", "modelarts.vm.gpu.p4", "modelarts.vm.gpu.v100")
POOL_FLAVORS = ("modelarts.vm.gpu.t4u8", "modelarts.vm.gpu.v100", "modelarts.vm.cpu.16u")


def _create_cluster(actor, work, rng):
    """Create a dedicated pool and wait until it runs; returns its facts (busy)."""
    name = cycled_name(work, "%s-pool" % work.team.name, "cluster")
    nodes = rng.randint(1, 3)
    reply = call(actor, work, "CreateCluster", {
        "cluster_name": name, "description": "Dedicated nodes for %s" % work.team.name,
        "nodes": {"specification": rng.choice(CLUSTER_SPECS), "count": nodes}})
    if reply.status != 200:
        return None
    facts = work.add("cluster", reply.body["cluster_id"], name=name, nodes=nodes, busy=True)
    yield POOL_READY
    return facts


def _add_nodes(actor, work, rng, cluster: dict, count: int) -> None:
    if slipped(rng, MISTAKE_RATE):  # asks for more nodes than a pool holds
        call(actor, work, "AddClusterNodes", {"count": 50}, cluster_id=cluster["id"])
    if call(actor, work, "AddClusterNodes", {"count": count},
            cluster_id=cluster["id"]).status == 200:
        cluster["nodes"] += count


def _remove_nodes(actor, work, cluster: dict, count: int) -> None:
    count = min(count, cluster["nodes"] - 1)
    if count > 0 and call(actor, work, "DeleteClusterNodes", cluster_id=cluster["id"],
                          query={"count": str(count)}).status == 200:
        cluster["nodes"] -= count


def _delete_cluster(actor, work, cluster: dict) -> bool:
    if call(actor, work, "DeleteCluster", cluster_id=cluster["id"]).status != 200:
        return False  # something still runs on it
    work.remove("cluster", cluster["id"])
    return True


def _oldest_or_new(actor, work, rng, kind: str, create):
    """The team's oldest idle pool of the kind, taken; or, when it has none, None after a new
    one is created (and released): that was the sitting's work."""
    facts = taken_oldest(work, kind)
    if facts is None:
        made = yield from create(actor, work, rng)
        if made is not None:
            work.release(made)
    return facts


def _retiring(work, kind: str, most: int, roll: float, rate: float) -> bool:
    """Whether the pool taken is deleted: half the time once the team holds `most` of the
    kind, and at `rate` anyway."""
    return (work.count(kind) >= most and roll < 0.5) or roll < rate


def size_cluster(actor, work, rng):
    """Someone sizes the team's dedicated pool to the week's load: creates one, adds nodes
    before a big run, gives them back after, deletes a pool no longer needed."""
    cluster = yield from _oldest_or_new(actor, work, rng, "cluster", _create_cluster)
    if cluster is None:
        return
    roll = rng.random()
    if _retiring(work, "cluster", MAX_CLUSTERS, roll, 0.15):
        if not _delete_cluster(actor, work, cluster):
            work.release(cluster)
        return
    if cluster["nodes"] < 6 and roll < 0.6:
        _add_nodes(actor, work, rng, cluster, rng.randint(1, 3))
    else:
        _remove_nodes(actor, work, cluster, rng.randint(1, 2))
    yield 0.0
    work.release(cluster)


def cluster_week(actor, work, rng):
    """CHORE (admin): a pool for a benchmark week: created (the service records when it is
    ready), scaled up for the runs, scaled down after, then deleted."""
    cluster = yield from _create_cluster(actor, work, rng)
    if cluster is None:
        return
    _add_nodes(actor, work, rng, cluster, rng.randint(1, 3))
    work.release(cluster)
    yield rng.uniform(1, 2) * HOUR
    if not (yield from reclaim_soon(work, "cluster", cluster)):
        return
    _remove_nodes(actor, work, cluster, rng.randint(1, 2))
    work.release(cluster)
    yield rng.uniform(0.5, 1) * HOUR
    if (yield from reclaim_soon(work, "cluster", cluster)) and \
            not _delete_cluster(actor, work, cluster):
        work.release(cluster)


def pool_body(work, display: str, flavor: str, nodes: int) -> dict:
    return {"apiVersion": "v2", "kind": "Pool",
            "metadata": {"labels": {"os.modelarts/name": display},
                         "annotations": {"os.modelarts/description":
                                         "Training pool of the %s team" % work.team.name}},
            "spec": {"type": "Dedicate", "scope": ["Train", "Infer"],
                     "network": {"name": "net-%s" % work.team.name},
                     "resources": [{"flavor": flavor, "count": nodes}]}}


def _create_pool(actor, work, rng):
    """Create a v2 pool and wait until it runs; returns its facts (busy)."""
    display = cycled_name(work, "%s-train" % work.team.name, "pool", field="display")
    nodes, flavor = rng.randint(1, 4), rng.choice(POOL_FLAVORS)
    if slipped(rng, MISTAKE_RATE):  # capital letters are not allowed in a pool name
        call(actor, work, "CreatePool", pool_body(work, display.title(), flavor, nodes))
        yield 30.0
    reply = call(actor, work, "CreatePool", pool_body(work, display, flavor, nodes))
    if reply.status != 200:
        return None
    facts = work.add("pool", reply.body["metadata"]["name"], display=display, flavor=flavor,
                     nodes=nodes, busy=True)
    yield POOL_READY
    return facts


def _scale_pool(actor, work, pool: dict, nodes: int, look_first: bool) -> None:
    """Resize the pool's node group (after a look at the pool, as in the console)."""
    if look_first:
        call(actor, work, "ShowPool", pool_name=pool["id"])
    body = {"spec": {"resources": [{"flavor": pool["flavor"], "count": nodes}]}}
    if call(actor, work, "PatchPool", body, pool_name=pool["id"]).status == 200:
        pool["nodes"] = nodes


def _delete_pool(actor, work, pool: dict) -> None:
    call(actor, work, "DeletePool", pool_name=pool["id"])
    work.remove("pool", pool["id"])


def manage_pool(actor, work, rng):
    """Someone manages the team's v2 pool: creates one, looks at it and resizes it, deletes
    one no longer needed."""
    pool = yield from _oldest_or_new(actor, work, rng, "pool", _create_pool)
    if pool is None:
        return
    roll = rng.random()
    if _retiring(work, "pool", MAX_POOLS, roll, 0.1):
        _delete_pool(actor, work, pool)
        return
    _scale_pool(actor, work, pool, max(1, pool["nodes"] + rng.choice((-1, 1, 2))),
                look_first=rng.random() < 0.5)
    yield 0.0
    work.release(pool)


def review_pools(actor, work, rng):
    """An auditor or engineer looks over the pools of the project, and at one of them."""
    call(actor, work, "ListPools", query={"status": "created"} if rng.random() < 0.3 else None)
    pools = list(work.assets.get("pool", {}).values())
    if pools and rng.random() < 0.5:
        call(actor, work, "ShowPool", pool_name=rng.choice(pools)["id"])
    yield 0.0


def pool_week(actor, work, rng):
    """CHORE (admin): a v2 pool for the week: created, checked and resized, listed with the
    others, then deleted."""
    pool = yield from _create_pool(actor, work, rng)
    if pool is None:
        return
    _scale_pool(actor, work, pool, pool["nodes"] + 1, look_first=True)
    work.release(pool)
    yield rng.uniform(1, 2) * HOUR
    call(actor, work, "ListPools")
    if (yield from reclaim_soon(work, "pool", pool)):
        _delete_pool(actor, work, pool)
