"""The trace store: SQLite (WAL on disk, or in memory), keyset pagination on (time, seq).

seq is the insertion order (the rowid): among traces of the same millisecond the one recorded
last comes first, so "newest first" holds even on a frozen clock. The marker a client sees is
still the trace_id of the page's last trace.

Every ListTraces filter has its own composite index led by the columns every query pins
(project, category, tracker), so a page costs an index range scan, never a table scan or OFFSET.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

# ListTraces filter name -> column
FILTERS = {
    "service_type": "service_type",
    "user": "user_name",
    "resource_id": "resource_id",
    "resource_name": "resource_name",
    "resource_type": "resource_type",
    "trace_name": "trace_name",
    "trace_rating": "trace_rating",
    "access_key_id": "access_key_id",
    "enterprise_project_id": "enterprise_project_id",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL,
    category TEXT NOT NULL,
    tracker_name TEXT NOT NULL,
    time INTEGER NOT NULL,
    service_type TEXT, user_name TEXT, resource_id TEXT, resource_name TEXT,
    resource_type TEXT, trace_name TEXT, trace_rating TEXT, access_key_id TEXT,
    enterprise_project_id TEXT,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_time
    ON traces (project_id, category, tracker_name, time);
CREATE INDEX IF NOT EXISTS traces_by_age ON traces (time);
CREATE TABLE IF NOT EXISTS operators (
    project_id TEXT NOT NULL, user_name TEXT NOT NULL, last_seen INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_name)
);
CREATE TABLE IF NOT EXISTS resource_types (
    project_id TEXT NOT NULL, service_type TEXT NOT NULL, resource_type TEXT NOT NULL,
    PRIMARY KEY (project_id, service_type, resource_type)
);
""" + "".join(
    "CREATE INDEX IF NOT EXISTS traces_by_{c} ON traces "
    "(project_id, category, tracker_name, {c}, time);\n".format(c=col)
    for col in FILTERS.values())

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Page:
    records: list[dict]
    marker: str | None  # trace_id of the last record when more pages follow


