"""The first stop of every request: which application answers it.

A call to an operation of the catalog goes straight to the walk with a plain werkzeug request:
Flask's request context, hooks and error handlers cost about a tenth of a traced call, and the
walk needs none of them. Everything else (the /_sim controls, unknown paths, a method the path
does not take) goes to Flask, whose error handlers answer in API Gateway's words.
"""

from __future__ import annotations

from typing import Callable

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from simulator import catalog

MAX_BODY_BYTES = 32 * 1024 * 1024


class ApiRequest(Request):
    max_content_length = MAX_BODY_BYTES  # reading a longer body raises 413


class Dispatcher:
    """WSGI: `api(rows, path_params, request) -> Response` for the operations, keyed by
    (method, catalog path); `fallback` (Flask's own WSGI app) for the rest."""

    def __init__(self, operations: dict[tuple[str, str], list],
                 api: Callable[[list, dict, ApiRequest], Response], fallback):
        routes = Map([Rule(catalog.flask_rule(path), endpoint=(method, path), methods=[method],
                           strict_slashes=False) for method, path in operations])
        # bound once: binding per request (host, scheme, subdomain) costs more than matching,
        # and these rules look at nothing but the path and the method
        self._routes = routes.bind("modelarts-sim")
        self._operations = operations
        self._api = api
        self._fallback = fallback

    def __call__(self, environ, start_response):
        # PATH_INFO holds the path's bytes as latin-1 (PEP 3333); the rules are text
        path = environ.get("PATH_INFO") or "/"
        try:
            endpoint, params = self._routes.match(path.encode("latin-1").decode("utf-8", "replace"),
                                                  environ["REQUEST_METHOD"])
        except HTTPException:  # not an operation's path, or not its method
            return self._fallback(environ, start_response)
        request = ApiRequest(environ)
        return self._api(self._operations[endpoint], params, request)(environ, start_response)
