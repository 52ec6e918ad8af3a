"""Trace files: what an enabled tracker writes into its OBS bucket (reference section 3).

Each transfer takes the traces recorded since the tracker's cursor (store order): the
management traces for the `system` tracker, a data tracker's own data traces for it. It groups
them by service (unless `is_sort_by_service` is false) and by transfer period of their time,
and writes one file per group:

    CloudTraces/{region}/{yyyy}/{mm}/{dd}/{tracker}/{service}/
        {prefix}_CloudTrace_{region}_{yyyy-mm-dd}T{HH-MM-SS}Z_{16 hex}.json.gz

a gzipped JSON array of the records in their file form (keys sorted), named after the end of
its period (or the flush instant, for a period still open) in UTC. Transfers run when the
simulation clock passes a period boundary (the server's ticker looks twice a second) and on
flush (/_sim/flush, shutdown). A disabled tracker transfers nothing; a missing bucket stops
the cursor, and the tracker reports status error / noBucket until the bucket is back.
"""

from __future__ import annotations

import gzip
import threading
from datetime import datetime, timezone

import orjson

from simulator import background
from simulator.cts import digests
from simulator.obs import access

BATCH = 5000  # traces read from the store at a time


class Delivery:
    """Each step of a run (a batch of one tracker's traces, or one hour of its digests) is a
    change of its own, under the simulator's lock, which is let go between steps: after a long
    gap (a year's digests) requests are still answered while the tracker catches up. A step
    reads its tracker afresh, so two runs at once (the ticker's and a flush) take turns, not
    the same traces twice."""

    def __init__(self, sim):
        self.sim = sim

    @property
    def period_ms(self) -> int:
        return int(self.sim.settings.transfer_period_s * 1000)

    def next_boundary(self, now_ms: int) -> int:
        """The first period boundary after now."""
        return (now_ms // self.period_ms + 1) * self.period_ms

    def run(self, flush: bool = False, stop: threading.Event | None = None,
            digests_too: bool = True) -> int:
        """Transfer what is due (everything, with flush), then the digests of the hours that
        are over (unless digests_too is false). Returns the number of files written. With stop
        set, returns between two steps: what is left is still due at the next run."""
        now = self.sim.clock.now_ms()
        written = 0
        for project_id, name in self._trackers():
            steps = [self._transfer_step] + ([self._digest_step] if digests_too else [])
            for step in steps:
                done = False
                while not done and background.go_on(stop):
                    with self.sim.change():  # the files and the tracker's cursors, one commit
                        tracker = self._enabled(project_id, name)
                        files, done = step(project_id, tracker, now, flush) if tracker \
                            else (0, True)
                    written += files
        return written

    def _trackers(self) -> list[tuple[str, str]]:
        from simulator.cts.trackers import FAMILY
        with self.sim.lock:
            return [(project_id, name) for project_id, state in self.sim.states_of(FAMILY)
                    for name in list(state.trackers)]

    def _enabled(self, project_id: str, name: str):
        """The tracker, if it is there and writes files (a request may have changed it since
        the last step)."""
        from simulator.cts.trackers import FAMILY
        state = dict(self.sim.states_of(FAMILY)).get(project_id)
        tracker = state.trackers.get(name) if state is not None else None
        if tracker is None or tracker.status != "enabled" or tracker.obs_info is None:
            return None
        return tracker

    def _digest_step(self, project_id: str, tracker, now: int, flush: bool
                     ) -> tuple[int, bool]:
        """One hour's digests: (files written, whether no hour was left to write)."""
        n = digests.write_hour(self.sim, self.sim.directory.project(project_id), tracker, now)
        return n or 0, n is None

    def _transfer_step(self, project_id: str, tracker, now: int, flush: bool
                       ) -> tuple[int, bool]:
        """One batch of the traces due: (files written, whether the transfer is over: done,
        or put off to a later one by a held upload or a missing bucket)."""
        if not flush and now < tracker.next_transfer_ms:
            return 0, True
        info = tracker.obs_info
        if self._held(project_id, tracker, now):
            return 0, True  # the cursor stays: the traces go out at a later transfer
        project = self.sim.directory.project(project_id)
        # a bucket deleted and taken again by another account is not the tracker's any more
        if access.bucket_owner(self.sim, info["bucket_name"]) != project.domain.id:
            tracker.missing_bucket = True  # the cursor stays: nothing is lost
            return 0, True
        tracker.missing_bucket = False
        # a period closes at its end; a flush also takes the one still open
        until = now + 1 if flush else now // self.period_ms * self.period_ms
        rows = self.sim.traces.after(project_id, tracker.cursor, BATCH, *_listing(tracker))
        due, written = [], 0
        for seq, record in rows:
            if record["time"] >= until:
                break
            due.append((seq, record))
        if due:
            for (service, stamp), records in sorted(self._files(tracker, due, now).items()):
                if not self._write(project, tracker, service, stamp, records):
                    tracker.missing_bucket = True  # gone meanwhile: the cursor stays
                    return written, True
                written += 1
            tracker.cursor = due[-1][0]
            if len(due) == len(rows) == BATCH:
                return written, False  # more may follow, in the next step
        tracker.next_transfer_ms = self.next_boundary(now)
        return written, True

    def _files(self, tracker, due: list[tuple[int, dict]], now: int
               ) -> dict[tuple[str, int], list[dict]]:
        """The records of each file: (service, stamp) -> records, in store order."""
        groups: dict[tuple[str, int], list[dict]] = {}
        by_service = tracker.obs_info.get("is_sort_by_service", True)
        for _, record in due:
            service = record.get("service_type")
            if service in tracker.exclude_service:
                continue
            window_end = (record["time"] // self.period_ms + 1) * self.period_ms
            # without service folders, one file holds every service's traces of a period
            groups.setdefault(((service or "") if by_service else "", min(window_end, now)),
                              []).append(record)
        return groups

    def _held(self, project_id: str, tracker, now: int) -> bool:
        """An injected delivery fault: this upload fails, or uploads wait (simulator/faults)."""
        if now < getattr(tracker, "hold_until_ms", 0):
            return True
        rule = self.sim.faults.for_delivery(project_id)
        if rule is None:
            return False
        if rule.delay_s > 0:
            tracker.hold_until_ms = now + int(rule.delay_s * 1000)
        tracker.next_transfer_ms = self.next_boundary(now)
        return True

    def _write(self, project, tracker, service: str, stamp_ms: int, records) -> bool:
        info = tracker.obs_info
        key = file_key(project.region, tracker.name, service, stamp_ms, info,
                       self.sim.ids.stream("delivery").hex(16))
        gz = info["compress_type"] == "gzip"
        data = encode_file(records, self.sim.settings, stamp_ms, gz)
        if not self.sim.obs_files.write("/%s/%s" % (info["bucket_name"], key), data, {
                "content-type": "application/gzip" if gz else "application/json"}):
            return False
        digests.file_written(tracker, service, stamp_ms, info["bucket_name"], key, data)
        return True


def file_key(region: str, tracker_name: str, service: str, stamp_ms: int, obs_info: dict,
             suffix_hex: str) -> str:
    """Where a tracker puts the trace file of a period that ends (or was flushed) at stamp."""
    when = datetime.fromtimestamp(stamp_ms / 1000, timezone.utc)
    folder = "CloudTraces/%s/%s/%s" % (region, when.strftime("%Y/%m/%d"), tracker_name)
    if obs_info.get("is_sort_by_service", True) and service:
        folder += "/" + service
    gz = obs_info.get("compress_type", "gzip") == "gzip"
    return "%s/%s_CloudTrace_%s_%s_%s.json%s" % (
        folder, obs_info.get("file_prefix_name", ""), region,
        when.strftime("%Y-%m-%dT%H-%M-%SZ"), suffix_hex, ".gz" if gz else "")


def encode_file(records, settings, stamp_ms: int, gz: bool = True) -> bytes:
    """A trace file's bytes: the records' file form, keys sorted, gzipped (mtime = stamp)."""
    body = orjson.dumps([file_form(r, settings) for r in records], option=orjson.OPT_SORT_KEYS)
    return gzip.compress(body, mtime=stamp_ms // 1000) if gz else body


def _listing(tracker) -> tuple[str, str]:
    """(category, tracker name) of the traces a tracker delivers."""
    return ("system", "system") if tracker.type == "system" else ("data", tracker.name)


def file_form(record: dict, settings) -> dict:
    """A record as a trace file holds it: as stored (the newer documented form: code a
    string, user an object), or with code as a number and user as JSON text (the older one)."""
    out = dict(record)
    if settings.trace_file_code == "int" and isinstance(out.get("code"), str) \
            and out["code"].isdigit():
        out["code"] = int(out["code"])
    if settings.trace_file_user == "string" and isinstance(out.get("user"), dict):
        out["user"] = orjson.dumps(out["user"]).decode()
    return out
