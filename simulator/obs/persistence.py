"""OBS kept across restarts with --data-dir: every bucket and the current version of every
object, written on shutdown and read back on start.

Layout under the data directory: `obs/manifest.json` (buckets; objects with their metadata,
ETag, storage class and modification time) and `obs/objects/N`, one file per object body. A
save is written beside the old one and swapped in, so a crash mid-save leaves the last one
whole. Not kept: older versions, in-progress multipart uploads, bucket policies and ACLs.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import orjson

from simulator.obs import backend

_DIR, _VERSION = "obs", 1


def save(account: str, data_dir: Path) -> None:
    store = backend.store(account)
    target, fresh, old = data_dir / _DIR, data_dir / (_DIR + ".new"), data_dir / (_DIR + ".old")
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / "objects").mkdir(parents=True)
    buckets, objects = [], []
    for bucket in list(store.buckets.values()):
        buckets.append({"name": bucket.name, "region": bucket.region_name})
        for key in list(bucket.keys.values()):
            if getattr(key, "value", None) is None:  # a delete marker
                continue
            body = fresh / "objects" / str(len(objects))
            _write(body, key.value)
            objects.append({"bucket": bucket.name, "key": key.name, "file": body.name,
                            "metadata": dict(key.metadata), "etag": key.etag,
                            "storage_class": key.storage_class,
                            "last_modified": key.last_modified.isoformat()})
    _write(fresh / "manifest.json", orjson.dumps(
        {"version": _VERSION, "buckets": buckets, "objects": objects}, option=orjson.OPT_INDENT_2))
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def load(account: str, data_dir: Path) -> None:
    target = data_dir / _DIR
    if not (target / "manifest.json").exists():  # a save stopped between its two renames
        target = data_dir / (_DIR + ".old")
    manifest = target / "manifest.json"
    if not manifest.exists():
        return
    saved = orjson.loads(manifest.read_bytes())
    if saved.get("version") != _VERSION:
        return
    store = backend.store(account)
    for bucket in saved["buckets"]:
        store.create_bucket(bucket["name"], bucket["region"])
    for obj in saved["objects"]:
        key = store.put_object(obj["bucket"], obj["key"],
                               (target / "objects" / obj["file"]).read_bytes(),
                               storage=obj["storage_class"], etag=obj["etag"].strip('"'))
        key.set_metadata(obj["metadata"])
        key.last_modified = datetime.fromisoformat(obj["last_modified"])


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
