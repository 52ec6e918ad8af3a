"""Digest files (reference section 3.3): for a tracker with `is_support_validate`, an hourly,
signed account of the trace files it wrote, each digest chained to the one before it, so an
integrity checker can prove no file was changed, added or removed.

    CloudTraces/{region}/{yyyy}/{mm}/{dd}/{tracker}/Digest/{service}/
        {prefix}_CloudTrace-Digest_{region}_{yyyy-mm-dd}T{HH-MM-SS}Z.json.gz

One per service and hour of the simulation clock, written once the hour is over, also when the
hour had no trace file (`log_files: []`). The digest is a gzipped JSON object (keys sorted);
its signature, SHA256withRSA over the uncompressed JSON, is in the object's metadata
(`x-amz-meta-signature`, hex, and `x-amz-meta-signature-algorithm`). Simulator's choices
where the reference is silent: a trace file's hash is the SHA-256 of the object as stored; the
previous digest's hash is the MD5 of that object as stored (the documented algorithm).

The signing key is the simulator's own RSA key (2048 bits), made on first use and kept in
`--data-dir`; `/_sim/keys` serves its public half.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import orjson

from simulator.obs import access

HOUR_MS = 3_600_000
ALGORITHM = "SHA256withRSA"


class Signer:
    _FILE = "digest-signing-key.pem"

    def __init__(self, data_dir: Path | None):
        self._path = data_dir / self._FILE if data_dir is not None else None
        self._key = None
        self._lock = threading.Lock()

    def _private(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        with self._lock:
            if self._key is None:
                if self._path is not None and self._path.exists():
                    self._key = serialization.load_pem_private_key(self._path.read_bytes(),
                                                                   password=None)
                else:
                    self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    self._keep(self._key.private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()))
            return self._key

    def _keep(self, pem: bytes) -> None:
        """The key into the data dir's file, whole or not at all (a temporary file beside it,
        0600, then renamed): a kill while it is written leaves the one before."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % self._path.name, suffix=".tmp",
                                   dir=self._path.parent)  # made 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def pem(self) -> bytes | None:
        """The key, as PEM (None until one is made; the data dir's once it has one)."""
        from cryptography.hazmat.primitives import serialization
        with self._lock:
            key = self._key
        if key is None and self._path is not None and self._path.exists():
            key = self._private()
        if key is None:
            return None
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def put(self, pem: bytes | None) -> None:
        """Sign with this key from now on (a restored snapshot's, or the one the data dir's
        store holds since a restore); None: make one on first use, or read the data dir's."""
        from cryptography.hazmat.primitives import serialization
        key = serialization.load_pem_private_key(pem, password=None) if pem else None
        with self._lock:
            self._key = key
            if key is not None:  # --data-dir keeps this one
                self._keep(pem)

    def sign(self, data: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        return self._private().sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()

    def public_key(self) -> dict:
        from cryptography.hazmat.primitives import serialization
        public = self._private().public_key()
        der = public.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        pem = public.public_bytes(serialization.Encoding.PEM,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"algorithm": ALGORITHM, "fingerprint": hashlib.sha256(der).hexdigest(),
                "public_key_pem": pem.decode()}


def start(tracker, now_ms: int) -> None:
    """Validation starts (again): the first digest covers the current hour."""
    tracker.digest_hour_ms = now_ms // HOUR_MS * HOUR_MS


def file_written(tracker, service: str, stamp_ms: int, bucket: str, key: str,
                 body: bytes) -> None:
    """Note a trace file for the digest of its hour."""
    if not tracker.is_support_validate:
        return
    tracker.digest_services.add(service)
    # a file stamped in an hour whose digest is written already goes in the next one
    hour = max(stamp_ms // HOUR_MS * HOUR_MS, tracker.digest_hour_ms or 0)
    tracker.digest_files.setdefault((hour, service), []).append({
        "bucket": bucket, "object": key, "log_hash_value": hashlib.sha256(body).hexdigest(),
        "log_hash_algorithm": "SHA-256"})


def write_hour(sim, project, tracker, now_ms: int) -> int | None:
    """The digests of the oldest hour not yet accounted for, if it is over: one per service.
    Returns how many were written, None when no hour is due (or none can be written). One hour
    at a time: after a long gap the caller lets others in between hours, and each hour's
    digests are chained to the hour's before, so they are still written in order."""
    if not tracker.is_support_validate or tracker.digest_hour_ms is None:
        return None
    info = tracker.obs_info
    if info is None or access.bucket_owner(sim, info["bucket_name"]) != project.domain.id:
        return None  # no bucket, or one another account has taken since
    hour = tracker.digest_hour_ms
    if hour + HOUR_MS > now_ms:
        return None
    services = sorted(tracker.digest_services | {s for h, s in tracker.digest_files
                                                 if h == hour})
    for service in services:
        _write(sim, project, tracker, service, hour, tracker.digest_files.pop((hour, service), []))
    tracker.digest_hour_ms = hour + HOUR_MS
    return len(services)


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")


def _write(sim, project, tracker, service: str, hour_ms: int, files: list) -> None:
    info = tracker.obs_info
    end = hour_ms + HOUR_MS
    when = datetime.fromtimestamp(end / 1000, timezone.utc)
    region = project.region
    # service "": the tracker writes no service folders (is_sort_by_service false)
    key = "CloudTraces/%s/%s/%s/Digest/%s%s_CloudTrace-Digest_%s_%s.json.gz" % (
        region, when.strftime("%Y/%m/%d"), tracker.name, service + "/" if service else "",
        info["file_prefix_name"], region, _stamp(end))
    previous = tracker.digest_last.get(service) or {}
    digest = {
        "project_id": project.id, "digest_start_time": _stamp(hour_ms),
        "digest_end_time": _stamp(end), "digest_bucket": info["bucket_name"],
        "digest_object": key, "digest_signature_algorithm": ALGORITHM, "digest_end": False,
        "previous_digest_bucket": previous.get("bucket", ""),
        "previous_digest_object": previous.get("object", ""),
        "previous_digest_hash_value": previous.get("hash", ""),
        "previous_digest_hash_algorithm": "MD5" if previous else "",
        "previous_digest_signature": previous.get("signature", ""),
        "previous_digest_end": False if previous else "",
        "log_files": files,
    }
    raw = orjson.dumps(digest, option=orjson.OPT_SORT_KEYS)
    signature = sim.signer.sign(raw)
    body = gzip.compress(raw, mtime=end // 1000)
    sim.obs_files.write("/%s/%s" % (info["bucket_name"], key), body, {
        "content-type": "application/gzip", "x-amz-meta-signature": signature,
        "x-amz-meta-signature-algorithm": ALGORITHM})
    tracker.digest_last[service] = {"bucket": info["bucket_name"], "object": key,
                                    "hash": hashlib.md5(body).hexdigest(),
                                    "signature": signature}
