"""What the simulator's own services read and write in its OBS: the objects under a dataset's
data source, a training job's output, a model's source location.

Paths are given as ModelArts takes them: ``/bucket/dir/``, ``obs://bucket/dir/`` or
``s3://bucket/dir/``. A path ending in ``/`` is a folder: it exists when an object lies under
it (OBS has no directories, only keys sharing a prefix). These reads and writes go straight to
the store: the real services act through their own agency, so they are not the caller's
OBS requests and leave no data trace.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from simulator.obs import backend
from simulator.obs.access import OWNER

SCHEMES = ("obs://", "s3://")


@dataclass(frozen=True)
class ObsObject:
    bucket: str
    key: str
    size: int

    @property
    def path(self) -> str:
        return "/%s/%s" % (self.bucket, self.key)


def split(path: str) -> tuple[str, str]:
    """(bucket, key) of /bucket/key, obs://bucket/key or s3://bucket/key."""
    for scheme in SCHEMES:
        if path.startswith(scheme):
            path = "/" + path[len(scheme):]
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def join(folder: str, *names: str) -> str:
    """A path under a folder: join("/b/out/", "model", "a.bin") is /b/out/model/a.bin."""
    return folder.rstrip("/") + "/" + "/".join(n.strip("/") for n in names)


class ObsFiles:
    """Every method holds `lock`, which the OBS gateway also holds around each request: moto
    closes an object's buffer when it is replaced or deleted, so a read racing a write of the
    same key would find it closed."""

    def __init__(self, account: str, on_change=None):
        """on_change(bucket, key=None) is told of every bucket a method writes, and of the
        object, when it writes one (durable state)."""
        self.account = account
        self.lock = threading.RLock()
        self._changed = on_change or (lambda bucket, key=None: None)

    @property
    def _store(self):
        return backend.store(self.account)

    def make_bucket(self, name: str, region: str = "us-east-1", owner: str | None = None) -> None:
        """A bucket (nothing happens when this simulator already has it), owned by the domain
        `owner`, or by the default account (obs/access.py)."""
        with self.lock:
            if name not in self._store.buckets:
                made = self._store.create_bucket(name, region)
                if owner is not None:
                    setattr(made, OWNER, owner)
                self._changed(name)

    def has_bucket(self, path_or_bucket: str) -> bool:
        return split(path_or_bucket)[0] in self._store.buckets

    def objects(self, path: str, limit: int | None = None) -> list[ObsObject]:
        """Every object under a folder path (or the object a file path names), by key. Folder
        markers (empty keys ending in /) are not objects; a missing bucket holds nothing."""
        bucket_name, prefix = split(path)
        if not path.endswith("/"):
            with self.lock:
                bucket = self._store.buckets.get(bucket_name)
                size = _size(bucket.keys.getlist(prefix)) if bucket is not None and prefix \
                    else None
            return [ObsObject(bucket_name, prefix, size)] if size is not None else []
        found = [ObsObject(bucket_name, key, size)
                 for key, size in self.sizes(bucket_name).items() if key.startswith(prefix)]
        found.sort(key=lambda o: o.key)
        return found[:limit] if limit is not None else found

    def sizes(self, bucket_name: str) -> dict[str, int]:
        """key -> size of every object of a bucket (none when it does not exist); folder
        markers left out. One pass: callers that look up many keys take this once."""
        with self.lock:
            bucket = self._store.buckets.get(bucket_name)
            if bucket is None:
                return {}
            out = {}
            for key, versions in dict(bucket.keys).items():
                size = _size(versions)
                if size is not None and not key.endswith("/"):
                    out[key] = size
            return out

    def exists(self, path: str) -> bool:
        """A file path names an object; a folder path has at least one object under it
        (found without listing them all: training jobs ask this on every create)."""
        if not path.endswith("/"):
            return bool(self.objects(path, limit=1))
        bucket_name, prefix = split(path)
        with self.lock:
            bucket = self._store.buckets.get(bucket_name)
            if bucket is None:
                return False
            return any(key.startswith(prefix) and not key.endswith("/")
                       and _size(bucket.keys.getlist(key)) is not None
                       for key in list(bucket.keys))

    def read(self, path: str, max_bytes: int) -> bytes | None:
        """An object's bytes; None when it does not exist or is larger than max_bytes."""
        bucket, key = split(path)
        with self.lock:
            if bucket not in self._store.buckets:
                return None
            obj = self._store.get_object(bucket, key)
            if obj is None or getattr(obj, "size", None) is None or obj.size > max_bytes:
                return None
            return obj.value

    def write(self, path: str, data: bytes, metadata: dict | None = None) -> bool:
        """Put an object (with its content-type and x-amz-meta-* headers, when given); False
        (nothing written) when its bucket does not exist."""
        bucket, key = split(path)
        with self.lock:
            if bucket not in self._store.buckets or not key or key.endswith("/"):
                return False
            obj = self._store.put_object(bucket, key, data)
            if metadata:
                obj.set_metadata(metadata)
            self._changed(bucket, key)
            return True

    def copy(self, source: str, target: str, max_bytes: int) -> bool:
        data = self.read(source, max_bytes)
        return data is not None and self.write(target, data)

    def delete_bucket(self, name: str) -> None:
        """A bucket and every object in it gone (nothing happens when there is none)."""
        with self.lock:
            store = self._store
            if name in store.buckets:
                for key in list(store.buckets[name].keys):
                    store.delete_object(name, key)
                store.delete_bucket(name)
                self._changed(name)

    def delete(self, path: str) -> None:
        bucket, key = split(path)
        with self.lock:
            if bucket in self._store.buckets and key:
                self._store.delete_object(bucket, key)
                self._changed(bucket, key)


def _size(versions) -> int | None:
    """The size of a key's current version; None when it has none, or is a delete marker."""
    return getattr(versions[-1], "size", None) if versions else None
