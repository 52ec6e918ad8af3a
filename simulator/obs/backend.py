"""moto's S3 backend, the simulator's OBS store.

moto keeps its state in module-level backends, so one process holds one OBS: every simulator
in a process shares it, and a new simulator (or /_sim/reset) empties it. The buckets live in
moto's default account; OBS has no account in its paths either.
"""

from __future__ import annotations

import logging
import warnings

MOTO_ACCOUNT = "123456789012"  # moto's default account: keys moto does not know map to it
MOTO_PARTITION = "aws"


def wsgi_app():
    """moto's S3 application (the one moto's own server mounts for the s3 service)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto.server warns about extras we do not use
        from moto.server import create_backend_app
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return create_backend_app("s3")


def s3():
    """The backend holding every bucket."""
    from moto.s3.models import s3_backends
    return s3_backends[MOTO_ACCOUNT][MOTO_PARTITION]


def reset() -> None:
    """Every bucket and object gone."""
    from moto.s3.models import s3_backends
    s3_backends.reset()
