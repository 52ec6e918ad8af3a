"""The walk's second half: one call, past HTTP and identity, through the checks, its handler and
its trace. The HTTP front (simulator/app.py) and the generator (simulator/generate/engine.py)
both enter here with a `Call`.

    the row the body picks -> fault -> body error -> scope -> role -> handler -> trace

Every trace is built from `trace_input()`, whoever records it: a call (`perform`), the service
on its own (`Simulator.record_system`) or an OBS request a data tracker watches
(`simulator/obs/datatraces.py`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from simulator import catalog, faults, registry
from simulator.context import Context
from simulator.cts.record import TraceInput, user_info
from simulator.errors import DOMAIN_REFUSED, ApiError, NotApplied
from simulator.identity.auth import Caller

log = logging.getLogger("modelarts_sim")

UNNAMED_OPERATION = "the request body does not say which operation it is"


@dataclass(slots=True)
class Call:
    """One call past HTTP and identity: what the front read off the request (or what the
    generator, which calls in process, says its actor sent)."""
    caller: Caller | None
    method: str
    path: str  # as the client sent it (fault rules match it)
    query: object  # a MultiDict of the query string, or a dict
    body: object  # the parsed JSON body, or None
    headers: dict  # lower-case names
    arrival_ms: int
    request_id: str
    source_ip: str
    # how the caller addressed the server: the URL, or a function that works it out (the walk
    # leaves werkzeug's reading of the Host header to the few answers that show it)
    origin: str | Callable[[], str] = "http://localhost"
    trace_type: str = "ApiCall"  # ConsoleAction: made through the console (a session's key)

    @property
    def host_url(self) -> str:
        """`scheme://host[:port]`, no trailing slash."""
        origin = self.origin
        return origin if isinstance(origin, str) else origin()


def perform(sim, rows: list[catalog.Operation], path_params: dict, call: Call,
            body_error: str | None = None) -> registry.Reply:
    """Scope and role checks, the handler, and the call's trace (committed before this returns).

    `rows` share one method and path; the body picks among them."""
    op = rows[-1]
    if body_error is None:
        for row in rows:  # a loop, not next() over a generator: one fewer object a call
            if row.matches_body(call.body):
                op = row
                break
        else:
            body_error = UNNAMED_OPERATION

    caller = call.caller
    project_id = path_params.pop("project_id", None)
    ctx = Context(sim, op, call, path_params)
    trace_project = trace_project_of(sim, caller, project_id)
    fault = _fault(sim, op, call, project_id)
    if fault is not None and fault.drop:
        return registry.Reply(0, None, audited=False, dropped=True)
    try:
        if fault is not None and fault.status is not None:
            raise fault.error(op)
        if body_error is not None:
            raise ApiError(400, op.dialect.bad_body, body_error)
        ctx.project = check_scope(sim, op, caller, project_id, path_params)
        check_role(op, caller)
    except ApiError as err:  # refused before the handler: nothing changed
        reply, error_code = _refusal(op, err, call)
        _trace(sim, op, call, reply, error_code, trace_project)
        return reply
    if op.read_only:
        with sim.lock:
            reply, error_code = _handle(sim, op, ctx, call, fault)
        _trace(sim, op, call, reply, error_code, trace_project)
        return reply
    try:
        with sim.change():  # the change and its trace: one commit, or neither
            reply, error_code = _handle(sim, op, ctx, call, fault)
            try:
                _trace(sim, op, call, reply, error_code, trace_project)
            except Exception as exc:
                raise NotApplied(str(exc)) from exc
    except NotApplied:  # undone (a bug in a handler is undone too, and is the front's 500)
        log.exception("%s was undone: its trace could not be built or stored",
                      op.operation_id)
        reply, _ = _refusal(op, ApiError(500, "%s.0500" % op.dialect.prefix, NOT_APPLIED), call)
        reply.audited = False
    return reply


NOT_APPLIED = ("The request was not applied: its audit trace could not be stored. Try again "
               "later.")


def _handle(sim, op, ctx: Context, call: Call, fault) -> tuple[registry.Reply, str | None]:
    """The handler's reply (an ApiError it raised, as its family answers it), and its error
    code (lock held)."""
    try:
        reply = registry.HANDLERS[op.operation_id](ctx)
        if fault is not None and fault.fail_later is not None and reply.status < 400:
            faults.fail_later(sim, op, reply, fault.fail_later)
    except ApiError as err:
        return _refusal(op, err, call)
    return reply, None


def _refusal(op, err: ApiError, call: Call) -> tuple[registry.Reply, str]:
    return registry.Reply(err.status, op.dialect.body(err, call.request_id), err.resource_id,
                          err.resource_name), err.code


def _trace(sim, op, call: Call, reply: registry.Reply, error_code: str | None,
           trace_project) -> None:
    """The call's traces (one per resource it touched), when its operation is audited."""
    if not (op.traced and reply.audited and sim.settings.tracing and trace_project is not None):
        return
    caller = call.caller
    request_body = call.body if call.body is not None else (dict(call.query.items()) or None)
    touched = reply.resources or [(reply.resource_id, reply.resource_name)]
    for resource_id, resource_name in touched:
        sim.record(trace_input(
            sim, op, trace_project, time_ms=call.arrival_ms, status=reply.status,
            request_body=request_body, response_body=reply.body, resource_id=resource_id,
            resource_name=resource_name, request_id=call.request_id,
            source_ip=call.source_ip, user_agent=call.headers.get("user-agent", ""),
            user=_user(caller, call.trace_type), trace_type=call.trace_type,
            error_code=error_code))


