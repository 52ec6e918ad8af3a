"""The simulator's state: clock, accounts, tokens, trace store and every project's resources.

One instance serves one app (and one generator run). Handlers reach it through their context.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import sqlite3
import threading

import orjson

from simulator.clock import Clock
from simulator import background, catalog, registry
from simulator.cts.record import TraceInput, build, user_info
from simulator.pipeline import trace_input
from simulator.cts import trackers
from simulator.cts.delivery import Delivery
from simulator.cts.digests import Signer
from simulator.cts.notifications import Notifier
from simulator.cts.store import TraceStore
from simulator.durable import codec, image
from simulator.durable.journal import RESOURCE, SCALARS, Journal, parse_row_name, scalars_of
from simulator.durable.obs_rows import ObsRows
from simulator.errors import NotApplied
from simulator.faults import Faults
from simulator.identity.accounts import Directory
from simulator.identity.auth import Authenticator
from simulator.identity.secrets import KnownSecrets
from simulator.identity.tokens import TokenStore
from simulator.ids import IdFactory
from simulator.modelarts.lifecycle import KINDS, LifecycleError, Lifecycles, Target
from simulator.obs import backend as obs
from simulator.obs.files import ObsFiles
from simulator.settings import Settings, SettingsError

log = logging.getLogger("modelarts_sim")

SIMULATOR_KEY = "modelarts_sim"  # where create_app keeps its Simulator in app.extensions


def simulator_of(app) -> "Simulator":
    """The Simulator a Flask app made by create_app serves."""
    return app.extensions[SIMULATOR_KEY]


class DataDirError(SettingsError):
    """A data dir this simulator cannot start from (nothing in it was changed)."""


class Simulator:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None, *,
                 directory: Directory | None = None, traces=None):
        """`directory` replaces the accounts file (the generator's organisation); `traces`
        replaces the trace store with anything that has add(record, category) and
        purge(now_ms) (the generator streams records to its writers, and keeps no state: a
        change is neither journalled nor undone)."""
        self.settings = settings or Settings()
        self.clock = clock or Clock()
        self.ids = IdFactory(self.settings.seed)
        self.directory = directory or Directory.load(self.settings.accounts)
        # what each change touched (durable/journal.py): committed with its trace, undone
        # when that commit fails
        self.journal = Journal() if traces is None else None
        self._change: _Change | None = None
        self.use_accounts(self.directory)
        data = self.settings.data_path
        self.traces = traces if traces is not None else self._open_store(data)
        # serialises changes to resources; handlers run under it
        self.lock = threading.RLock()
        self._states: dict[tuple[str, str], object] = {}
        self._state_factories: dict[str, object] = {}
        self._recorded = 0
        self._purged_ms = 0  # simulation instant of the ticker's last purge
        # a seeded data dir keeps where its ids are with every trace (see record)
        self._seeded = (self.settings.seed is not None and traces is None
                        and self.settings.data_path is not None)
        # lifecycles whose end runs a callback: a heap of (done_ms, n, progress, callback)
        self._watchers: list = []
        self._watched = 0  # n of the last watcher (keeps equal ends in the order watched)
        self._watch_rows = self._track(image.WATCHERS, {})  # n -> (progress, callback)
        self._counted: set[tuple[str, str]] = set()  # project states that hold counters
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
        self.obs_rows = ObsRows(self.obs_account)
        # what ModelArts reads and writes there
        self.obs_files = ObsFiles(self.obs_account, on_change=self.obs_rows.touch)
        if self.journal is not None:
            image.register(self)
            self._load()
        self.notifier.changed()
        with self.change():
            self._make_buckets()

    def use_accounts(self, directory: Directory, keep_tokens: bool = False) -> None:
        """Serve these accounts: their tokens (new, or the ones issued so far) and the
        authenticator that reads both."""
        self.directory = directory
        if keep_tokens:
            self.tokens._directory = directory
        else:
            self.tokens = TokenStore(directory, self.ids, self.clock, self.settings.token_ttl_s,
                                     journal=self.journal)
        self.auth = Authenticator(self.settings.auth, directory, self.tokens, self.clock,
                                  self.settings.signature_max_skew_s)

    def _open_store(self, data):
        path = data / "traces.sqlite3" if data else None
        try:
            return TraceStore(path, self.settings.trace_retention_days)
        except sqlite3.DatabaseError as exc:
            raise DataDirError("%s: not a trace store this simulator can open (%s)"
                               % (path, exc)) from None

    def _track(self, where: tuple, mapping: dict) -> dict:
        return self.journal.track(where, mapping) if self.journal is not None else mapping

    def _load(self) -> None:
        """The data dir's state, as its last commit left it."""
        if self.settings.data_path is None:
            return
        path = self.traces.path
        try:
            saved = self.traces.state_rows()
        except sqlite3.DatabaseError as exc:
            raise DataDirError("%s: its state cannot be read (%s)" % (path, exc)) from None
        if not saved:
            return
        try:
            with self.lock:
                image.load(self, saved, ids=self.settings.seed is not None)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise DataDirError("%s: its state is damaged (%s)" % (path, str(exc)[:200])) \
                from None
        self.journal.reset(saved)

    # -- changes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def change(self):
        """A change to the simulator's state, under its lock: the rows it touched and the
        traces recorded meanwhile are committed in one transaction when it ends, before the
        caller answers. If that commit fails, the change is undone and NotApplied raised. A
        change inside a change is part of it."""
        with self.lock:
            if self._change is not None or self.journal is None:
                yield self._change
                return
            change = self._change = _Change()
            self.journal.writing = True
            try:
                yield change
            except BaseException:
                self.journal.writing = False
                self._change = None
                self._undo(self.journal.pending() + self.obs_rows.pending())
                raise
            self.journal.writing = False
            self._change = None
            self._commit(change)

    def _commit(self, change: "_Change") -> None:
        try:
            rows = self.journal.pending() + self.obs_rows.pending()
        except codec.CodecError:
            log.exception("a change cannot be kept")
            raise
        if not rows and not change.records:
            return
        try:
            self.traces.commit(change.records, rows)
        except Exception as exc:
            self._undo(rows)
            raise NotApplied(str(exc)) from exc
        self.journal.settle(rows)
        self.obs_rows.settle()
        for rec, category in change.records:
            self._recorded += 1
            if self.notifier.active and category == "system":
                self.notifier.offer(rec)

    def _undo(self, rows: list) -> None:
        """Put back what the rows held at the last commit (the lock held)."""
        committed = self.journal.committed
        seen: list = []
        for name, _ in rows:
            if name in (image.ACCOUNTS, image.LIFECYCLES) and name in committed:
                image.put_back(self, name, codec.loads(committed[name]))
                continue
            if name.startswith(SCALARS):
                family, project_id = orjson.loads(name[1:])
                state = self.state(family, project_id)
                if name in committed:
                    vars(state).update(codec.loads(committed[name]))
                else:  # a state no commit held yet: its counters as a new one has them
                    vars(state).update(scalars_of(self._state_factories[family]()))
                continue
            if not name.startswith(RESOURCE):
                continue
            where, key = parse_row_name(name)
            mapping = self._mapping(where)
            if name in committed:
                dict.__setitem__(mapping, key, codec.loads(committed[name], seen))
            else:
                dict.pop(mapping, key, None)
        self.obs_rows.undo(committed)
        self.journal.forget_versions()
        # the heap again from the watchers' rows: one the change added goes with it (its
        # number is not given out again: numbers only ever grow)
        self.put_watchers(dict(self._watch_rows), seen)

    def _mapping(self, where: tuple) -> dict:
        if where == image.TOKENS:
            return self.tokens._tokens
        if where == image.WATCHERS:
            return self._watch_rows
        family, project_id, attr = where
        return getattr(self.state(family, project_id), attr)

    def put_watchers(self, rows: dict, seen: list) -> None:
        """The watchers, from their rows, each on the progress its resource holds (a progress
        decoded in a resource's row is the one /_sim/lifecycle moves)."""
        by_watch = {getattr(p, "watch", 0): p for p in seen if getattr(p, "watch", 0)}
        heap = []
        for n, (progress, callback) in rows.items():
            progress = by_watch.get(getattr(progress, "watch", 0), progress)
            dict.__setitem__(self._watch_rows, n, (progress, callback))
            heap.append((progress.done_ms, n, progress, callback))
        heapq.heapify(heap)
        self._watchers = heap
        self._watched = max([self._watched, *rows])
        self._watchers_moved = True

    # -- resources -----------------------------------------------------------------------------
    def state(self, family: str, project_id: str):
        key = (family, project_id)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = self._state_factories[family]()
            if self.journal is not None:
                for attr, value in vars(found).items():
                    if type(value) is dict:
                        setattr(found, attr, self.journal.track((family, project_id, attr),
                                                                value))
                    else:
                        self._counted.add(key)
        if key in self._counted and self.journal.writing:
            self.journal.reached[key] = found
        return found

    def reset(self) -> None:
        """Everything back to the fixtures: resources, traces, tokens, temporary keys, OBS."""
        with self.lock:
            self._states.clear()
            self._watchers.clear()
            dict.clear(self._watch_rows)
            self.traces.clear()
            obs.reset(self.obs_account)
            if self.journal is not None:
                self.journal.reset({})
                self.obs_rows.load({})
            self.use_accounts(Directory.load(self.settings.accounts))
            self.notifier.changed()
            self.notifier.attempts.clear()
            self.faults.clear()
            if self.settings.seed is not None:
                self.ids.restart()
                self.faults = Faults(self.settings.seed)
            with self.change():
                self._make_buckets()
                self.save_all()

    def save_all(self) -> None:
        """Every row written again at the next commit (a change in progress takes them)."""
        if self.journal is None:
            return
        self.journal.reset({})
        self.obs_rows.load_marks()
        for (family, project_id), state in list(self._states.items()):
            for mapping in vars(state).values():
                mapping._mark_all()
        self.tokens._tokens._mark_all()
        self._watch_rows._mark_all()

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
            n = self._watched
            progress.watch = n
            heapq.heappush(self._watchers, (progress.done_ms, n, progress, callback))
            self._watch_rows[n] = (progress, callback)

    def settle(self, stop: threading.Event | None = None) -> None:
        """Run what the clock says has happened: finished lifecycles whose end the simulator
        itself records (createClusterResult, a training job's output). Runs before every
        request, so it costs one comparison when nothing is due. Each end runs under a lock
        hold of its own, so that a clock move that ends thousands of lifecycles leaves room for
        requests in between; with stop set, settle returns between two ends."""
        try:  # read without the lock: another thread may empty the heap meanwhile
            if self._watchers[0][0] > self.clock.now_ms() and not self._watchers_moved:
                return
        except IndexError:
            return
        now = self.clock.now_ms()
        ran: set[int] = set()
        while background.go_on(stop) and self._end_one(now, ran):
            pass

    def _end_one(self, now: int, ran: set[int]) -> bool:
        """Run the end of the first lifecycle due by now that this settle has not run yet (one
        whose change was undone is back in the heap: it waits for the next settle, and does
        not hold up the others). Returns whether there was one."""
        with self.lock:
            if self._watchers_moved:  # a progress ends at another time than when it was watched
                self._watchers = [(p.done_ms, n, p, cb) for _, n, p, cb in self._watchers]
                heapq.heapify(self._watchers)
                self._watchers_moved = False
            tried = []
            while self._watchers and self._watchers[0][0] <= now \
                    and self._watchers[0][1] in ran:
                tried.append(heapq.heappop(self._watchers))
            due = self._watchers and self._watchers[0][0] <= now
            entry = heapq.heappop(self._watchers) if due else None
            for again in tried:
                heapq.heappush(self._watchers, again)
            if entry is None:
                return False
            _, n, progress, callback = entry
            ran.add(n)
            try:
                with self.change():  # the end and what it records, one commit
                    self._watch_rows.pop(n, None)
                    callback(self, progress.done_ms, progress.final)
            except Exception:  # one broken end must not cost the others, or the request
                log.exception("a lifecycle's end could not be run: %r", callback)
            return True

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
        change = self._change
        if change is None and self._seeded:
            # a seeded simulator commits where its ids are with every trace that used them, so
            # that a restart never draws a stored trace's id again
            with self.change():
                return self.record(trace, category)
        rec = build(trace)
        if change is not None:  # committed with the change's rows, when it ends
            change.records.append((rec, category))
            return rec
        self.traces.add(rec, category)
        if self.notifier.active and category == "system":
            self.notifier.offer(rec)  # matched and delivered on the notifier's thread
        self._recorded += 1
        if self._recorded % 5000 == 0:
            self.traces.purge(self.clock.now_ms())
        return rec

    PURGE_EVERY_MS = 60_000  # of simulation time: the ticker purges at most this often

    def housekeeping(self, stop: threading.Event | None = None) -> None:
        """What the server's ticker runs twice a second: lifecycles that ended, trace files
        and digests that are due, and, once a simulated minute, the traces past retention (an
        idle server keeps none of them: the purge on writes alone ran only every 5,000
        traces). Each piece of work holds the lock on its own; with stop set, this returns
        between two of them."""
        self.settle(stop)
        self.delivery.run(stop=stop)
        if stop is not None and stop.is_set():
            return
        now = self.clock.now_ms()
        if now - self._purged_ms >= self.PURGE_EVERY_MS:
            self._purged_ms = now
            self.traces.purge(now)

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

    def cts_used(self, project_id: str) -> tuple[int, int, int]:
        """(management trackers, data trackers, notifications) of a project, for ListQuotas."""
        found = self._states.get((trackers.FAMILY, project_id))
        kinds = [t.type for t in found.trackers.values()] if found else []
        return (kinds.count(trackers.SYSTEM), kinds.count("data"),
                len(found.notifications) if found else 0)

    def close(self) -> None:
        try:
            self.notifier.wait_idle(timeout=5)  # notifications under way get their chance
            # trackers' files go out before the store closes; digests of hours already over
            # that a catch-up did not reach wait for the next start (the data dir keeps where
            # each tracker is), or a stop would have to write them all first
            self.delivery.run(flush=True, digests_too=False)
            with self.change():
                pass  # what changed outside a change (a notification's attempts)
        finally:
            obs.reset(self.obs_account)  # its memory, and its bucket names, free again
            self.traces.close()


class _Change:
    __slots__ = ("records",)

    def __init__(self):
        self.records: list[tuple[dict, str]] = []  # (record, category), in the order recorded
