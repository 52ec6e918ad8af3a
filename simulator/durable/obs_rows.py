"""OBS as state rows: a bucket's row (`b` + name) holds its region, creation date, owning
domain, policy and ACL, an object's row (`o` + JSON [bucket, key]) its bytes, metadata, ETag,
storage class, modification time and ACL. Only the current version of an object is kept;
older versions, multipart uploads in progress and tags are not (moto holds them in memory
only).

A write marks its bucket (`touch`), or, when the simulator writes an object by name, that
object; at the commit the marked bucket's objects (or the marked objects) are compared, by
ETag, size, modification time and ACL, with what their rows hold, and only the objects that
differ are written again; a marked bucket's own row (owner, policy, ACL) is compared too.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from simulator.durable import codec
from simulator.obs import access, backend

BUCKET, OBJECT = "b", "o"


def bucket_row(name: str) -> str:
    return BUCKET + name


def object_row(bucket: str, key: str) -> str:
    return OBJECT + orjson.dumps([bucket, key]).decode()


class ObsRows:
    def __init__(self, account: str):
        self.account = account
        self.dirty: set[str] = set()  # buckets to compare whole
        # bucket -> keys written by name (sim.obs_files): only those are compared, so that a
        # commit costs what it wrote, not what the bucket holds (a year of digests is 8,760
        # commits into one bucket)
        self.dirty_keys: dict[str, set[str]] = {}
        # bucket -> key -> (etag, size, modified) of what its rows hold
        self._held: dict[str, dict[str, tuple]] = {}
        self._pending: dict[str, dict[str, tuple] | None] = {}  # whole buckets
        self._pending_keys: dict[str, dict[str, tuple | None]] = {}  # keys of a bucket
        self._held_buckets: dict[str, bytes] = {}  # bucket -> its own row
        self._pending_buckets: dict[str, bytes] = {}

    def touch(self, bucket: str, key: str | None = None) -> None:
        """A bucket changed (or, with key, that one object of it)."""
        if key is None:
            self.dirty.add(bucket)
        else:
            self.dirty_keys.setdefault(bucket, set()).add(key)

    def load_marks(self) -> None:
        """Every bucket written again at the next commit."""
        self._held = {}
        self.dirty.update(backend.store(self.account).buckets)

    def pending(self) -> list[tuple[str, bytes | None]]:
        rows = []
        store = backend.store(self.account)
        dirty, self.dirty = self.dirty, set()
        keyed, self.dirty_keys = self.dirty_keys, {}
        self._pending, self._pending_keys, self._pending_buckets = {}, {}, {}
        # a bucket whose rows are not written yet, or gone, is compared whole
        dirty |= {name for name in keyed if name not in self._held
                  or name not in store.buckets}
        for name in dirty:
            rows += self._bucket_rows(store, name)
        for name, keys in keyed.items():
            if name not in dirty:
                rows += self._key_rows(store.buckets[name], name, keys)
        return rows

    def _bucket_rows(self, store, name: str) -> list[tuple[str, bytes | None]]:
        rows = []
        bucket = store.buckets.get(name)
        held = self._held.get(name)
        if bucket is None:
            if held is not None:
                rows.append((bucket_row(name), None))
                rows += [(object_row(name, key), None) for key in held]
                self._pending[name] = None
            return rows
        now = {}
        row = codec.dumps(_bucket(bucket))
        if held is None or self._held_buckets.get(name) != row:
            rows.append((bucket_row(name), row))
        self._pending_buckets[name] = row
        held = held if held is not None else {}
        for key, versions in dict(bucket.keys).items():
            current = _current(versions)
            if current is None:
                continue
            sig = _signature(current)
            now[key] = sig
            if held.get(key) != sig:
                rows.append((object_row(name, key), codec.dumps(_object(current))))
        rows += [(object_row(name, key), None) for key in held if key not in now]
        self._pending[name] = now
        return rows

    def _key_rows(self, bucket, name: str, keys: set[str]) -> list[tuple[str, bytes | None]]:
        rows = []
        held = self._held[name]
        changed = {}
        for key in keys:
            current = _current(bucket.keys.getlist(key, []))
            sig = _signature(current) if current is not None else None
            if held.get(key) != sig:
                changed[key] = sig
                rows.append((object_row(name, key),
                             codec.dumps(_object(current)) if sig is not None else None))
        self._pending_keys[name] = changed
        return rows

    def settle(self) -> None:
        for name, now in self._pending.items():
            if now is None:
                self._held.pop(name, None)
                self._held_buckets.pop(name, None)
            else:
                self._held[name] = now
                self._held_buckets[name] = self._pending_buckets[name]
        for name, changed in self._pending_keys.items():
            held = self._held[name]
            for key, sig in changed.items():
                if sig is None:
                    held.pop(key, None)
                else:
                    held[key] = sig
        self._pending, self._pending_keys, self._pending_buckets = {}, {}, {}

    def undo(self, committed: dict[str, bytes]) -> None:
        """Put back the buckets and objects of the last `pending` as their rows hold them."""
        pending, self._pending, self._pending_buckets = self._pending, {}, {}
        keyed, self._pending_keys = self._pending_keys, {}
        store = backend.store(self.account)
        for name in pending:
            for key in list(store.buckets[name].keys) if name in store.buckets else ():
                store.delete_object(name, key)
            if name in store.buckets:
                store.delete_bucket(name)
            if bucket_row(name) not in committed:
                continue
            saved = codec.loads(committed[bucket_row(name)])
            put_bucket(store, name, saved)
            for key in self._held.get(name, {}):
                put_object(store, name, key, codec.loads(committed[object_row(name, key)]))
        for name, changed in keyed.items():
            for key in changed:
                store.delete_object(name, key)
                if key in self._held[name]:
                    put_object(store, name, key, codec.loads(committed[object_row(name, key)]))

    def load(self, rows: dict[str, bytes]) -> None:
        """Every bucket and object the rows hold, into this simulator's OBS (empty before)."""
        store = backend.store(self.account)
        self._held, self._held_buckets = {}, {}
        for name, data in rows.items():
            if name.startswith(BUCKET):
                put_bucket(store, name[1:], codec.loads(data))
                self._held.setdefault(name[1:], {})
                self._held_buckets[name[1:]] = data
        for name, data in rows.items():
            if name.startswith(OBJECT):
                bucket, key = orjson.loads(name[1:])
                made = put_object(store, bucket, key, codec.loads(data))
                self._held.setdefault(bucket, {})[key] = _signature(made)

    def rows(self) -> list[tuple[str, bytes]]:
        """Every bucket and object, as rows."""
        self.dirty.update(backend.store(self.account).buckets)
        held, self._held = self._held, {}
        held_buckets = self._held_buckets
        try:
            return [(n, d) for n, d in self.pending() if d is not None]
        finally:
            self._held, self._pending = held, {}
            self._held_buckets, self._pending_buckets = held_buckets, {}


