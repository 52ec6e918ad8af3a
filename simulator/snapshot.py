"""A simulator's whole state in one file: /_sim/snapshot writes it, /_sim/restore and
`modelarts-sim serve --snapshot FILE` load it.

A snapshot holds the rows of the simulator's state, the same rows the data dir keeps
(simulator/durable/image.py says what they are), with the digest signing key, and every stored
trace with its category and store position. Not in it: the settings (the restoring simulator's
own apply) and injected faults.

The file:

    MODELARTS-SIM-SNAPSHOT\\n           the magic line
    {"format": 2, ...}\\n               a JSON header: format, simulator version, created (ms,
                                       simulation clock), counts, sha256 of the payload
    gzip(lines)                        the payload: one line per state row,
                                           S <tab> row name as JSON <tab> the row's JSON
                                       and one per trace, in store order,
                                           T <tab> position <tab> category <tab> record JSON

It is data only: reading one builds the simulator's own data classes and nothing else
(durable/codec.py), so a damaged or hostile file is refused, never run. A file whose magic line,
format or checksum does not match is refused before its payload is read.

Restoring is one transaction of the trace store: the old state and traces, or the new ones,
never a mixture, whenever the process stops.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zlib
from pathlib import Path

import orjson

import simulator
from simulator.cts.store import TraceStore
from simulator.durable import codec, image
from simulator.obs import backend as obs

MAGIC = b"MODELARTS-SIM-SNAPSHOT\n"
FORMAT = 2
_MAX_HEADER = 64 * 1024


class SnapshotError(ValueError):
    """A file that is not a snapshot this simulator can load (the current state is kept)."""


# -- taking one ---------------------------------------------------------------------------------

def capture(sim) -> tuple[list[tuple[str, bytes]], list[tuple[int, str, bytes]]]:
    """(state rows, traces) as they are now."""
    if not isinstance(sim.traces, TraceStore):
        raise SnapshotError("this simulator's traces are not in a trace store")
    with sim.lock, sim.obs_files.lock:
        rows = image.rows(sim, sim.signer.pem())
        return rows, _traces(sim.traces)


def _traces(store: TraceStore) -> list[tuple[int, str, bytes]]:
    """(seq, category, record JSON) of every stored trace, in store order."""
    with store._lock:
        return store._db.execute(
            "SELECT t.seq, l.category, t.record FROM traces t JOIN listings l "
            "ON l.id = t.listing ORDER BY t.seq").fetchall()


def encode(rows, traces, created_ms: int) -> bytes:
    lines = [b"S\t%s\t%s" % (orjson.dumps(name), value) for name, value in rows]
    lines += [b"T\t%d\t%s\t%s" % (seq, category.encode(), record)
              for seq, category, record in traces]
    payload = gzip.compress(b"\n".join(lines), compresslevel=6, mtime=0)
    header = {"format": FORMAT, "simulator": simulator.__version__, "created": created_ms,
              **_summary(rows, traces), "sha256": hashlib.sha256(payload).hexdigest()}
    return MAGIC + orjson.dumps(header) + b"\n" + payload


def _summary(rows, traces) -> dict:
    names = [name for name, _ in rows]
    return {"traces": len(traces),
            "resources": sum(1 for n in names if n.startswith("r") and not n.startswith('r["",')),
            "buckets": sum(1 for n in names if n.startswith("b")),
            "objects": sum(1 for n in names if n.startswith("o"))}


def dump(sim) -> tuple[bytes, dict]:
    """(the file's bytes, its header)."""
    rows, traces = capture(sim)
    data = encode(rows, traces, sim.clock.now_ms())
    return data, header_of(data)


def save(sim, path: str | Path) -> dict:
    """Write a snapshot to path, atomically (a temporary file beside it, then renamed), readable
    by its owner only: it holds the accounts' secrets. Returns its header with the path and
    size."""
    path = Path(path)
    data, header = dump(sim)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % path.name, suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SnapshotError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SnapshotError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
        raise
    return {"path": str(path), "bytes": len(data), **header}


# -- reading one --------------------------------------------------------------------------------

def header_of(data: bytes) -> dict:
    """The JSON header of a snapshot's bytes (checked: magic line, format)."""
    if not data.startswith(MAGIC):
        raise SnapshotError("not a modelarts-sim snapshot (the file does not start with %r)"
                            % MAGIC.decode().strip())
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    try:
        if end < 0:
            raise ValueError("no end of line")
        header = orjson.loads(data[len(MAGIC):end])
        if not isinstance(header, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise SnapshotError("a damaged snapshot: its header is unreadable (%s)" % exc) from None
    if header.get("format") != FORMAT:
        raise SnapshotError("snapshot format %r (made by modelarts-sim %s): this simulator "
                            "(%s) reads format %d only" % (header.get("format"),
                                                           header.get("simulator", "?"),
                                                           simulator.__version__, FORMAT))
    return header


def decode(data: bytes) -> tuple[dict[str, bytes], list[tuple[int, str, bytes]]]:
    """(state rows by name, traces) of a snapshot's bytes; SnapshotError when it is not one
    this simulator made and can load. Every row is read once, so that one it cannot hold is
    refused here, before anything changes."""
    header = header_of(data)
    payload = data[data.index(b"\n", len(MAGIC)) + 1:]
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise SnapshotError("a damaged snapshot: its payload does not match its checksum")
    try:
        text = gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise SnapshotError("a damaged snapshot: %s" % exc) from None
    rows, traces = {}, []
    for n, line in enumerate(text.split(b"\n") if text else (), 1):
        try:
            kind, rest = line.split(b"\t", 1)
            if kind == b"S":
                name, value = rest.split(b"\t", 1)
                name = orjson.loads(name)
                if not isinstance(name, str):
                    raise ValueError("a row name is text")
                codec.loads(value)
                rows[name] = value
            elif kind == b"T":
                seq, category, record = rest.split(b"\t", 2)
                if category not in (b"system", b"data"):
                    raise ValueError("unknown category %r" % category)
                traces.append((int(seq), category.decode(), record))
            else:
                raise ValueError("unknown line kind %r" % kind[:10])
        except (ValueError, codec.CodecError) as exc:
            raise SnapshotError("a damaged snapshot: line %d: %s" % (n, str(exc)[:200])) \
                from None
    return rows, traces


def read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SnapshotError("cannot read snapshot %s: %s" % (path, exc.strerror or exc)) \
            from None


# -- loading one --------------------------------------------------------------------------------

def restore(sim, data: bytes) -> dict:
    """Replace the simulator's whole state by the snapshot's, under its lock, in one
    transaction of its store. A file that is not a snapshot it can load raises SnapshotError
    and changes nothing. Returns the snapshot's header."""
    header = header_of(data)
    rows, traces = decode(data)
    if not isinstance(sim.traces, TraceStore):
        raise SnapshotError("this simulator's traces are not in a trace store")
    try:
        image.check(sim, rows)
    except image.ImageError as exc:
        raise SnapshotError("the snapshot's contents do not fit: %s" % exc) from None
    with sim.lock, sim.obs_files.lock:
        before_rows, before_traces = capture(sim)
        try:
            _put(sim, rows, traces)
        except Exception as exc:
            _put(sim, dict(before_rows), before_traces)  # what it was, in memory and on disk
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError("the snapshot's contents do not fit: %s: %s"
                                % (type(exc).__name__, str(exc)[:200])) from None
    return header


def _put(sim, rows: dict[str, bytes], traces) -> None:
    # the signing key too: its file is written after the commit, and a start takes the key
    # the store holds over the file's, so that a kill in between keeps the new key with the
    # new state
    state_rows = list(rows.items())
    sim.traces.replace(traces, state_rows)
    sim._states.clear()
    sim._watchers = []
    dict.clear(sim._watch_rows)
    obs.reset(sim.obs_account)
    image.load(sim, rows)
    sim.journal.reset(dict(state_rows))


def restore_file(sim, path: str | Path) -> dict:
    header = restore(sim, read(path))
    return {"path": str(path), **header}
