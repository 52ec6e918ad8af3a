"""One CTS trace record, built from the call, its answer, the caller and the clock.

This is the only place a trace is assembled; the live server and the generator both call
``build``. The record holds the API-form fields and the file-form ones (tracker_name,
project_id, domain_id, event_type, user_agent): ListTraces serves them all, as clients ignore
keys they do not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

NORMAL, WARNING, INCIDENT = "normal", "warning", "incident"
RATINGS = (NORMAL, WARNING, INCIDENT)  # a trace_rating, by rising severity
MASK = "******"
_SECRET_KEYS = ("password", "secret", "token", "adminpass", "private_key", "passwd")
_SECRET_EXACT = {"sk", "secret_key", "securitytoken", "security_token", "credential_secret"}
MAX_VALUE_CHARS = 4096  # longer string values (sample bytes in base64) are elided
# a key that mask() could hide, anywhere in a lower-cased serialised body: only then is the body
# walked (seven substring searches cost a quarter of one case-blind regular expression)
_MAYBE_SECRET = (b'"sk"', b"password", b"secret", b"token", b"adminpass", b"private_key",
                 b"passwd")


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 3 µs more a trace
class TraceInput:
    trace_id: str
    trace_name: str
    resource_type: str
    operation_id: str
    api_version: str
    read_only: bool
    service_type: str
    project_id: str
    domain_id: str
    time_ms: int
    record_time_ms: int
    status: int
    request_body: object  # parsed JSON (or a dict of query parameters), None when empty
    response_body: object  # parsed JSON, None when empty
    resource_id: str | None
    resource_name: str | None
    request_id: str
    source_ip: str
    user_agent: str
    user: dict | None  # from user_info()
    trace_type: str = "ApiCall"
    rating: str | None = None  # None: from the status, by the thresholds below
    error_code: str | None = None
    warning_min_status: int = 400
    incident_min_status: int = 500
    enterprise_project_id: str = "0"
    tracker_name: str = "system"
    event_type: str = "system"
    extra: dict = field(default_factory=dict)


def rating_for(status: int, warning_min: int = 400, incident_min: int = 500) -> str:
    if status >= incident_min:
        return INCIDENT
    if status >= warning_min:
        return WARNING
    return NORMAL


def user_info(user, domain, access_key_id: str | None, *, temporary: bool = False,
              session_created_ms: int | None = None, console: bool = False) -> dict:
    """The trace's `user` object for an IAM user (cts-and-auth.md 1.2)."""
    info = {
        "id": user.id,
        "name": user.name,
        "user_name": user.name,
        "type": "User",
        "account_id": domain.id,
        "domain": {"id": domain.id, "name": domain.name},
        "access_key_id": access_key_id or "",
        "principal_id": user.id,
        "principal_urn": "iam::%s:user:%s" % (domain.id, user.name),
        "principal_is_root_user": "true" if user.root else "false",
    }
    if console:
        info["invoked_by"] = ["service.console"]
    if temporary or console:
        info["session_context"] = {"attributes": {
            "created_at": str(session_created_ms or 0), "mfa_authenticated": "false"}}
    return info


def mask(value):
    """A copy of a JSON value with secrets masked and huge strings elided."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = str(k).lower()
            if key in _SECRET_EXACT or any(s in key for s in _SECRET_KEYS):
                out[k] = MASK if v not in (None, "") else v
            else:
                out[k] = mask(v)
        return out
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return "...(%d characters elided)" % len(value)
    return value


def _as_text(body) -> str:
    if body is None or body == "" or body == {}:
        return ""
    raw = orjson.dumps(body)
    # most bodies hold no secret and no huge value: their text is final as it is
    if len(raw) <= MAX_VALUE_CHARS:
        lowered = raw.lower()
        for needle in _MAYBE_SECRET:  # a loop, not any(): no generator to set up
            if needle in lowered:
                break
        else:
            return raw.decode()
    return orjson.dumps(mask(body)).decode()


def build(t: TraceInput) -> dict:
    record = {
        "trace_id": t.trace_id,
        "trace_name": t.trace_name,
        "trace_rating": t.rating or rating_for(t.status, t.warning_min_status,
                                                t.incident_min_status),
        "trace_type": t.trace_type,
        "service_type": t.service_type,
        "resource_type": t.resource_type,
        "resource_id": t.resource_id or "",
        "resource_name": t.resource_name or "",
        "time": t.time_ms,
        "record_time": max(t.record_time_ms, t.time_ms),
        "request": _as_text(t.request_body),
        "response": _as_text(t.response_body),
        "code": str(t.status),
        "api_version": t.api_version,
        "message": None,
        "source_ip": t.source_ip if t.trace_type != "SystemAction" else "",
        "request_id": t.request_id,
        "location_info": t.error_code,
        "endpoint": None,
        "resource_url": None,
        "user": t.user,
        "enterprise_project_id": t.enterprise_project_id,
        "read_only": t.read_only,
        "operation_id": t.operation_id,
        "tracker_name": t.tracker_name,
        "project_id": t.project_id,
        "domain_id": t.domain_id,
        "event_type": t.event_type,
        "user_agent": t.user_agent,
    }
    record.update(t.extra)
    return record
