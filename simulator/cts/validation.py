"""`modelarts-sim validate FILE|DIR ...`: checks CTS trace data against the record schema
(cts-and-auth.md section 1) and the operation catalog.

Inputs, found recursively in directories and taken in sorted order:

- ``*.jsonl``: a record a line (blank lines allowed), read line by line;
- ``*.json``: a JSON array of records or one record object (or a ListTraces answer,
  ``{"traces": [...]}``), read whole; ``*.json.gz``: the same gzipped (the CTS trace file);
- ``*.csv``: the flat form of simulator/cts/csvform.py, read row by row;
- ``labels.jsonl``: the labels of a generated data set, one ``{trace_id, scenario, step, actor,
  is_malicious}`` a line, each naming a trace checked in the same run;
- the other files of a generated data set (COMPANION_FILES) and files of other kinds are skipped.

Every violation is one line ``path:LINE: trace_id: field: message`` (``path:#N`` for the N-th
record of a JSON array, ``path`` alone for the whole file), then a summary. Exit status: 0 valid,
1 a violation, 2 an input that could not be read (it is reported, and the rest is checked).

docs/validate.md says which rules come from the reference and which are the simulator's.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import ipaddress
import os
import re
import sys
import uuid
import zlib
from dataclasses import dataclass, field

import orjson

from simulator import catalog
from simulator.cts import csvform

RATINGS = ("normal", "warning", "incident")
MANAGEMENT_TYPES = ("ApiCall", "ConsoleAction", "SystemAction")
DATA_TYPES = ("ObsSDK", "ObsAPI")
CALL_TYPES = frozenset({"ApiCall", "ConsoleAction", *DATA_TYPES})  # a caller with an address
USER_TYPES = ("User", "AssumedAgency", "ExternalUser")
CONSOLE = "service.console"
LABELS_FILE = "labels.jsonl"
# what a generated data set (modelarts-sim generate --out) holds beside its traces and labels:
# not trace data, so skipped even when named
COMPANION_FILES = frozenset({"scenarios.jsonl", "organisation.json", "summary.json"})
LABEL_KEYS = {"trace_id": "string", "scenario": "string", "step": "string", "actor": "string",
              "is_malicious": "boolean"}
MAX_LINE_BYTES = 16 * 2**20  # a longer line is reported, not read

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

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_CODE = re.compile(r"[0-9]{3}")
_DIGITS = re.compile(r"[0-9]+")
_MS_MIN, _MS_MAX = 10**12, 10**13  # 13-digit milliseconds
_BOM = b"\xef\xbb\xbf"


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
    uniqueness of trace_id is the caller's (validate_paths checks it across a run)."""
    if rules is None:
        rules = rules_for(trace_names, warning_min_status, incident_min_status)
    if not isinstance(record, dict):
        return [("record", "a trace record is a JSON object, not %s" % _kind(record))]
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
            if _kind(value) != kind:
                self.fail(name, "must be %s %s, not %s" % (_article(kind), kind, _kind(value)))
            else:
                self.good[name] = value

    def identity(self) -> None:
        trace_id, name = self.good.get("trace_id"), self.good.get("trace_name")
        if trace_id is not None and not _UUID.fullmatch(trace_id):
            self.fail("trace_id", "not a UUID: %s" % _show(trace_id))
        if name is not None and not catalog.TRACE_NAME.fullmatch(name):
            self.fail("trace_name", "must be 1-64 of [0-9a-zA-Z._-] starting with a letter, "
                      "not %s" % _show(name))
        rating = self.good.get("trace_rating")
        if rating is not None and rating not in RATINGS:
            self.fail("trace_rating", "must be one of %s, not %s" % (", ".join(RATINGS),
                                                                     _show(rating)))

    def kind(self) -> None:
        """trace_type against event_type (management or data), and the tracker's name."""
        event, trace_type = self.good.get("event_type"), self.good.get("trace_type")
        tracker = self.good.get("tracker_name")
        if event is not None and event not in ("system", "data"):
            self.fail("event_type", "must be system or data, not %s" % _show(event))
            event = None
        if trace_type is not None:
            allowed = {"system": MANAGEMENT_TYPES, "data": DATA_TYPES}.get(
                event, MANAGEMENT_TYPES + DATA_TYPES)
            if trace_type not in allowed:
                what = {"system": " for a management trace", "data": " for a data trace"}
                self.fail("trace_type", "must be one of %s%s, not %s" % (
                    ", ".join(allowed), what.get(event, ""), _show(trace_type)))
        if event == "system" and tracker is not None and tracker != "system":
            self.fail("tracker_name", "a management trace's tracker is system, not %s"
                      % _show(tracker))
        if event == "data" and tracker is not None and tracker in ("", "system"):
            self.fail("tracker_name", "a data trace names its data tracker, not %s"
                      % _show(tracker))

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
        if self.file_form and _kind(code) == INTEGER and 100 <= code <= 999:
            return code
        if self.file_form:
            self.fail("code", "must be a 3-digit status, as a string or a number, not %s"
                      % _show(code))
        elif _kind(code) == INTEGER:
            self.fail("code", "must be a string (a number only in trace files), not %d" % code)
        else:
            self.fail("code", "must be a string of 3 digits, not %s" % _show(code))
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
                " or its JSON text" if self.file_form else "", _kind(value)))
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
                          % _show(self.record["source_ip"]))
        elif trace_type in CALL_TYPES:
            if not present:
                self.fail("source_ip", "missing: a call has the caller's address")
            elif ip is not None and not _is_ip(ip):
                self.fail("source_ip", "not an IPv4 or IPv6 address: %s" % _show(ip))

    def ids(self, user: dict | None) -> None:
        for name in ("project_id", "domain_id"):
            value = self.good.get(name)
            if value is not None and not _HEX32.fullmatch(value):
                self.fail(name, "must be 32 lower-case hex digits, not %s" % _show(value))
        domain_id = self.good.get("domain_id")
        domain = user.get("domain") if user else None
        user_domain = domain.get("id") if isinstance(domain, dict) else None
        # a data trace is kept in the bucket owner's account, whoever read or wrote the object
        cross_account = self.good.get("event_type") == "data"
        if isinstance(user_domain, str) and domain_id is not None and user_domain != domain_id \
                and not cross_account:
            self.fail("user.domain.id", "is %s but domain_id is %s" % (_show(user_domain),
                                                                      _show(domain_id)))

    # -- rating ---------------------------------------------------------------------------------
    def rating(self, status: int | None) -> None:
        """A call's rating follows its status: below the lower threshold normal, from it not
        normal (warning or incident: a scenario may mark either). A SystemAction reports a
        result, whatever the status of the call that started it, so any rating goes."""
        rating, trace_type = self.good.get("trace_rating"), self.good.get("trace_type")
        if status is None or rating not in RATINGS or trace_type not in CALL_TYPES:
            return
        threshold = min(self.rules.warning_min_status, self.rules.incident_min_status)
        if status >= threshold and rating == "normal":
            self.fail("trace_rating", "a call answered %d is not rated normal (not from %d on)"
                      % (status, threshold))
        elif status < threshold and rating != "normal":
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
                      % (service, _show(name)))
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
            self.fail("operation_id", "not an operation of the catalog: %s" % _show(op_id))
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
                      % (op_id, recorded, _show(name)))
        self.rows_named((op,))

    def rows_named(self, rows) -> None:
        """resource_type and read_only as the catalog rows recording this trace have them."""
        if not rows:
            return
        resource_type, read_only = self.good.get("resource_type"), self.good.get("read_only")
        types = sorted({op.resource_type for op in rows})
        if resource_type is not None and resource_type not in types:
            self.fail("resource_type", "%s has resource type %s, not %s" % (
                _which(rows), " or ".join(types), _show(resource_type)))
        modes = {op.read_only for op in rows}
        if read_only is not None and read_only not in modes:
            self.fail("read_only", "%s has read_only %s, not %s" % (
                _which(rows), _show(not read_only), _show(read_only)))


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
            self.fail(key, "must be a string, not %s" % _kind(value))
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
            self.fail("account_id", "is %s but domain.id is %s" % (_show(account_id),
                                                                  _show(domain_id)))
        self.string("access_key_id")
        self.string("principal_id", required=False)
        kind = self.string("type")
        if kind is not None and kind not in USER_TYPES:
            self.fail("type", "must be one of %s, not %s" % (", ".join(USER_TYPES), _show(kind)))
        self.urn(kind, account_id or domain_id, user_name or name)
        root = self.user.get("principal_is_root_user")
        if "principal_is_root_user" not in self.user:
            self.fail("principal_is_root_user", "missing")
        elif root not in ("true", "false"):
            self.fail("principal_is_root_user", "must be the string \"true\" or \"false\", "
                      "not %s" % _show(root))
        self.session(trace_type)

    def domain(self) -> str | None:
        """The account id the domain object gives, when it is well formed."""
        domain = self.user.get("domain")
        if "domain" not in self.user:
            self.fail("domain", "missing")
            return None
        if not isinstance(domain, dict):
            self.fail("domain", "must be an object {id, name}, not %s" % _kind(domain))
            return None
        found = {}
        for key in ("id", "name"):
            if key not in domain:
                self.fail("domain." + key, "missing")
            elif not isinstance(domain[key], str):
                self.fail("domain." + key, "must be a string, not %s" % _kind(domain[key]))
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
                          % (_show(want), _show(urn)))
        elif kind in ("AssumedAgency", "ExternalUser"):
            prefix = "sts::%s:%s:" % (account, "assumed-agency" if kind == "AssumedAgency"
                                      else "external-user")
            if not urn.startswith(prefix):
                self.fail("principal_urn", "must start %s for a %s, not %s"
                          % (_show(prefix), kind, _show(urn)))

    def session(self, trace_type: str | None) -> None:
        invoked = self.user.get("invoked_by")
        if invoked is not None and not (isinstance(invoked, list)
                                        and all(isinstance(s, str) for s in invoked)):
            self.fail("invoked_by", "must be an array of strings, not %s" % _kind(invoked))
            invoked = None
        context = self.user.get("session_context")
        if context is not None and not isinstance(context, dict):
            self.fail("session_context", "must be an object, not %s" % _kind(context))
        if trace_type != "ConsoleAction":
            return
        if not invoked or CONSOLE not in invoked:
            self.fail("invoked_by", "a ConsoleAction is invoked by [\"%s\"]%s" % (
                CONSOLE, "" if invoked is None else ", not %s" % _show(invoked)))
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


