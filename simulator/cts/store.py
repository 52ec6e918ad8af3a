"""The trace store: SQLite (WAL on disk, or in memory), keyset pagination on (time, seq).

A trace is committed before `add` returns, so it is on disk (or in the shared in-memory
database) before the response that caused it leaves. Concurrent adds share one write (group
commit): each caller queues its trace and takes the writer's lock; the one that gets it writes
everything queued so far, and the others, when their turn comes, usually find theirs written.
Under load that turns a write, a lock hand-off and a round of GIL switches per trace into one
per batch; waiting on a plain lock runs no Python code, where a condition variable's does.

The layout and its indexes are in `schema.py` (filter values are stored as numbers, from the
`terms` and `listings` tables, which this module keeps a copy of in memory); which index a query
walks, in `planner.py`. The marker a client sees is the trace_id of the page's last trace;
`position` turns it into the (time, seq) the next page starts below.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

from simulator.cts import schema
from simulator.cts.planner import Planner
from simulator.cts.schema import FILTERS, TERM_COLUMNS

DAY_MS = 86_400_000
_CACHE_KIB = 65_536


@dataclass(frozen=True)
class Page:
    records: list[dict]
    marker: str | None  # trace_id of the last record when more pages follow


@dataclass
class _Entry:
    trace_id: str
    listing: tuple[str, str, str]  # project_id, category, tracker_name
    time: int
    values: tuple  # the filter columns' values, in TERM_COLUMNS order
    record: bytes  # the record's JSON
    operator: tuple | None  # (project_id, user_name, time) for the operators table
    kind: tuple  # (project_id, service_type, resource_type)


class TraceStore:
    def __init__(self, path: Path | None = None, retention_days: int = 7):
        self.path = path
        self.retention_ms = retention_days * DAY_MS
        self._lock = threading.Lock()  # the connection and the copies below
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False,
                                       isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-%d" % _CACHE_KIB)
        schema.create(self._db)
        self._load_dictionary()
        empty = self._db.execute("SELECT 1 FROM traces LIMIT 1").fetchone() is None
        self._planner = Planner(empty)
        # what the side tables already hold, so that most writes skip them
        self._seen_operators: dict[tuple[str, str], int] = {}
        self._seen_kinds: set[tuple[str, str, str]] = set()
        # group commit: tickets count the adds queued and the adds written
        self._queue_guard = threading.Lock()  # the queue and _queued
        self._writer = threading.Lock()  # one writer at a time; _written and _failed
        self._queue: list[_Entry] = []
        self._queued = self._written = 0
        self._failed: dict[int, BaseException] = {}  # ticket -> why its write failed
        self._move_earlier()

    def _load_dictionary(self) -> None:
        self._terms: dict[str, dict[str, int]] = {col: {} for col in TERM_COLUMNS}
        for id_, col, value in self._db.execute("SELECT id, col, value FROM terms"):
            self._terms.setdefault(col, {})[value] = id_
        self._listings = {(p, c, t): id_ for id_, p, c, t in self._db.execute(
            "SELECT id, project_id, category, tracker_name FROM listings")}

    def _move_earlier(self) -> None:
        """Store again, in this layout and in one transaction, the traces of an earlier one."""
        earlier = schema.earlier_traces(self._db)
        if earlier is not None:
            entries = [self._entry(orjson.loads(record), category) for category, record in earlier]
            self._write(entries, then=schema.DROP_EARLIER)

    # -- writing -------------------------------------------------------------------------------
    _OPERATOR_GRAIN_MS = 3_600_000  # ListUserResources looks back 30 days: an hour is plenty

    def add(self, record: dict, category: str = "system") -> None:
        """Store one record; it is committed when this returns (or this raises)."""
        entry = self._entry(record, category)
        with self._queue_guard:
            self._queue.append(entry)
            self._queued += 1
            ticket = self._queued
        with self._writer:  # waits, in C, for the write under way: it may well hold this one
            if self._written < ticket:
                with self._queue_guard:
                    batch, self._queue = self._queue, []
                    last = self._queued
                first = last - len(batch) + 1
                try:
                    failures = self._write_batch(batch, first)
                except BaseException as exc:  # interrupted: none of the batch is known written
                    failures = dict.fromkeys(range(first, last + 1), exc)
                self._failed.update(failures)
                self._written = last
            error = self._failed.pop(ticket, None)
        if error is not None:
            raise error

    def _write_batch(self, batch: list[_Entry], first: int) -> dict[int, BaseException]:
        """Write a batch in one transaction; if that fails, each entry alone, so that one bad
        record costs only its own trace. Returns the tickets that failed, and why."""
        try:
            self._write(batch)
            return {}
        except Exception as exc:
            if len(batch) == 1:
                return {first: exc}
        failures = {}
        for n, entry in enumerate(batch):
            try:
                self._write([entry])
            except Exception as exc:
                failures[first + n] = exc
        return failures

    def commit(self, records: list[tuple[dict, str]], rows: list[tuple[str, bytes | None]]
               ) -> None:
        """Store (record, category) pairs and the simulator's state rows (name, bytes; None
        deletes the row) in one transaction: all of it or, raising, none. The rows are kept
        only on disk: an in-memory simulator holds its state in memory already."""
        entries = [self._entry(r, category) for r, category in records]
        if self.path is None or not rows:  # traces alone: the cheaper write add() makes
            if entries:
                self._write(entries)
            return
        with self._lock:
            operators = [e.operator for e in entries if self._needs_operator(e.operator)]
            kinds = [e.kind for e in entries if e.kind not in self._seen_kinds]
            written = self._transaction(entries, operators, kinds, (), rows)
            self._remember(operators, kinds, written)

    def replace(self, traces: list[tuple[int, str, bytes]], state: list[tuple[str, bytes]]
                ) -> None:
        """Everything stored replaced, in one transaction, by these traces ((store position,
        category, record JSON), kept at their positions, so trackers' cursors stay true) and
        state rows: a crash leaves the old store whole or the new one whole."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                for table in schema.TABLES:
                    db.execute("DELETE FROM %s" % table)
                self._terms = {col: {} for col in TERM_COLUMNS}
                self._listings = {}
                rows, operators, kinds = [], {}, set()
                for seq, category, record in traces:
                    e = self._entry(orjson.loads(record), category)
                    rows.append((seq, e.trace_id, self._listing_id(e.listing), e.time,
                                 *[None if v is None else self._term_id(col, v)
                                   for col, v in zip(TERM_COLUMNS, e.values)], record))
                    if e.operator is not None:
                        key = e.operator[:2]
                        operators[key] = max(operators.get(key, e.operator[2]), e.operator[2])
                    kinds.add(e.kind)
                db.executemany(schema.INSERT_AT, rows)
                db.executemany("INSERT INTO operators VALUES (?,?,?)",
                               [(*k, v) for k, v in operators.items()])
                db.executemany("INSERT INTO resource_types VALUES (?,?,?)", sorted(kinds))
                db.executemany("INSERT INTO state VALUES (?, ?)",
                               state if self.path is not None else ())
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                self._load_dictionary()
                raise
            self._seen_operators.clear()
            self._seen_kinds.clear()
            self._planner = Planner(empty=True)
            self._planner.changed([r[1:] for r in rows], 1)

    def state_rows(self) -> dict[str, bytes]:
        """Every state row kept (empty in memory)."""
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM state"))

    def add_many(self, records: list[dict], category: str = "system") -> None:
        """Store records in one transaction: all of them or, on failure, none."""
        self._write([self._entry(r, category) for r in records])

    def add_sorted(self, records: list[dict]) -> None:
        """Like add_many, each record in the category its event_type says (data or
        system)."""
        self._write([self._entry(r, "data" if r.get("event_type") == "data" else "system")
                     for r in records])

    def _write(self, entries: list[_Entry], then: tuple[str, ...] = ()) -> None:
        with self._lock:
            operators = [e.operator for e in entries if self._needs_operator(e.operator)]
            kinds = [e.kind for e in entries if e.kind not in self._seen_kinds]
            if operators or kinds or then or len(entries) > self._ONE_STATEMENT:
                rows = self._transaction(entries, operators, kinds, then)
            else:
                # the common case, in at most two statements that are each a transaction of
                # their own: each statement lets go of the interpreter lock and must win it
                # back, which under load costs more than the statement, so BEGIN and COMMIT
                # are not spent on it. A value numbered for a trace that then fails to store
                # is a harmless spare row of `terms`.
                self._number_new_values(entries)
                rows = self._rows(entries)
                self._db.execute(schema.insert_rows(len(rows)),
                                 [value for row in rows for value in row])
            self._remember(operators, kinds, rows)

    def _remember(self, operators: list, kinds: list, rows: list) -> None:
        """What a write added to the side tables, and to the planner's counts (lock held)."""
        for project_id, user_name, last_seen in operators:
            key = (project_id, user_name)
            self._seen_operators[key] = max(last_seen // self._OPERATOR_GRAIN_MS,
                                            self._seen_operators.get(key, -1))
        self._seen_kinds.update(kinds)
        if rows:
            self._planner.changed(rows, 1)

    _ONE_STATEMENT = 64  # rows; SQLite allows 32,766 parameters a statement

    def _number_new_values(self, entries: list[_Entry]) -> None:
        """Give the values no trace had before their numbers, in one statement (connection lock
        held). An upsert returns the number of a value another connection numbered first."""
        new = {(col, v) for e in entries for col, v in zip(TERM_COLUMNS, e.values)
               if v is not None and v not in self._terms[col]}
        if new:
            sql = ("INSERT INTO terms (col, value) VALUES %s ON CONFLICT (col, value) DO UPDATE "
                   "SET value = excluded.value RETURNING id, col, value"
                   % ",".join(["(?,?)"] * len(new)))
            for id_, col, value in self._db.execute(sql, [x for pair in new for x in pair]):
                self._terms[col][value] = id_
        for e in entries:
            self._listing_id(e.listing)

    def _rows(self, entries: list[_Entry]) -> list[tuple]:
        """The entries' rows, every value's number known."""
        terms = [self._terms[col] for col in TERM_COLUMNS]
        return [(e.trace_id, self._listings[e.listing], e.time,
                 *[None if v is None else known[v] for known, v in zip(terms, e.values)],
                 e.record) for e in entries]

    def _transaction(self, entries: list[_Entry], operators: list, kinds: list,
                     then: tuple[str, ...], state: list | tuple = ()) -> list[tuple]:
        """Write in one transaction, numbering new values on the way. Returns the rows."""
        db = self._db
        db.execute("BEGIN")
        try:
            terms = [self._terms[col] for col in TERM_COLUMNS]
            rows = [(e.trace_id, self._listing_id(e.listing), e.time,
                     *[None if v is None else known.get(v) or self._term_id(col, v)
                       for known, col, v in zip(terms, TERM_COLUMNS, e.values)], e.record)
                    for e in entries]
            db.executemany(schema.INSERT, rows)
            if operators:
                db.executemany(
                    "INSERT INTO operators VALUES (?,?,?) ON CONFLICT(project_id, user_name) "
                    "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)", operators)
            if kinds:
                db.executemany("INSERT OR IGNORE INTO resource_types VALUES (?,?,?)", kinds)
            for statement in then:
                db.execute(statement)
            if state:
                put = [(n, v) for n, v in state if v is not None]
                gone = [(n,) for n, v in state if v is None]
                if put:
                    db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", put)
                if gone:
                    db.executemany("DELETE FROM state WHERE name = ?", gone)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._load_dictionary()  # forget the terms the rollback took back
            raise
        return rows

    # The numbers for values and listings, from the copy in memory, else from the database
    # (another connection to the file may have added them), else new (inside a write).
    _TERM = ("SELECT id FROM terms WHERE col = ? AND value = ?",
             "INSERT INTO terms (col, value) VALUES (?, ?)")
    _LISTING = ("SELECT id FROM listings WHERE project_id = ? AND category = ? AND "
                "tracker_name = ?",
                "INSERT INTO listings (project_id, category, tracker_name) VALUES (?, ?, ?)")

    def _term_id(self, col: str, value: str, create: bool = True) -> int | None:
        return self._number(self._terms[col], value, (col, value), self._TERM, create)

    def _listing_id(self, listing: tuple[str, str, str], create: bool = True) -> int | None:
        return self._number(self._listings, listing, listing, self._LISTING, create)

    def _number(self, known: dict, key, args: tuple, sql: tuple[str, str], create: bool):
        id_ = known.get(key)
        if id_ is None:
            row = self._db.execute(sql[0], args).fetchone()
            if row is not None:
                id_ = row[0]
            elif create:
                id_ = self._db.execute(sql[1], args).lastrowid
            else:
                return None
            known[key] = id_
        return id_

    @staticmethod
    def _entry(r: dict, category: str) -> _Entry:
        user = r.get("user") or {}
        user_name = user.get("name")
        values = (r.get("service_type"), user_name, r.get("resource_id"), r.get("resource_name"),
                  r.get("resource_type"), r.get("trace_name"), r.get("trace_rating"),
                  user.get("access_key_id"), r.get("enterprise_project_id"))
        return _Entry(
            r["trace_id"], (r["project_id"], category, r.get("tracker_name") or "system"),
            r["time"], tuple(v if v is None or isinstance(v, str) else str(v) for v in values),
            orjson.dumps(r), (r["project_id"], user_name, r["time"]) if user_name else None,
            (r["project_id"], r.get("service_type") or "", r.get("resource_type") or ""))

    def _needs_operator(self, operator) -> bool:
        """Whether the operators table lacks this operator's hour (connection lock held)."""
        if operator is None:
            return False
        hour = operator[2] // self._OPERATOR_GRAIN_MS
        return self._seen_operators.get(operator[:2], -1) < hour

    def purge(self, now_ms: int) -> int:
        """Drop what is past retention, and the numbers of the values no trace holds any more,
        in the table and in memory: a store that keeps seeing new ids and names holds what its
        retention holds, not every value it ever saw. Returns how many traces went."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                gone = db.execute("DELETE FROM traces WHERE time <= ? RETURNING %s"
                                  % ", ".join(schema.COLUMNS[:-1]),
                                  (now_ms - self.retention_ms,)).fetchall()
                forgotten = []
                if gone:
                    self._forget_resource_types()
                    forgotten = self._forget_terms(gone)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            # the copies follow only a committed purge: a rolled back one changed nothing
            for col, value in forgotten:
                self._terms[col].pop(value, None)
            if gone:
                self._planner.changed(gone, -1)
                self._seen_kinds.clear()
            return len(gone)

    # which of some values' numbers no trace holds (the column's index, one seek a listing)
    _UNHELD = ("DELETE FROM terms WHERE id IN (SELECT value FROM json_each(?)) AND NOT EXISTS "
               "(SELECT 1 FROM traces INDEXED BY traces_by_{c} WHERE listing IN "
               "(SELECT id FROM listings) AND {c} = terms.id) RETURNING col, value")

    def _forget_terms(self, gone: list[tuple]) -> list[tuple[str, str]]:
        """Delete the numbers of the values the purged rows held that no trace holds now;
        returns their (column, value) (lock held, inside the purge's transaction)."""
        forgotten = []
        for col, at in schema.POSITION.items():
            ids = {row[at] for row in gone} - {None}
            if ids:
                forgotten += self._db.execute(self._UNHELD.format(c=col),
                                              (orjson.dumps(sorted(ids)).decode(),)).fetchall()
        return forgotten

    def _forget_resource_types(self) -> None:
        """Resource types whose every trace expired are no longer listed (lock held)."""
        db = self._db
        for project_id, service, resource in db.execute(
                "SELECT project_id, service_type, resource_type FROM resource_types").fetchall():
            listing = self._listing_id((project_id, "system", "system"), create=False)
            ids = [None if v == "" else self._term_id(col, v, create=False)
                   for col, v in (("service_type", service), ("resource_type", resource))]
            held = listing is not None and None not in ids and db.execute(
                "SELECT 1 FROM traces INDEXED BY traces_by_resource_type WHERE listing = ? "
                "AND resource_type = ? AND service_type = ? LIMIT 1",
                (listing, ids[1], ids[0])).fetchone()
            if not held:
                db.execute("DELETE FROM resource_types WHERE project_id = ? AND service_type = ? "
                           "AND resource_type = ?", (project_id, service, resource))

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("".join("DELETE FROM %s;" % t for t in schema.TABLES))
            self._terms = {col: {} for col in TERM_COLUMNS}
            self._listings.clear()
            self._seen_operators.clear()
            self._seen_kinds.clear()
            self._planner = Planner(empty=True)

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
            listing = self._listing_id((project_id, category, tracker_name), create=False)
            row = listing is not None and self._db.execute(
                "SELECT time, seq FROM traces WHERE trace_id = ? AND listing = ?",
                (trace_id, listing)).fetchone()
        return (row[0], row[1]) if row else None

    def query(self, project_id: str, *, category: str = "system", tracker_name: str = "system",
              after_ms: int, before_ms: int, filters: dict[str, str] | None = None,
              limit: int = 10, marker: tuple[int, int] | None = None,
              trace_id: str | None = None) -> Page:
        """Newest first: time in (after_ms, before_ms), all filters equal, older than marker."""
        with self._lock:
            listing = self._listing_id((project_id, category, tracker_name), create=False)
            columns = {FILTERS[name]: self._term_id(FILTERS[name], value, create=False)
                       for name, value in (filters or {}).items()}
            if listing is None or None in columns.values():
                return Page([], None)  # a project, or a value, that no trace ever had
            sql = ["SELECT trace_id, record FROM traces", "", "WHERE listing = ?"]
            args: list = [listing]
            if trace_id is not None:
                sql.append("AND trace_id = ?")
                args.append(trace_id)
            else:
                sql[1] = "INDEXED BY " + self._planner.index(self._db, listing, columns)
            sql.append("AND time > ? AND time < ?")
            args += [after_ms, before_ms]
            for column, value in columns.items():
                sql.append("AND %s = ?" % column)
                args.append(value)
            if marker is not None:
                sql.append("AND (time < ? OR (time = ? AND seq < ?))")
                args += [marker[0], marker[0], marker[1]]
            sql.append("ORDER BY time DESC, seq DESC LIMIT ?")
            args.append(limit + 1)
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

    def last_seq(self) -> int:
        """The store position of the newest trace (0 when empty): traces recorded later come
        after it, whatever their time."""
        with self._lock:
            return self._db.execute("SELECT coalesce(max(seq), 0) FROM traces").fetchone()[0]

    def after(self, project_id: str, seq: int, limit: int, category: str = "system",
              tracker_name: str = "system") -> list[tuple[int, dict]]:
        """(seq, record) of a listing's traces stored after position seq, in store order."""
        with self._lock:
            listing = self._listing_id((project_id, category, tracker_name), create=False)
            if listing is None:
                return []
            rows = self._db.execute(
                "SELECT seq, record FROM traces WHERE seq > ? AND listing = ? ORDER BY seq "
                "LIMIT ?", (seq, listing, limit)).fetchall()
        return [(s, orjson.loads(r)) for s, r in rows]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM traces").fetchone()[0]
