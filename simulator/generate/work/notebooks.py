"""Notebooks (the newer development environment API): an engineer's own notebook, started
every morning and stopped in the evening (or forgotten: its lease stops it at night), and
short experiments in a fresh one.

An engineer's own notebook outlives the workflow (one per person). The ``notebook`` kind in
TeamWork (facts beside "id"): name, owner (persona name, None for an experiment's), category,
flavor, running_until (ms its lease runs to; 0 once stopped).
"""

from __future__ import annotations

from simulator.generate.work.common import (HOUR, MINUTE, NOTES, hours_left, now_ms, past,
                                            slipped)

NOTEBOOK = "notebook"

MISTAKE_RATE = 0.04  # a duplicate name, a wrong path, a second click: refused with a 4xx
FORGET_RATE = 0.12  # the engineer leaves the notebook running: its lease stops it at night
NOTEBOOK_LIMIT = 8  # personal notebooks a team keeps (the project's quota is 20)
NOTEBOOK_IMAGES = {"CPU": "e1a07296-22a8-4f05-8bc8-e936c8e54090",
                   "GPU": "278e88d1-5b71-4766-8502-b3ba72e824d9"}
NOTEBOOK_FLAVORS = {"CPU": ("modelarts.vm.cpu.2u", "modelarts.vm.cpu.8u"),
                    "GPU": ("modelarts.vm.gpu.tnt004", "modelarts.vm.gpu.v100")}


def _person(actor) -> str:
    return actor.name.replace(".", "-")


def _lease_ms(hours: float, rng) -> int:
    """A lease that outlasts the working day by a margin (the notebook stops when it runs out)."""
    return int((hours + rng.uniform(1.5, 3.0)) * HOUR * 1000)


def _running(nb: dict, now_ms: int) -> bool:
    return now_ms < nb.get("running_until", 0)


def notebook_body(name: str, flavor: str, *, description: str = "", capacity: int = 5,
                  lease_ms: int | None = None) -> dict:
    """A CreateNotebook body: the image that goes with the flavor's kind (CPU or GPU)."""
    category = "GPU" if ".gpu." in flavor else "CPU"
    body = {"name": name, "description": description, "feature": "NOTEBOOK",
            "workspace_id": "0", "flavor": flavor, "image_id": NOTEBOOK_IMAGES[category],
            "volume": {"category": "EFS", "ownership": "MANAGED", "capacity": capacity}}
    if lease_ms is not None:
        body["lease"] = {"duration": lease_ms, "type": "TIMING"}
    return body


def _create_notebook(actor, work, rng, name: str, lease_ms: int, owner: str | None):
    category = "GPU" if rng.random() < 0.3 else "CPU"
    flavor = rng.choice(NOTEBOOK_FLAVORS[category])
    description = rng.choice(NOTES)
    reply = actor.call("CreateNotebook", notebook_body(
        name, flavor, description=description, capacity=rng.choice((5, 20, 50)),
        lease_ms=lease_ms))
    if reply.status != 200:
        return None
    return work.add(NOTEBOOK, reply.body["id"], name=name, owner=owner, category=category,
                    flavor=flavor, running_until=now_ms(actor) + lease_ms, busy=True)


def _start_notebook(actor, nb: dict, lease_ms: int) -> bool:
    reply = actor.call("StartNotebook", query={"duration": str(lease_ms), "type": "TIMING"},
                       id=nb["id"])
    if reply.status == 200:
        nb["running_until"] = now_ms(actor) + lease_ms
    return reply.status == 200


def _stop_notebook(actor, nb: dict) -> None:
    if actor.call("StopNotebook", id=nb["id"]).status == 200:
        nb["running_until"] = 0


def _resize_notebook(actor, nb: dict) -> None:
    """A stopped notebook moved to the other flavor of its kind (a bigger or cheaper one)."""
    flavor = next(f for f in NOTEBOOK_FLAVORS[nb["category"]] if f != nb["flavor"])
    if actor.call("UpdateNotebook", {"flavor": flavor}, id=nb["id"]).status == 200:
        nb["flavor"] = flavor


