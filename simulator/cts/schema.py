"""The trace store's tables and indexes.

`traces` holds what a query selects on, one narrow row per trace; the record itself (about
1.5 KB of JSON) lives in `trace_records` under the same seq, so that checking a filter on a
candidate row reads a few dozen bytes, and only the rows of the page fetch their record.

seq is the insertion order (the rowid): among traces of the same millisecond the one recorded
last comes first, so "newest first" holds even on a frozen clock.

Every ListTraces filter has its own composite index led by the columns every query pins
(project, category, tracker), so a page costs an index range scan, never a table scan or OFFSET.
The filters people combine with a rating (a user's warnings, an access key's incidents) also have
an index on the pair: a rare rating inside a common value is otherwise found row by row.
"""

from __future__ import annotations

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
# filters that also have an index on (trace_rating, column): those with many values (any value
# of the others is common anyway)
RATED = ("user_name", "access_key_id", "resource_type", "trace_name")

# a row as the store writes it: trace_id, project_id, category, tracker_name, time, the filter
# columns in FILTERS order, then the record
COLUMNS = ("trace_id", "project_id", "category", "tracker_name", "time", *FILTERS.values())
POSITION = {col: COLUMNS.index(col) for col in FILTERS.values()}
RATING = POSITION["trace_rating"]

INSERT_TRACE = "INSERT INTO traces (%s) VALUES (%s)" % (", ".join(COLUMNS),
                                                       ",".join("?" * len(COLUMNS)))
INSERT_RECORD = "INSERT INTO trace_records (seq, record) SELECT seq, ? FROM traces WHERE trace_id = ?"

_TABLES = """
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL,
    category TEXT NOT NULL,
    tracker_name TEXT NOT NULL,
    time INTEGER NOT NULL,
    service_type TEXT, user_name TEXT, resource_id TEXT, resource_name TEXT,
    resource_type TEXT, trace_name TEXT, trace_rating TEXT, access_key_id TEXT,
    enterprise_project_id TEXT
);
CREATE TABLE IF NOT EXISTS trace_records (seq INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS operators (
    project_id TEXT NOT NULL, user_name TEXT NOT NULL, last_seen INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_name)
);
CREATE TABLE IF NOT EXISTS resource_types (
    project_id TEXT NOT NULL, service_type TEXT NOT NULL, resource_type TEXT NOT NULL,
    PRIMARY KEY (project_id, service_type, resource_type)
);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS traces_by_time ON traces (project_id, category, tracker_name, time);
CREATE INDEX IF NOT EXISTS traces_by_age ON traces (time);
""" + "".join(
    "CREATE INDEX IF NOT EXISTS traces_by_{c} ON traces "
    "(project_id, category, tracker_name, {c}, time);\n".format(c=col)
    for col in FILTERS.values()) + "".join(
    "CREATE INDEX IF NOT EXISTS traces_by_rating_{c} ON traces "
    "(project_id, category, tracker_name, trace_rating, {c}, time);\n".format(c=col)
    for col in RATED)


def create(db: sqlite3.Connection) -> None:
    """Create what is missing, moving a store of the earlier layout (the record inside `traces`)
    to this one first."""
    old = [r[1] for r in db.execute("PRAGMA table_info(traces)")]
    if "record" in old:
        db.executescript(
            "BEGIN;"
            "CREATE TABLE trace_records (seq INTEGER PRIMARY KEY, record BLOB NOT NULL);"
            "INSERT INTO trace_records SELECT seq, record FROM traces;"
            "ALTER TABLE traces DROP COLUMN record;"
            "COMMIT;")
    db.executescript(_TABLES + _INDEXES)
