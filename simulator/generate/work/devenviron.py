"""DevEnviron instances (the old development environment API): an engineer's instance for a
day's task.

The ``devenv`` kind in TeamWork (facts beside "id"): name.
"""

from __future__ import annotations

from simulator.generate.work.common import HOUR, NOTES, hours_left, past, try_duplicate

DEVENV = "devenv"

MISTAKE_RATE = 0.04  # a duplicate name, a wrong path, a second click: refused with a 4xx
DEVENV_PROFILES = (("Multi-Engine 1.0 (python3)-cpu", "modelarts.vm.cpu.2u"),
                   ("Multi-Engine 1.0 (python3)-cpu", "modelarts.vm.cpu.8u"),
                   ("Multi-Engine 1.0 (python3)-gpu", "modelarts.vm.gpu.p100"))


def devenv_session(actor, work, rng):
    """An engineer on the old DevEnviron console: creates an instance for a task, works in it
    for a while, stops it over lunch or a meeting, starts it again for the rest of the day, and
    deletes it at the end of the day once the task is done (auto stop guards against a
    forgotten instance)."""
    day = hours_left(actor, rng, 9.0) * HOUR
    first, pause = day * rng.uniform(0.25, 0.4), day * rng.uniform(0.1, 0.2)
    name = work.name(work.team.name + "-dev")
    profile, flavor = rng.choice(DEVENV_PROFILES)
    body = {"name": name, "description": rng.choice(NOTES), "profile_id": profile,
            "flavor": flavor,
            "spec": {"storage": {"type": "obs",
                                 "location": {"path": work.path("notebooks/%s/" % name)}},
                     "auto_stop": {"enable": True, "duration": 3600 * rng.choice((8, 12))}},
            "workspace": {"id": "0"}}
    try_duplicate(actor, work, rng, DEVENV, "CreateDevEnvInstance", body, ("name",),
                  rate=MISTAKE_RATE)
    reply = actor.call("CreateDevEnvInstance", body)
    if reply.status != 200:
        return
    inst = work.add(DEVENV, reply.body["id"], name=name, busy=True)
    yield past("devenviron_create", rng) + first
    actor.call("StopDevEnvInstance", {"action": "stop"}, instance_id=inst["id"])
    yield past("devenviron_stop", rng) + pause
    actor.call("StartDevEnvInstance", {"action": "start"}, instance_id=inst["id"])
    yield past("devenviron_start", rng) + max(0.5 * HOUR, day - first - pause)
    actor.call("StopDevEnvInstance", {"action": "stop"}, instance_id=inst["id"])
    yield past("devenviron_stop", rng)
    actor.call("DeleteDevEnvInstance", instance_id=inst["id"])
    work.remove(DEVENV, inst["id"])
