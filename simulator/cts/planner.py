"""Which index a ListTraces query walks.

SQLite uses one index per query and, without statistics, picks it by rules of thumb; with
statistics it picks the index whose values select fewest rows *on average*. Neither suits trace
filters, whose values are skewed: `trace_rating=incident` is a needle inside a column of three
values (schema.QUALIFIERS has the pairs that get an index of their own). So the store keeps an
exact count of the traces each filter value selects, per listing (project, category, tracker),
and a query with several filters walks the index whose key selects fewest; the other filters
are checked on the entries it yields (every index carries every filter column).

Listings and values are the store's numbers for them (schema `listings` and `terms`).
"""

from __future__ import annotations

import sqlite3

from simulator.cts.schema import FILTERS, POSITION, QUALIFIERS, paired_index


class Planner:
    """The counts cover every stored trace: read from the database on first use, then kept up
    to date by every add and purge. Only the choice of index depends on them, never an answer:
    a stale count (another process writing the same file) can make a query slower, not wrong."""

    def __init__(self, empty: bool):
        self.counts: dict[tuple, int] | None = {} if empty else None

    def load(self, db: sqlite3.Connection) -> None:
        counts: dict[tuple, int] = {}
        for col in FILTERS.values():
            for listing, value, n in db.execute(
                    "SELECT listing, {c}, count(*) FROM traces INDEXED BY traces_by_{c} "
                    "WHERE {c} IS NOT NULL GROUP BY 1, 2".format(c=col)):
                counts[(listing, col, value)] = n
        for q, (_, paired) in QUALIFIERS.items():
            for col in paired:
                for listing, qvalue, value, n in db.execute(
                        "SELECT listing, {q}, {c}, count(*) FROM traces INDEXED BY {i} "
                        "WHERE {c} IS NOT NULL AND {q} IS NOT NULL GROUP BY 1, 2, 3".format(
                            q=q, c=col, i=paired_index(q, col))):
                    counts[(listing, col, q, qvalue, value)] = n
        self.counts = counts

    def changed(self, rows, step: int) -> None:
        """Count rows in (step 1) or out (step -1); rows have the layout of schema.COLUMNS."""
        counts = self.counts
        if counts is None:
            return
        pairs = [(q, POSITION[q], paired) for q, (_, paired) in QUALIFIERS.items()]
        for row in rows:
            listing = row[1]
            for col, at in POSITION.items():
                value = row[at]
                if value is None:
                    continue
                # a count that reaches nothing goes: the counts hold only what the store holds
                # (and a value's number, given again to another value, starts from nothing)
                key = (listing, col, value)
                n = counts.get(key, 0) + step
                if n:
                    counts[key] = n
                else:
                    del counts[key]
                for q, q_at, paired in pairs:
                    if col in paired and row[q_at] is not None:
                        key = (listing, col, q, row[q_at], value)
                        n = counts.get(key, 0) + step
                        if n:
                            counts[key] = n
                        else:
                            del counts[key]

    def index(self, db: sqlite3.Connection, listing: int, columns: dict[str, int]) -> str:
        """The index to walk for these filters (column -> value): the one selecting fewest."""
        if not columns:
            return "traces_by_time"
        if len(columns) == 1:
            return "traces_by_" + next(iter(columns))
        if self.counts is None:
            self.load(db)
        counts = self.counts
        best, fewest = "", None
        for col, value in columns.items():
            candidates = [("traces_by_" + col, counts.get((listing, col, value), 0))]
            for q, (_, paired) in QUALIFIERS.items():
                if q in columns and col in paired:
                    candidates.append((paired_index(q, col),
                                       counts.get((listing, col, q, columns[q], value), 0)))
            for name, n in candidates:
                if fewest is None or n < fewest:
                    best, fewest = name, n
        return best

