"""The simulator's state: clock, accounts, tokens, trace store and every project's resources.

One instance serves one app (and one generator run). Handlers reach it through their context.
"""

from __future__ import annotations

import os
import pickle
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
        self._load_resources()

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
            path = self._state_path()
            if path is not None and path.exists():
                path.unlink()
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

    # -- persistence (with --data-dir) ----------------------------------------------------------
    _STATE_FILE = "resources.pickle"
    _STATE_VERSION = 1

    def _state_path(self):
        data = self.settings.data_path
        return data / self._STATE_FILE if data else None

    def _load_resources(self) -> None:
        path = self._state_path()
        if path is None or not path.exists():
            return
        with open(path, "rb") as fh:
            saved = pickle.load(fh)  # the simulator's own file in the user's data dir
        if saved.get("version") == self._STATE_VERSION:
            self._states.update(saved["states"])

    def save_resources(self) -> None:
        """Write every project's resources next to the trace store (atomically)."""
        path = self._state_path()
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        with self.lock:
            blob = pickle.dumps({"version": self._STATE_VERSION, "states": self._states})
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def close(self) -> None:
        self.save_resources()
        self.traces.close()
