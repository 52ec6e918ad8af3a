"""Asynchronous progress on the simulation clock, and the controls tests use to steer it.

A Progress is a list of statuses with how long each lasts; its status at any instant is read
off the clock, so nothing has to run in the background for resources to move on.

Each family runs its lifecycles in one of three modes:
- ``time``: every status lasts its dwell time (seconds, from the family's DWELL table, which
  ``[lifecycle]`` in the settings file overrides);
- ``immediate``: every asynchronous step is done the instant it starts;
- ``manual``: nothing moves until a test says ``advance`` (or ``fail``) for the resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from simulator.settings import LIFECYCLE_MODES

FOREVER_MS = 10 ** 15  # a manual step's dwell: about 31,000 years


class LifecycleError(ValueError):
    pass


@dataclass
class Progress:
    started_ms: int
    steps: tuple[tuple[object, int], ...]  # (status, dwell ms); the last status is where it rests
    # the watcher (Simulator.watch) whose end this progress runs: how a watcher finds its
    # resource's progress again when both are read back from their rows
    watch: int = field(default=0, compare=False, repr=False)

    @classmethod
    def through(cls, started_ms: int, statuses: tuple, total_s: float) -> "Progress":
        """Spread total_s seconds evenly over every status but the last."""
        moving = max(len(statuses) - 1, 1)
        dwell = int(round(total_s * 1000 / moving))
        return cls(started_ms, tuple((s, dwell) for s in statuses[:-1]) + ((statuses[-1], 0),))

    @classmethod
    def held(cls, started_ms: int, statuses: tuple) -> "Progress":
        """Every status but the last waits for a hand to move it on (manual mode)."""
        return cls(started_ms, tuple((s, FOREVER_MS) for s in statuses[:-1])
                   + ((statuses[-1], 0),))

    @property
    def done_ms(self) -> int:
        return self.started_ms + sum(d for _, d in self.steps[:-1])

    def _index(self, now_ms: int) -> int:
        at = self.started_ms
        for i, (_, dwell) in enumerate(self.steps[:-1]):
            at += dwell
            if now_ms < at:
                return i
        return len(self.steps) - 1

    def status(self, now_ms: int):
        return self.steps[self._index(now_ms)][0]

    @property
    def final(self):
        return self.steps[-1][0]

    def done(self, now_ms: int) -> bool:
        return now_ms >= self.done_ms

    def fraction(self, now_ms: int) -> float:
        total = self.done_ms - self.started_ms
        if total <= 0:
            return 1.0
        return max(0.0, min(1.0, (now_ms - self.started_ms) / total))

    def advance(self, now_ms: int) -> bool:
        """Move on to the next status now; the rest keep their dwell. False when already done."""
        i = self._index(now_ms)
        if i >= len(self.steps) - 1:
            return False
        self.started_ms = now_ms
        self.steps = self.steps[i + 1:]
        return True

    def finish_at(self, now_ms: int, status) -> None:
        """End here and now in `status` (a failure, a stop, a refusal)."""
        self.steps = ((status, 0),)
        self.started_ms = now_ms


@dataclass
class Target:
    """What /_sim/lifecycle can steer in one resource."""
    progress: Progress
    failed_status: object
    on_fail: Callable[[int, str], None] | None = None  # records the reason on the resource


# the functions a lifecycle's end may call (Simulator.watch): the only functions a state row may
# name (simulator/durable/codec.py), so loading a data dir or a snapshot can call nothing else
WATCH_CALLBACKS: set = set()


def watch_callback(fn):
    """Register fn as what a watched lifecycle calls when it ends (see Simulator.watch)."""
    WATCH_CALLBACKS.add(fn)
    return fn


class Steps:
    """A resource that moves through one operation at a time (create, start, stop, ...): steps
    maps each operation to (statuses, dwell time name, status when it fails). The resource keeps
    the operation under way in .operation, its Progress in .progress, when it last changed in
    .updated_ms, and why it failed in the attribute `failure` names (what `reason` makes of the
    message; the message itself by default)."""

    def __init__(self, family: str, steps: dict[str, tuple[tuple, str, object]], failure: str,
                 reason: Callable[[str], object] | None = None):
        self.family = family
        self.steps = steps
        self.failure = failure
        self.reason = reason

    def begin(self, ctx, resource, operation: str) -> None:
        statuses, dwell, _ = self.steps[operation]
        resource.operation = operation
        resource.progress = ctx.sim.lifecycles.progress(self.family, dwell, statuses, ctx.now_ms)
        setattr(resource, self.failure, None)
        resource.updated_ms = ctx.now_ms

    def target(self, resource) -> Target:
        """The operation under way, as /_sim/lifecycle steers it: it fails in its own status,
        recording why."""
        def on_fail(now: int, message: str) -> None:
            setattr(resource, self.failure,
                    message if self.reason is None else self.reason(message))
            resource.updated_ms = now
        return Target(resource.progress, self.steps[resource.operation][2], on_fail)


# kind (e.g. "cluster") -> (family, finder(state, resource_id) -> Target | None)
KINDS: dict[str, tuple[str, Callable]] = {}


def lifecycle_kind(kind: str, family: str):
    """Register how /_sim/lifecycle finds a resource of this kind in a family's state. A kind
    has one finder, as an operation has one handler."""
    def register(fn):
        if kind in KINDS:
            raise KeyError(f"lifecycle kind {kind} is registered twice")
        KINDS[kind] = (family, fn)
        return fn
    return register


class Lifecycles:
    """Per family: the mode and the dwell times. Families declare their defaults (DWELL)."""

    def __init__(self, defaults: dict[str, dict[str, float]], overrides: dict[str, float],
                 mode: str = "time"):
        if mode not in LIFECYCLE_MODES:
            raise LifecycleError("lifecycle mode must be one of %s" % ", ".join(LIFECYCLE_MODES))
        self._family_of = {name: fam for fam, table in defaults.items() for name in table}
        unknown = sorted(set(overrides) - set(self._family_of))
        if unknown:
            raise LifecycleError("unknown lifecycle dwell time(s): %s (known: %s)" % (
                ", ".join(unknown), ", ".join(sorted(self._family_of))))
        self.dwell = {name: float(s) for table in defaults.values() for name, s in table.items()}
        self.dwell.update({k: float(v) for k, v in overrides.items()})
        self.modes = {family: mode for family in defaults}

    def progress(self, family: str, dwell_name: str, statuses: tuple, now_ms: int) -> Progress:
        mode = self.modes[family]
        if mode == "manual":
            return Progress.held(now_ms, statuses)
        seconds = 0.0 if mode == "immediate" else self.dwell[dwell_name]
        return Progress.through(now_ms, statuses, seconds)

    def configure(self, family: str, mode: str | None = None,
                  dwell: dict[str, float] | None = None) -> None:
        if family not in self.modes:
            raise LifecycleError("unknown family %r (known: %s)" % (
                family, ", ".join(sorted(self.modes))))
        if mode is not None:
            if mode not in LIFECYCLE_MODES:
                raise LifecycleError("mode must be one of %s" % ", ".join(LIFECYCLE_MODES))
            self.modes[family] = mode
        for name, seconds in (dwell or {}).items():
            if self._family_of.get(name) != family:
                raise LifecycleError("%s is not a dwell time of %s" % (name, family))
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise LifecycleError("%s must be a number of seconds, zero or more" % name)
            self.dwell[name] = float(seconds)

    def describe(self) -> dict:
        return {family: {"mode": mode,
                         "dwell": {n: self.dwell[n] for n, f in self._family_of.items()
                                   if f == family}}
                for family, mode in sorted(self.modes.items())}
