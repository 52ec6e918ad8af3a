"""The trace store's tables and indexes.

A query must be answerable from its index alone until the page is known: a candidate row that
has to be fetched from the table to check the other filters costs a random page read, and a
rare combination of common values reads thousands of them. So every filter index carries every
other filter column, and to keep those entries small the columns hold numbers, not strings:
each (column, value) is a row of `terms`, each (project, category, tracker) a row of `listings`.
Only the rows of the page itself are read from `traces`, for their record.

seq is the insertion order (the rowid): among traces of the same millisecond the one recorded
last comes first, so "newest first" holds even on a frozen clock; each index orders its entries
by (time, seq) after its key, so a page costs one index range walk, never a sort or OFFSET.

Two filters have few values, one of them common and the others rare: the rating (`normal`, and
the rare `warning` and `incident`) and the enterprise project (`0`, and the rare others). People
pair them with the filters of many values (a user's warnings, an access key's incidents), and a
rare value inside a common one would otherwise be looked for entry by entry; so those pairs have
an index too.
"""

from __future__ import annotations

import functools
import sqlite3

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
TERM_COLUMNS = tuple(FILTERS.values())
# columns of few values -> (the short name in index names, the columns each is paired with in an
# index on (qualifier, column)): the filters of many values, but not resource id and name, whose
# every value is rare already
QUALIFIERS = {
    "trace_rating": ("rating", ("user_name", "access_key_id", "resource_type", "trace_name")),
    "enterprise_project_id": ("ep", ("user_name", "access_key_id", "resource_type",
                                     "trace_name")),
}

# a row as the store writes it: seq is given by SQLite
COLUMNS = ("trace_id", "listing", "time", *TERM_COLUMNS, "record")
POSITION = {col: COLUMNS.index(col) for col in TERM_COLUMNS}
INSERT = "INSERT INTO traces (%s) VALUES (%s)" % (", ".join(COLUMNS),
                                                 ",".join("?" * len(COLUMNS)))


# every table a store holds (what clear and replace empty)
TABLES = ("traces", "terms", "listings", "operators", "resource_types", "state")

INSERT_AT = "INSERT INTO traces (seq, %s) VALUES (?, %s)" % (", ".join(COLUMNS),
                                                           ",".join("?" * len(COLUMNS)))


@functools.lru_cache(maxsize=64)
def insert_rows(n: int) -> str:
    """One INSERT statement for n rows: a single statement is a transaction of its own."""
    one = "(%s)" % ",".join("?" * len(COLUMNS))
    return "INSERT INTO traces (%s) VALUES %s" % (", ".join(COLUMNS), ",".join([one] * n))


def paired_index(qualifier: str, column: str) -> str:
    return "traces_by_%s_%s" % (QUALIFIERS[qualifier][0], column)


def _covering(key: tuple[str, ...]) -> str:
    rest = [c for c in TERM_COLUMNS if c not in key]
    return ", ".join(("listing", *key, "time", "seq", *rest))


_TABLES = """
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL UNIQUE,
    listing INTEGER NOT NULL,
    time INTEGER NOT NULL,
    %s,
    record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS listings (
    id INTEGER PRIMARY KEY, project_id TEXT NOT NULL, category TEXT NOT NULL,
    tracker_name TEXT NOT NULL, UNIQUE (project_id, category, tracker_name)
);
CREATE TABLE IF NOT EXISTS terms (
    id INTEGER PRIMARY KEY, col TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (col, value)
);
CREATE TABLE IF NOT EXISTS operators (
    project_id TEXT NOT NULL, user_name TEXT NOT NULL, last_seen INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_name)
);
CREATE TABLE IF NOT EXISTS resource_types (
    project_id TEXT NOT NULL, service_type TEXT NOT NULL, resource_type TEXT NOT NULL,
    PRIMARY KEY (project_id, service_type, resource_type)
);
CREATE TABLE IF NOT EXISTS state (
    name TEXT PRIMARY KEY, value BLOB NOT NULL
) WITHOUT ROWID;
""" % ",\n    ".join("%s INTEGER" % c for c in TERM_COLUMNS)

_INDEXES = """
CREATE INDEX IF NOT EXISTS traces_by_time ON traces (listing, time, seq);
CREATE INDEX IF NOT EXISTS traces_by_age ON traces (time);
""" + "".join(
    "CREATE INDEX IF NOT EXISTS traces_by_%s ON traces (%s);\n" % (col, _covering((col,)))
    for col in TERM_COLUMNS) + "".join(
    "CREATE INDEX IF NOT EXISTS %s ON traces (%s);\n" % (paired_index(q, col),
                                                        _covering((q, col)))
    for q, (_, paired) in QUALIFIERS.items() for col in paired)


def create(db: sqlite3.Connection) -> None:
    """Create what is missing. The tables of an earlier layout are renamed `*_earlier` (their
    indexes dropped) for `earlier_traces` to read and the store to write again."""
    columns = [r[1] for r in db.execute("PRAGMA table_info(traces)")]
    if columns and "listing" not in columns:
        old = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
            "tbl_name IN ('traces', 'trace_records')")]
        db.executescript("BEGIN;" + "".join("DROP INDEX %s;" % name for name in old) +
                         "ALTER TABLE traces RENAME TO traces_earlier;" + (
                             "ALTER TABLE trace_records RENAME TO trace_records_earlier;"
                             if _exists(db, "trace_records") else "") + "COMMIT;")
    db.executescript(_TABLES + _INDEXES)


def earlier_traces(db: sqlite3.Connection) -> list[tuple[str, bytes]] | None:
    """(category, record JSON) of every trace of an earlier layout, oldest first; None if
    there is none. The caller stores them and then runs DROP_EARLIER in the same transaction."""
    if not _exists(db, "traces_earlier"):
        return None
    if _exists(db, "trace_records_earlier"):  # the record in a table of its own
        return db.execute("SELECT t.category, r.record FROM traces_earlier t JOIN "
                          "trace_records_earlier r ON r.seq = t.seq ORDER BY t.seq").fetchall()
    return db.execute("SELECT category, record FROM traces_earlier ORDER BY seq").fetchall()


DROP_EARLIER = ("DROP TABLE IF EXISTS traces_earlier",
                "DROP TABLE IF EXISTS trace_records_earlier")


def _exists(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (table,)).fetchone() is not None
