"""moto's S3 backend, the simulator's OBS store.

moto keeps its state in module-level backends, one per account, so each simulator takes an
account of its own (the gateway names it on every request) and lists, resets and saves only
its own buckets. Bucket names are one namespace across the simulators of a process, as OBS's
are across accounts: a name another simulator holds is taken (BucketAlreadyExists) and, as
moto checks no bucket policy, its bucket can be read by name.
"""

from __future__ import annotations

import itertools
import logging
import warnings

MOTO_PARTITION = "aws"
_ACCOUNTS = itertools.count(100_000_000_001)  # 12-digit account ids, one per simulator


def wsgi_app():
    """moto's S3 application (the one moto's own server mounts for the s3 service)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto.server warns about extras we do not use
        from moto.server import create_backend_app
        from moto import settings
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # buckets are named by the path only: a Host header naming another bucket must not move a
    # request (the gateway checks signatures and records data traces by the path)
    settings.S3_IGNORE_SUBDOMAIN_BUCKETNAME = True
    return create_backend_app("s3")


def new_account() -> str:
    return str(next(_ACCOUNTS))


def store(account: str):
    """The backend holding the account's buckets."""
    from moto.s3.models import s3_backends
    return s3_backends[account][MOTO_PARTITION]


def reset(account: str) -> None:
    """Every bucket and object of the account gone (and their names free again). Not moto's
    own reset, which closes the files of every object in the process, other accounts' too."""
    from moto.s3.models import FakeKey, s3_backends
    backend = store(account)
    for bucket in list(backend.buckets.values()):
        for _, versions in bucket.keys.iterlists():
            for key in versions:
                if isinstance(key, FakeKey):
                    key.dispose()
        for part in bucket.multiparts.values():
            part.dispose()
        s3_backends.bucket_accounts.pop(bucket.name, None)
    backend.buckets.clear()
