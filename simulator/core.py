"""The simulator's state: clock, accounts, tokens, trace store and every project's resources.

One instance serves one app (and one generator run). Handlers reach it through their context.
"""

from __future__ import annotations

import threading

from simulator.clock import Clock
from simulator.cts.record import TraceInput, build
from simulator.cts.store import TraceStore
from simulator.identity.accounts import Directory
from simulator.identity.auth import Authenticator
from simulator.identity.tokens import TokenStore
from simulator.ids import IdFactory
from simulator.settings import Settings


class Simulator:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None):
        self.settings = settings or Settings()
        self.clock = clock or Clock()
        self.ids = IdFactory(self.settings.seed)
        self.directory = Directory.load(self.settings.accounts)
        self.tokens = TokenStore(self.directory, self.ids, self.clock, self.settings.token_ttl_s)
        self.auth = Authenticator(self.settings.auth, self.directory, self.tokens, self.clock,
                                  self.settings.signature_max_skew_s)
        data = self.settings.data_path
        self.traces = TraceStore(data / "traces.sqlite3" if data else None,
                                 self.settings.trace_retention_days)
        # serialises changes to resources; handlers run under it
        self.lock = threading.RLock()
        self._states: dict[tuple[str, str], object] = {}
        self._state_factories: dict[str, object] = {}
        self._recorded = 0

    # -- resources -----------------------------------------------------------------------------
    def register_state(self, family: str, factory) -> None:
        self._state_factories[family] = factory

    def state(self, family: str, project_id: str):
        key = (family, project_id)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = self._state_factories[family]()
        return found

    def reset(self) -> None:
        """Everything back to the fixtures: resources, traces, tokens, temporary keys."""
        with self.lock:
            self._states.clear()
            self.traces.clear()
            self.directory = Directory.load(self.settings.accounts)
            self.tokens = TokenStore(self.directory, self.ids, self.clock,
                                     self.settings.token_ttl_s)
            self.auth = Authenticator(self.settings.auth, self.directory, self.tokens,
                                      self.clock, self.settings.signature_max_skew_s)

    # -- traces --------------------------------------------------------------------------------
    def record(self, trace: TraceInput) -> dict:
        """Build one trace and commit it; returns the stored record."""
        rec = build(trace)
        self.traces.add(rec)
        self._recorded += 1
        if self._recorded % 5000 == 0:
            self.traces.purge(self.clock.now_ms())
        return rec

    def close(self) -> None:
        self.traces.close()
