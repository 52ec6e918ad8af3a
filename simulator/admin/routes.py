"""/_sim endpoints: the controls a test suite uses. Not part of any Huawei API; no auth."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request

import simulator

blueprint = Blueprint("sim_admin", __name__, url_prefix="/_sim")


def _sim():
    return current_app.extensions["modelarts_sim"]


def _json(body, status=200):
    return Response(orjson.dumps(body), status=status, content_type="application/json")


def _error(message, status=400):
    return _json({"error": message}, status)


@blueprint.get("/health")
def health():
    sim = _sim()
    return _json({"status": "ok", "version": simulator.__version__, "region": sim.settings.region,
                  "auth": sim.settings.auth, "clock": sim.clock.state(),
                  "traces": sim.traces.count()})


@blueprint.post("/reset")
def reset():
    _sim().reset()
    return _json({"status": "reset"})


@blueprint.get("/clock")
def clock_state():
    return _json(_sim().clock.state())


@blueprint.post("/clock")
def clock_control():
    """{"action": "freeze", "at": ms?} | {"action": "advance", "seconds": N} | {"action": "resume"}"""
    try:
        body = orjson.loads(request.get_data() or b"{}")
    except orjson.JSONDecodeError:
        return _error("the body must be JSON")
    if not isinstance(body, dict):
        return _error("the body must be a JSON object")
    clock = _sim().clock
    action = body.get("action")
    if action == "freeze":
        at = body.get("at")
        if at is not None and (not isinstance(at, int) or isinstance(at, bool) or at < 0):
            return _error("at must be epoch milliseconds")
        clock.freeze(at)
    elif action == "advance":
        seconds = body.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            return _error("seconds must be a number of seconds, zero or more")
        clock.advance(seconds)
    elif action == "resume":
        clock.resume()
    else:
        return _error("action must be freeze, advance or resume")
    return _json(clock.state())
