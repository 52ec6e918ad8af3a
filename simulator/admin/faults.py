"""/_sim/faults: injected faults (simulator/faults.py). No auth, like every /_sim control.

GET    /_sim/faults        the rules in force, with how often each applied
POST   /_sim/faults        a rule (or a list of rules) -> {"faults": [...with ids]}
DELETE /_sim/faults        every rule
DELETE /_sim/faults/<id>   one rule
"""

from __future__ import annotations

import orjson
from flask import Blueprint, request

from simulator.admin.replies import current_sim, error_reply, json_reply
from simulator.faults import FaultError

blueprint = Blueprint("sim_faults", __name__, url_prefix="/_sim")


@blueprint.get("/faults")
def list_faults():
    return json_reply({"faults": current_sim().faults.describe()})


@blueprint.post("/faults")
def add_faults():
    try:
        body = orjson.loads(request.get_data() or b"null")
    except orjson.JSONDecodeError as exc:
        return error_reply("the body is not JSON: %s" % exc)
    specs = body if isinstance(body, list) else [body]
    faults = current_sim().faults
    try:
        from simulator.faults import parse
        for spec in specs:  # all checked before any is added
            parse(spec, "check")
        added = [faults.add(spec).describe() for spec in specs]
    except FaultError as exc:
        return error_reply(str(exc))
    return json_reply({"faults": added}, 201)


@blueprint.delete("/faults")
def clear_faults():
    current_sim().faults.clear()
    return json_reply({"faults": []})


@blueprint.delete("/faults/<rule_id>")
def remove_fault(rule_id: str):
    if not current_sim().faults.remove(rule_id):
        return error_reply("no fault %r" % rule_id, 404)
    return json_reply({"removed": rule_id})
