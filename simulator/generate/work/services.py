"""Real-time services (v1): a registered model deployed, rescaled, stopped when idle and
started again, deleted; and a model's week from import to production and back.

The ``service`` kind in TeamWork (facts beside "id"): name, model_id, running.
"""

from __future__ import annotations

from simulator.generate.work.common import (HOUR, MINUTE, call, cycled_name, idle, slipped,
                                            taken_oldest)
from simulator.generate.work.models import (CONVERSION_DONE, convert, delete_model, in_use,
                                            new_model)

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_SERVICES = 3

SERVICE_READY = 5 * MINUTE  # services_deploy / services_v2_deploy 240 s (longer than DWELL)
SERVICE_FLAVORS = ("modelarts.vm.cpu.2u", "modelarts.vm.cpu.8u", "modelarts.vm.gpu.p4")


def _service_config(model: dict, rng, instances: int = 1) -> list:
    return [{"model_id": model["id"], "specification": rng.choice(SERVICE_FLAVORS),
             "instance_count": instances, "weight": 100,
             "envs": {"LOG_LEVEL": rng.choice(("INFO", "WARNING"))}}]


def _deploy_service(actor, work, rng, model: dict):
    """Deploy a model as a real-time service and wait until it runs; returns its facts
    (busy) or None. The model counts as in use from the start (nobody deletes it)."""
    model["deploying"] += 1
    name = cycled_name(work, "svc-%s" % model["name"], "service")
    taken = idle(work, "service")
    if slipped(rng, MISTAKE_RATE) and taken:  # reuses the name of a running service
        call(actor, work, "CreateService", {"service_name": taken[0]["name"],
                                            "infer_type": "real-time",
                                            "config": _service_config(model, rng)})
        yield 30.0
    reply = call(actor, work, "CreateService", {
        "service_name": name, "infer_type": "real-time",
        "description": "%s %s" % (model["name"], model["version"]),
        "config": _service_config(model, rng)})
    model["deploying"] -= 1
    if reply.status != 200:
        return None
    facts = work.add("service", reply.body["service_id"], name=name, model_id=model["id"],
                     running=True, busy=True)
    yield SERVICE_READY
    return facts


def _delete_service(actor, work, service: dict) -> None:
    call(actor, work, "DeleteService", service_id=service["id"])
    work.remove("service", service["id"])


def _switch_service(actor, work, rng, service: dict):
    """Stop a running service, start a stopped one (and wait for it to deploy)."""
    if service["running"]:
        call(actor, work, "StartOrStopService", {"status": "stopped"},
             service_id=service["id"])
        service["running"] = False
        if slipped(rng, MISTAKE_RATE):  # clicks stop again
            yield 20.0
            call(actor, work, "StartOrStopService", {"status": "stopped"},
                 service_id=service["id"])
        yield 30.0
    else:
        call(actor, work, "StartOrStopService", {"status": "running"},
             service_id=service["id"])
        service["running"] = True
        yield SERVICE_READY


def deploy_service(actor, work, rng):
    """An engineer deploys a registered model as a real-time service, then scales it or
    edits its description; the oldest idle service is deleted when the team has many."""
    while work.count("service") >= MAX_SERVICES:
        oldest = taken_oldest(work, "service")
        if oldest is None:
            return
        _delete_service(actor, work, oldest)
    model = work.pick("model", rng)
    if model is None:
        return
    service = yield from _deploy_service(actor, work, rng, model)
    if service is None:
        return
    if rng.random() < 0.5:
        body = {"config": _service_config(model, rng, instances=rng.randint(2, 4))}
    else:
        body = {"description": "Serving %s for the %s team" % (model["name"],
                                                                 work.team.name)}
    call(actor, work, "UpdateService", body, service_id=service["id"])
    yield SERVICE_READY
    work.release(service)


def switch_service(actor, work, rng):
    """Services are stopped when idle (evenings, a cost review) and started when needed."""
    yield from work.using("service", rng,
                          lambda service: _switch_service(actor, work, rng, service))


def model_to_service_week(actor, work, rng):
    """CHORE (ml-engineer): a model's way to production and back: imported and described,
    converted for the edge (task noted, then deleted once done), deployed, rescaled, stopped
    for the night, started again, and at the end the service, task and model deleted."""
    model = yield from new_model(actor, work, rng)
    if model is None:
        return
    call(actor, work, "UpdateModel", {"description": "Release candidate"},
         model_id=model["id"])
    task = yield from convert(actor, work, rng)
    service = yield from _deploy_service(actor, work, rng, model)
    if service is not None:
        call(actor, work, "UpdateService",
             {"config": _service_config(model, rng, instances=2)}, service_id=service["id"])
        yield SERVICE_READY + rng.uniform(0.5, 1.5) * HOUR
        yield from _switch_service(actor, work, rng, service)
        yield rng.uniform(0.5, 1.0) * HOUR
        yield from _switch_service(actor, work, rng, service)
        yield rng.uniform(0.5, 1.0) * HOUR
        _delete_service(actor, work, service)
    if task is not None:
        yield CONVERSION_DONE
        call(actor, work, "DeleteConversionTask", task_id=task[0])
    if not in_use(work, model):
        delete_model(actor, work, model)
    else:
        work.release(model)
