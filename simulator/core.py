"""The simulator's state: clock, accounts, tokens, trace store and every project's resources.

One instance serves one app (and one generator run). Handlers reach it through their context.
"""

from __future__ import annotations

import heapq
import logging
import os
import pickle
import threading

from simulator.clock import Clock
from simulator import catalog, registry
from simulator.cts.record import TraceInput, build, user_info
from simulator.pipeline import trace_input
from simulator.cts import trackers
from simulator.cts.delivery import Delivery
from simulator.cts.digests import Signer
from simulator.cts.notifications import Notifier
from simulator.cts.store import TraceStore
from simulator.faults import Faults
from simulator.identity.accounts import Directory
from simulator.identity.auth import Authenticator
from simulator.identity.secrets import KnownSecrets
from simulator.identity.tokens import TokenStore
from simulator.ids import IdFactory
from simulator.modelarts.lifecycle import KINDS, LifecycleError, Lifecycles, Target
from simulator.obs import backend as obs
from simulator.obs.files import ObsFiles
from simulator.obs import persistence as obs_saved
from simulator.settings import Settings, SettingsError

log = logging.getLogger("modelarts_sim")

SIMULATOR_KEY = "modelarts_sim"  # where create_app keeps its Simulator in app.extensions


def simulator_of(app) -> "Simulator":
    """The Simulator a Flask app made by create_app serves."""
    return app.extensions[SIMULATOR_KEY]


