"""Inference services (v2): containerised models put online, new images rolled out (by
engineers and the CI pipeline), stopped when idle and started again, deleted in batches.

The ``service_v2`` kind in TeamWork (facts beside "id"): name, app, tag, running.
"""

from __future__ import annotations

from simulator.generate.work.common import MINUTE, call, counter, cycled_name, idle, slipped
from simulator.generate.work.services import SERVICE_FLAVORS, SERVICE_READY

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_INFER_SERVICES = 4

SERVICE_STOPPED = 2 * MINUTE  # services_v2_stop 40 s (longer than DWELL)
INFER_APPS = ("ocr-api", "embedding-api", "chat-assistant", "image-tagger")


def _infer_body(work, rng, name: str, app: str, tag: str) -> dict:
    image = "swr.%s.myhuaweicloud.com/%s/%s:%s" % (
        work.team.project.region, work.team.name, app, tag)
    return {"name": name, "type": "REAL_TIME", "description": "%s for %s" % (app, work.team.name),
            "group_configs": [{"name": "default", "count": 1, "weight": 100, "unit_configs": [
                {"image": {"source": "SWR", "swr_path": image},
                 "flavor": rng.choice(SERVICE_FLAVORS), "count": 1, "port": 8080}]}],
            "runtime_config": {"service_invoke": {"port": 8080, "auth_type": "API_KEY",
                                                  "protocol": "HTTPS"}}}


def _tag(n: int) -> str:
    return "v1.%d.%d" % ((n // 10) % 100, n % 10)


def _deploy_infer_service(actor, work, rng):
    """Create an image-based service and wait until it runs; returns its facts (busy)."""
    app = rng.choice(INFER_APPS)
    name = cycled_name(work, app, "service_v2")
    tag = _tag(counter(work, "tag:" + app))
    taken = idle(work, "service_v2")
    if slipped(rng, MISTAKE_RATE) and taken:  # the name of a service that exists
        call(actor, work, "CreateInferService", _infer_body(work, rng, taken[0]["name"],
                                                            app, tag))
        yield 30.0
    reply = call(actor, work, "CreateInferService", _infer_body(work, rng, name, app, tag))
    if reply.status != 200:
        return None
    facts = work.add("service_v2", reply.body["id"], name=name, app=app, tag=tag,
                     running=True, busy=True)
    yield SERVICE_READY
    return facts


def _roll_out(actor, work, rng, service: dict):
    """A new image tag for a running service (it upgrades in place)."""
    tag = _tag(counter(work, "tag:" + service["app"]))
    body = _infer_body(work, rng, service["name"], service["app"], tag)
    del body["name"], body["type"]
    body["description"] = "Release %s" % tag
    if call(actor, work, "UpdateInferService", body,
            service_id=service["id"]).status == 200:
        service["tag"] = tag
    yield SERVICE_READY


def _switch_infer_service(actor, work, service: dict):
    if service["running"]:
        call(actor, work, "StopInferService", service_id=service["id"])
        service["running"] = False
        yield SERVICE_STOPPED
    else:
        call(actor, work, "StartInferService", service_id=service["id"])
        service["running"] = True
        yield SERVICE_READY


def _batch_delete(actor, work, services: list) -> None:
    call(actor, work, "BatchDeleteInferServices", {"service_ids": [s["id"] for s in services]})
    for s in services:
        work.remove("service_v2", s["id"])


def _retire_infer_services(actor, work, keep: int, also: list = ()) -> None:
    """Delete the oldest idle services (with `also`, already taken) in one batch."""
    doomed = list(also)
    extra = work.count("service_v2") - len(doomed) - keep
    for s in idle(work, "service_v2")[:max(extra, 0)]:
        s["busy"] = True
        doomed.append(s)
    if doomed:
        _batch_delete(actor, work, doomed)


def deploy_infer_service(actor, work, rng):
    """An engineer puts a containerised model online as a v2 service; the oldest services
    are deleted in one batch when the team runs many."""
    _retire_infer_services(actor, work, MAX_INFER_SERVICES - 1)
    service = yield from _deploy_infer_service(actor, work, rng)
    if service is not None:
        work.release(service)


def release_infer_service(actor, work, rng):
    """The CI pipeline rolls a new image out to a running service (or deploys the first
    one)."""
    service = work.take("service_v2", rng, running=True)
    if service is None:
        yield from deploy_infer_service(actor, work, rng)
        return
    yield from _roll_out(actor, work, rng, service)
    work.release(service)


def switch_infer_service(actor, work, rng):
    """Idle services are stopped to save cost and started again when needed."""
    yield from work.using("service_v2", rng,
                          lambda service: _switch_infer_service(actor, work, service))


def infer_service_week(actor, work, rng):
    """CHORE (ml-engineer): a v2 service's week: deployed, a new image rolled out, stopped
    over a quiet spell and started again, then deleted with the team's oldest idle ones."""
    service = yield from _deploy_infer_service(actor, work, rng)
    if service is None:
        return
    yield rng.uniform(10, 40) * MINUTE
    yield from _roll_out(actor, work, rng, service)
    yield from _switch_infer_service(actor, work, service)
    yield rng.uniform(20, 60) * MINUTE
    yield from _switch_infer_service(actor, work, service)
    yield rng.uniform(20, 60) * MINUTE
    _retire_infer_services(actor, work, MAX_INFER_SERVICES - 1, also=[service])
