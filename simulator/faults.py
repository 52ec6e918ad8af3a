"""Injected faults: rules that make matching calls misbehave on purpose, so that a client's
retries, back-off and alerting can be tested (/_sim/faults, the pytest plugin's fault()).

A rule matches calls by operation or trace name (globs), HTTP method, path (a glob over the
request path), project and user; it applies with a probability (drawn from the rule set's own
seeded random source) to the next `count` matching calls, or until removed. What it does:

- ``status`` (with optional ``code`` and ``message``): the call is answered with that error in
  its API family's own body, and traced as the service records such an answer;
- ``latency_ms``: the call waits that long, then goes on (with or without the above);
- ``drop``: the connection is closed without an answer; the call never reached the service,
  so it leaves no trace;
- ``fail_later`` (a reason): the call succeeds, and the asynchronous lifecycle it started ends
  in failure with that reason instead of success.

Rules with ``target: "delivery"`` apply to trackers' trace-file uploads instead: ``fail``
(the upload fails; the tracker's cursor stays, so the files go out at a later transfer) or
``delay_s`` (uploads wait that many simulation seconds).
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass

from simulator import catalog
from simulator.errors import APIG_INTERNAL, ApiError

MAX_LATENCY_MS = 120_000
# a call carrying this header meets no fault: the pytest plugin's own reads (traces(),
# assert_traced) must see what happened, whatever the code under test is made to meet
BYPASS_HEADER = "X-Modelarts-Sim-No-Faults"
TARGETS = ("api", "delivery")


class FaultError(ValueError):
    pass


@dataclass
class Rule:
    id: str
    target: str = "api"
    operation: str | None = None
    trace_name: str | None = None
    method: str | None = None
    path: str | None = None
    project_id: str | None = None
    user: str | None = None
    probability: float = 1.0
    count: int | None = None  # None: until removed
    status: int | None = None
    code: str | None = None
    message: str | None = None
    latency_ms: int = 0
    drop: bool = False
    fail_later: str | None = None
    fail: bool = False  # delivery
    delay_s: float = 0.0  # delivery
    applied: int = 0

    def describe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, False) or k in (
            "applied", "probability")}

    def matches(self, op, method: str, path: str, project_id: str | None,
                user_name: str | None) -> bool:
        if self.operation is not None and not fnmatch.fnmatchcase(op.operation_id,
                                                                  self.operation):
            return False
        if self.trace_name is not None and not fnmatch.fnmatchcase(op.trace_name or "",
                                                                   self.trace_name):
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.project_id is not None and self.project_id != project_id:
            return False
        return self.user is None or self.user == user_name

    def error(self, op) -> ApiError:
        """The error this rule answers for an operation, in its family's words (a 429 with
        the family's throttling code, a 503 with API Gateway's)."""
        code, message = self.code, self.message
        if self.status == 429 and code is None:
            code, default = op.dialect.throttled
            message = message or default
        elif self.status == 503 and code is None:
            code, message = APIG_INTERNAL[0], message or APIG_INTERNAL[1]
        if code is None:
            code = "%s.%04d" % (op.dialect.prefix, self.status)
        return ApiError(self.status, code, message or "Injected fault (HTTP %d)" % self.status)


_FIELDS = {"target": str, "operation": str, "trace_name": str, "method": str, "path": str,
           "project_id": str, "user": str, "probability": (int, float), "count": int,
           "status": int, "code": str, "message": str, "latency_ms": int, "drop": bool,
           "fail_later": str, "fail": bool, "delay_s": (int, float)}


def parse(spec: dict, rule_id: str) -> Rule:
    """A rule from its JSON form; FaultError says what is wrong."""
    if not isinstance(spec, dict):
        raise FaultError("a fault rule is a JSON object")
    unknown = sorted(set(spec) - set(_FIELDS))
    if unknown:
        raise FaultError("unknown field(s): %s (known: %s)" % (", ".join(unknown),
                                                               ", ".join(sorted(_FIELDS))))
    for key, kind in _FIELDS.items():
        value = spec.get(key)
        if value is not None and (not isinstance(value, kind) or (
                isinstance(value, bool) and kind is not bool)):
            raise FaultError("%s must be a %s" % (key, getattr(kind, "__name__", "number")))
    rule = Rule(rule_id, **{k: v for k, v in spec.items() if v is not None})
    if rule.target not in TARGETS:
        raise FaultError("target must be one of %s" % ", ".join(TARGETS))
    if not 0 < rule.probability <= 1:
        raise FaultError("probability must be more than 0 and at most 1")
    if rule.count is not None and rule.count < 1:
        raise FaultError("count must be at least 1 (leave it out for until removed)")
    if rule.target == "delivery":
        if not (rule.fail or rule.delay_s > 0):
            raise FaultError("a delivery fault says fail: true or delay_s: seconds")
        return rule
    if rule.operation is not None and "*" not in rule.operation and "?" not in rule.operation \
            and "[" not in rule.operation and rule.operation not in catalog.BY_ID:
        raise FaultError("unknown operation %r (operation names are the catalog's, e.g. "
                         "ListTraces, CreateDataset)" % rule.operation)
    if rule.fail_later is not None and rule.operation is not None and not any(
            fnmatch.fnmatchcase(name, rule.operation) for name in FAIL_LATER):
        raise FaultError("%s starts no lifecycle fail_later can fail (those that do: %s)" % (
            rule.operation, ", ".join(sorted(FAIL_LATER))))
    if rule.status is not None and not 400 <= rule.status <= 599:
        raise FaultError("status must be an error status, 400 to 599")
    if not 0 <= rule.latency_ms <= MAX_LATENCY_MS:
        raise FaultError("latency_ms must be between 0 and %d" % MAX_LATENCY_MS)
    actions = [rule.status is not None or rule.latency_ms > 0, rule.drop,
               rule.fail_later is not None]
    if sum(actions) != 1:
        raise FaultError("a rule does one thing: status (and/or latency_ms), drop, or "
                         "fail_later")
    return rule


class Faults:
    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._next = 0

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(self, spec: dict) -> Rule:
        with self._lock:
            rule = parse(spec, "fault-%d" % (self._next + 1))
            self._next += 1
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def _take(self, candidates) -> Rule | None:
        """The first candidate that fires (its probability drawn), its count spent."""
        for rule in candidates:
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            rule.applied += 1
            if rule.count is not None:
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
            return rule
        return None

    def for_call(self, op, method: str, path: str, project_id: str | None,
                 user_name: str | None) -> Rule | None:
        if not self._rules:  # the common case costs one truth test
            return None
        with self._lock:
            return self._take([r for r in self._rules if r.target == "api" and r.matches(
                op, method, path, project_id, user_name) and (
                    r.fail_later is None or op.operation_id in FAIL_LATER)])

    def for_delivery(self, project_id: str) -> Rule | None:
        if not self._rules:
            return None
        with self._lock:
            return self._take([r for r in self._rules if r.target == "delivery" and (
                r.project_id is None or r.project_id == project_id)])


# operation -> (the lifecycle kind it starts, the answer's key that holds that lifecycle's id;
# None: the trace's resource id). Only these can fail later: the others start no lifecycle of
# their own, or one whose id their answer does not give
FAIL_LATER = {
    "CreateDataset": ("dataset", None),
    "CreateImportTask": ("dataset-import", "task_id"),
    "CreateExportTask": ("dataset-export", "task_id"),
    "CreateDatasetVersion": ("dataset-version", "version_id"),
    "CreateDevEnvInstance": ("devenv-instance", None),
    "StartDevEnvInstance": ("devenv-instance", None),
    "CreateNotebook": ("notebook", None),
    "StartNotebook": ("notebook", None),
    "CreateTrainingJob": ("training-job-version", "version_id"),
    "CreateTrainingJobVersion": ("training-job-version", "version_id"),
    "CreateTrainingJobV2": ("training-job-v2", None),
    "CreateVisualizationJob": ("visualization-job", None),
    "CreateModel": ("model", None),
    "CreateConversionTask": ("conversion", None),
    "CreateService": ("service", None),
    "CreateInferService": ("service-v2", None),
    "StartInferService": ("service-v2", None),
    "CreateCluster": ("cluster", None),
    "CreatePool": ("pool", None),
}


def fail_later(sim, op, reply, reason: str) -> bool:
    """Make the lifecycle a call just started end in failure, with the reason, when it would
    have ended (the call itself succeeded). False when there is none it can fail."""
    from simulator.modelarts.lifecycle import KINDS
    kind, key = FAIL_LATER.get(op.operation_id, (None, None))
    if kind is None:
        return False
    body = reply.body if isinstance(reply.body, dict) else {}
    lifecycle_id = body.get(key) if key else reply.resource_id
    if isinstance(lifecycle_id, int) and not isinstance(lifecycle_id, bool):
        lifecycle_id = str(lifecycle_id)  # the old training API numbers its versions
    if not isinstance(lifecycle_id, str) or not lifecycle_id:
        return False
    family, finder = KINDS[kind]
    for _, state in sim.states_of(family):
        target = finder(state, lifecycle_id)
        if target is None:
            continue
        progress = target.progress
        if progress.done(sim.clock.now_ms()):
            return False  # over already: nothing left to fail
        progress.steps = progress.steps[:-1] + ((target.failed_status, 0),)
        if target.on_fail:
            target.on_fail(progress.done_ms, reason)
        return True
    return False
