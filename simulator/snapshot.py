"""A simulator's whole state in one file: /_sim/snapshot writes it, /_sim/restore and
`modelarts-sim serve --snapshot FILE` load it.

What a snapshot holds: every project's resources (each family's state, trackers and key event
notifications among them) and the lifecycle watchers; every stored trace with its category, in
store order; OBS (each bucket with its region and creation date; the current version of each
object with its bytes, metadata, ETag, storage class and modification time); the clock (its
instant, frozen or running); where the id factory's random sequence is (ids drawn after a
restore continue the sequence the snapshotted simulator would have drawn); the lifecycle modes
and dwell times; the accounts, with the keys and temporary credentials issued at run time;
IAM tokens; the digest signing key; the key event delivery log.

Not in it: the settings (region, auth, buckets to start with, transfer period...: the restoring
simulator's own apply), injected faults (/_sim/faults), older object versions, multipart uploads
in progress, bucket policies, ACLs and tags.

The file:

    MODELARTS-SIM-SNAPSHOT\\n           the magic line
    {"format": 1, ...}\\n               a JSON header: format, simulator version, created (ms,
                                       simulation clock), counts, sha256 of the payload
    gzip(pickle(state))                the payload

A file whose magic line, format or checksum does not match is refused before anything is
unpickled, and the payload is unpickled with only the classes a snapshot holds (the simulator's
own, and a few of the standard library's). Pickle is still pickle: restore only files a
simulator made, as with --data-dir.
"""

from __future__ import annotations

import bisect
import builtins
import collections
import datetime
import functools
import gzip
import hashlib
import io
import os
import dataclasses
import pickle
import tempfile
import zlib
from pathlib import Path

import orjson

import simulator
from simulator.cts import trackers
from simulator.cts.store import TraceStore
from simulator.identity.auth import Authenticator
from simulator.identity.tokens import TokenStore
from simulator.obs import backend as obs

MAGIC = b"MODELARTS-SIM-SNAPSHOT\n"
FORMAT = 1
_MAX_HEADER = 64 * 1024
_TRACE_BATCH = 5000


class SnapshotError(ValueError):
    """A file that is not a snapshot this simulator can load (the current state is kept)."""


# -- taking one ---------------------------------------------------------------------------------

def capture(sim) -> dict:
    """The state, as live objects (pickle them before anything changes them)."""
    if not isinstance(sim.traces, TraceStore):
        raise SnapshotError("this simulator's traces are not in a trace store")
    with sim.lock, sim.obs_files.lock:
        watchers = sorted(((p.done_ms, n, p, cb) for _, n, p, cb in sim._watchers),
                          key=lambda w: w[:2])
        key = sim.signer._key
        if key is not None:
            from cryptography.hazmat.primitives import serialization
            key = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return {
            "states": dict(sim._states),
            "watchers": watchers,
            "watched": sim._watched,
            "recorded": sim._recorded,
            "traces": _traces(sim.traces),
            "obs": _obs(sim.obs_account),
            "clock": sim.clock.state(),
            "ids": sim.ids.getstate(),
            "lifecycles": {"modes": dict(sim.lifecycles.modes),
                           "dwell": dict(sim.lifecycles.dwell)},
            "directory": sim.directory,
            "tokens": dict(sim.tokens._tokens),
            "signing_key": key,
            "notification_attempts": list(sim.notifier.attempts),
        }


def _traces(store: TraceStore) -> list[tuple[int, str, bytes]]:
    """(seq, category, record JSON) of every stored trace, in store order."""
    with store._lock:
        return store._db.execute(
            "SELECT t.seq, l.category, t.record FROM traces t JOIN listings l "
            "ON l.id = t.listing ORDER BY t.seq").fetchall()


def _obs(account: str) -> dict:
    store = obs.store(account)
    buckets, objects = [], []
    for bucket in list(store.buckets.values()):
        buckets.append({"name": bucket.name, "region": bucket.region_name,
                        "created": bucket.creation_date})
        for key in list(bucket.keys.values()):
            value = getattr(key, "value", None)
            if value is None:  # a delete marker
                continue
            objects.append({"bucket": bucket.name, "key": key.name, "value": bytes(value),
                            "metadata": dict(key.metadata), "etag": key.etag,
                            "storage_class": key.storage_class,
                            "last_modified": key.last_modified})
    return {"buckets": buckets, "objects": objects}


def _summary(state: dict) -> dict:
    return {"traces": len(state["traces"]), "resources": len(state["states"]),
            "buckets": len(state["obs"]["buckets"]), "objects": len(state["obs"]["objects"]),
            "clock": state["clock"]}