class TraceStore:
    def __init__(self, path: Path | None = None, retention_days: int = 7):
        self.path = path
        self.retention_ms = retention_days * DAY_MS
        self._lock = threading.Lock()
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False,
                                       isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._inserts = 0
        # what the side tables already hold, so that most adds skip them
        self._seen_operators: dict[tuple[str, str], int] = {}
        self._seen_kinds: set[tuple[str, str, str]] = set()

    # -- writing -------------------------------------------------------------------------------
    _INSERT = ("INSERT INTO traces (trace_id, project_id, category, tracker_name, time, "
               "service_type, user_name, resource_id, resource_name, resource_type, trace_name, "
               "trace_rating, access_key_id, enterprise_project_id, record) "
               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    _OPERATOR_GRAIN_MS = 3_600_000  # ListUserResources looks back 30 days: an hour is plenty

    def add(self, record: dict, category: str = "system") -> None:
        """Store one record; it is committed when this returns. The hot path: one statement
        (its own transaction) unless the record brings a new operator hour or resource type."""
        row, operator, kind = self._row(record, category)
        with self._lock:
            extra = self._side_tables(operator, kind)
            if not extra:
                self._db.execute(self._INSERT, row)
                self._inserts += 1
                return
        self.add_many([record], category)

    def add_many(self, records: list[dict], category: str = "system") -> None:
        """Store records in one transaction: all of them or, on failure, none."""
        rows, operators, kinds = [], [], []
        for r in records:
            row, operator, kind = self._row(r, category)
            rows.append(row)
            if operator:
                operators.append(operator)
            kinds.append(kind)
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany(self._INSERT, rows)
                db.executemany(
                    "INSERT INTO operators VALUES (?,?,?) ON CONFLICT(project_id, user_name) "
                    "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)", operators)
                db.executemany("INSERT OR IGNORE INTO resource_types VALUES (?,?,?)", kinds)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                self._seen_operators.clear()
                self._seen_kinds.clear()
                raise
            for project_id, user_name, last_seen in operators:
                self._seen_operators[(project_id, user_name)] = max(
                    last_seen // self._OPERATOR_GRAIN_MS,
                    self._seen_operators.get((project_id, user_name), -1))
            self._seen_kinds.update(kinds)
            self._inserts += len(rows)

    @staticmethod
    def _row(r: dict, category: str):
        user = r.get("user") or {}
        user_name = user.get("name")
        row = (r["trace_id"], r["project_id"], category, r.get("tracker_name") or "system",
               r["time"], r.get("service_type"), user_name, r.get("resource_id"),
               r.get("resource_name"), r.get("resource_type"), r.get("trace_name"),
               r.get("trace_rating"), user.get("access_key_id"), r.get("enterprise_project_id"),
               orjson.dumps(r))
        operator = (r["project_id"], user_name, r["time"]) if user_name else None
        kind = (r["project_id"], r.get("service_type") or "", r.get("resource_type") or "")
        return row, operator, kind

    def _side_tables(self, operator, kind) -> bool:
        """Whether the operators or resource-type tables need this record (lock held)."""
        if kind not in self._seen_kinds:
            return True
        if operator is None:
            return False
        hour = operator[2] // self._OPERATOR_GRAIN_MS
        return self._seen_operators.get(operator[:2], -1) < hour

    def purge(self, now_ms: int) -> int:
        """Drop what is past retention. Returns how many traces went."""
        with self._lock:
            cur = self._db.execute("DELETE FROM traces WHERE time <= ?",
                                   (now_ms - self.retention_ms,))
            if cur.rowcount:
                self._seen_kinds.clear()
                # resource types whose every trace expired are no longer listed
                self._db.execute(
                    "DELETE FROM resource_types WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE "
                    "t.project_id = resource_types.project_id AND t.category = 'system' AND "
                    "t.tracker_name = 'system' AND t.resource_type = resource_types.resource_type "
                    "AND t.service_type = resource_types.service_type)")
            return cur.rowcount

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM traces; DELETE FROM operators; "
                                   "DELETE FROM resource_types;")
            self._seen_operators.clear()
            self._seen_kinds.clear()

    def close(self) -> None:
        with self._lock:
            if self.path is not None:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    # -- reading -------------------------------------------------------------------------------
    def get(self, trace_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM traces WHERE trace_id = ?",
                                   (trace_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def position(self, project_id: str, trace_id: str, category: str = "system",
                 tracker_name: str = "system") -> tuple[int, int] | None:
        """(time, seq) of a trace of this project and listing (a pagination marker), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT time, seq FROM traces WHERE trace_id = ? AND project_id = ? "
                "AND category = ? AND tracker_name = ?",
                (trace_id, project_id, category, tracker_name)).fetchone()
        return (row[0], row[1]) if row else None

    def query(self, project_id: str, *, category: str = "system", tracker_name: str = "system",
              after_ms: int, before_ms: int, filters: dict[str, str] | None = None,
              limit: int = 10, marker: tuple[int, int] | None = None,
              trace_id: str | None = None) -> Page:
        """Newest first: time in (after_ms, before_ms), all filters equal, older than marker."""
        sql = ["SELECT trace_id, record FROM traces WHERE project_id = ? AND category = ? "
               "AND tracker_name = ?"]
        args: list = [project_id, category, tracker_name]
        if trace_id is not None:
            sql.append("AND trace_id = ?")
            args.append(trace_id)
        sql.append("AND time > ? AND time < ?")
        args += [after_ms, before_ms]
        for name, value in (filters or {}).items():
            sql.append("AND %s = ?" % FILTERS[name])
            args.append(value)
        if marker is not None:
            sql.append("AND (time < ? OR (time = ? AND seq < ?))")
            args += [marker[0], marker[0], marker[1]]
        sql.append("ORDER BY time DESC, seq DESC LIMIT ?")
        args.append(limit + 1)
        with self._lock:
            rows = self._db.execute(" ".join(sql), args).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        records = [orjson.loads(r[1]) for r in rows]
        return Page(records, rows[-1][0] if more and rows else None)

    def operators(self, project_id: str, since_ms: int) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT user_name FROM operators WHERE project_id = ? AND last_seen >= ? "
                "ORDER BY user_name", (project_id, since_ms)).fetchall()
        return [r[0] for r in rows]

    def resource_types(self, project_ids: list[str]) -> dict[str, list[str]]:
        if not project_ids:
            return {}
        marks = ",".join("?" * len(project_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT service_type, resource_type FROM resource_types "
                "WHERE project_id IN (%s) ORDER BY service_type, resource_type" % marks,
                project_ids).fetchall()
        out: dict[str, list[str]] = {}
        for service, resource in rows:
            out.setdefault(service, []).append(resource)
        return out

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM traces").fetchone()[0]
