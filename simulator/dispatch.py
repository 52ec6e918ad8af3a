"""The first stop of every request: which application answers it.

A path whose first segment is not an API version (v1, v2, v3, v3.0) or _sim is OBS: it goes to
the OBS gateway (moto's S3 application behind a signature check). A call to an operation of the
catalog goes straight to the walk with a plain werkzeug request:
Flask's request context, hooks and error handlers cost about a tenth of a traced call, and the
walk needs none of them. Everything else (the /_sim controls, unknown paths, a method the path
does not take) goes to Flask, whose error handlers answer in API Gateway's words.
"""

from __future__ import annotations

import re
from typing import Callable
from urllib.parse import urlsplit

from waitress.channel import ClientDisconnected
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_host

MAX_BODY_BYTES = 32 * 1024 * 1024
_PARAM = re.compile(r"\{(\w+)\}")
_ANY, _END = object(), object()  # a parameter segment; where a path ends (by method)


def raw_target(environ: dict) -> tuple[str, str]:
    """The path and query exactly as the client sent them (signatures are over these)."""
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not uri:
        return environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
    if uri.startswith(("http://", "https://")):
        parts = urlsplit(uri)
        return parts.path, parts.query
    path, _, query = uri.partition("?")
    return path, query


def environ_headers(environ: dict) -> dict[str, str]:
    """The request's headers by lower-case name, read from the environ as werkzeug reads them
    (a request's headers object is built for lookups, not for taking them all at once)."""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_") and key not in _CONTENT_HEADERS}
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


_CONTENT_HEADERS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def source_ip(environ: dict, headers: dict, trust_forwarded_for: bool) -> str:
    """The caller's address: the peer, or the first X-Forwarded-For hop when a proxy is
    trusted (settings.trust_forwarded_for)."""
    forwarded = headers.get("x-forwarded-for", "") if trust_forwarded_for else ""
    if forwarded:
        return forwarded.split(",")[0].strip()
    return environ.get("REMOTE_ADDR") or ""


def host_url(environ: dict) -> str:
    """`scheme://host[:port]` as the caller addressed the server: werkzeug's request.host_url
    without its trailing slash, exactly (its host rule, case, IDNA and IPv6 forms, and its
    errors for a host it cannot read). Computing it costs about 8 us, so it is remembered by
    what it is made of, for hosts of a DNS name's length: a client sends the same Host every
    time."""
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
           environ.get("SERVER_NAME"), environ.get("SERVER_PORT"))
    found = _HOST_URLS.get(key)
    if found is None:
        found = get_current_url(environ.get("wsgi.url_scheme", "http"),
                                get_host(environ)).rstrip("/")
        if len(key[1] or "") + len(key[2] or "") <= _HOST_CHARS_KEPT:
            if len(_HOST_URLS) >= _HOST_URLS_KEPT:  # many Host headers: forget, never grow
                _HOST_URLS.clear()
            _HOST_URLS[key] = found
    return found


_HOST_URLS: dict[tuple, str] = {}
_HOST_URLS_KEPT = 256
_HOST_CHARS_KEPT = 512


class ApiRequest(Request):
    max_content_length = MAX_BODY_BYTES  # reading a longer body raises 413


class Routes:
    """The catalog's paths as a tree of segments: `/v2/{project_id}/datasets` is the literal
    `v2`, any one segment, then `datasets`. A path matches as werkzeug's rules with default
    converters and no strict slashes would match it: leading slashes are one, one trailing
    slash is allowed, a literal segment is tried before a parameter, a parameter is one
    non-empty segment, HEAD is served where GET is. Matching costs a dict lookup a segment,
    where werkzeug's state machine tries regular expressions."""

    def __init__(self, routes):
        self._root: dict = {}
        for method, path in routes:
            node, names = self._root, []
            for segment in path.strip("/").split("/"):
                param = _PARAM.fullmatch(segment)
                if param:
                    names.append(param[1])
                node = node.setdefault(_ANY if param else segment, {})
            ends = node.setdefault(_END, {})
            ends[method] = ((method, path), tuple(names))
            if method == "GET":
                ends.setdefault("HEAD", ends["GET"])

    def match(self, path: str, method: str):
        """((method, catalog path), {param: value}) or None."""
        path = path.lstrip("/")
        if path.endswith("/"):
            path = path[:-1]
        values: list[str] = []
        found = self._walk(self._root, path.split("/"), 0, method, values)
        if found is None:
            return None
        route, names = found
        return route, dict(zip(names, values))

    def _walk(self, node: dict, segments: list[str], i: int, method: str, values: list[str]):
        if i == len(segments):
            return node.get(_END, {}).get(method)
        segment = segments[i]
        child = node.get(segment)
        if child is not None:
            found = self._walk(child, segments, i + 1, method, values)
            if found is not None:
                return found
        child = node.get(_ANY)
        if child is not None and segment:
            values.append(segment)
            found = self._walk(child, segments, i + 1, method, values)
            if found is not None:
                return found
            values.pop()
        return None


# a path whose first segment is one of these is an API call (or a /_sim control); any other is
# OBS, where it names a bucket (bucket names are 3 to 63 characters, so none is "v1")
API_ROOTS = frozenset({"v1", "v2", "v3", "v3.0", "_sim"})


class Dispatcher:
    """WSGI: `api(rows, path_params, request, path) -> Response` for the operations, keyed by
    (method, catalog path), with the request's decoded path; `obs` for OBS paths; `fallback`
    (Flask's own WSGI app) for the rest."""

    def __init__(self, operations: dict[tuple[str, str], list],
                 api: Callable[[list, dict, ApiRequest, str], Response], fallback, obs=None):
        self._routes = Routes(operations)
        self._operations = operations
        self._api = api
        self._fallback = fallback
        self._obs = obs

    def __call__(self, environ, start_response):
        # PATH_INFO holds the path's bytes as latin-1 (PEP 3333); the catalog's paths are text
        path = (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        if self._obs is not None and path.lstrip("/").split("/", 1)[0] not in API_ROOTS:
            return self._obs(environ, start_response)
        matched = self._routes.match(path, environ["REQUEST_METHOD"])
        if matched is None:  # not an operation's path, or not its method
            return self._fallback(environ, start_response)
        route, params = matched
        response = self._api(self._operations[route], params, ApiRequest(environ),
                             "/" + path.lstrip("/"))
        if getattr(response, "dropped", False):
            raise ClientDisconnected  # waitress closes the connection without an answer
        return response(environ, start_response)