def _kind(value) -> str:
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


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _show(value, limit: int = 60) -> str:
    """A value for a message: short, on one line."""
    if value is None or isinstance(value, bool):
        return orjson.dumps(value).decode()
    if isinstance(value, str):
        return repr(value[:limit]) + ("..." if len(value) > limit else "")
    if isinstance(value, (dict, list)):
        text = _short_json(value) or _kind(value)
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


# -- a run over files ------------------------------------------------------------------------------

@dataclass
class _Source:
    path: str
    numbered: bool = False  # records are numbered (#N), not lines


@dataclass
class _Run:
    out: object
    rules: Rules
    quiet: bool = False
    max_errors: int | None = None
    records: int = 0
    files: int = 0
    violations: int = 0
    printed: int = 0
    unreadable: bool = False
    sources: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # trace id key -> where first (packed)
    labels: list = field(default_factory=list)  # (where, trace id key, trace id shown)

    # -- reporting ------------------------------------------------------------------------------
    def report(self, where: str, trace_id: str, name: str, message: str,
               unreadable: bool = False) -> None:
        self.violations += 1
        self.unreadable = self.unreadable or unreadable
        if self.quiet or (self.max_errors is not None and self.printed >= self.max_errors):
            return
        self.printed += 1
        self.out.write(_printable("%s: %s: %s: %s\n" % (where, trace_id, name, message)))

    def summary(self) -> None:
        result = "%d violation%s" % (self.violations, _s(self.violations)) \
            if self.violations else "valid"
        hidden = self.violations - self.printed
        if hidden and not self.quiet:
            result += " (%d not shown)" % hidden
        self.out.write("checked %d record%s in %d file%s: %s\n" % (
            self.records, _s(self.records), self.files, _s(self.files), result))

    def exit_code(self) -> int:
        return 2 if self.unreadable else 1 if self.violations else 0

    # -- places ---------------------------------------------------------------------------------
    def source(self, path: str, numbered: bool = False) -> int:
        self.sources.append(_Source(path, numbered))
        return len(self.sources) - 1

    def where(self, src: int, n: int | None = None) -> str:
        source = self.sources[src]
        if n is None:
            return source.path
        return "%s:%s%d" % (source.path, "#" if source.numbered else "", n)

    # -- records --------------------------------------------------------------------------------
    def entry(self, src: int, n: int, record, file_form: bool) -> None:
        self.records += 1
        shown = _trace_id_shown(record)
        where = self.where(src, n)
        for name, message in check_record(record, file_form=file_form, rules=self.rules):
            self.report(where, shown, name, message)
        trace_id = record.get("trace_id") if isinstance(record, dict) else None
        if isinstance(trace_id, str):
            key = _trace_key(trace_id)
            first = self.seen.get(key)
            if first is None:
                self.seen[key] = _pack(src, n)
            else:
                self.report(where, shown, "trace_id", "duplicate: first at %s"
                            % self.where(*_unpack(first)))

    def broken(self, src: int, n: int | None, name: str, message: str) -> None:
        """Something that could not be read."""
        self.report(self.where(src, n), "-", name, message, unreadable=True)

    def dangling_labels(self) -> None:
        for where, key, shown in self.labels:
            if key not in self.seen:
                self.report(where, shown, "trace_id", "no record with this trace_id was "
                            "checked")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _pack(src: int, n: int) -> int:
    return src << 40 | n  # one small int per trace id: the set of a big run stays small


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> 40, packed & (2**40 - 1)


