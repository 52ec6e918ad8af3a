"""create_app(settings) -> the WSGI app, and the HTTP half of the walk every API request takes.

raw request -> identity -> body -> simulator.pipeline.perform (checks, handler, trace) -> response
"""

from __future__ import annotations

import logging
from functools import partial

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from simulator import catalog, errors, registry
from simulator.admin import guard
from simulator.admin.replies import error_reply
from simulator.core import SIMULATOR_KEY, Simulator, simulator_of
from simulator.dispatch import (MAX_BODY_BYTES, ApiRequest, Dispatcher, environ_headers,
                                host_url, raw_target, source_ip)
from simulator.errors import ApiError
from simulator.identity.auth import AuthError, Caller, RawRequest
from simulator.obs.gateway import ObsGateway
from simulator.pipeline import Call, perform
from simulator.settings import Settings

log = logging.getLogger("modelarts_sim")

__all__ = ["create_app", "simulator_of"]


def create_app(settings: Settings | None = None, sim: Simulator | None = None) -> Flask:
    sim = sim or Simulator(settings)
    registry.load_all()
    app = Flask("modelarts_sim")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[SIMULATOR_KEY] = sim

    from simulator.admin import faults as fault_routes, imports, routes
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(imports.blueprint)
    from simulator.admin import state
    app.register_blueprint(state.blueprint)
    app.register_blueprint(fault_routes.blueprint)
    app.before_request(lambda: _guard(sim))
    app.register_error_handler(HTTPException, lambda exc: http_error(sim, exc))
    app.register_error_handler(Exception, lambda exc: unexpected_error(sim))

    operations = {route: rows for route, rows in catalog.routes().items()
                  if any(op.operation_id in registry.HANDLERS for op in rows)}
    app.wsgi_app = Dispatcher(operations, lambda *matched: answer(sim, *matched),
                              fallback=app.wsgi_app, obs=ObsGateway(sim))
    return app


def _guard(sim: Simulator):
    """The /_sim controls answer only this machine (simulator/admin/guard.py)."""
    if not request.path.startswith("/_sim"):
        return None
    why = guard.refusal(request.headers.get("Host"), request.headers.get("Origin"),
                        request.scheme, sim.settings)
    if why:
        return error_reply(why, 403)
    why = guard.lacks_token(request.headers.get(guard.TOKEN_HEADER), sim.settings)
    if why:
        return error_reply(why, 401)
    why = guard.unfit_body(request.method, request.path, request.mimetype)
    return error_reply(why, 415) if why else None


def answer(sim: Simulator, rows: list[catalog.Operation], path_params: dict, req: ApiRequest,
           path: str) -> Response:
    """The walk, with what Flask's error handlers would do for the dispatcher's fast path."""
    try:
        return walk(sim, rows, path_params, req, path)
    except HTTPException as exc:  # a body over the limit
        return http_error(sim, exc)
    except Exception:
        return unexpected_error(sim)


def http_error(sim: Simulator, exc: HTTPException) -> Response:
    status = exc.code or 500
    if status in (404, 405):
        code, message = errors.APIG_NOT_FOUND
        status = 404
    elif status == 413:
        code, message = errors.APIG_TOO_LARGE
    else:
        code, message = "APIGW.0%d" % status, exc.name
    return _json_response(status, errors.APIG.body(
        ApiError(status, code, message), sim.ids.request_id()), None)


def unexpected_error(sim: Simulator) -> Response:
    """Called while the exception is being handled: it goes to the log, not to the caller."""
    log.exception("unexpected error")
    code, message = errors.APIG_INTERNAL
    return _json_response(500, errors.APIG.body(
        ApiError(500, code, message), sim.ids.request_id()), None)


# -- the walk's HTTP half --------------------------------------------------------------------

def walk(sim: Simulator, rows: list[catalog.Operation], path_params: dict, req: ApiRequest,
         path: str) -> Response:
    """A request the dispatcher matched to catalog rows (`path`: its decoded path): identity,
    the body, then `perform`."""
    sim.settle()  # what happened on its own before this request is recorded first
    arrival = sim.clock.now_ms()
    request_id = sim.ids.request_id()
    environ = req.environ
    raw_path, raw_query = raw_target(environ)
    raw = RawRequest(req.method, raw_path, raw_query, environ_headers(environ),
                     req.get_data(cache=True))

    caller: Caller | None = None
    presented = "x-auth-token" in raw.headers or "authorization" in raw.headers
    if rows[0].auth == "required" or (rows[0].auth == "optional" and presented):
        try:
            caller = sim.auth.authenticate(raw)
        except AuthError as exc:
            return _json_response(401, errors.APIG.body(
                ApiError(401, errors.APIG_AUTH, str(exc)), request_id), request_id)

    body, body_error = _parse_body(raw.body, sim.settings.max_body_depth)
    reply = perform(sim, rows, path_params, Call(
        caller, req.method, path, req.args, body, raw.headers, arrival, request_id,
        source_ip(environ, raw.headers, sim.settings.trust_forwarded_for),
        partial(host_url, environ)), body_error)
    if reply.dropped:
        return DROPPED
    return _json_response(reply.status, reply.body, request_id, reply.headers)


class Dropped(Response):
    """What the walk returns for a call an injected fault drops: the dispatcher closes the
    connection instead of answering."""
    dropped = True


DROPPED = Dropped(b"")


def _parse_body(raw: bytes, max_depth: int):
    """(the parsed body, None), or (None, why it is refused). A body nested deeper than
    max_depth is refused as an unreadable one is: the handler never sees it, and its trace
    keeps no request (it could not be encoded)."""
    if not raw or not raw.strip():
        return None, None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, "the request body is not valid JSON: %s" % exc
    # a body with few brackets cannot be deep: counting them is C-speed, walking is not
    if raw.count(b"[") + raw.count(b"{") > max_depth and json_depth(body) > max_depth:
        return None, "the request body is nested more than %d levels deep" % max_depth
    return body, None


def json_depth(value) -> int:
    """How many objects and arrays deep a parsed JSON value goes (a scalar: 0)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        todo.extend((item, depth + 1) for item in value)
    return deepest


def _json_response(status: int, body, request_id: str | None, headers: dict | None = None):
    if body is None:
        resp = Response(b"", status=status)
    else:
        resp = Response(orjson.dumps(body), status=status,
                        content_type="application/json;charset=UTF-8")
    if request_id:
        resp.headers["X-Request-Id"] = request_id
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
