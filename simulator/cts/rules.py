"""The rules a CTS trace record keeps: the record schema (cts-and-auth.md section 1), the user
object, the rating against the status, and the operation catalog (after trace-name overrides).

check_record() is pure: `modelarts-sim validate` (simulator/validate_command.py) runs it over
files, POST /_sim/traces over the records it is given. docs/validate.md says which rules come
from the reference and which are the simulator's.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

import orjson

from simulator import catalog
from simulator.cts.record import NORMAL, RATINGS

MANAGEMENT_TYPES = ("ApiCall", "ConsoleAction", "SystemAction")
DATA_TYPES = ("ObsSDK", "ObsAPI")
CALL_TYPES = frozenset({"ApiCall", "ConsoleAction", *DATA_TYPES})  # a caller with an address
USER_TYPES = ("User", "AssumedAgency", "ExternalUser")
CONSOLE = "service.console"

STRING, INTEGER, BOOLEAN = "string", "integer", "boolean"
# field -> (JSON type, required). `code`, `user` and `source_ip` have rules of their own.
SCHEMA: dict[str, tuple[str, bool]] = {
    "trace_id": (STRING, True),
    "trace_name": (STRING, True),
    "trace_rating": (STRING, True),
    "trace_type": (STRING, True),
    "service_type": (STRING, True),
    "resource_type": (STRING, True),
    "resource_id": (STRING, False),
    "resource_name": (STRING, False),
    "time": (INTEGER, True),
    "record_time": (INTEGER, True),
    "request": (STRING, False),
    "response": (STRING, False),
    "api_version": (STRING, False),
    "message": (STRING, False),
    "source_ip": (STRING, False),
    "request_id": (STRING, False),
    "location_info": (STRING, False),
    "endpoint": (STRING, False),
    "resource_url": (STRING, False),
    "enterprise_project_id": (STRING, False),
    "resource_account_id": (STRING, False),
    "read_only": (BOOLEAN, True),
    "operation_id": (STRING, False),
    "tracker_name": (STRING, False),
    "project_id": (STRING, False),
    "domain_id": (STRING, False),
    "event_type": (STRING, False),
    "user_agent": (STRING, False),
    "trace_status": (STRING, False),
    "content_length": (INTEGER, False),
    "total_time": (INTEGER, False),
}

UUID_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_CODE = re.compile(r"[0-9]{3}")
_DIGITS = re.compile(r"[0-9]+")
_MS_MIN, _MS_MAX = 10**12, 10**13  # 13-digit milliseconds


# -- the catalog's rules --------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """What the catalog (after trace-name overrides) and the rating thresholds allow."""
    names: dict  # operation id -> the trace name it records
    by_service: dict  # service type -> frozenset of the trace names it records
    rows: dict  # (service type, trace name) -> the operations recording it
    warning_min_status: int = 400
    incident_min_status: int = 500


def rules_for(trace_names: dict | None = None, warning_min_status: int = 400,
              incident_min_status: int = 500) -> Rules:
    """Raises ValueError for an override the catalog rejects (catalog.trace_names)."""
    return _rules(tuple(sorted((trace_names or {}).items())), int(warning_min_status),
                  int(incident_min_status))


@functools.lru_cache(maxsize=16)
def _rules(overrides: tuple, warning_min: int, incident_min: int) -> Rules:
    names = catalog.trace_names(dict(overrides))
    by_service: dict[str, set] = {op.service_type: set() for op in catalog.OPERATIONS}
    rows: dict[tuple[str, str], list] = {}
    for op_id, name in names.items():
        op = catalog.BY_ID[op_id]
        by_service[op.service_type].add(name)
        rows.setdefault((op.service_type, name), []).append(op)
    return Rules(names, {k: frozenset(v) for k, v in by_service.items()},
                 {k: tuple(v) for k, v in rows.items()}, warning_min, incident_min)


# -- one record ---------------------------------------------------------------------------------

def check_record(record, *, file_form: bool = False, trace_names: dict | None = None,
                 warning_min_status: int = 400, incident_min_status: int = 500,
                 rules: Rules | None = None) -> list[tuple[str, str]]:
    """Every violation of one record, as (field, message). file_form: the record comes from a
    trace file, where `code` may be a number and `user` JSON text. Pure: no state is kept, so
    uniqueness of trace_id is the caller's (validate_command.validate_paths checks it across a
    run)."""
    if rules is None:
        rules = rules_for(trace_names, warning_min_status, incident_min_status)
    if not isinstance(record, dict):
        return [("record", "a trace record is a JSON object, not %s" % json_type(record))]
    return _RecordCheck(record, rules, file_form).run()


class _RecordCheck:
    def __init__(self, record: dict, rules: Rules, file_form: bool):
        self.record = record
        self.rules = rules
        self.file_form = file_form
        self.found: list[tuple[str, str]] = []
        self.good: dict = {}  # field -> its value, when present and of its type

    def fail(self, name: str, message: str) -> None:
        self.found.append((name, message))

    def run(self) -> list[tuple[str, str]]:
        self.types()
        self.identity()
        self.kind()
        self.times()
        status = self.code()
        for name in ("request", "response"):
            self.body(name)
        user = self.user()
        self.source_ip()
        self.ids(user)
        self.rating(status)
        self.catalog()
        return self.found

    def types(self) -> None:
        for name, (kind, required) in SCHEMA.items():
            if name not in self.record:
                if required:
                    self.fail(name, "missing")
                continue
            value = self.record[name]
            if value is None and not required:
                continue
            if json_type(value) != kind:
                self.fail(name, "must be %s %s, not %s" % (article(kind), kind, json_type(value)))
            else:
                self.good[name] = value

    def identity(self) -> None:
        trace_id, name = self.good.get("trace_id"), self.good.get("trace_name")
        if trace_id is not None and not UUID_PATTERN.fullmatch(trace_id):
            self.fail("trace_id", "not a UUID: %s" % show(trace_id))
        if name is not None and not catalog.TRACE_NAME.fullmatch(name):
            self.fail("trace_name", "must be 1-64 of [0-9a-zA-Z._-] starting with a letter, "
                      "not %s" % show(name))
        rating = self.good.get("trace_rating")
        if rating is not None and rating not in RATINGS:
            self.fail("trace_rating", "must be one of %s, not %s" % (", ".join(RATINGS),
                                                                     show(rating)))

    def kind(self) -> None:
        """trace_type against event_type (management or data), and the tracker's name."""
        event, trace_type = self.good.get("event_type"), self.good.get("trace_type")
        tracker = self.good.get("tracker_name")
        if event is not None and event not in ("system", "data"):
            self.fail("event_type", "must be system or data, not %s" % show(event))
            event = None
        if trace_type is not None:
            allowed = {"system": MANAGEMENT_TYPES, "data": DATA_TYPES}.get(
                event, MANAGEMENT_TYPES + DATA_TYPES)
            if trace_type not in allowed:
                what = {"system": " for a management trace", "data": " for a data trace"}
                self.fail("trace_type", "must be one of %s%s, not %s" % (
                    ", ".join(allowed), what.get(event, ""), show(trace_type)))
        if event == "system" and tracker is not None and tracker != "system":
            self.fail("tracker_name", "a management trace's tracker is system, not %s"
                      % show(tracker))
        if event == "data" and tracker is not None and tracker in ("", "system"):
            self.fail("tracker_name", "a data trace names its data tracker, not %s"
                      % show(tracker))

    def times(self) -> None:
        time, recorded = self.good.get("time"), self.good.get("record_time")
        for name, value in (("time", time), ("record_time", recorded)):
            if value is not None and not _MS_MIN <= value < _MS_MAX:
                self.fail(name, "must be milliseconds since the epoch (13 digits), not %d"
                          % value)
        if time is not None and recorded is not None and recorded < time:
            self.fail("record_time", "is before time (%d < %d)" % (recorded, time))

    def code(self) -> int | None:
        """The status the code says, or None."""
        if "code" not in self.record:
            self.fail("code", "missing")
            return None
        code = self.record["code"]
        if isinstance(code, str) and _CODE.fullmatch(code):
            return int(code)
        if self.file_form and json_type(code) == INTEGER and 100 <= code <= 999:
            return code
        if self.file_form:
            self.fail("code", "must be a 3-digit status, as a string or a number, not %s"
                      % show(code))
        elif json_type(code) == INTEGER:
            self.fail("code", "must be a string (a number only in trace files), not %d" % code)
        else:
            self.fail("code", "must be a string of 3 digits, not %s" % show(code))
        return None

    def body(self, name: str) -> None:
        """request/response: any text, but what starts like JSON must be JSON (a body cut or
        printed as a Python repr would not be)."""
        text = self.good.get(name)
        if not text or text.lstrip()[:1] not in ("{", "["):
            return
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.fail(name, "starts like JSON but does not parse: %s" % exc.msg)

    # -- who ------------------------------------------------------------------------------------
    def user(self) -> dict | None:
        trace_type = self.good.get("trace_type")
        value = self.record.get("user")
        if value is None:
            if trace_type in ("ApiCall", "ConsoleAction"):
                self.fail("user", "missing: a %s names its caller" % trace_type
                          if "user" not in self.record else "must be an object, not null")
            return None
        if isinstance(value, str) and self.file_form:
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                self.fail("user", "must be an object or its JSON text, not text that does "
                          "not parse")
                return None
        if not isinstance(value, dict):
            self.fail("user", "must be an object%s, not %s" % (
                " or its JSON text" if self.file_form else "", json_type(value)))
            return None
        _UserCheck(value, self.fail).run(trace_type)
        return value

    def source_ip(self) -> None:
        trace_type = self.good.get("trace_type")
        present = self.record.get("source_ip") is not None
        ip = self.good.get("source_ip")
        if trace_type == "SystemAction":
            if present and self.record["source_ip"] != "":
                self.fail("source_ip", "a SystemAction has no source IP, not %s"
                          % show(self.record["source_ip"]))
        elif trace_type in CALL_TYPES:
            if not present:
                self.fail("source_ip", "missing: a call has the caller's address")
            elif ip is not None and not _is_ip(ip):
                self.fail("source_ip", "not an IPv4 or IPv6 address: %s" % show(ip))

    def ids(self, user: dict | None) -> None:
        for name in ("project_id", "domain_id"):
            value = self.good.get(name)
            if value is not None and not _HEX32.fullmatch(value):
                self.fail(name, "must be 32 lower-case hex digits, not %s" % show(value))
        domain_id = self.good.get("domain_id")
        domain = user.get("domain") if user else None
        user_domain = domain.get("id") if isinstance(domain, dict) else None
        # a data trace is kept in the bucket owner's account, whoever read or wrote the object
        cross_account = self.good.get("event_type") == "data"
        if isinstance(user_domain, str) and domain_id is not None and user_domain != domain_id \
                and not cross_account:
            self.fail("user.domain.id", "is %s but domain_id is %s" % (show(user_domain),
                                                                      show(domain_id)))

    # -- rating ---------------------------------------------------------------------------------
    def rating(self, status: int | None) -> None:
        """A call's rating follows its status: below the lower threshold normal, from it not
        normal (warning or incident: a scenario may mark either). A SystemAction reports a
        result, whatever the status of the call that started it, so any rating goes."""
        rating, trace_type = self.good.get("trace_rating"), self.good.get("trace_type")
        if status is None or rating not in RATINGS or trace_type not in CALL_TYPES:
            return
        threshold = min(self.rules.warning_min_status, self.rules.incident_min_status)
        if status >= threshold and rating == NORMAL:
            self.fail("trace_rating", "a call answered %d is not rated normal (not from %d on)"
                      % (status, threshold))
        elif status < threshold and rating != NORMAL:
            self.fail("trace_rating", "a call answered %d is rated normal (below %d), not %s"
                      % (status, threshold, rating))

    # -- catalog --------------------------------------------------------------------------------
    def catalog(self) -> None:
        service, name = self.good.get("service_type"), self.good.get("trace_name")
        known = self.rules.by_service.get(service)
        if known is None:
            return  # a service the catalog does not know: schema checks only
        if name is not None and name not in known:
            self.fail("trace_name", "%s records no trace named %s (not in the catalog)"
                      % (service, show(name)))
        op_id = self.record.get("operation_id")
        if op_id is None:
            self.rows_named(self.rules.rows.get((service, name), ()))
        elif isinstance(op_id, str):
            self.operation(op_id, service, name if name in known else None)

    def operation(self, op_id: str, service: str, name: str | None) -> None:
        """operation_id names a catalog row recording this trace (name: the record's trace
        name when the catalog knows it; an unknown one is reported once, above)."""
        op = catalog.BY_ID.get(op_id)
        if op is None:
            self.fail("operation_id", "not an operation of the catalog: %s" % show(op_id))
            return
        if not op.traced:
            self.fail("operation_id", "%s is not audited: it records no trace" % op_id)
            return
        if op.service_type != service:
            self.fail("operation_id", "%s is an operation of %s, not of %s"
                      % (op_id, op.service_type, service))
            return
        recorded = self.rules.names[op_id]
        if name is not None and recorded != name:
            self.fail("operation_id", "%s records the trace %s, not %s"
                      % (op_id, recorded, show(name)))
        self.rows_named((op,))

    def rows_named(self, rows) -> None:
        """resource_type and read_only as the catalog rows recording this trace have them."""
        if not rows:
            return
        resource_type, read_only = self.good.get("resource_type"), self.good.get("read_only")
        types = sorted({op.resource_type for op in rows})
        if resource_type is not None and resource_type not in types:
            self.fail("resource_type", "%s has resource type %s, not %s" % (
                _which(rows), " or ".join(types), show(resource_type)))
        modes = {op.read_only for op in rows}
        if read_only is not None and read_only not in modes:
            self.fail("read_only", "%s has read_only %s, not %s" % (
                _which(rows), show(not read_only), show(read_only)))


