"""The run: a simulator on a virtual clock, and the people of an organisation working in it.

Every trace comes from a real call: an Actor sends it through the same scope and role checks,
handlers and record builder as an HTTP request (pipeline.perform), in process. Work is a set of
tasks, generator functions that make calls and yield how many seconds to wait before their
next step; the run takes them in time order from one heap and sets the simulation clock to
each step's instant, so lifecycles move on and asynchronous ends (createClusterResult, a
training job's outputs) happen when the clock says. Records reach the run's emit callback in
the order they are recorded, which is time order.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Callable, Iterator

from simulator import catalog, registry
from simulator.pipeline import Call, perform
from simulator.clock import Clock
from simulator.core import Simulator
from simulator.identity.auth import Caller
from simulator.settings import Settings

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# How long asynchronous steps take in a generated week (seconds): minutes and hours, as in a
# real account, instead of the server's few seconds.
DWELL = {
    "dataset_create": 40.0, "dataset_import": 180.0, "dataset_export": 120.0,
    "dataset_sync": 90.0, "dataset_version": 60.0,
    "devenviron_create": 150.0, "devenviron_start": 60.0, "devenviron_stop": 30.0,
    "notebooks_create": 90.0, "notebooks_start": 60.0, "notebooks_stop": 20.0,
    "notebooks_delete": 15.0,
    "training_jobs_run": 2700.0, "training_jobs_stop": 40.0,
    "training_v2_create": 60.0, "training_v2_pending": 240.0, "training_v2_run": 3000.0,
    "training_v2_terminate": 30.0,
    "visualization_jobs_start": 60.0, "visualization_jobs_restart": 30.0,
    "visualization_jobs_stop": 20.0,
    "models_publish": 90.0, "conversions_run": 420.0,
    "services_deploy": 240.0, "services_batch": 900.0,
    "services_v2_deploy": 240.0, "services_v2_stop": 40.0,
    "clusters_create": 900.0, "pools_create": 900.0, "pools_delete": 300.0,
}

Task = Iterator[float]  # yields the seconds to wait before its next step


@dataclass(frozen=True)
class Label:
    """What labels.jsonl says of a trace a scenario made."""
    scenario: str
    step: str
    actor: str
    is_malicious: bool


class _Sink:
    """The simulator's trace store, for a run: every record goes straight to the run."""

    def __init__(self, run: "Run"):
        self._run = run

    def add(self, record: dict, category: str = "system") -> None:
        self._run.recorded(record, category)

    def purge(self, now_ms: int) -> int:
        return 0

    def close(self) -> None:
        pass


class Run:
    def __init__(self, organisation, *, seed: int, start_ms: int, end_ms: int,
                 emit: Callable[[dict, Label | None], None]):
        self.org = organisation
        self.seed = seed
        self.start_ms, self.end_ms = start_ms, end_ms
        self.emit = emit
        self.clock = Clock(start_ms, frozen=True)
        settings = Settings.load({"seed": seed, "region": organisation.region,
                                  "lifecycle": dict(DWELL)}, env={})
        self.sim = Simulator(settings, self.clock, directory=organisation.directory,
                             traces=_Sink(self))
        self.rng = random.Random("run-%d" % seed)
        self.label: Label | None = None  # the label of the call under way
        self.actor = None  # the Actor whose call is under way
        self.emitted = 0  # traces recorded so far
        self.emitted_ci = 0  # of which by CI robots
        self._queue: list = []
        self._spawned = 0
        self.steps = 0

    # -- tasks -----------------------------------------------------------------------------
    def spawn(self, at_ms: int, task: Task) -> None:
        """Run task from at_ms on (ignored when that is after the window)."""
        if at_ms < self.end_ms:
            self._spawned += 1
            heapq.heappush(self._queue, (max(at_ms, self.clock.now_ms()), self._spawned, task))

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def run(self) -> None:
        queue, clock, end = self._queue, self.clock, self.end_ms
        while queue:
            at, n, task = heapq.heappop(queue)
            if at >= end:
                break
            clock.freeze(at)
            self.steps += 1
            try:
                wait_s = next(task)
            except StopIteration:
                continue
            heapq.heappush(queue, (at + max(1, int(wait_s * 1000)), n, task))
        queue.clear()
        clock.freeze(end - 1)  # what ends inside the window is recorded
        self.sim.settle()

    # -- traces ----------------------------------------------------------------------------
    def recorded(self, record: dict, category: str) -> None:
        self.emitted += 1
        if self.actor is not None and self.actor.persona.role == "ci-robot":
            self.emitted_ci += 1
        self.emit(record, self.label)

    def close(self) -> None:
        self.sim.close()


_ROWS: dict[str, list] = {}


def rows_of(operation_id: str) -> list:
    """The catalog rows served on an operation's method and path (the body picks one)."""
    found = _ROWS.get(operation_id)
    if found is None:
        op = catalog.BY_ID[operation_id]
        found = _ROWS[operation_id] = catalog.routes()[(op.method, op.path)]
    return found


class Actor:
    """A persona's hands: calls made as it, from one of its networks, with its client.

    `via` is "api" (its SDK or CLI, trace type ApiCall) or "console" (ConsoleAction with a
    console session's temporary key); `address` is the source IP of its calls; `label`, when
    set, is written for every trace its calls make."""

    def __init__(self, run: Run, persona, *, address: str, via: str | None = None,
                 access_key: str | None = None, user_agent: str | None = None,
                 label: Label | None = None):
        self.run = run
        self.persona = persona
        self.address = address
        self.via = via or ("console" if persona.client == "console" else "api")
        self.label = label
        self.project_id = persona.project.id
        if self.via == "console":
            key, agent = run.sim.ids.alnum(20).upper(), persona.console_agent
            self.caller = Caller(persona.user, key, "token", None, temporary=True,
                                 session_created_ms=run.now_ms())
            self.trace_type = "ConsoleAction"
        else:
            key, agent = access_key or persona.access_key, persona.user_agent
            self.caller = Caller(persona.user, key, "aksk", None)
            self.trace_type = "ApiCall"
        self.headers = {"user-agent": user_agent or agent}

    @property
    def name(self) -> str:
        return self.persona.name

    def step(self, step: str) -> None:
        """The scenario step the next calls belong to."""
        if self.label is not None:
            self.label = Label(self.label.scenario, step, self.label.actor,
                               self.label.is_malicious)

    def call(self, operation_id: str, body=None, *, query: dict | None = None,
             project_id: str | None = None, **params) -> registry.Reply:
        run, sim = self.run, self.run.sim
        sim.settle()  # what ended on its own before this call is recorded first, unlabelled
        params["project_id"] = project_id or self.project_id
        run.label, run.actor = self.label, self
        try:
            op = catalog.BY_ID[operation_id]  # in process, fault rules see the catalog's path
            return perform(sim, rows_of(operation_id), params, Call(
                self.caller, op.method, op.path, query or {}, body, self.headers,
                sim.clock.now_ms(), sim.ids.request_id(), self.address,
                trace_type=self.trace_type))
        finally:
            run.label = run.actor = None
