"""CTS v3 query API: ListTraces, ListOperations, ListQuotas, ListUserResources,
ListTraceResources (shared/reference/cts-and-auth.md section 2)."""

from __future__ import annotations

import re

from simulator import catalog
from simulator.cts.record import RATINGS
from simulator.cts.store import FILTERS
from simulator.errors import ApiError
from simulator.querystring import query_int
from simulator.registry import Reply, handler

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MAX_LIMIT = 200
DEFAULT_LIMIT = 10
TRACE_TYPES = ("system", "data")
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")  # plain decimal that fits SQLite's 64-bit integers


def _bad(message: str) -> ApiError:
    return ApiError(400, "CTS.0300", "Query failed: " + message)


def _refuse(message: str):
    raise _bad(message)


def _int_param(query, name: str, default=None):
    return query_int(query, name, default, _refuse, digits=_INTEGER,
                     not_integer="{key} must be an integer, not {raw!r}")


@handler("ListTraces")
def list_traces(ctx):
    q = ctx.query
    now = ctx.sim.clock.now_ms()
    trace_type = q.get("trace_type") or "system"
    if trace_type not in TRACE_TYPES:
        raise _bad("trace_type must be system or data, not %r" % trace_type)
    limit = _int_param(q, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad("limit must be between 1 and %d, not %d" % (MAX_LIMIT, limit))
    # the window is exclusive at both ends; the default upper end admits a trace stamped at
    # the current instant, so that a frozen clock still shows the call just made
    to = _int_param(q, "to", now + 1)
    frm = _int_param(q, "from", now - HOUR_MS)
    if frm >= to:
        raise _bad("from (%d) must be earlier than to (%d)" % (frm, to))
    tracker = q.get("tracker_name") or ("system" if trace_type == "system" else None)
    if tracker is None:
        raise _bad("tracker_name is required when trace_type is data")
    rating = q.get("trace_rating")
    if rating is not None and rating not in RATINGS:
        raise _bad("trace_rating must be one of %s, not %r" % (", ".join(RATINGS), rating))

    oldest = now - ctx.sim.settings.trace_retention_days * DAY_MS
    store = ctx.sim.traces
    trace_id = q.get("trace_id")
    if trace_id:
        page = store.query(ctx.project.id, category=trace_type, tracker_name=tracker,
                           after_ms=oldest, before_ms=now + 1 + DAY_MS, limit=limit,
                           trace_id=trace_id)
    else:
        marker = None
        nxt = q.get("next")
        if nxt:
            marker = store.position(ctx.project.id, nxt, trace_type, tracker)
            if marker is None:
                raise _bad("next: no trace %r in this project (it may have expired)" % nxt)
        filters = {name: q[name] for name in FILTERS if q.get(name)}
        page = store.query(ctx.project.id, category=trace_type, tracker_name=tracker,
                           after_ms=max(frm, oldest), before_ms=to, filters=filters,
                           limit=limit, marker=marker)
    return Reply(200, {"traces": page.records,
                       "meta_data": {"count": len(page.records), "marker": page.marker}})


@handler("ListOperations")
def list_operations(ctx):
    service = ctx.query.get("service_type")
    resource = ctx.query.get("resource_type")
    if resource and not service:
        raise ApiError(400, "CTS.0300", "Query failed: resource_type needs service_type")
    services = sorted({op.service_type for op in catalog.OPERATIONS if op.traced})
    out = []
    for svc in services:
        if service and svc != service:
            continue
        for rtype, names in catalog.audited_operations(svc, ctx.sim.trace_names).items():
            if resource and rtype != resource:
                continue
            out.append({"service_type": svc, "resource_type": rtype, "operation_list": names})
    return Reply(200, {"operations": out})


@handler("ListQuotas")
def list_quotas(ctx):
    system, data, notifications = ctx.sim.cts_used(ctx.project.id)
    return Reply(200, {"resources": [
        {"type": "system_tracker", "used": system, "quota": 1},
        {"type": "data_tracker", "used": data, "quota": 100},
        {"type": "smn_notification", "used": notifications, "quota": 100},
    ]})


@handler("ListUserResources")
def list_user_resources(ctx):
    since = ctx.sim.clock.now_ms() - 30 * DAY_MS
    return Reply(200, {"users": [{"name": n} for n in ctx.sim.traces.operators(ctx.project.id,
                                                                                since)]})


@handler("ListTraceResources")
def list_trace_resources(ctx):
    domain = ctx.caller.user.domain
    projects = [p.id for p in ctx.sim.directory.projects_of(domain)]
    kinds = ctx.sim.traces.resource_types(projects)
    return Reply(200, {"resources": [{"service_type": s, "resource": r}
                                     for s, r in kinds.items()]})