def encode(state: dict) -> bytes:
    payload = gzip.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),
                            compresslevel=6, mtime=0)
    header = {"format": FORMAT, "simulator": simulator.__version__,
              "created": state["clock"]["now"], **_summary(state),
              "sha256": hashlib.sha256(payload).hexdigest()}
    return MAGIC + orjson.dumps(header) + b"\n" + payload


def dump(sim) -> tuple[bytes, dict]:
    """(the file's bytes, its header)."""
    data = encode(capture(sim))
    return data, header_of(data)


def save(sim, path: str | Path) -> dict:
    """Write a snapshot to path, atomically (a temporary file beside it, then renamed).
    Returns its header with the path and size."""
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
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SnapshotError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
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


def decode(data: bytes) -> dict:
    """The state in a snapshot's bytes; SnapshotError when it is not one this simulator made
    and can load."""
    header = header_of(data)
    payload = data[data.index(b"\n", len(MAGIC)) + 1:]
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise SnapshotError("a damaged snapshot: its payload does not match its checksum")
    try:
        state = _Unpickler(io.BytesIO(gzip.decompress(payload))).load()
    except SnapshotError:
        raise
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, AttributeError,
            ImportError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise SnapshotError("snapshot made by modelarts-sim %s cannot be read by %s: %s: %s"
                            % (header.get("simulator", "?"), simulator.__version__,
                               type(exc).__name__, exc)) from None
    _check(state)
    return state


def read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SnapshotError("cannot read snapshot %s: %s" % (path, exc.strerror or exc)) \
            from None


_KEYS = {"states", "watchers", "watched", "recorded", "traces", "obs", "clock", "ids",
         "lifecycles", "directory", "tokens", "signing_key", "notification_attempts"}


def _check(state) -> None:
    if not isinstance(state, dict) or set(state) != _KEYS:
        raise SnapshotError("a damaged snapshot: its state is not what format %d holds"
                            % FORMAT)


