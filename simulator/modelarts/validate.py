"""Input checks shared by the ModelArts families. Each raises the family's ApiError."""

from __future__ import annotations

import re

from simulator.errors import ApiError
from simulator.querystring import query_int
from simulator.settings import BUCKET

NAME = re.compile(r"^[A-Za-z0-9_-]+$")
DESCRIPTION_FORBIDDEN = set('^!<>=&"\'')


class Checker:
    """Checks one request body; failures raise ApiError(status, code) naming the field."""

    def __init__(self, code: str, status: int = 400, resource_id=None, resource_name=None):
        self.code = code
        self.status = status
        self.resource_id = resource_id
        self.resource_name = resource_name

    @classmethod
    def of(cls, resource, code: str, status: int = 400) -> "Checker":
        """A checker whose refusals name the resource (its trace_id and trace_name)."""
        return cls(code, status, resource.trace_id, resource.trace_name)

    def fail(self, message: str, code: str | None = None, status: int | None = None):
        raise ApiError(status or self.status, code or self.code, message,
                       resource_id=self.resource_id, resource_name=self.resource_name)

    def body(self, body, required: bool = True) -> dict:
        if body is None:
            if required:
                self.fail("The request body is missing.")
            return {}
        if not isinstance(body, dict):
            self.fail("The request body must be a JSON object.")
        return body

    def string(self, obj: dict, key: str, *, required=False, min_len=0, max_len=None,
               pattern: re.Pattern | None = None, forbidden: set | None = None, default=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.fail("Parameter %s is required." % key)
            return default
        if not isinstance(value, str):
            self.fail("Parameter %s must be a string." % key)
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            self.fail("Parameter %s must be %d to %s characters long." % (key, min_len, max_len))
        if pattern is not None and value and not pattern.match(value):
            self.fail("Parameter %s contains characters that are not allowed: %r." % (key, value))
        if forbidden and set(value) & forbidden:
            self.fail("Parameter %s must not contain any of %s." % (key, "".join(sorted(forbidden))))
        return value

    def name(self, obj: dict, key: str, max_len: int, required=True):
        return self.string(obj, key, required=required, min_len=1, max_len=max_len, pattern=NAME)

    def description(self, obj: dict, key: str = "description", max_len: int = 256):
        return self.string(obj, key, max_len=max_len, forbidden=DESCRIPTION_FORBIDDEN,
                           default="")

    def integer(self, obj: dict, key: str, *, required=False, choices=None, minimum=None,
                maximum=None, default=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.fail("Parameter %s is required." % key)
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("Parameter %s must be an integer." % key)
        if choices is not None and value not in choices:
            self.fail("Parameter %s must be one of %s, not %d." % (
                key, ", ".join(map(str, sorted(choices))), value))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail("Parameter %s must be between %s and %s." % (key, minimum, maximum))
        return value

    def boolean(self, obj: dict, key: str, default=None):
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail("Parameter %s must be true or false." % key)
        return value

    def choice(self, obj: dict, key: str, choices, *, required=False, default=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.fail("Parameter %s is required." % key)
            return default
        if value not in choices:
            self.fail("Parameter %s must be one of %s, not %r." % (
                key, ", ".join(map(str, choices)), value))
        return value

    def array(self, obj: dict, key: str, *, required=False, min_len=0, max_len=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.fail("Parameter %s is required." % key)
            return []
        if not isinstance(value, list):
            self.fail("Parameter %s must be an array." % key)
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            self.fail("Parameter %s must hold %d to %s items." % (key, min_len, max_len))
        return value

    def mapping(self, obj: dict, key: str, *, required=False):
        value = obj.get(key)
        if value is None:
            if required:
                self.fail("Parameter %s is required." % key)
            return {}
        if not isinstance(value, dict):
            self.fail("Parameter %s must be an object." % key)
        return value

    def strings(self, obj: dict, key: str, message: str) -> dict:
        """An object of strings, as a copy; message (over key and the entry's name) refuses an
        entry that is not a string."""
        value = self.mapping(obj, key)
        for name, item in value.items():
            if not isinstance(item, str):
                self.fail(message % (key, name))
        return dict(value)

    def obs_path(self, value: str, key: str, *, directory=True, allow_bucket_root=False,
                 suffix: str | None = None) -> str:
        """An OBS path as ModelArts takes it: /bucket/dir/ (obs:// or s3:// prefix allowed)."""
        path = value
        for prefix in ("obs://", "s3://"):
            if path.startswith(prefix):
                path = "/" + path[len(prefix):]
        if not path.startswith("/") or "//" in path:
            self.fail("Parameter %s must be an OBS path such as /bucket/dir/, not %r." % (key, value))
        parts = path[1:].split("/")
        if not BUCKET.match(parts[0]):
            self.fail("Parameter %s names an invalid OBS bucket %r." % (key, parts[0]))
        rest = [p for p in parts[1:] if p]
        if not rest and not allow_bucket_root:
            self.fail("Parameter %s must be a directory inside a bucket, not the bucket "
                      "itself." % key)
        if suffix is not None:
            if not path.endswith(suffix):
                self.fail("Parameter %s must end with %s." % (key, suffix))
        elif directory and not path.endswith("/"):
            self.fail("Parameter %s must be a directory and end with /." % key)
        return path


def page(query, checker: Checker, *, offset_key="offset", limit_key="limit", default_limit=10,
         max_limit=100) -> tuple[int, int]:
    return (query_int(query, offset_key, 0, checker.fail, lo=0),
            query_int(query, limit_key, default_limit, checker.fail, lo=1, hi=max_limit))
