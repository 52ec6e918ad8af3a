"""Key event notifications (reference section 2.3): the API, which traces match, and their
delivery to local webhooks standing in for SMN topics and FunctionGraph functions.

Matching and delivery happen off the request path: the simulator hands each management trace
to the notifier, whose thread checks it against the project's enabled notifications and posts a
message, SMN style, to the URL the settings map the notification's topic to
(`[notifications.topics]`). A failed post is retried with backoff; every attempt is kept (the
latest 1,000) for /_sim/notifications.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import deque
from dataclasses import dataclass

import orjson
import requests

from simulator.cts.trackers import State
from simulator.errors import ApiError
from simulator.registry import Reply, handler

QUOTA = 100
FILTER_FIELDS = ("code", "trace_rating", "trace_type", "resource_id", "resource_name",
                 "api_version")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SMN = re.compile(r"^urn:smn:[a-z0-9-]+:[0-9a-f]{32}:[A-Za-z0-9_-]{1,255}$")
_FUN = re.compile(r"^urn:fss:[a-z0-9-]+:[0-9a-f]{32}:function:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+"
                  r"(:[A-Za-z0-9_.-]+)?$")
_RULE = re.compile(r"^\s*(%s)\s*(!=|=)(.*)$" % "|".join(FILTER_FIELDS))
MAX_RULE_CHARS = 256
log = logging.getLogger("modelarts_sim")


@dataclass
class Notification:
    id: str
    name: str
    operation_type: str  # complete | customized
    operations: list
    notify_user_list: list
    topic_id: str | None
    status: str
    filter: dict | None
    agency_name: str | None
    created_ms: int

    @property
    def type(self) -> str:
        return "fun" if self.topic_id and self.topic_id.startswith("urn:fss:") else "smn"


def _bad(message: str) -> ApiError:
    return ApiError(400, "CTS.0003", "The message body is empty or invalid: " + message)


# -- the body ------------------------------------------------------------------------------

def _operations(raw) -> list:
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        raise _bad("operations must be a list of {service_type, resource_type, trace_names}")
    out = []
    for o in raw:
        names = o.get("trace_names")
        if not all(isinstance(o.get(k), str) and o.get(k)
                   for k in ("service_type", "resource_type")) or not isinstance(names, list) \
                or not names or not all(isinstance(n, str) and n for n in names):
            raise _bad("each operation needs service_type, resource_type and trace_names")
        out.append({"service_type": o["service_type"], "resource_type": o["resource_type"],
                    "trace_names": list(names)})
    return out


def _users(raw) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 10 or not all(
            isinstance(g, dict) and isinstance(g.get("user_list", []), list) for g in raw):
        raise _bad("notify_user_list holds at most 10 {user_group, user_list} entries")
    if sum(len(g.get("user_list", [])) for g in raw) > 50:
        raise _bad("notify_user_list names at most 50 users")
    return [{"user_group": g.get("user_group", ""), "user_list": list(g.get("user_list", []))}
            for g in raw]


def _filter(raw) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("condition", "AND") not in ("AND", "OR"):
        raise _bad("filter.condition must be AND or OR")
    rules = raw.get("rule", [])
    if not isinstance(rules, list) or len(rules) > 10 or not all(
            isinstance(r, str) and len(r) <= MAX_RULE_CHARS and _RULE.match(r) for r in rules):
        raise _bad("filter.rule holds up to 10 rules 'field = value' or 'field != value' over "
                   + ", ".join(FILTER_FIELDS))
    support = raw.get("is_support_filter", True)
    if not isinstance(support, bool):
        raise _bad("filter.is_support_filter must be true or false")
    return {"condition": raw.get("condition", "AND"), "is_support_filter": support,
            "rule": list(rules)}


def _topic(ctx, raw) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not (_SMN.match(raw) or _FUN.match(raw)):
        raise _bad("topic_id must be an SMN topic URN (urn:smn:region:project_id:name) or a "
                   "FunctionGraph URN (urn:fss:region:project_id:function:package:name)")
    return raw


def _fields(ctx, body: dict, current: Notification | None) -> dict:
    name = body.get("notification_name", current.name if current else None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise _bad("notification_name must be 1 to 64 letters, digits, hyphens or underscores")
    kind = body.get("operation_type", current.operation_type if current else None)
    if kind not in ("complete", "customized"):
        raise _bad("operation_type must be complete or customized")
    operations = _operations(body["operations"]) if "operations" in body else (
        current.operations if current else [])
    if kind == "customized" and not operations:
        raise _bad("a customized notification needs operations")
    return {"name": name, "operation_type": kind, "operations": operations,
            "notify_user_list": _users(body["notify_user_list"]) if "notify_user_list" in body
            else (current.notify_user_list if current else []),
            "topic_id": _topic(ctx, body["topic_id"]) if "topic_id" in body
            else (current.topic_id if current else None),
            "filter": _filter(body["filter"]) if "filter" in body
            else (current.filter if current else None),
            "agency_name": body.get("agency_name", current.agency_name if current else None)}


def _body(ctx) -> dict:
    if not isinstance(ctx.body, dict):
        raise _bad("a JSON object is expected")
    return ctx.body


def describe(ctx, n: Notification) -> dict:
    return {"notification_id": n.id, "notification_name": n.name,
            "operation_type": n.operation_type, "operations": n.operations,
            "notify_user_list": n.notify_user_list, "topic_id": n.topic_id, "status": n.status,
            "notification_type": n.type, "project_id": ctx.project.id,
            "create_time": n.created_ms, "filter": n.filter, "agency_name": n.agency_name}


# -- handlers --------------------------------------------------------------------------------

@handler("CreateNotification")
def create_notification(ctx):
    body = _body(ctx)
    state: State = ctx.state
    fields = _fields(ctx, body, None)
    if any(n.name == fields["name"] for n in state.notifications.values()):
        raise ApiError(400, "CTS.0400", "The notification name %s already exists."
                       % fields["name"])
    if len(state.notifications) >= QUOTA:
        raise ApiError(400, "CTS.0200", "The key event notification quota (%d) has been "
                       "reached." % QUOTA)
    n = Notification(id=ctx.ids.uuid(), created_ms=ctx.now_ms,
                     status="enabled" if fields["topic_id"] else "disabled", **fields)
    state.notifications[n.id] = n
    ctx.sim.notifier.changed()
    return Reply(201, describe(ctx, n), n.id, n.name)


@handler("UpdateNotification")
def update_notification(ctx):
    body = _body(ctx)
    state: State = ctx.state
    wanted = body.get("notification_id")
    n = state.notifications.get(wanted) if isinstance(wanted, str) else None
    if n is None:  # its trace names the notification asked for
        err = _bad("no notification with notification_id %r" % body.get("notification_id"))
        err.resource_id = wanted if isinstance(wanted, str) else None
        raise err
    try:
        _update(ctx, state, body, n)
    except ApiError as err:  # a refused change names the notification
        err.resource_id, err.resource_name = n.id, n.name
        raise
    ctx.sim.notifier.changed()
    return Reply(200, describe(ctx, n), n.id, n.name)


def _update(ctx, state, body: dict, n: Notification) -> None:
    fields = _fields(ctx, body, n)
    if any(o.name == fields["name"] and o.id != n.id for o in state.notifications.values()):
        raise ApiError(400, "CTS.0400", "The notification name %s already exists."
                       % fields["name"])
    status = body.get("status", n.status)
    if status not in ("enabled", "disabled"):
        raise _bad("status must be enabled or disabled")
    if status == "enabled" and not fields["topic_id"]:
        raise _bad("an enabled notification needs topic_id")
    for key, value in fields.items():
        setattr(n, key, value)
    n.status = status


@handler("ListNotifications")
def list_notifications(ctx):
    kind = ctx.params.get("notification_type")
    if kind not in ("smn", "fun"):
        raise ApiError(400, "CTS.0300", "Query failed: notification_type must be smn or fun.")
    state: State = ctx.state
    name = ctx.query.get("notification_name")
    found = sorted((n for n in state.notifications.values()
                    if n.type == kind and (name is None or n.name == name)),
                   key=lambda n: (n.created_ms, n.name))
    return Reply(200, {"notifications": [describe(ctx, n) for n in found]})


@handler("DeleteNotification")
def delete_notification(ctx):
    state: State = ctx.state
    ids = [i for i in (ctx.query.get("notification_id") or "").split(",") if i]
    if not ids:
        raise ApiError(400, "CTS.0300", "Query failed: notification_id is required.")
    unknown = [i for i in ids if i not in state.notifications]
    if unknown:  # its trace names the notification asked for
        err = _bad("no notification with notification_id %r" % unknown[0])
        err.resource_id = unknown[0]
        raise err
    gone = [state.notifications.pop(i) for i in ids]
    ctx.sim.notifier.changed()
    return Reply(204, None, resources=[(n.id, n.name) for n in gone])


# -- matching ------------------------------------------------------------------------------

def matches(n: Notification, record: dict) -> bool:
    """Whether a management trace is a key event for this notification."""
    if n.status != "enabled" or not n.topic_id:
        return False
    if n.operation_type == "customized" and not any(
            o["service_type"] == record.get("service_type")
            and o["resource_type"] == record.get("resource_type")
            and record.get("trace_name") in o["trace_names"] for o in n.operations):
        return False
    users = [u for group in n.notify_user_list for u in group["user_list"]]
    if users and ((record.get("user") or {}).get("name") not in users):
        return False
    f = n.filter
    if f and f["is_support_filter"] and f["rule"]:
        results = [_rule(rule, record) for rule in f["rule"]]
        return all(results) if f["condition"] == "AND" else any(results)
    return True


def _rule(rule: str, record: dict) -> bool:
    field_, op, value = _RULE.match(rule).groups()
    value = value.strip()
    actual = record.get(field_)
    equal = ("" if actual is None else str(actual)) == value
    return equal if op == "=" else not equal


# -- delivery ------------------------------------------------------------------------------

class Notifier:
    """A thread that matches traces and posts messages; never in the way of an API call."""

    KEPT = 1000

    def __init__(self, sim):
        self.sim = sim
        self.active = False  # any enabled notification anywhere: only then are traces offered
        self.attempts: deque = deque(maxlen=self.KEPT)
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._session = requests.Session()

    def changed(self) -> None:
        """The notifications changed (handlers call this under the simulator's lock)."""
        from simulator.cts.trackers import FAMILY
        self.active = any(n.status == "enabled" and n.topic_id
                          for _, state in self.sim.states_of(FAMILY)
                          for n in state.notifications.values())

    def offer(self, record: dict) -> None:
        """A management trace was stored (called on the request path: it only queues)."""
        with self._lock:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="modelarts-sim-notifier")
                self._thread.start()
        self._queue.put(record)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every offered trace is matched and its deliveries are over (tests, flush)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            try:
                for n in self._matching(record):
                    self._deliver(n, record)
            except Exception:  # a bad notification must not stop the others
                log.exception("a key event notification failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _matching(self, record: dict) -> list[Notification]:
        from simulator.cts.trackers import FAMILY
        with self.sim.lock:  # a copy: matching runs outside the lock
            state = self.sim.state(FAMILY, record.get("project_id"))
            candidates = list(state.notifications.values())
        return [n for n in candidates if matches(n, record)]

    def _deliver(self, n: Notification, record: dict) -> None:
        settings = self.sim.settings.notifications
        topics = settings.get("topics", {})
        url = topics.get(n.topic_id) or topics.get(n.topic_id.rsplit(":", 1)[-1])
        message = {"type": "Notification", "topic_urn": n.topic_id,
                   # a stream of its own: this thread's draws leave the requests' ids alone
                   "message_id": self.sim.ids.stream("notifications").hex(32),
                   "subject": "CTS key event: %s %s" % (
                       record.get("trace_name"), record.get("resource_name") or ""),
                   "message": orjson.dumps(record).decode(),
                   "timestamp": _iso(self.sim.clock.now_ms()),
                   "notification_id": n.id, "notification_name": n.name}
        attempts = int(settings.get("attempts", 4))
        backoff = float(settings.get("backoff_s", 0.5))
        for attempt in range(1, attempts + 1):
            entry = {"notification_id": n.id, "notification_name": n.name,
                     "topic_id": n.topic_id, "trace_id": record.get("trace_id"),
                     "trace_name": record.get("trace_name"), "url": url, "attempt": attempt,
                     "at": self.sim.clock.now_ms()}
            if url is None:
                self._note({**entry, "outcome": "no webhook for this topic "
                            "in [notifications.topics]"})
                return
            try:
                resp = self._session.post(url, data=orjson.dumps(message), timeout=10,
                                          headers={"Content-Type": "application/json",
                                                   "x-smn-message-type": "Notification"})
                ok = 200 <= resp.status_code < 300
                self._note({**entry, "status": resp.status_code,
                            "outcome": "delivered" if ok else "refused"})
            except requests.RequestException as exc:
                ok = False
                self._note({**entry, "outcome": "failed: %s" % type(exc).__name__})
            if ok:
                return
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))

    def _note(self, attempt: dict) -> None:
        """An attempt joins the delivery log as a change of its own: with a data dir it is
        committed (with the id stream its message id came from) as soon as it is made."""
        with self.sim.change():
            self.attempts.append(attempt)


def _iso(ms: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
