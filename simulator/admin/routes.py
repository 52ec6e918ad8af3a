"""/_sim endpoints: the controls a test suite uses. Not part of any Huawei API; no auth.

/_sim/health, /_sim/reset, /_sim/flush (trace files now), /_sim/keys (digest signing key),
/_sim/notifications (key event deliveries),
/_sim/clock, /_sim/lifecycle (modes and dwell times per family),
/_sim/lifecycle/advance and /_sim/lifecycle/fail (one resource).
"""

from __future__ import annotations

import orjson
from flask import Blueprint, request

import simulator
from simulator.admin.replies import current_sim, error_reply, json_reply
from simulator.clock import ClockError
from simulator.modelarts.lifecycle import LifecycleError

blueprint = Blueprint("sim_admin", __name__, url_prefix="/_sim")


@blueprint.get("/health")
def health():
    sim = current_sim()
    return json_reply({"status": "ok", "version": simulator.__version__,
                       "region": sim.settings.region, "auth": sim.settings.auth,
                       "clock": sim.clock.state(), "traces": sim.traces.count()})


@blueprint.post("/reset")
def reset():
    current_sim().reset()
    return json_reply({"status": "reset"})


@blueprint.post("/flush")
def flush():
    """Every tracker writes what it holds now, whatever its transfer period."""
    return json_reply({"files_written": current_sim().delivery.run(flush=True)})


@blueprint.get("/notifications")
def notifications():
    """Every delivery attempt of key event notifications (the latest 1,000), oldest first.
    ?wait=1 first waits until every trace handed to the notifier has been dealt with."""
    sim = current_sim()
    if request.args.get("wait") in ("1", "true"):
        sim.notifier.wait_idle()
    return json_reply({"attempts": list(sim.notifier.attempts)})


@blueprint.get("/keys")
def keys():
    """The public key that verifies digest files (SHA256withRSA over the uncompressed JSON)."""
    return json_reply({"keys": [current_sim().signer.public_key()]})


@blueprint.get("/clock")
def clock_state():
    return json_reply(current_sim().clock.state())


@blueprint.post("/clock")
def clock_control():
    """{"action": "freeze", "at": ms?} | {"action": "advance", "seconds": N} | {"action": "resume"}"""
    try:
        body = orjson.loads(request.get_data() or b"{}")
    except orjson.JSONDecodeError:
        return error_reply("the body must be JSON")
    if not isinstance(body, dict):
        return error_reply("the body must be a JSON object")
    clock = current_sim().clock
    action = body.get("action")
    if action == "freeze":
        at = body.get("at")
        if at is not None and (not isinstance(at, int) or isinstance(at, bool) or at < 0):
            return error_reply("at must be epoch milliseconds")
        try:
            clock.freeze(at)
        except ClockError as exc:
            return error_reply(str(exc))
    elif action == "advance":
        seconds = body.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            return error_reply("seconds must be a number of seconds, zero or more")
        try:
            clock.advance(seconds)
        except ClockError as exc:
            return error_reply(str(exc))
    elif action == "resume":
        clock.resume()
    else:
        return error_reply("action must be freeze, advance or resume")
    with current_sim().change():
        pass  # the clock's new offset is committed before the answer
    current_sim().settle()
    return json_reply(clock.state())


def _body():
    try:
        body = orjson.loads(request.get_data() or b"{}")
    except orjson.JSONDecodeError:
        raise LifecycleError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise LifecycleError("the body must be a JSON object")
    return body


@blueprint.get("/lifecycle")
def lifecycle_state():
    return json_reply(current_sim().lifecycles.describe())


@blueprint.post("/lifecycle")
def lifecycle_configure():
    """{"family": "datasets", "mode": "time"|"immediate"|"manual", "dwell": {"name": seconds}}
    ("family": "*" sets the mode of every family)."""
    sim = current_sim()
    try:
        body = _body()
        family = body.get("family")
        if not isinstance(family, str):
            raise LifecycleError("family is required")
        families = list(sim.lifecycles.modes) if family == "*" else [family]
        dwell = body.get("dwell")
        if dwell is not None and not isinstance(dwell, dict):
            raise LifecycleError("dwell must be an object of seconds by name")
        with sim.change():
            for fam in families:
                sim.lifecycles.configure(fam, body.get("mode"), dwell if family != "*" else None)
    except LifecycleError as exc:
        return error_reply(str(exc))
    return json_reply(sim.lifecycles.describe())


def _steer(action: str):
    sim = current_sim()
    try:
        body = _body()
        kind, resource_id = body.get("kind"), body.get("id")
        if not isinstance(kind, str) or not isinstance(resource_id, str):
            raise LifecycleError("kind and id are required strings")
        reason = body.get("reason", "failed by /_sim/lifecycle/fail")
        if not isinstance(reason, str):
            raise LifecycleError("reason must be a string")
        now = sim.clock.now_ms()
        with sim.change():
            target = sim.lifecycle_target(kind, resource_id)
            if action == "advance":
                moved = target.progress.advance(now)
            else:
                moved = not target.progress.done(now) or target.progress.final != \
                    target.failed_status
                target.progress.finish_at(now, target.failed_status)
                if target.on_fail:
                    target.on_fail(now, reason)
            status = target.progress.status(now)
    except LifecycleError as exc:
        return error_reply(str(exc), 404 if str(exc).startswith("no ") else 400)
    sim.settle()
    return json_reply({"kind": kind, "id": resource_id, "status": status, "changed": moved})


@blueprint.post("/lifecycle/advance")
def lifecycle_advance():
    """{"kind": "dataset-import", "id": "..."}: the resource moves to its next status now."""
    return _steer("advance")


@blueprint.post("/lifecycle/fail")
def lifecycle_fail():
    """{"kind": ..., "id": ..., "reason": "..."}: the resource fails now, with that reason."""
    return _steer("fail")