def _look_at_notebook(actor, nb: dict) -> None:
    """The console lists the notebooks and opens one; an SDK script polls its status once."""
    if actor.via == "console":
        actor.call("ListNotebooks", query={"feature": "NOTEBOOK", "limit": "10", "offset": "0"})
    actor.call("ShowNotebook", id=nb["id"])


def _own_notebook(actor, work, rng):
    """The person's notebook, taken, and False; or None, and whether they have one that
    another of their workflows is using."""
    nb = work.take(NOTEBOOK, rng, owner=actor.name)
    if nb is not None:
        return nb, False
    return None, any(f.get("owner") == actor.name for f in work.assets.get(NOTEBOOK, {}).values())


def notebook_workday(actor, work, rng):
    """An ML engineer's day: when they come in they start their notebook (creating it the
    first time), work in it until they leave, and stop it then, now and then moving it to
    another flavor; sometimes they forget it and its lease stops it during the night, and once
    a project is over they delete it."""
    hours = hours_left(actor, rng, 10.0)
    lease_ms = _lease_ms(hours, rng)
    nb, in_use = _own_notebook(actor, work, rng)
    if nb is None:
        if in_use or work.count(NOTEBOOK) >= NOTEBOOK_LIMIT:
            return
        nb = _create_notebook(actor, work, rng, "%s-notebook" % _person(actor), lease_ms,
                              actor.name)
        if nb is None:
            return
        wait = past("notebooks_create", rng)
    elif _running(nb, now_ms(actor)):  # left running overnight and still on its lease
        wait = rng.uniform(1, 5) * MINUTE
    else:
        if not _start_notebook(actor, nb, lease_ms):
            work.release(nb)
            return
        if slipped(rng, MISTAKE_RATE):  # a second click on Start while it starts: refused
            actor.call("StartNotebook", query={"duration": str(lease_ms), "type": "TIMING"},
                       id=nb["id"])
        wait = past("notebooks_start", rng)
    yield wait
    _look_at_notebook(actor, nb)
    yield hours * HOUR
    yield from _evening(actor, work, rng, nb)


def _evening(actor, work, rng, nb: dict):
    if not _running(nb, now_ms(actor)) or rng.random() < FORGET_RATE:
        work.release(nb)
        return
    if rng.random() < 0.05:
        actor.call("DeleteNotebook", id=nb["id"])
        work.remove(NOTEBOOK, nb["id"])
        return
    _stop_notebook(actor, nb)
    if rng.random() < 0.1:
        yield past("notebooks_stop", rng)
        _resize_notebook(actor, nb)
    work.release(nb)


def notebook_experiment(actor, work, rng):
    """A short experiment in a fresh notebook: create it, check it came up, note what it is
    for, stop it to move it to another flavor, start it again for the heavy part, and delete
    it when the experiment is over."""
    nb = _create_notebook(actor, work, rng, work.name("%s-exp" % _person(actor)),
                          int(4 * HOUR * 1000), None)
    if nb is None:
        return
    yield past("notebooks_create", rng)
    actor.call("ShowNotebook", id=nb["id"])
    actor.call("ListNotebooks", query={"limit": "10", "offset": "0"})
    yield rng.uniform(20, 60) * MINUTE
    actor.call("UpdateNotebook", {"description": rng.choice(NOTES)}, id=nb["id"])
    yield rng.uniform(20, 60) * MINUTE
    _stop_notebook(actor, nb)
    yield past("notebooks_stop", rng)
    _resize_notebook(actor, nb)
    _start_notebook(actor, nb, int(3 * HOUR * 1000))
    yield past("notebooks_start", rng) + rng.uniform(30, 90) * MINUTE
    _stop_notebook(actor, nb)
    yield past("notebooks_stop", rng)
    actor.call("DeleteNotebook", id=nb["id"])
    work.remove(NOTEBOOK, nb["id"])