class Simulator:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None, *,
                 directory: Directory | None = None, traces=None):
        """`directory` replaces the accounts file (the generator's organisation); `traces`
        replaces the trace store with anything that has add(record, category) and
        purge(now_ms) (the generator streams records to its writers)."""
        self.settings = settings or Settings()
        self.clock = clock or Clock()
        self.ids = IdFactory(self.settings.seed)
        self.directory = directory or Directory.load(self.settings.accounts)
        self.tokens = TokenStore(self.directory, self.ids, self.clock, self.settings.token_ttl_s)
        self.auth = Authenticator(self.settings.auth, self.directory, self.tokens, self.clock,
                                  self.settings.signature_max_skew_s)
        data = self.settings.data_path
        self.traces = traces if traces is not None else TraceStore(
            data / "traces.sqlite3" if data else None, self.settings.trace_retention_days)
        # serialises changes to resources; handlers run under it
        self.lock = threading.RLock()
        self._states: dict[tuple[str, str], object] = {}
        self._state_factories: dict[str, object] = {}
        self._recorded = 0
        # lifecycles whose end runs a callback: a heap of (done_ms, n, progress, callback)
        self._watchers: list = []
        self._watched = 0  # n of the last watcher (keeps equal ends in the order watched)
        self._watchers_moved = False  # /_sim/lifecycle changed a progress: re-sort the heap
        modules = registry.family_modules()
        for module in modules:
            self._state_factories[module.FAMILY] = module.State
        self._state_factories[trackers.FAMILY] = trackers.State
        self.delivery = Delivery(self)
        self.signer = Signer(self.settings.data_path)  # signs digest files
        self.notifier = Notifier(self)
        self.faults = Faults(self.settings.seed)  # injected misbehaviour (/_sim/faults)
        self.secrets = KnownSecrets(self)  # what every trace hides by value
        try:
            self.lifecycles = Lifecycles({m.FAMILY: getattr(m, "DWELL", {}) for m in modules},
                                         self.settings.lifecycle, self.settings.lifecycle_mode)
        except LifecycleError as exc:
            raise SettingsError(str(exc)) from exc
        try:
            self.trace_names = catalog.trace_names(self.settings.trace_names)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
        self.obs_account = obs.new_account()  # this simulator's OBS, in moto's backends
        self.obs_files = ObsFiles(self.obs_account)  # what ModelArts reads and writes there
        self._load_resources()
        self.notifier.changed()
        if self.settings.data_path is not None:
            obs_saved.load(self.obs_account, self.settings.data_path)
        self._make_buckets()

    # -- resources -----------------------------------------------------------------------------
    def state(self, family: str, project_id: str):
        key = (family, project_id)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = self._state_factories[family]()
        return found

    def reset(self) -> None:
        """Everything back to the fixtures: resources, traces, tokens, temporary keys, OBS."""
        with self.lock:
            self._states.clear()
            self._watchers.clear()
            self.traces.clear()
            obs.reset(self.obs_account)
            self._make_buckets()
            path = self._state_path()
            if path is not None and path.exists():
                path.unlink()
            self.directory = Directory.load(self.settings.accounts)
            self.tokens = TokenStore(self.directory, self.ids, self.clock,
                                     self.settings.token_ttl_s)
            self.auth = Authenticator(self.settings.auth, self.directory, self.tokens,
                                      self.clock, self.settings.signature_max_skew_s)
            self.notifier.changed()
            self.notifier.attempts.clear()
            self.faults.clear()
            if self.settings.seed is not None:
                self.ids.restart()
                self.faults = Faults(self.settings.seed)

    def _make_buckets(self) -> None:
        for name in self.settings.obs_buckets:
            self.obs_files.make_bucket(name)

    def states_of(self, family: str):
        """(project_id, state) of every project that has resources of this family."""
        return [(pid, st) for (fam, pid), st in list(self._states.items()) if fam == family]

    # -- lifecycles ----------------------------------------------------------------------------
    def watch(self, progress, callback) -> None:
        """Call callback(sim, at_ms, final_status) once progress is done (see settle).

        Watchers are saved with the resources (--data-dir) and in snapshots, so callback must
        pickle: a module-level function marked @watch_callback (the only functions a snapshot
        may name), or functools.partial of one with plain arguments."""
        with self.lock:
            self._watched += 1
            heapq.heappush(self._watchers, (progress.done_ms, self._watched, progress, callback))

    def settle(self) -> None:
        """Run what the clock says has happened: finished lifecycles whose end the simulator
        itself records (createClusterResult, a training job's output). Runs before every
        request, so it costs one comparison when nothing is due."""
        try:  # read without the lock: another thread may empty the heap meanwhile
            if self._watchers[0][0] > self.clock.now_ms() and not self._watchers_moved:
                return
        except IndexError:
            return
        with self.lock:
            now = self.clock.now_ms()
            if self._watchers_moved:  # a progress ends at another time than when it was watched
                self._watchers = [(p.done_ms, n, p, cb) for _, n, p, cb in self._watchers]
                heapq.heapify(self._watchers)
                self._watchers_moved = False
            due = []
            while self._watchers and self._watchers[0][0] <= now:
                due.append(heapq.heappop(self._watchers))
            for _, _, progress, callback in due:  # in the order they ended
                try:
                    callback(self, progress.done_ms, progress.final)
                except Exception:  # one broken end must not cost the others, or the request
                    log.exception("a lifecycle's end could not be run: %r", callback)

    def lifecycle_target(self, kind: str, resource_id: str) -> Target:
        if kind not in KINDS:
            raise LifecycleError("unknown kind %r (known: %s)" % (kind, ", ".join(sorted(KINDS))))
        family, finder = KINDS[kind]
        for _pid, state in self.states_of(family):
            target = finder(state, resource_id)
            if target is not None:
                self._watchers_moved = True  # the caller moves its progress on, under the lock
                return target
        raise LifecycleError("no %s %r" % (kind, resource_id))

    # -- traces --------------------------------------------------------------------------------
    def record(self, trace: TraceInput, category: str = "system") -> dict:
        """Build one trace and commit it (a management trace, or with category "data" a data
        trace of trace.tracker_name); returns the stored record."""
        rec = build(trace)
        self.traces.add(rec, category)
        if self.notifier.active and category == "system":
            self.notifier.offer(rec)  # matched and delivered on the notifier's thread
        self._recorded += 1
        if self._recorded % 5000 == 0:
            self.traces.purge(self.clock.now_ms())
        return rec

    def record_system(self, operation_id: str, project, *, at_ms: int, resource_id: str,
                      resource_name: str, response: dict | None, rating: str, user=None) -> dict:
        """A trace the service records on its own (trace_type SystemAction, no source IP)."""
        trace_id = self.ids.uuid()  # before its request id: a seeded run draws ids as it did
        return self.record(trace_input(
            self, catalog.BY_ID[operation_id], project, trace_id=trace_id, time_ms=at_ms,
            status=200, request_body=None, response_body=response, resource_id=resource_id,
            resource_name=resource_name, request_id=self.ids.request_id(), source_ip="",
            user_agent="", user=user_info(user, user.domain, None) if user is not None else None,
            trace_type="SystemAction", rating=rating))

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
            for progress, callback in saved.get("watchers", []):
                self.watch(progress, callback)

    def save_resources(self) -> None:
        """Write every project's resources next to the trace store (atomically)."""
        path = self._state_path()
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        with self.lock:
            blob = pickle.dumps({"version": self._STATE_VERSION, "states": self._states,
                                 "watchers": [(p, cb) for _, _, p, cb in sorted(
                                     self._watchers, key=lambda w: w[:2])]})
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def cts_used(self, project_id: str) -> tuple[int, int, int]:
        """(management trackers, data trackers, notifications) of a project, for ListQuotas."""
        found = self._states.get((trackers.FAMILY, project_id))
        kinds = [t.type for t in found.trackers.values()] if found else []
        return (kinds.count(trackers.SYSTEM), kinds.count("data"),
                len(found.notifications) if found else 0)

    def close(self) -> None:
        try:
            self.notifier.wait_idle(timeout=5)  # notifications under way get their chance
            self.delivery.run(flush=True)  # trackers' files go out before the state is saved
        finally:  # whatever happened to them, the state and OBS are saved
            try:
                self.save_resources()
                if self.settings.data_path is not None:
                    obs_saved.save(self.obs_account, self.settings.data_path)
            finally:
                obs.reset(self.obs_account)  # its memory, and its bucket names, free again
                self.traces.close()