# -- the checks -----------------------------------------------------------------------------------

_NO_FAULTS = faults.BYPASS_HEADER.lower()


def _fault(sim, op, call: Call, project_id: str | None):
    """The injected fault this call meets, if any, after its latency was served."""
    if not sim.faults or call.headers.get(_NO_FAULTS):
        return None
    rule = sim.faults.for_call(op, call.method, call.path, project_id,
                               call.caller.user.name if call.caller else None)
    if rule is not None and rule.latency_ms:
        time.sleep(rule.latency_ms / 1000.0)  # real time: what a client's timeout sees
    return rule


def trace_project_of(sim, caller: Caller | None, path_project_id: str | None):
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


def check_scope(sim, op, caller: Caller | None, project_id, params):
    """The project the path names, when it is the caller's (and the token's); else the
    family's refusal. Calls without a project in the path may name the caller's domain."""
    if project_id is None:
        domain_id = params.pop("domain_id", None)
        if domain_id is not None and caller and caller.user.domain.id != domain_id:
            raise ApiError(403, *DOMAIN_REFUSED)
        return None
    project = sim.directory.project(project_id)
    mismatch = (project is None or caller is None
                or project.domain.id != caller.user.domain.id
                or (caller.project_id and caller.project_id != project_id))
    if mismatch:
        raise ApiError(403, *op.dialect.scope_refused)
    return project


def check_role(op, caller: Caller | None):
    """A read-only user may not write, in the families whose dialect says how they refuse
    (every family with a write some role may not make); rows any role may call are exempt."""
    refused = op.dialect.read_only_refused
    if op.read_only or op.any_role or caller is None or refused is None or caller.user.can_write:
        return
    code, message = refused
    raise ApiError(403, code, message % {"operation": op.operation_id, "user": caller.user.name})


# -- the trace --------------------------------------------------------------------------------

def _user(caller: Caller | None, trace_type: str) -> dict | None:
    """The trace's user object for the caller (a new one each trace: records own theirs)."""
    if caller is None:
        return None
    return user_info(caller.user, caller.user.domain, caller.access_key_id,
                     temporary=caller.temporary, session_created_ms=caller.session_created_ms,
                     console=trace_type == "ConsoleAction")


def trace_input(sim, op: catalog.Operation, project, *, time_ms: int, status: int,
                request_body, response_body, resource_id, resource_name, request_id: str,
                source_ip: str, user_agent: str, user: dict | None, trace_type: str,
                trace_id: str | None = None, **more) -> TraceInput:
    """The input of one trace of `op` kept in `project`: what the catalog row, the settings
    and the clock say, and what the caller gives (a trace_id drawn already, and in `more`
    any other TraceInput field: rating, error_code, tracker_name, event_type)."""
    settings = sim.settings
    return TraceInput(
        trace_id=trace_id or sim.ids.uuid(),
        trace_name=sim.trace_names[op.operation_id],
        resource_type=op.resource_type,
        operation_id=op.operation_id,
        api_version=op.api_version,
        read_only=op.read_only,
        service_type=op.service_type,
        project_id=project.id,
        domain_id=project.domain.id,
        time_ms=time_ms,
        record_time_ms=sim.clock.now_ms(),
        status=status,
        request_body=request_body,
        response_body=response_body,
        resource_id=resource_id,
        resource_name=resource_name,
        request_id=request_id,
        source_ip=source_ip,
        user_agent=user_agent,
        user=user,
        trace_type=trace_type,
        warning_min_status=settings.warning_min_status,
        incident_min_status=settings.incident_min_status,
        secrets=sim.secrets,
        **more)