def _current(versions):
    """The object a key's versions hold now (None: none, or a delete marker)."""
    current = versions[-1] if versions else None
    return None if current is None or getattr(current, "value", None) is None else current


def _signature(current) -> tuple:
    return (current.etag, current.size, current.last_modified.isoformat(), _acl(current.acl))


def _bucket(bucket) -> dict:
    return {"region": bucket.region_name, "created": bucket.creation_date.isoformat(),
            "owner": getattr(bucket, access.OWNER, None), "acl": _acl(bucket.acl),
            "policy": bucket.policy.decode("utf-8", "replace") if bucket.policy else None}


def _object(key) -> dict:
    return {"value": bytes(key.value), "metadata": dict(key.metadata), "etag": key.etag,
            "storage_class": key.storage_class, "last_modified": key.last_modified.isoformat(),
            "acl": _acl(key.acl)}


def _acl(acl) -> tuple | None:
    """moto's ACL as plain values: ((grantee (id, uri, display name), ...), permissions) per
    grant; None for moto's default (private)."""
    if acl is None:
        return None
    return tuple((tuple((g.id, g.uri, g.display_name) for g in grant.grantees),
                  tuple(grant.permissions)) for grant in acl.grants)


def _moto_acl(saved):
    from moto.s3.models import FakeAcl, FakeGrant, FakeGrantee
    if saved is None:
        return None
    return FakeAcl([FakeGrant([FakeGrantee(*grantee) for grantee in grantees], list(perms))
                    for grantees, perms in saved])


def put_bucket(store, name: str, saved: dict):
    made = store.create_bucket(name, saved["region"])
    made.creation_date = datetime.fromisoformat(saved["created"])
    if saved.get("owner"):  # rows written before owners were kept: the default account's
        setattr(made, access.OWNER, saved["owner"])
    if "acl" in saved:
        made.acl = _moto_acl(saved["acl"])
    made.policy = saved["policy"].encode() if saved.get("policy") else None
    return made


def put_object(store, bucket: str, key: str, saved: dict):
    made = store.put_object(bucket, key, saved["value"], storage=saved["storage_class"],
                            etag=saved["etag"].strip('"'))
    made.set_metadata(dict(saved["metadata"]))
    if "acl" in saved:
        made.acl = _moto_acl(saved["acl"])
    made.last_modified = datetime.fromisoformat(saved["last_modified"])
    return made
