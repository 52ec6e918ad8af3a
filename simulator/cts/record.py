"""One CTS trace record, built from the call, its answer, the caller and the clock.

This is the only place a trace is assembled; the live server and the generator both call
``build``. The record holds the API-form fields and the file-form ones (tracker_name,
project_id, domain_id, event_type, user_agent): ListTraces serves them all, as clients ignore
keys they do not model.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import orjson

NORMAL, WARNING, INCIDENT = "normal", "warning", "incident"
RATINGS = (NORMAL, WARNING, INCIDENT)  # a trace_rating, by rising severity
MASK = "********"  # what CTS's example traces show for a secret
_SECRET_KEYS = ("password", "secret", "adminpass", "private_key", "passwd")
_SECRET_EXACT = {"sk", "secret_key", "securitytoken", "security_token", "credential_secret",
                 "authorization", "cookie", "set-cookie"}
# a key made of words (OBS_SK, dbPass, ak_sk, Credential, X-Auth-Token) one of which names a
# secret, or that reads as one run (API_KEY, private-key, signingKey)
_SECRET_WORDS = {"password", "passwd", "pwd", "pass", "secret", "token", "sk", "credential",
                 "credentials", "apikey", "privatekey"}
_SECRET_RUNS = ("apikey", "privatekey", "accesssecret", "authkey", "signingkey", "masterkey")
# a last word that makes the key describe a secret rather than hold one (dew_secret_name,
# token_count, pass_rate, credential_type, password_length)
_DESCRIBING = {"name", "names", "id", "ids", "type", "count", "rate", "length", "size", "num",
               "number", "mode", "enabled", "expires", "expire", "ttl", "policy", "hint"}
_WORDS = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
MAX_VALUE_CHARS = 4096  # longer string values (sample bytes in base64) are elided
# what a key mask() could hide shows, anywhere in a lower-cased serialised body: only then is the
# body walked. One regular expression of plain words over the lower-cased bytes: it skips ahead
# to their first letters, as fast as seven substring searches on a large body and faster on a
# small one. A {"name": "DB_PASS", "value": ...} pair shows its name, which holds one of these as
# any secret's name does
_MAYBE_SECRET = re.compile(
    rb'"sk|sk"|_sk|-sk|\.sk|sk\.|pass|secret|token|private|pwd|credential|api[_-]?key|'
    rb'auth[_-]?key|signing[_-]?key|master[_-]?key|authorization|cookie')


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
    # the secrets the simulator knows, hidden wherever they stand (identity/secrets.py)
    secrets: object = None


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


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.split(name) if w]


@functools.lru_cache(maxsize=4096)  # bodies repeat their keys: each is judged once
def _secret_key(key: str) -> bool:
    """A key whose whole value is a secret (password, secret_key, Authorization, ...), unless
    its last word says it only describes one (dew_secret_name)."""
    lowered = key.lower()
    if lowered in _SECRET_EXACT:
        return True
    words = _words(key)
    if not words or words[-1] in _DESCRIBING:
        return False
    return any(s in lowered for s in _SECRET_KEYS) or "token" in words


@functools.lru_cache(maxsize=4096)
def secret_name(name) -> bool:
    """Whether a key (or the name of a name/value pair) names a secret: as a whole, or by one
    of its words (OBS_SK, dbPass, ak_sk, Credential, X-Auth-Token) or its run of letters
    (API_KEY); not when its last word only describes one (token_count, pass_rate)."""
    name = str(name)
    if _secret_key(name):
        return True
    words = _words(name)
    if not words or words[-1] in _DESCRIBING:
        return False
    run = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(r in run for r in _SECRET_RUNS)


def mask(value):
    """A copy of a JSON value with secrets masked and huge strings elided.

    The value of a key that is a secret's name is masked whole; under a key that only has a
    secret's word in it (credential, OBS_SK), every plain value is, while objects inside keep
    what their own keys say (a credential's access key id stays); and so is the value of a
    {"name"|"key"|"label": <a secret's name>, "value": ...} pair (v1 training parameters are
    label/value)."""
    if isinstance(value, dict):
        named = value.get("name", value.get("key", value.get("label")))
        pair = "value" in value and isinstance(named, str) and secret_name(named)
        out = {}
        for k, v in value.items():
            key = str(k)
            if _secret_key(key) or (pair and k == "value"):
                out[k] = MASK if v not in (None, "") else v
            elif secret_name(key):
                out[k] = _mask_plain(v)
            else:
                out[k] = mask(v)
        return out
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return "...(%d characters elided)" % len(value)
    return value


def _mask_plain(value):
    if isinstance(value, dict):
        return mask(value)
    if isinstance(value, list):
        return [_mask_plain(v) for v in value]
    return MASK if value not in (None, "") else value


# the fields of a record a caller's words reach: a resource is often named after its input
_CALLER_WRITTEN = ("request", "response", "resource_id", "resource_name", "user_agent")


def _hide_known(record: dict, secrets) -> None:
    """Every secret the simulator knows, masked wherever it stands in what the caller wrote:
    one look over all of it, and field by field only when something is there."""
    domain = record["domain_id"]
    if secrets.found_in("\n".join([record[k] for k in _CALLER_WRITTEN]), domain):
        for k in _CALLER_WRITTEN:
            record[k] = secrets.hide(record[k], domain)


def _as_text(body) -> str:
    if body is None or body == "" or body == {}:
        return ""
    raw = orjson.dumps(body)
    # most bodies hold no secret and no huge value: their text is final as it is
    if len(raw) <= MAX_VALUE_CHARS and _MAYBE_SECRET.search(raw.lower()) is None \
            and b"Sk" not in raw:  # obsSk: a word lower-casing hides
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
    if t.secrets is not None:
        _hide_known(record, t.secrets)
    record.update(t.extra)
    return record