# the globals a snapshot's pickle may name, besides the simulator's own classes and functions
_ALLOWED = {
    "builtins": {"set", "frozenset", "bytearray", "complex", "range", "slice"},
    "collections": {"OrderedDict", "deque", "defaultdict", "Counter"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "functools": {"partial"},
    "copyreg": {"_reconstructor"},
}
from simulator.modelarts.lifecycle import WATCH_CALLBACKS  # noqa: E402

_STDLIB = {"builtins": builtins, "collections": collections, "datetime": datetime,
           "functools": functools}


# the modules whose data a snapshot holds (resources, accounts, tokens, trackers)
_DATA_MODULES = ("simulator.modelarts.", "simulator.identity.accounts",
                 "simulator.identity.tokens", "simulator.identity.auth", "simulator.cts.trackers",
                 "simulator.cts.notifications", "simulator.catalog")


# classes that are not dataclasses yet only hold data (their __init__ does no I/O)
_PLAIN_DATA = {("simulator.identity.accounts", "Directory")}


class _Unpickler(pickle.Unpickler):
    """Only what a snapshot holds: the simulator's classes and module-level functions (the
    watchers' callbacks), and a few of the standard library's types."""

    def find_class(self, module: str, name: str):
        if name in _ALLOWED.get(module, ()):
            if module == "copyreg":
                import copyreg
                return copyreg._reconstructor
            return getattr(_STDLIB[module], name)
        if module.startswith(_DATA_MODULES) and "." not in name and not name.startswith("__"):
            found = super().find_class(module, name)
            # pickle names each by its own module: something the module imported from
            # elsewhere is not it. A function must be a lifecycle's end (@watch_callback); a
            # class must only hold data (a dataclass, or a family's State), so that a crafted
            # file cannot make restore call anything that acts
            if getattr(found, "__module__", None) == module and (
                    found in WATCH_CALLBACKS or (isinstance(found, type) and (
                        dataclasses.is_dataclass(found) or name == "State"
                        or (module, name) in _PLAIN_DATA))):
                return found
        raise SnapshotError("a snapshot may not hold %s.%s: only files a modelarts-sim made "
                            "are restored" % (module, name))


# -- loading one --------------------------------------------------------------------------------

def restore(sim, data: bytes) -> dict:
    """Replace the simulator's whole state by the snapshot's, under its lock. A file that is
    not a snapshot it can load raises SnapshotError and changes nothing. Returns the
    snapshot's header."""
    header = header_of(data)
    state = decode(data)
    try:
        _check_fits(sim, state)
    except SnapshotError:
        raise
    except Exception as exc:  # a field of the wrong shape in a file that passed the checksum
        raise SnapshotError("the snapshot's contents do not fit: %s" % _said(exc)) from exc
    with sim.lock, sim.obs_files.lock:
        before = capture(sim)
        try:
            apply(sim, state)
        except BaseException as exc:
            apply(sim, before)  # what it was: a half-restored simulator helps nobody
            if isinstance(exc, Exception) and not isinstance(exc, SnapshotError):
                raise SnapshotError("the snapshot's contents do not fit: %s" % _said(exc)) \
                    from exc
            raise
    return header


def _said(exc: Exception) -> str:
    return "%s: %s" % (type(exc).__name__, str(exc)[:200])


def restore_file(sim, path: str | Path) -> dict:
    header = restore(sim, read(path))
    return {"path": str(path), **header}


def _check_fits(sim, state: dict) -> None:
    """Refuse, before changing anything, what this simulator's code has no place for."""
    if not isinstance(sim.traces, TraceStore):
        raise SnapshotError("this simulator's traces are not in a trace store")
    families = set(sim._state_factories)
    unknown = sorted({family for family, _ in state["states"]} - families)
    if unknown:
        raise SnapshotError("the snapshot holds resources of families this simulator does "
                            "not have: %s" % ", ".join(map(str, unknown)))
    modes = state["lifecycles"]["modes"]
    dwell = state["lifecycles"]["dwell"]
    if set(modes) - set(sim.lifecycles.modes) or set(dwell) - set(sim.lifecycles.dwell):
        raise SnapshotError("the snapshot's lifecycle families or dwell times are not this "
                            "simulator's")


def apply(sim, state: dict) -> None:
    """Put a captured state in place (the simulator's lock and OBS lock held)."""
    clock = state["clock"]
    sim.clock.freeze(clock["now"])
    if not clock["frozen"]:
        sim.clock.resume()  # running again, from the snapshot's instant
    sim.ids.setstate(state["ids"])

    sim.directory = state["directory"]
    sim.tokens = TokenStore(sim.directory, sim.ids, sim.clock, sim.settings.token_ttl_s)
    sim.tokens._tokens.update(state["tokens"])
    sim.auth = Authenticator(sim.settings.auth, sim.directory, sim.tokens, sim.clock,
                             sim.settings.signature_max_skew_s)

    sim._states.clear()
    sim._states.update(state["states"])
    sim._watchers = list(state["watchers"])
    sim._watched = state["watched"]
    sim._watchers_moved = True  # done_ms read again from the progress at the next settle
    sim._recorded = state["recorded"]
    sim.lifecycles.modes.update(state["lifecycles"]["modes"])
    sim.lifecycles.dwell.update(state["lifecycles"]["dwell"])

    _put_traces(sim, state["traces"])
    _put_obs(sim.obs_account, state["obs"])

    pem = state["signing_key"]
    key = None
    if pem is not None:
        from cryptography.hazmat.primitives import serialization
        key = serialization.load_pem_private_key(pem, password=None)
    with sim.signer._lock:
        sim.signer._key = key  # None: made on first use (or read from --data-dir)
        if key is not None and sim.signer._path is not None:  # --data-dir keeps this one
            sim.signer._path.parent.mkdir(parents=True, exist_ok=True)
            sim.signer._path.write_bytes(pem)
            sim.signer._path.chmod(0o600)

    sim.notifier.attempts.clear()
    sim.notifier.attempts.extend(state["notification_attempts"])
    sim.notifier.changed()


def _put_traces(sim, rows: list[tuple[int, str, bytes]]) -> None:
    """Store the traces again, in their order, then move the trackers' cursors (store
    positions) to the same traces' new positions."""
    store = sim.traces
    store.clear()
    start = 0
    while start < len(rows):  # runs of one category, in batches
        category = rows[start][1]
        end = start
        while end < len(rows) and end - start < _TRACE_BATCH and rows[end][1] == category:
            end += 1
        store.add_many([orjson.loads(r[2]) for r in rows[start:end]], category)
        start = end
    with store._lock:
        new = [seq for seq, in store._db.execute("SELECT seq FROM traces ORDER BY seq")]
    old = [r[0] for r in rows]
    for _, state in sim.states_of(trackers.FAMILY):
        for tracker in state.trackers.values():
            i = bisect.bisect_right(old, tracker.cursor)  # traces at or before the cursor
            tracker.cursor = new[i - 1] if i and i <= len(new) else 0


def _put_obs(account: str, saved: dict) -> None:
    obs.reset(account)
    store = obs.store(account)
    for bucket in saved["buckets"]:
        made = store.create_bucket(bucket["name"], bucket["region"])
        made.creation_date = bucket["created"]
    for o in saved["objects"]:
        key = store.put_object(o["bucket"], o["key"], o["value"], storage=o["storage_class"],
                               etag=o["etag"].strip('"'))
        key.set_metadata(dict(o["metadata"]))
        key.last_modified = o["last_modified"]
