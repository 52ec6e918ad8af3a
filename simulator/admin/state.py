"""/_sim/snapshot and /_sim/restore: the whole state to one file and back (simulator/snapshot.py
says what a snapshot holds, and the file's format). No auth, like every /_sim control.

POST /_sim/snapshot   {"path": "/abs/file"}: written there (atomically); answers the path, its
                      size and what it holds. No body: answers the file itself
                      (application/octet-stream).
POST /_sim/restore    {"path": "/abs/file"}, or a snapshot's bytes as the body: the state is
                      replaced by the snapshot's. A file that is not a snapshot this simulator
                      can load answers 400 and changes nothing.
"""

from __future__ import annotations

import os

import orjson
from flask import Blueprint, Response, request

from simulator import snapshot
from simulator.admin.replies import current_sim, error_reply, json_reply

blueprint = Blueprint("sim_state", __name__, url_prefix="/_sim")


def _path(body: bytes, restoring: bool = False) -> str:
    """The path of a {"path": ...} body (SnapshotError when it is not one)."""
    wanted = 'the body must be {"path": "/abs/file"}' + (
        " or a snapshot's bytes" if restoring else "")
    try:
        given = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise snapshot.SnapshotError(wanted) from None
    path = given.get("path") if isinstance(given, dict) else None
    if not isinstance(path, str) or not path:
        raise snapshot.SnapshotError(wanted)
    if not os.path.isabs(path):
        raise snapshot.SnapshotError("path must be absolute (the server's working directory "
                                     "is not the caller's): %r" % path)
    return path


@blueprint.post("/snapshot")
def take():
    sim = current_sim()
    body = request.get_data()
    try:
        if not body.strip():
            data, header = snapshot.dump(sim)
            return Response(data, content_type="application/octet-stream", headers={
                "Content-Disposition": 'attachment; filename="modelarts-sim.snapshot"',
                "X-Snapshot-Traces": str(header["traces"])})
        return json_reply(snapshot.save(sim, _path(body)))
    except snapshot.SnapshotError as exc:
        return error_reply(str(exc))


@blueprint.post("/restore")
def restore():
    sim = current_sim()
    request.max_content_length = None  # a snapshot may well be larger than any API body
    body = request.get_data()
    try:
        if body.startswith(snapshot.MAGIC):
            header = snapshot.restore(sim, body)
        else:
            header = snapshot.restore_file(sim, _path(body, restoring=True))
    except snapshot.SnapshotError as exc:
        return error_reply(str(exc))
    return json_reply({"restored": True, **header})