def _trace_key(trace_id: str):
    if _UUID.fullmatch(trace_id):
        return uuid.UUID(trace_id).bytes
    return trace_id


def _trace_id_shown(record) -> str:
    trace_id = record.get("trace_id") if isinstance(record, dict) else None
    if not isinstance(trace_id, str) or not trace_id:
        return "-"
    if len(trace_id) <= 64 and trace_id.isprintable() and " " not in trace_id:
        return trace_id
    return _show(trace_id, 40)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- reading --------------------------------------------------------------------------------------

def _lines(fh):
    """(line number, bytes) of each line of a binary file; bytes is None for a line longer than
    MAX_LINE_BYTES, which is skipped without being held."""
    n = 0
    limit = MAX_LINE_BYTES
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        n += 1
        if n == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = fh.readline(limit + 1)
            yield n, None
        else:
            yield n, line


def _read_jsonl(run: _Run, path: str) -> None:
    src = run.source(path)
    with open(path, "rb") as fh:
        for n, line in _lines(fh):
            if line is None:
                run.records += 1
                run.broken(src, n, "record", "line longer than %d bytes: not read"
                           % MAX_LINE_BYTES)
            elif line.strip():
                record = _parse_line(run, src, n, line)
                if record is _UNREAD:
                    run.records += 1
                else:
                    run.entry(src, n, record, file_form=False)


