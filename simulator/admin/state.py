"""/_sim/snapshot and /_sim/restore: the whole state to one file and back (simulator/snapshot.py
says what a snapshot holds, and the file's format). Guarded like every /_sim control.

POST /_sim/snapshot   {"path": "name"}: written to <data-dir>/snapshots/name (atomically, 0600);
                      answers the path, its size and what it holds. No body: answers the file
                      itself (application/octet-stream).
POST /_sim/restore    {"path": "name"}, or a snapshot's bytes as the body: the state is replaced
                      by the snapshot's. A file that is not a snapshot this simulator can load
                      answers 400 and changes nothing.

A path names a file in the data dir's `snapshots` folder and nowhere else (an absolute path
must lie inside it): a control that wrote anywhere could overwrite the live store, and one that
read anywhere would tell whether any file exists. Without a data dir, snapshots move in the
HTTP body only.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from flask import Blueprint, Response, request

from simulator import snapshot
from simulator.admin.replies import current_sim, error_reply, json_reply

blueprint = Blueprint("sim_state", __name__, url_prefix="/_sim")


SNAPSHOTS = "snapshots"  # the data dir's folder that snapshot paths name files in


def _path(sim, body: bytes, restoring: bool = False) -> Path:
    """The file a {"path": ...} body names in the data dir's snapshots folder (SnapshotError
    when the body is not one, or the path lies elsewhere: whether such a file exists is never
    looked at)."""
    wanted = 'the body must be {"path": "name"}' + (
        " or a snapshot's bytes" if restoring else "")
    try:
        given = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise snapshot.SnapshotError(wanted) from None
    path = given.get("path") if isinstance(given, dict) else None
    if not isinstance(path, str) or not path or "\x00" in path:
        raise snapshot.SnapshotError(wanted)
    data = sim.settings.data_path
    if data is None:
        raise snapshot.SnapshotError("this simulator has no data dir: a snapshot moves in the "
                                     "HTTP body (POST /_sim/snapshot with no body, POST "
                                     "/_sim/restore with the file as the body)")
    folder = (data / SNAPSHOTS).resolve()
    target = Path(os.path.normpath(folder / path))
    if target.parent != folder or target.name.startswith("."):
        raise snapshot.SnapshotError("path names a file in %s and nowhere else, not %r"
                                     % (folder, path))
    folder.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        raise snapshot.SnapshotError("path names a file in %s and nowhere else, not %r"
                                     % (folder, path))
    return target


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
        return json_reply(snapshot.save(sim, _path(sim, body)))
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
            header = snapshot.restore_file(sim, _path(sim, body, restoring=True))
    except snapshot.SnapshotError as exc:
        return error_reply(str(exc))
    return json_reply({"restored": True, **header})
