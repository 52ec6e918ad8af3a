"""ModelArtsSim: the object the pytest fixtures give a test, over a running simulator (HTTP) or
an in-process app (the Flask test client, no sockets).

It calls the APIs as a fixture user (AK/SK-signed, dated by the simulator's own clock), reads
traces with ListTraces (every page), asserts on them with a readable diff, and drives the
/_sim controls: reset, clock, lifecycle, faults, snapshots. `modelarts-sim ctl` uses the same
controls (connect(url)).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import NamedTuple

import orjson

import simulator
from simulator.clock import Clock, iso_utc
from simulator.cts.schema import FILTERS
from simulator.faults import BYPASS_HEADER as BYPASS_FAULTS
from simulator.identity.accounts import Directory
from simulator.sdk_env import env_lines
from simulator.signed_client import InProcessTransport, SignedClient

USER_AGENT = "modelarts-sim-pytest/%s" % simulator.__version__
PAGE = 200  # ListTraces' largest page
# ListTraces parameters that choose where to look rather than which records match
SCOPE = ("trace_type", "tracker_name", "from", "to")
ALIASES = {"rating": "trace_rating", "from_": "from", "frm": "from"}
# filters ListTraces applies itself, with the same meaning as equality on the record field
SERVER_SIDE = ("trace_name", "trace_rating", "resource_name", "resource_id", "resource_type",
               "service_type", "enterprise_project_id")
NEAREST = 3  # records shown when an assertion fails


class SimulatorError(RuntimeError):
    """A /_sim control (or ListTraces, for the helper) refused, or the simulator did not
    answer. .status is the HTTP status (None: no answer), .body the answer's JSON if any."""

    def __init__(self, message: str, status: int | None = None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


class Credentials(NamedTuple):
    ak: str
    sk: str


class SimResponse:
    """An answer, the same over HTTP and in process: status_code, headers, content, json(),
    text; .raw is the requests.Response or werkzeug TestResponse."""

    def __init__(self, status_code: int, headers, content: bytes, raw=None):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.raw = raw

    def json(self):
        return orjson.loads(self.content) if self.content else None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def __repr__(self):
        return "<SimResponse %d %s>" % (self.status_code, self.text[:200])


# -- transports ---------------------------------------------------------------------------------

class HttpTransport:
    """A simulator at a URL. `sim`: the Simulator object when it runs in this process (its
    clock dates signatures without asking)."""

    def __init__(self, endpoint: str, sim=None, timeout: float = 30.0):
        import requests

        self.endpoint = endpoint.rstrip("/")
        self.sim = sim
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False  # never through a proxy from the environment
        self._errors = requests.RequestException

    def send(self, method: str, target: str, body: bytes = b"",
             headers: dict | None = None) -> SimResponse:
        if target.startswith("/_sim"):
            from simulator.admin.guard import token_headers
            headers = {**(headers or {}), **token_headers()}
        try:
            r = self._http.request(method, self.endpoint + target, data=body,
                                   headers=headers or {}, timeout=self.timeout)
        except self._errors as exc:
            raise SimulatorError("the simulator at %s does not answer (%s %s: %s)" % (
                self.endpoint, method, target.split("?")[0], exc)) from exc
        return SimResponse(r.status_code, r.headers, r.content, r)

    def now_ms(self) -> int:
        if self.sim is not None:
            return self.sim.clock.now_ms()
        resp = self.send("GET", "/_sim/clock")
        if resp.status_code != 200:
            raise SimulatorError("GET /_sim/clock answered %d" % resp.status_code,
                                 resp.status_code)
        return int(resp.json()["now"])

    def close(self) -> None:
        self._http.close()


class AppTransport(InProcessTransport):
    """The in-process app: Flask's test client, no sockets."""

    def __init__(self, app):
        from simulator.core import simulator_of  # in process, the simulator is loaded already
        super().__init__(app)
        self.sim = simulator_of(app)

    def send(self, method: str, target: str, body: bytes = b"",
             headers: dict | None = None) -> SimResponse:
        from waitress.channel import ClientDisconnected
        try:
            r = super().send(method, target, body, headers)
        except ClientDisconnected:  # what a server would do: close without an answer
            raise SimulatorError("%s %s: the connection was dropped by an injected fault" % (
                method, target.split("?")[0])) from None
        return SimResponse(r.status_code, r.headers, r.get_data(), r)

    def now_ms(self) -> int:
        return self.sim.clock.now_ms()

    def close(self) -> None:
        pass


# -- faults -------------------------------------------------------------------------------------

class Fault:
    """An injected fault rule (POST /_sim/faults). .remove() deletes it; as a context manager
    it is removed on leaving the block. .rule is the rule as the simulator described it."""

    def __init__(self, helper: "ModelArtsSim", rule: dict):
        self._helper = helper
        self.rule = rule
        self.id = rule.get("id")

    def remove(self) -> bool:
        """Delete the rule; False when it was already gone (its count spent, or removed)."""
        resp = self._helper._control("DELETE", "/_sim/faults/%s" % self.id, missing_ok=True)
        return resp.status_code < 400

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return "<Fault %s %s>" % (self.id, self.rule)


def _rule_of(body) -> dict:
    """The rule in POST /_sim/faults's answer ({"faults": [rule]})."""
    if isinstance(body, dict):
        if isinstance(body.get("faults"), list) and len(body["faults"]) == 1:
            return body["faults"][0]
        for key in ("fault", "rule"):
            if isinstance(body.get(key), dict):
                return body[key]
        return body
    return {}


# -- matching and the diff ----------------------------------------------------------------------

def _lookup(record: dict, name: str):
    """The value of a field (user__name or "user.name" reach inside); (value, present)."""
    if name in record:
        return record[name], True
    cur = record
    for part in re.split(r"__|\.", name):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return None, False
    return cur, True


def _matches(name: str, expected, actual, present: bool) -> bool:
    if not present:
        return False
    if isinstance(expected, re.Pattern):
        return isinstance(actual, str) and expected.search(actual) is not None
    if callable(expected) and not isinstance(expected, type):
        try:
            return bool(expected(actual))
        except Exception:
            return False
    if isinstance(expected, dict):
        if isinstance(actual, str):  # request and response are JSON text in a record
            try:
                actual = orjson.loads(actual)
            except orjson.JSONDecodeError:
                return False
        return isinstance(actual, dict) and all(
            _matches(k, v, actual.get(k), k in actual) for k, v in expected.items())
    if name == "user" and isinstance(expected, str) and isinstance(actual, dict):
        return actual.get("name") == expected
    if isinstance(expected, int) and not isinstance(expected, bool) and isinstance(actual, str):
        return str(expected) == actual
    return expected == actual


def _short(value, limit: int = 120) -> str:
    if isinstance(value, re.Pattern):
        return "re.compile(%r)" % value.pattern
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", "a predicate")
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(record: dict) -> str:
    user = record.get("user")
    who = user.get("name") if isinstance(user, dict) else user
    return "%s on %s %r by %s at %s, code %s (trace_id %s)" % (
        record.get("trace_name"), record.get("resource_type"), record.get("resource_name"),
        who, iso_utc(record.get("time")), record.get("code"), record.get("trace_id"))


def _wanted(fields: dict) -> str:
    return ", ".join("%s=%s" % (k, _short(v)) for k, v in fields.items()) or "(any trace)"


def diff_report(fields: dict, records: list[dict], scope: str) -> str:
    """Why no record matched: the nearest records (most fields matching, newest first among
    equals), field by field."""
    head = "no trace matches %s" % _wanted(fields)
    if not records:
        return "%s: ListTraces (%s) has no traces at all" % (head, scope)
    scored = []
    for record in records:
        rows, hits = [], 0
        for name, expected in fields.items():
            actual, present = _lookup(record, name)
            if _matches(name, expected, actual, present):
                hits += 1
                shown = actual.get("name") if name == "user" and isinstance(actual, dict) \
                    and isinstance(expected, str) else actual
                rows.append("       %-16s == %s" % (name, _short(shown)))
            else:
                got = _short(actual) if present else "(no such field)"
                if name == "user" and isinstance(expected, str) and isinstance(actual, dict):
                    got = _short(actual.get("name"))
                rows.append("     ! %-16s expected %s, got %s" % (name, _short(expected), got))
        scored.append((hits, record, rows))
    scored.sort(key=lambda item: -item[0])  # stable: newest first among equals
    lines = ["%s among %d trace(s) (%s); the nearest:" % (head, len(records), scope)]
    for n, (hits, record, rows) in enumerate(scored[:NEAREST], 1):
        lines.append("  #%d %s: %d of %d field(s) match" % (n, _describe(record), hits,
                                                             len(fields)))
        lines.extend(rows)
    if len(records) > NEAREST:
        lines.append("  (and %d more)" % (len(records) - NEAREST))
    return "\n".join(lines)


# -- the helper ---------------------------------------------------------------------------------

class ModelArtsSim:
    """A simulator as a test sees it, acting as one fixture user.

    endpoint (None in process), region, project_id, domain_id, credentials (ak, sk), user;
    sim (the Simulator object when it runs in this process, else None); app and client (the
    Flask app and its test client, in process only).
    """

    def __init__(self, transport, directory: Directory, region: str, user: str | None = None):
        self._transport = transport
        self._directory = directory
        self.region = region
        found = directory.user(user) if user else directory.default_user()
        if found is None:
            known = ", ".join(u.name for u in directory.users)
            raise LookupError("no fixture user %r (known: %s)" % (user, known))
        if not found.credentials:
            raise LookupError("fixture user %r has no AK/SK" % found.name)
        self._user = found
        project = directory.home_project(found.domain, region)
        if project is None:
            raise LookupError("user %s's account %s has no project in region %s" % (
                found.name, found.domain.name, region))
        self._project = project
        cred = found.credentials[0]
        self._signed = SignedClient(transport, cred.access_key, cred.secret_key,
                                    project_id=project.id, user_agent=USER_AGENT,
                                    clock=lambda: transport.now_ms())

    # -- who and where ------------------------------------------------------------------------
    @property
    def user(self) -> str:
        return self._user.name

    @property
    def project_id(self) -> str:
        return self._project.id

    @property
    def domain_id(self) -> str:
        return self._user.domain.id

    @property
    def credentials(self) -> Credentials:
        cred = self._user.credentials[0]
        return Credentials(cred.access_key, cred.secret_key)

    @property
    def endpoint(self) -> str | None:
        return None if isinstance(self._transport, AppTransport) else self._transport.endpoint

    @property
    def sim(self):
        return self._transport.sim

    @property
    def app(self):
        return getattr(self._transport, "app", None)

    @property
    def client(self):
        """The Flask test client (in process only)."""
        return getattr(self._transport, "client", None)

    @property
    def env(self) -> dict[str, str]:
        """The HUAWEICLOUD_SDK_* variables `modelarts-sim env` prints for this user."""
        if self.endpoint is None:
            raise RuntimeError("the in-process simulator has no endpoint for the SDK")
        ak, sk = self.credentials
        out = {}
        for line in env_lines(self.endpoint, self.region, ak, sk):
            name, _, value = line[len("export "):].partition("=")
            out[name] = value
        return out

    def as_user(self, name: str) -> "ModelArtsSim":
        """The same simulator, acting as another fixture user (admin, developer, auditor...)."""
        return ModelArtsSim(self._transport, self._directory, self.region, name)

    def __repr__(self):
        return "<ModelArtsSim %s as %s, project %s>" % (self.endpoint or "in process",
                                                        self.user, self.project_id)

    # -- calls --------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, *, query: dict | None = None,
                headers: dict | None = None, raw: bytes | None = None,
                signed: bool = True) -> SimResponse:
        """A call as this user: JSON body (or raw bytes), AK/SK-signed as huaweicloudsdkcore
        signs, dated by the simulator's clock. "{project_id}" in the path is the user's."""
        return self._signed.request(method, path, body, query=query, headers=headers,
                                    raw=raw, signed=signed)

    def get(self, path: str, **kw) -> SimResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw) -> SimResponse:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body=None, **kw) -> SimResponse:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw) -> SimResponse:
        return self.request("DELETE", path, **kw)

    # -- SDK clients --------------------------------------------------------------------------
    def _sdk_parts(self):
        if self.endpoint is None:
            raise RuntimeError("the in-process simulator has no endpoint for the SDK: use the "
                               "modelarts_sim fixture")
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig

        config = HttpConfig.get_default_config()
        config.timeout = (10, 60)
        ak, sk = self.credentials
        return BasicCredentials(ak, sk, self.project_id), config

    def modelarts_client(self):
        """huaweicloudsdkmodelarts' ModelArtsClient (v1) pointed at the simulator, as this user
        (ImportError when the SDK is not installed)."""
        from huaweicloudsdkmodelarts.v1 import ModelArtsClient

        cred, config = self._sdk_parts()
        return (ModelArtsClient.new_builder().with_http_config(config).with_credentials(cred)
                .with_endpoints([self.endpoint]).build())

    def cts_client(self):
        """huaweicloudsdkcts' CtsClient (v3) pointed at the simulator, as this user."""
        from huaweicloudsdkcts.v3 import CtsClient

        cred, config = self._sdk_parts()
        return (CtsClient.new_builder().with_http_config(config).with_credentials(cred)
                .with_endpoints([self.endpoint]).build())

    # -- traces -------------------------------------------------------------------------------
    @staticmethod
    def _split(fields: dict) -> tuple[dict, dict]:
        """(ListTraces scope: trace_type, tracker_name, from, to; the fields to match)."""
        scope, match = {}, {}
        for name, value in fields.items():
            name = ALIASES.get(name, name)
            if value is None:
                continue
            (scope if name in SCOPE else match)[name] = value
        return scope, match

    def traces(self, **filters) -> list[dict]:
        """Every trace ListTraces answers for these filters (its own names: trace_type,
        tracker_name, service_type, user, resource_id, resource_name, resource_type,
        trace_name, trace_rating (or rating), trace_id, access_key_id,
        enterprise_project_id, from (or from_), to; limit caps how many), all pages, newest
        first, as the API gives them. The default window is every retained trace."""
        query = {}
        for name, value in filters.items():
            name = ALIASES.get(name, name)
            if name not in FILTERS and name not in SCOPE and name not in ("trace_id", "limit"):
                known = sorted(set(FILTERS) | set(SCOPE) | {"trace_id", "limit"})
                raise TypeError("traces() has no filter %r (ListTraces' are: %s)" % (
                    name, ", ".join(known)))
            if value is not None:
                query[name] = value
        cap = query.pop("limit", None)
        query.setdefault("from", 0)  # ListTraces keeps the retention period's traces
        out: list[dict] = []
        marker = None
        while True:
            page = dict(query, limit=PAGE if cap is None else max(1, min(PAGE, cap - len(out))))
            if marker:
                page["next"] = marker
            # the helper reads what happened; faults are for the code under test
            resp = self.request("GET", "/v3/{project_id}/traces", query=page,
                                headers={BYPASS_FAULTS: "1"})
            try:
                body = resp.json()
            except orjson.JSONDecodeError:
                body = None
            if resp.status_code != 200 or not isinstance(body, dict):
                hint = ""
                raise SimulatorError("ListTraces as %s answered %d: %s%s" % (
                    self.user, resp.status_code, resp.text[:500], hint), resp.status_code, body)
            out.extend(body["traces"])
            marker = body["meta_data"].get("marker")
            if not marker or (cap is not None and len(out) >= cap):
                return out

    def last_trace(self, **filters) -> dict | None:
        found = self.traces(limit=1, **filters)
        return found[0] if found else None

    def _find(self, fields: dict) -> tuple[dict | None, dict, dict]:
        scope, match = self._split(fields)
        quick = {k: v for k, v in match.items() if k in SERVER_SIDE and isinstance(v, str)}
        if "user" in match and isinstance(match["user"], str):
            quick["user"] = match["user"]
        # ListTraces narrows by the plain equalities; the rest is checked here
        for record in self.traces(**scope, **quick):
            if all(_matches(k, v, *_lookup(record, k)) for k, v in match.items()):
                return record, scope, match
        return None, scope, match

    def _scope_text(self, scope: dict) -> str:
        parts = ["trace_type=%s" % scope.get("trace_type", "system")]
        parts += ["%s=%s" % (k, v) for k, v in scope.items() if k != "trace_type"]
        return ", ".join(parts + ["project %s, read as %s" % (self.project_id, self.user)])

    def find_trace(self, **fields) -> dict | None:
        """The newest trace matching every field (as assert_traced), or None."""
        return self._find(fields)[0]

    def assert_traced(self, trace_name=None, resource_name=None, rating=None, **fields) -> dict:
        """Passes when one trace matches every given field; returns the newest that does.

        Fields are the record's (API form): trace_name, resource_name, rating or
        trace_rating, resource_id, resource_type, code (an int matches "200"), user (a name
        matches user.name), request/response (a dict matches a subset of the JSON), or
        anything with __ for a nested field (user__domain__name). A value may be a compiled
        regular expression or a predicate. trace_type, tracker_name, from_ and to choose where
        to look. On failure: AssertionError with the nearest records, field by field."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        named = {"trace_name": trace_name, "resource_name": resource_name,
                 "trace_rating": rating}
        fields = {**{k: v for k, v in named.items() if v is not None}, **fields}
        record, scope, match = self._find(fields)
        if record is not None:
            return record
        records = self.traces(**scope)
        raise AssertionError(diff_report(match, records, self._scope_text(scope)))

    def wait_for_trace(self, trace_name=None, *, timeout: float = 5.0, interval: float = 0.05,
                       **fields) -> dict:
        """Poll ListTraces (real time) until a trace matches (fields as assert_traced);
        returns it. AssertionError after `timeout` seconds, with the nearest records."""
        __tracebackhide__ = True
        if trace_name is not None:
            fields = {"trace_name": trace_name, **fields}
        deadline = time.monotonic() + timeout
        while True:
            record, scope, match = self._find(fields)
            if record is not None:
                return record
            if time.monotonic() >= deadline:
                records = self.traces(**scope)
                raise AssertionError("waited %.1f s: %s" % (timeout, diff_report(
                    match, records, self._scope_text(scope))))
            time.sleep(interval)

    # -- /_sim controls -----------------------------------------------------------------------
    def _control(self, method: str, path: str, body=None, *, raw: bytes | None = None,
                 missing_ok: bool = False) -> SimResponse:
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else b"")
        ctype = "application/octet-stream" if raw is not None else "application/json"
        resp = self._transport.send(method, path, data, {"Content-Type": ctype})
        if resp.status_code < 400 or (missing_ok and resp.status_code == 404):
            return resp
        try:
            answer = resp.json()
        except orjson.JSONDecodeError:
            answer = None
        if resp.status_code in (404, 405) and isinstance(answer, dict) and str(
                answer.get("error_code", "")).startswith("APIGW"):
            raise SimulatorError("%s %s: this simulator has no such control (%d); is it an "
                                 "older version?" % (method, path, resp.status_code),
                                 resp.status_code, answer)
        reason = answer.get("error") if isinstance(answer, dict) and "error" in answer \
            else resp.text[:300]
        raise SimulatorError("%s %s refused (%d): %s" % (method, path, resp.status_code,
                                                         reason), resp.status_code, answer)

    def health(self) -> dict:
        return self._control("GET", "/_sim/health").json()

    def reset(self) -> None:
        """Everything back to the fixtures (resources, traces, OBS, tokens). The fixtures do
        more between tests: see SimSession.reset."""
        self._control("POST", "/_sim/reset")

    def clock(self) -> dict:
        """{"now": epoch ms, "frozen": bool}"""
        return self._control("GET", "/_sim/clock").json()

    def advance(self, seconds: float) -> dict:
        """Move the simulation clock on (lifecycles, token expiry, retention, trace-file
        transfers follow); returns the clock."""
        return self._control("POST", "/_sim/clock", {"action": "advance",
                                                     "seconds": seconds}).json()

    def freeze(self, at_ms: int | None = None) -> dict:
        body = {"action": "freeze"}
        if at_ms is not None:
            body["at"] = int(at_ms)
        return self._control("POST", "/_sim/clock", body).json()

    def resume(self) -> dict:
        return self._control("POST", "/_sim/clock", {"action": "resume"}).json()

    def lifecycle(self, mode: str | None = None, family: str = "*",
                  dwell: dict | None = None) -> dict:
        """Without arguments the modes and dwell times of every family; with mode ("time",
        "immediate", "manual") and/or dwell ({name: seconds}, one family) set them."""
        if mode is None and dwell is None:
            return self._control("GET", "/_sim/lifecycle").json()
        body = {"family": family}
        if mode is not None:
            body["mode"] = mode
        if dwell is not None:
            body["dwell"] = dwell
        return self._control("POST", "/_sim/lifecycle", body).json()

    def advance_resource(self, kind: str, resource_id: str) -> dict:
        """The resource (kind: dataset, dataset-import, training-job-v2, service, ...) moves
        to its next status now: {"kind", "id", "status", "changed"}."""
        return self._control("POST", "/_sim/lifecycle/advance",
                             {"kind": kind, "id": resource_id}).json()

    def fail_resource(self, kind: str, resource_id: str, reason: str | None = None) -> dict:
        """The resource fails now, with that reason."""
        body = {"kind": kind, "id": resource_id}
        if reason is not None:
            body["reason"] = reason
        return self._control("POST", "/_sim/lifecycle/fail", body).json()

    def put_object(self, path: str, data: bytes = b"") -> dict:
        """An object in the simulator's OBS, "/bucket/key" (the bucket is created): the files
        a dataset or a training job reads. A key ending in / makes a folder."""
        bucket, _, key = path.lstrip("/").partition("/")
        if not bucket or not key:
            raise ValueError("put_object wants /bucket/key, not %r" % path)
        return self._control("PUT", "/_sim/objects/%s/%s" % (bucket, key), raw=data).json()

    def fault(self, **rule) -> Fault:
        """Inject a fault (POST /_sim/faults with the rule as JSON), e.g.
        fault(operation="ListTraces", status=429, count=1). Returns a Fault: .remove(), or
        use it as a context manager."""
        resp = self._control("POST", "/_sim/faults", rule)
        return Fault(self, _rule_of(resp.json()))

    def faults(self) -> list[dict]:
        """The fault rules in force."""
        body = self._control("GET", "/_sim/faults").json()
        if isinstance(body, dict):
            for key in ("faults", "rules"):
                if isinstance(body.get(key), list):
                    return body[key]
        return body if isinstance(body, list) else []

    def clear_faults(self) -> None:
        self._control("DELETE", "/_sim/faults")

    def snapshot(self, path: str | Path | None = None):
        """The whole state (POST /_sim/snapshot): the bytes, or written to path (returned)."""
        data = self._control("POST", "/_sim/snapshot").content
        if path is None:
            return data
        path = Path(path)
        path.write_bytes(data)
        return path

    def restore(self, source) -> dict | None:
        """Load a snapshot (POST /_sim/restore): bytes, or the path of a file."""
        data = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) \
            else Path(source).read_bytes()
        resp = self._control("POST", "/_sim/restore", raw=data)
        try:
            return resp.json()
        except orjson.JSONDecodeError:
            return None


# -- a session: one simulator, brought back to its starting state between tests ----------------

class SimSession:
    """One simulator for a test session (started here or reused): helper(user) gives a
    ModelArtsSim; reset() brings it back to how the session found it: fixtures only, no fault
    rules, the clock where it was (as an offset from real time, or frozen at the same instant)
    and the lifecycle modes and dwell times it had."""

    def __init__(self, transport, directory: Directory, region: str, on_close=None):
        self.transport = transport
        self.directory = directory
        self.region = region
        self._on_close = on_close
        base = self.helper()
        clock = base.clock()
        self._frozen_at = clock["now"] if clock["frozen"] else None
        self._offset_ms = clock["now"] - _wall_ms()
        self._lifecycle = base.lifecycle()

    def helper(self, user: str | None = None) -> ModelArtsSim:
        directory = self.directory
        if self.transport.sim is not None:
            directory = self.transport.sim.directory  # users added by /_sim/accounts too
        return ModelArtsSim(self.transport, directory, self.region, user)

    def reset(self) -> None:
        base = self.helper()
        base.reset()
        base._control("DELETE", "/_sim/faults", missing_ok=True)  # an older simulator: none
        clock = base.clock()
        if self._frozen_at is not None:
            if not clock["frozen"] or clock["now"] != self._frozen_at:
                base.freeze(self._frozen_at)
        else:
            expected = _wall_ms() + self._offset_ms
            if clock["frozen"] or abs(clock["now"] - expected) > 500:
                base.freeze(max(0, expected))
                base.resume()
        now = base.lifecycle()
        for family, want in self._lifecycle.items():
            if now.get(family) != want:
                base.lifecycle(want["mode"], family, want["dwell"])

    def close(self) -> None:
        try:
            self.transport.close()
        finally:
            if self._on_close is not None:
                self._on_close()


def _wall_ms() -> int:
    return Clock().now_ms()  # clock.py stays the one reader of the wall clock


def connect(url: str, accounts: str | None = None, timeout: float = 30.0) -> ModelArtsSim:
    """A ModelArtsSim over a simulator already running at url (its default user; the region
    it reports). `accounts`: the accounts file it was started with, if not the packaged one."""
    transport = HttpTransport(url, timeout=timeout)
    region = transport.send("GET", "/_sim/health")
    if region.status_code != 200:
        raise SimulatorError("%s/_sim/health answered %d: is this a modelarts-sim?" % (
            transport.endpoint, region.status_code), region.status_code)
    return ModelArtsSim(transport, Directory.load(accounts), region.json()["region"])