_UNREAD = object()


def _parse_line(run: _Run, src: int, n: int, line: bytes, name: str = "record"):
    line = line.rstrip(b"\r\n")  # so that an error at the end is placed on this line
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        run.broken(src, n, name, "not JSON: %s (column %d)" % (exc.msg, exc.pos + 1))
        return _UNREAD


def _read_json(run: _Run, path: str, compressed: bool) -> None:
    src = run.source(path, numbered=True)
    with open(path, "rb") as fh:
        data = fh.read()
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            run.broken(src, None, "file", "not a gzip file: %s" % (str(exc) or type(exc).__name__))
            return
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:  # its place is a line, not a record
        run.report("%s:%d" % (path, exc.lineno), "-", "file", "not JSON: %s (column %d)"
                   % (exc.msg, exc.colno), unreadable=True)
        return
    records, file_form = _records_of(doc)
    if records is None:
        run.report(run.where(src), "-", "file", "holds a JSON array of records or one record "
                   "object, not %s" % _kind(doc))
        return
    for i, record in enumerate(records, 1):
        run.entry(src, i, record, file_form)


def _records_of(doc) -> tuple[list | None, bool]:
    """(the records a JSON document holds, whether in the file form)."""
    if isinstance(doc, list):
        return doc, True
    if isinstance(doc, dict):
        traces = doc.get("traces")
        if "trace_id" not in doc and isinstance(traces, list):
            return traces, False  # a ListTraces answer: the API form
        return [doc], True
    return None, False