class _UserCheck:
    """The `user` object (cts-and-auth.md 1.2)."""

    def __init__(self, user: dict, fail):
        self.user = user
        self._fail = fail

    def fail(self, key: str, message: str) -> None:
        self._fail("user." + key, message)

    def string(self, key: str, required: bool = True, nonempty: bool = False) -> str | None:
        if key not in self.user:
            if required:
                self.fail(key, "missing")
            return None
        value = self.user[key]
        if not isinstance(value, str):
            self.fail(key, "must be a string, not %s" % json_type(value))
            return None
        if nonempty and not value:
            self.fail(key, "must not be empty")
        return value

    def run(self, trace_type: str | None) -> None:
        self.string("id", nonempty=True)
        name = self.string("name", nonempty=True)
        user_name = self.string("user_name", required=False)
        domain_id = self.domain()
        account_id = self.string("account_id", required=False)
        if account_id is not None and domain_id is not None and account_id != domain_id:
            self.fail("account_id", "is %s but domain.id is %s" % (show(account_id),
                                                                  show(domain_id)))
        self.string("access_key_id")
        self.string("principal_id", required=False)
        kind = self.string("type")
        if kind is not None and kind not in USER_TYPES:
            self.fail("type", "must be one of %s, not %s" % (", ".join(USER_TYPES), show(kind)))
        self.urn(kind, account_id or domain_id, user_name or name)
        root = self.user.get("principal_is_root_user")
        if "principal_is_root_user" not in self.user:
            self.fail("principal_is_root_user", "missing")
        elif root not in ("true", "false"):
            self.fail("principal_is_root_user", "must be the string \"true\" or \"false\", "
                      "not %s" % show(root))
        self.session(trace_type)

    def domain(self) -> str | None:
        """The account id the domain object gives, when it is well formed."""
        domain = self.user.get("domain")
        if "domain" not in self.user:
            self.fail("domain", "missing")
            return None
        if not isinstance(domain, dict):
            self.fail("domain", "must be an object {id, name}, not %s" % json_type(domain))
            return None
        found = {}
        for key in ("id", "name"):
            if key not in domain:
                self.fail("domain." + key, "missing")
            elif not isinstance(domain[key], str):
                self.fail("domain." + key, "must be a string, not %s" % json_type(domain[key]))
            else:
                found[key] = domain[key]
        return found.get("id")

    def urn(self, kind: str | None, account: str | None, user_name: str | None) -> None:
        urn = self.string("principal_urn")
        if urn is None or account is None:
            return
        if kind == "User" and user_name is not None:
            want = "iam::%s:user:%s" % (account, user_name)
            if urn != want:
                self.fail("principal_urn", "must be %s for this IAM user, not %s"
                          % (show(want), show(urn)))
        elif kind in ("AssumedAgency", "ExternalUser"):
            prefix = "sts::%s:%s:" % (account, "assumed-agency" if kind == "AssumedAgency"
                                      else "external-user")
            if not urn.startswith(prefix):
                self.fail("principal_urn", "must start %s for a %s, not %s"
                          % (show(prefix), kind, show(urn)))

    def session(self, trace_type: str | None) -> None:
        invoked = self.user.get("invoked_by")
        if invoked is not None and not (isinstance(invoked, list)
                                        and all(isinstance(s, str) for s in invoked)):
            self.fail("invoked_by", "must be an array of strings, not %s" % json_type(invoked))
            invoked = None
        context = self.user.get("session_context")
        if context is not None and not isinstance(context, dict):
            self.fail("session_context", "must be an object, not %s" % json_type(context))
        if trace_type != "ConsoleAction":
            return
        if not invoked or CONSOLE not in invoked:
            self.fail("invoked_by", "a ConsoleAction is invoked by [\"%s\"]%s" % (
                CONSOLE, "" if invoked is None else ", not %s" % show(invoked)))
        if context is None:
            self.fail("session_context", "missing: a console session has one")


def _which(rows) -> str:
    return " / ".join(sorted({op.operation_id for op in rows}))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def json_type(value) -> str:
    """The JSON type name of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def show(value, limit: int = 60) -> str:
    """A value for a message: short, on one line."""
    if value is None or isinstance(value, bool):
        return orjson.dumps(value).decode()
    if isinstance(value, str):
        return repr(value[:limit]) + ("..." if len(value) > limit else "")
    if isinstance(value, (dict, list)):
        text = _short_json(value) or json_type(value)
        return text[:limit] + ("..." if len(text) > limit else "")
    return repr(value)[:limit]


def _short_json(value) -> str | None:
    """The JSON text of a small flat array or object, else None."""
    items = value.values() if isinstance(value, dict) else value
    if len(value) > 8 or not all(isinstance(v, (str, int, float, bool)) or v is None
                                 for v in items):
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, a key that is not a string
        return None
