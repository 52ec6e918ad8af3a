"""moto's S3 backend, the simulator's OBS store.

moto keeps its state in module-level backends, one per account, so each simulator takes an
account of its own (the gateway names it on every request) and lists, resets and saves only
its own buckets. Each simulator is a world of its own: its bucket names are its own, so two
simulators in one process (a test session's and a test's own) may both hold a bucket called
"acme-data", and neither sees the other's. moto shares bucket names across its accounts, as
S3 does; for the simulators' accounts only, that shared table is left out (see _isolate).
"""

from __future__ import annotations

import itertools
import logging
import warnings

MOTO_PARTITION = "aws"
_ACCOUNTS = itertools.count(100_000_000_001)  # 12-digit account ids, one per simulator
_OURS: set[str] = set()  # the simulators' accounts


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
    _isolate()
    account = str(next(_ACCOUNTS))
    _OURS.add(account)
    return account


def _isolate() -> None:
    """For the simulators' accounts: a bucket name is looked up, and taken, in the account's
    own buckets only, and never enters moto's process-wide table of names (which moto's other
    users, a test's own mock_aws for one, keep using as before)."""
    from moto.s3 import models
    if getattr(models.S3Backend, "_modelarts_sim_isolated", False):
        return
    create, get = models.S3Backend.create_bucket, models.S3Backend.get_bucket

    def create_bucket(self, bucket_name, region_name, bucket_namespace=None):
        if self.account_id not in _OURS:
            return create(self, bucket_name, region_name, bucket_namespace)
        if bucket_name in self.buckets:
            raise models.BucketAlreadyExists(bucket=bucket_name)
        names = models.s3_backends.bucket_accounts
        held = names.pop(bucket_name, None)  # another account's (a mock_aws test's): not ours
        try:
            return create(self, bucket_name, region_name, bucket_namespace)
        finally:  # FakeBucket wrote our name there: put back what was there before
            if held is not None:
                names[bucket_name] = held
            else:
                names.pop(bucket_name, None)

    def get_bucket(self, bucket_name):
        if self.account_id in _OURS and bucket_name not in self.buckets:
            raise models.MissingBucket(bucket=bucket_name)
        return get(self, bucket_name)

    permission = models.FakeBucket.get_permission

    def get_permission(self, action, resource):
        # obs/access.py has decided for the simulators' buckets, principals and all; moto's
        # own evaluator ignores them (and fails on a policy it cannot read)
        if self.account_id in _OURS:
            from moto.iam.access_control import PermissionResult
            return PermissionResult.PERMITTED
        return permission(self, action, resource)

    models.S3Backend.create_bucket = create_bucket
    models.S3Backend.get_bucket = get_bucket
    models.FakeBucket.get_permission = get_permission
    models.S3Backend._modelarts_sim_isolated = True


def store(account: str):
    """The backend holding the account's buckets."""
    from moto.s3.models import s3_backends
    # moto's own look-ups create what is missing and cost microseconds a call; a plain dict
    # read finds what exists (moto's reset may clear it: then the look-up makes it again)
    found = dict.get(s3_backends, account)
    found = dict.get(found, MOTO_PARTITION) if found is not None else None
    return found if found is not None else s3_backends[account][MOTO_PARTITION]


def reset(account: str) -> None:
    """Every bucket and object of the account gone. Not moto's own reset, which closes the
    files of every object in the process, other accounts' too."""
    from moto.s3.models import FakeKey
    backend = store(account)
    for bucket in list(backend.buckets.values()):
        for _, versions in bucket.keys.iterlists():
            for key in versions:
                if isinstance(key, FakeKey):
                    key.dispose()
        for part in bucket.multiparts.values():
            part.dispose()
    backend.buckets.clear()