class _TextLines:
    """The lines of a binary file as text for csv.reader, with what went wrong on the way
    (an undecodable or overlong line) kept for the caller to report."""

    def __init__(self, fh):
        self._lines = _lines(fh)
        self.problems: list[tuple[int, str]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        n, line = next(self._lines)
        if line is None:
            self.problems.append((n, "line longer than %d bytes: not read" % MAX_LINE_BYTES))
            return "\n"
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append((n, "not UTF-8: %s" % exc.reason))
            return line.decode("utf-8", "replace")


def _read_csv(run: _Run, path: str) -> None:
    src = run.source(path)
    previous_limit = csv.field_size_limit(MAX_LINE_BYTES)
    try:
        with open(path, "rb") as fh:
            _csv_rows(run, src, fh)
    finally:
        csv.field_size_limit(previous_limit)


def _csv_rows(run: _Run, src: int, fh) -> None:
    lines = _TextLines(fh)
    reader = csv.reader(lines)
    columns = None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            cells = None
            run.broken(src, start, "record", "not CSV: %s" % exc)
        for n, message in lines.problems:
            run.broken(src, n, "record", message)
        lines.problems.clear()
        if not cells:
            continue
        if columns is None:
            columns = _csv_header(run, src, cells)
            continue
        if len(cells) != len(columns):
            run.records += 1
            run.report(run.where(src, start), "-", "record", "%d cells for %d columns"
                       % (len(cells), len(columns)))
            continue
        run.entry(src, start, csvform.decode_row(columns, cells), file_form=False)
    if columns is None:
        run.report(run.where(src), "-", "file", "no header row")


def _csv_header(run: _Run, src: int, cells: list[str]) -> list[str]:
    seen = set()
    for cell in cells:
        if cell in seen:
            run.report(run.where(src, 1), "-", "header", "column %s twice" % _show(cell))
        seen.add(cell)
    return cells


def _read_labels(run: _Run, path: str) -> None:
    src = run.source(path)
    with open(path, "rb") as fh:
        for n, line in _lines(fh):
            if line is None:
                run.broken(src, n, "label", "line longer than %d bytes: not read"
                           % MAX_LINE_BYTES)
            elif line.strip():
                label = _parse_line(run, src, n, line, "label")
                if label is not _UNREAD:
                    _check_label(run, src, n, label)


def _check_label(run: _Run, src: int, n: int, label) -> None:
    where = run.where(src, n)
    if not isinstance(label, dict):
        run.report(where, "-", "label", "a label is a JSON object, not %s" % _kind(label))
        return
    shown = _trace_id_shown(label)
    for key, kind in LABEL_KEYS.items():
        if key not in label:
            run.report(where, shown, key, "missing")
        elif _kind(label[key]) != kind:
            run.report(where, shown, key, "must be %s %s, not %s"
                       % (_article(kind), kind, _kind(label[key])))
    for key in label:
        if key not in LABEL_KEYS:
            run.report(where, shown, _printable(str(key))[:64], "not a label key (%s)"
                       % ", ".join(LABEL_KEYS))
    trace_id = label.get("trace_id")
    if isinstance(trace_id, str):
        run.labels.append((where, _trace_key(trace_id), shown))


# -- files and directories ----------------------------------------------------------------------

def _reader_for(path: str):
    name = os.path.basename(path)
    lower = name.lower()
    if name == LABELS_FILE:
        return _read_labels
    if lower.endswith(".jsonl"):
        return _read_jsonl
    if lower.endswith(".json.gz"):
        return functools.partial(_read_json, compressed=True)
    if lower.endswith(".json"):
        return functools.partial(_read_json, compressed=False)
    if lower.endswith(".csv"):
        return _read_csv
    return None


def _inputs(paths) -> list[tuple[str, OSError | None]]:
    """The files to read, each once: each path given, or the trace files under it (sorted);
    with the error of a folder that could not be listed."""
    found, seen = [], set()
    for path in map(os.fspath, paths):
        for one, error in _walk(path) if os.path.isdir(path) else [(path, None)]:
            real = os.path.realpath(one)
            if os.path.basename(one) in COMPANION_FILES:
                continue
            if real not in seen:
                seen.add(real)
                found.append((one, error))
    return found


def _walk(root: str) -> list[tuple[str, OSError | None]]:
    files, errors = [], []
    for folder, dirs, names in os.walk(root, onerror=errors.append):
        files += [os.path.join(folder, n) for n in names
                  if _reader_for(os.path.join(folder, n)) is not None]
    found = [(path, None) for path in files] + [(exc.filename or root, exc) for exc in errors]
    return sorted(found, key=lambda item: os.path.relpath(item[0], root).split(os.sep))


def _read(run: _Run, path: str, error: OSError | None = None) -> None:
    """One file named on the command line or found in a directory."""
    run.files += 1
    reader = _reader_for(path)
    try:
        if error is not None:
            raise error
        if reader is None:
            os.stat(path)  # a missing path is unreadable before it is of the wrong kind
            run.broken(run.source(path), None, "file", "not a trace file (.jsonl, .json, "
                       ".json.gz, .csv or labels.jsonl)")
        else:
            reader(run, path)
    except OSError as exc:
        run.broken(run.source(path), None, "file", "cannot read: %s" % (exc.strerror or exc))


def validate_paths(paths, out=None, *, quiet: bool = False, max_errors: int | None = None,
                   trace_names: dict | None = None, warning_min_status: int = 400,
                   incident_min_status: int = 500) -> int:
    """Check every trace file under paths, print the violations and a summary to out (default
    stdout), and return the exit status: 0 valid, 1 a violation, 2 an input not read."""
    run = _Run(out if out is not None else sys.stdout,
               rules_for(trace_names, warning_min_status, incident_min_status),
               quiet=quiet, max_errors=max_errors)
    for path, error in _inputs(paths):
        _read(run, path, error)
    run.dangling_labels()
    run.summary()
    return run.exit_code()


# -- command line -------------------------------------------------------------------------------

def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_parser(subparsers):
    p = subparsers.add_parser(
        "validate", help="check CTS trace data against the record schema and the catalog",
        description="Check trace records (.jsonl, .json, .json.gz trace files, .csv) and "
        "labels.jsonl files; directories are searched recursively. Exit status 0 valid, "
        "1 violations, 2 an input could not be read.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="trace files or directories")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument("--max-errors", dest="max_errors", type=_count, metavar="N",
                   help="print at most N violations (all are still counted)")
    p.add_argument("--config", help="settings TOML file: its [trace_names] overrides and "
                   "rating thresholds apply")
    return p


def command(args) -> int:
    from simulator.settings import Settings, SettingsError
    try:
        settings = Settings.load({}, config=args.config)
        rules_for(settings.trace_names)  # an override the catalog rejects: say so up front
    except (SettingsError, ValueError) as exc:
        print("modelarts-sim validate: %s" % exc, file=sys.stderr)
        return 2
    return validate_paths(args.paths, quiet=args.quiet, max_errors=args.max_errors,
                          trace_names=settings.trace_names,
                          warning_min_status=settings.warning_min_status,
                          incident_min_status=settings.incident_min_status)
