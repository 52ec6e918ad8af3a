"""/_sim controls that load generated data into a running simulator (modelarts-sim generate
--into / --into-bucket). No auth, like every /_sim control.

POST /_sim/accounts   {"domains": [...]} (the accounts file's shape): adds the domains,
                      projects and users it does not know yet, so their keys are accepted
POST /_sim/traces     a JSON array of trace records (management or data): each is checked
                      against the record schema, then all are stored, or none
PUT  /_sim/objects/<bucket>/<key>   the body becomes that object (the bucket is created)
"""

from __future__ import annotations

import sqlite3

import orjson
from flask import Blueprint, request

from simulator.admin.replies import current_sim, error_reply, json_reply
from simulator.identity.accounts import AccountsError, Directory

blueprint = Blueprint("sim_imports", __name__, url_prefix="/_sim")
MAX_TRACES = 10_000  # per request


@blueprint.post("/accounts")
def add_accounts():
    try:
        given = Directory.from_mapping(orjson.loads(request.get_data()), "request body")
        sim = current_sim()
        with sim.change():
            added = sim.directory.merge(given)
    except (orjson.JSONDecodeError, AttributeError, TypeError) as exc:
        return error_reply("the body must be an accounts mapping {\"domains\": [...]}: %s" % exc)
    except AccountsError as exc:
        return error_reply(str(exc), 409 if "already" in str(exc) else 400)
    return json_reply({"added": added})


@blueprint.post("/traces")
def add_traces():
    from simulator.cts.rules import check_record
    try:
        records = orjson.loads(request.get_data())
    except orjson.JSONDecodeError as exc:
        return error_reply("the body is not JSON: %s" % exc)
    if not isinstance(records, list):
        return error_reply("the body must be a JSON array of trace records")
    if len(records) > MAX_TRACES:
        return error_reply("at most %d traces a request" % MAX_TRACES, 413)
    sim = current_sim()
    problems = []
    for i, record in enumerate(records):
        found = check_record(record) if isinstance(record, dict) else [("", "not an object")]
        if isinstance(record, dict) and not (isinstance(record.get("project_id"), str)
                                             and record["project_id"]):
            found.append(("project_id", "required: the project whose traces it joins"))
        problems += ["#%d %s: %s" % (i + 1, field or "record", message)
                     for field, message in found]
    if problems:
        return error_reply("no trace stored; %d problem(s): %s" % (
            len(problems), "; ".join(problems[:20])))
    oldest = sim.clock.now_ms() - sim.traces.retention_ms
    kept = [r for r in records if r["time"] >= oldest]
    try:
        with sim.lock:
            if kept:  # every one may be past retention
                sim.traces.add_sorted(kept)
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):
            return error_reply("no trace stored: %s" % exc)
        return error_reply("no trace stored: a trace with one of these trace_ids is stored "
                           "already", 409)
    return json_reply({"stored": len(kept), "expired": len(records) - len(kept)})


@blueprint.put("/objects/<bucket>/<path:key>")
def put_object(bucket: str, key: str):
    from simulator.settings import BUCKET
    if not BUCKET.match(bucket):
        return error_reply("%r is not a bucket name" % bucket)
    sim = current_sim()
    files = sim.obs_files
    with sim.change():  # committed before the answer, as an upload through OBS is
        files.make_bucket(bucket)
        written = files.write("/%s/%s" % (bucket, key), request.get_data())
    if not written:
        return error_reply("the object could not be written", 409)
    return json_reply({"bucket": bucket, "key": key})
