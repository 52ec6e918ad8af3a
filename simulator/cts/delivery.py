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

from simulator.cts import digests
from simulator.obs import access

BATCH = 5000  # traces read from the store at a time


class Delivery:
    def __init__(self, sim):
        self.sim = sim
        self._lock = threading.Lock()  # one transfer at a time

    @property
    def period_ms(self) -> int:
        return int(self.sim.settings.transfer_period_s * 1000)

    def next_boundary(self, now_ms: int) -> int:
        """The first period boundary after now."""
        return (now_ms // self.period_ms + 1) * self.period_ms

    def run(self, flush: bool = False) -> int:
        """Transfer what is due (everything, with flush), then the digests of the hours that
        are over. Returns the number of files written."""
        from simulator.cts.trackers import FAMILY
        written = 0
        # trackers change under the simulator's lock; cursors and files are committed together
        with self._lock, self.sim.change():
            now = self.sim.clock.now_ms()
            for project_id, state in self.sim.states_of(FAMILY):
                for tracker in list(state.trackers.values()):
                    if tracker.status != "enabled" or tracker.obs_info is None:
                        continue
                    if flush or now >= tracker.next_transfer_ms:
                        written += self._transfer(project_id, tracker, now, flush)
                    written += digests.write_due(self.sim, self.sim.directory.project(project_id),
                                                 tracker, now)
        return written

    def _transfer(self, project_id: str, tracker, now: int, flush: bool) -> int:
        info = tracker.obs_info
        if self._held(project_id, tracker, now):
            return 0  # the cursor stays: the traces go out at a later transfer
        project = self.sim.directory.project(project_id)
        # a bucket deleted and taken again by another account is not the tracker's any more
        if access.bucket_owner(self.sim, info["bucket_name"]) != project.domain.id:
            tracker.missing_bucket = True  # the cursor stays: nothing is lost
            return 0
        tracker.missing_bucket = False
        # a period closes at its end; a flush also takes the one still open
        until = now + 1 if flush else now // self.period_ms * self.period_ms
        written = 0
        while True:
            rows = self.sim.traces.after(project_id, tracker.cursor, BATCH,
                                         *_listing(tracker))
            due = []
            for seq, record in rows:
                if record["time"] >= until:
                    break
                due.append((seq, record))
            if not due:
                break
            groups: dict[tuple[str, int], list[dict]] = {}
            by_service = info.get("is_sort_by_service", True)
            for _, record in due:
                service = record.get("service_type")
                if service in tracker.exclude_service:
                    continue
                window_end = (record["time"] // self.period_ms + 1) * self.period_ms
                # without service folders, one file holds every service's traces of a period
                groups.setdefault(((service or "") if by_service else "", min(window_end, now)),
                                  []).append(record)
            for (service, stamp), records in sorted(groups.items()):
                if not self._write(project, tracker, service, stamp, records):
                    tracker.missing_bucket = True  # gone meanwhile: the cursor stays
                    return written
                written += 1
            tracker.cursor = due[-1][0]
            if len(due) < len(rows) or len(rows) < BATCH:
                break
        tracker.next_transfer_ms = self.next_boundary(now)
        return written

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
