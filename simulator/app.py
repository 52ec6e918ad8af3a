"""create_app(settings) -> the WSGI app, and the walk every API request takes through it.

request -> identity -> project and role checks -> handler -> trace (committed) -> response
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from simulator import catalog, errors, faults, registry
from simulator.context import Context
from simulator.core import Simulator
from simulator.cts.record import TraceInput, user_info
from simulator.dispatch import (MAX_BODY_BYTES, ApiRequest, Dispatcher, environ_headers,
                               raw_target, source_ip)
from simulator.errors import ApiError
from simulator.identity.auth import AuthError, Caller, RawRequest
from simulator.obs.gateway import ObsGateway
from simulator.settings import Settings

log = logging.getLogger("modelarts_sim")

MODELARTS_DIALECTS = ("modelarts", "devenviron", "is_success", "training_v2")
_BAD_BODY = {"modelarts": "ModelArts.0101", "devenviron": "ModelArts.0101",
             "is_success": "ModelArts.0101", "training_v2": "ModelArts.2788",
             "cts": "CTS.0003", "iam": "IAM.0003"}


def create_app(settings: Settings | None = None, sim: Simulator | None = None) -> Flask:
    sim = sim or Simulator(settings)
    registry.load_all()
    app = Flask("modelarts_sim")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["modelarts_sim"] = sim

    from simulator.admin import faults as fault_routes, imports, routes
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(imports.blueprint)
    from simulator.admin import state
    app.register_blueprint(state.blueprint)
    app.register_blueprint(fault_routes.blueprint)
    app.register_error_handler(HTTPException, lambda exc: http_error(sim, exc))
    app.register_error_handler(Exception, lambda exc: unexpected_error(sim))

    operations = {route: rows for route, rows in catalog.routes().items()
                  if any(op.operation_id in registry.HANDLERS for op in rows)}
    app.wsgi_app = Dispatcher(operations, lambda rows, params, req: answer(sim, rows, params, req),
                              fallback=app.wsgi_app, obs=ObsGateway(sim))
    return app


def simulator_of(app: Flask) -> Simulator:
    return app.extensions["modelarts_sim"]


def answer(sim: Simulator, rows: list[catalog.Operation], path_params: dict,
           req: ApiRequest) -> Response:
    """The walk, with what Flask's error handlers would do for the dispatcher's fast path."""
    try:
        return walk(sim, rows, path_params, req)
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
    return _json_response(status, errors.error_body(
        "apig", ApiError(status, code, message), sim.ids.request_id()), None)


def unexpected_error(sim: Simulator) -> Response:
    """Called while the exception is being handled: it goes to the log, not to the caller."""
    log.exception("unexpected error")
    code, message = errors.APIG_INTERNAL
    return _json_response(500, errors.error_body(
        "apig", ApiError(500, code, message), sim.ids.request_id()), None)


# -- the walk --------------------------------------------------------------------------------

def walk(sim: Simulator, rows: list[catalog.Operation], path_params: dict,
         req: Request) -> Response:
    sim.settle()  # what happened on its own before this request is recorded first
    arrival = sim.clock.now_ms()
    request_id = sim.ids.request_id()
    raw = _raw_request(req)

    caller: Caller | None = None
    presented = "x-auth-token" in raw.headers or "authorization" in raw.headers
    if rows[0].auth == "required" or (rows[0].auth == "optional" and presented):
        try:
            caller = sim.auth.authenticate(raw)
        except AuthError as exc:
            return _json_response(401, errors.error_body(
                "apig", ApiError(401, errors.APIG_AUTH, str(exc)), request_id), request_id)

    body, body_error = _parse_body(raw.body)
    reply = perform(sim, rows, path_params, Call(
        caller, req.args, body, raw.headers, arrival, request_id,
        source_ip(req.environ, raw.headers, sim.settings.trust_forwarded_for), req), body_error)
    if reply.dropped:
        return DROPPED
    return _json_response(reply.status, reply.body, request_id, reply.headers)


class Dropped(Response):
    """What the walk returns for a call an injected fault drops: the dispatcher closes the
    connection instead of answering."""
    dropped = True


DROPPED = Dropped(b"")


@dataclass
class Call:
    """One call past HTTP and identity: what the walk has read off the request (or what the
    generator, which calls in process, says its actor sent)."""
    caller: Caller | None
    query: object  # a MultiDict of the query string, or a dict
    body: object  # the parsed JSON body, or None
    headers: dict  # lower-case names
    arrival_ms: int
    request_id: str
    source_ip: str
    request: object = None  # the werkzeug request (None in process)
    trace_type: str = "ApiCall"  # ConsoleAction: made through the console (a session's key)


def perform(sim: Simulator, rows: list[catalog.Operation], path_params: dict, call: Call,
            body_error: str | None = None) -> registry.Reply:
    """Scope and role checks, the handler, and the call's trace (committed before this returns).

    `rows` share one method and path; the body picks among them."""
    op = rows[-1]
    if body_error is None:
        op = next((r for r in rows if r.matches_body(call.body)), None)
        if op is None:
            op = rows[-1]
            body_error = "the request body does not say which operation it is"

    caller = call.caller
    project_id = path_params.pop("project_id", None)
    ctx = Context(sim, op, caller, None, path_params, call.query, call.body, call.headers,
                  call.arrival_ms, call.request_id, call.source_ip, call.request)
    trace_project = _trace_project(sim, caller, project_id)
    fault = _fault(sim, op, call, project_id)
    if fault is not None and fault.drop:
        return registry.Reply(0, None, audited=False, dropped=True)
    try:
        if fault is not None and fault.status is not None:
            raise fault.error(op)
        if body_error is not None:
            raise ApiError(400, _BAD_BODY[op.dialect], body_error)
        ctx.project = _check_scope(sim, op, caller, project_id, path_params)
        _check_role(op, caller)
        with sim.lock:
            reply = registry.HANDLERS[op.operation_id](ctx)
            if fault is not None and fault.fail_later is not None and reply.status < 400:
                faults.fail_later(sim, op, reply, fault.fail_later)
    except ApiError as err:
        reply = registry.Reply(err.status, errors.error_body(op.dialect, err, call.request_id),
                               err.resource_id, err.resource_name)
        error_code = err.code
    else:
        error_code = None

    if op.traced and reply.audited and sim.settings.tracing and trace_project is not None:
        for resource_id, resource_name in reply.resources or [(reply.resource_id,
                                                                reply.resource_name)]:
            _record(sim, ctx, reply, trace_project, error_code, call, resource_id,
                    resource_name)
    return reply


_NO_FAULTS = faults.BYPASS_HEADER.lower()


def _fault(sim, op, call: Call, project_id: str | None):
    """The injected fault this call meets, if any, after its latency was served."""
    if not sim.faults or call.headers.get(_NO_FAULTS):
        return None
    request = call.request
    rule = sim.faults.for_call(op, request.method if request is not None else op.method or "",
                               request.path if request is not None else op.path or "",
                               project_id, call.caller.user.name if call.caller else None)
    if rule is not None and rule.latency_ms:
        time.sleep(rule.latency_ms / 1000.0)  # real time: what a client's timeout sees
    return rule


def _record(sim, ctx: Context, reply, project, error_code, call: Call, resource_id,
            resource_name):
    op, caller = ctx.op, ctx.caller
    query = {k: v for k, v in ctx.query.items()}
    sim.record(TraceInput(
        trace_id=sim.ids.uuid(),
        trace_name=sim.trace_names[op.operation_id],
        resource_type=op.resource_type,
        operation_id=op.operation_id,
        api_version=op.api_version,
        read_only=op.read_only,
        service_type=op.service_type,
        project_id=project.id,
        domain_id=project.domain.id,
        time_ms=ctx.now_ms,
        record_time_ms=sim.clock.now_ms(),
        status=reply.status,
        request_body=ctx.body if ctx.body is not None else (query or None),
        response_body=reply.body,
        resource_id=resource_id,
        resource_name=resource_name,
        request_id=ctx.request_id,
        source_ip=ctx.source_ip,
        user_agent=call.headers.get("user-agent", ""),
        user=user_info(caller.user, caller.user.domain, caller.access_key_id,
                       temporary=caller.temporary,
                       session_created_ms=caller.session_created_ms,
                       console=call.trace_type == "ConsoleAction") if caller else None,
        trace_type=call.trace_type,
        error_code=error_code,
        warning_min_status=sim.settings.warning_min_status,
        incident_min_status=sim.settings.incident_min_status,
    ))


def _raw_request(req: Request) -> RawRequest:
    raw_path, raw_query = raw_target(req.environ)
    return RawRequest(req.method, raw_path, raw_query, environ_headers(req.environ),
                      req.get_data(cache=True))


def _parse_body(raw: bytes):
    if not raw or not raw.strip():
        return None, None
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        return None, "the request body is not valid JSON: %s" % exc


def _trace_project(sim, caller: Caller | None, path_project_id: str | None):
    """Where a call's trace is kept: the path's project when the caller owns it, else the
    caller's own project (a refused cross-account call shows in the caller's audit log)."""
    directory = sim.directory
    if caller is None:
        return directory.project(path_project_id) if path_project_id else None
    domain = caller.user.domain
    for pid in (path_project_id, caller.project_id):
        project = directory.project(pid) if pid else None
        if project is not None and project.domain.id == domain.id:
            return project
    return directory.home_project(domain, sim.settings.region) or next(
        iter(directory.projects_of(domain)), None)


def _check_scope(sim, op, caller: Caller | None, project_id, params):
    modelarts = op.dialect in MODELARTS_DIALECTS
    if project_id is None:
        domain_id = params.pop("domain_id", None)
        if domain_id is not None and caller and caller.user.domain.id != domain_id:
            raise ApiError(403, "CTS.0002", "Authentication failed or no permission: the "
                           "domain id in the URL is not the caller's account")
        return None
    project = sim.directory.project(project_id)
    mismatch = (project is None or caller is None
                or project.domain.id != caller.user.domain.id
                or (caller.project_id and caller.project_id != project_id))
    if mismatch:
        if modelarts:
            raise ApiError(403, "ModelArts.0210", "The project id in the URL does not match "
                           "the project of the credentials")
        raise ApiError(403, "CTS.0002", "Authentication failed or no permission: the project "
                       "id in the URL does not belong to the caller")
    return project


def _check_role(op, caller: Caller | None):
    if op.read_only or caller is None or op.dialect not in MODELARTS_DIALECTS:
        return
    if not caller.user.can_write:
        raise ApiError(403, "ModelArts.0108", "You are not authorized to perform operation "
                       "%s: user %s may only read" % (op.operation_id, caller.user.name))


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
