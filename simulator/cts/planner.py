"""Which index a ListTraces query walks.

SQLite uses one index per query and, without statistics, picks it by rules of thumb; with
statistics it picks the index whose values select fewest rows *on average*. Neither suits trace
filters, whose values are skewed: `trace_rating=incident` is a needle inside a column of three
values. So the store keeps an exact count of the traces each filter value selects, per listing
(project, category, tracker), and a query with several filters walks the index whose key
selects fewest; the other filters are checked on the rows it yields.
"""

from __future__ import annotations

import sqlite3

from simulator.cts.schema import FILTERS, POSITION, RATED, RATING


class Planner:
    """The counts cover every stored trace: read from the database on first use, then kept up
    to date by every add and purge. Only the choice of index depends on them, never an answer:
    a stale count (another process writing the same file) can make a query slower, not wrong."""

    def __init__(self, empty: bool):
        self.counts: dict[tuple, int] | None = {} if empty else None

    def load(self, db: sqlite3.Connection) -> None:
        counts: dict[tuple, int] = {}
        for col in FILTERS.values():
            for project, category, tracker, value, n in db.execute(
                    "SELECT project_id, category, tracker_name, {c}, count(*) FROM traces "
                    "INDEXED BY traces_by_{c} WHERE {c} IS NOT NULL "
                    "GROUP BY 1, 2, 3, 4".format(c=col)):
                counts[((project, category, tracker), col, value)] = n
        for col in RATED:
            for project, category, tracker, rating, value, n in db.execute(
                    "SELECT project_id, category, tracker_name, trace_rating, {c}, count(*) "
                    "FROM traces INDEXED BY traces_by_rating_{c} WHERE {c} IS NOT NULL "
                    "AND trace_rating IS NOT NULL GROUP BY 1, 2, 3, 4, 5".format(c=col)):
                counts[((project, category, tracker), col, rating, value)] = n
        self.counts = counts

    def changed(self, rows, step: int) -> None:
        """Count rows in (step 1) or out (step -1); rows have the layout of schema.POSITION."""
        counts = self.counts
        if counts is None:
            return
        for row in rows:
            listing = (row[1], row[2], row[3])
            rating = row[RATING]
            for col, at in POSITION.items():
                value = row[at]
                if value is None:
                    continue
                key = (listing, col, value)
                counts[key] = counts.get(key, 0) + step
                if rating is not None and col in RATED:
                    key = (listing, col, rating, value)
                    counts[key] = counts.get(key, 0) + step

    def index(self, db: sqlite3.Connection, listing: tuple, columns: dict[str, str]) -> str:
        """The index to walk for these filters (column -> value): the one selecting fewest."""
        if len(columns) == 1:
            return "traces_by_" + next(iter(columns))
        if self.counts is None:
            self.load(db)
        counts = self.counts
        rating = columns.get("trace_rating")
        best, fewest = "", None
        for col, value in columns.items():
            candidates = [("traces_by_" + col, counts.get((listing, col, value), 0))]
            if rating is not None and col in RATED:
                candidates.append(("traces_by_rating_" + col,
                                   counts.get((listing, col, rating, value), 0)))
            for name, n in candidates:
                if fewest is None or n < fewest:
                    best, fewest = name, n
        return best
