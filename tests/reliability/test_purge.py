"""A purge shrinks the store to what its retention holds: the `terms` table, its copy in memory
and the planner's counts hold the values of the traces kept, not of every trace ever stored,
and the store still answers every query exactly as a fresh store of the same traces does
(docs/reliability.md)."""

from __future__ import annotations

import itertools
import sqlite3
import threading

import pytest

from simulator.cts.planner import Planner
from simulator.cts.schema import POSITION
from simulator.cts.store import DAY_MS, TraceStore
from tests.test_cts_store import P1, P2, T, query, rec, user, walk

CYCLE_MS = 8 * DAY_MS  # a retention (7 days) and a day: each purge takes the cycle before
PER_CYCLE = 60


def _cycle(c: int) -> list[dict]:
    """A cycle's traces: ids, names, users and access keys of its own beside values every
    cycle shares, and a user who comes back every other cycle (and so is numbered again)."""
    out = []
    for n in range(PER_CYCLE):
        comes_back = "returning" if c % 2 == 0 else "c%d-other" % c
        who = ("admin", "c%d-user%d" % (c, n % 4), comes_back)[n % 3]
        out.append(rec(
            c * 1000 + n, T + c * CYCLE_MS + n * 60_000, project=(P1, P2)[n % 5 == 0],
            user=user(who, ("EA9DJ2SB8WQEE7QK29UO", "C%dAK%d" % (c, n % 3))[n % 2]),
            resource_id="c%d-ds-%d" % (c, n % 7), resource_name="c%d-name-%d" % (c, n % 11),
            resource_type=("dataset", "c%d-type" % c)[n % 4 == 0],
            trace_name=("createLabel", "deleteLabel")[n % 2],
            trace_rating=("normal", "warning", "incident")[n % 3],
            enterprise_project_id=("0", "c%d-ep" % c)[n % 6 == 0],
            tracker_name="system"))
    return out


def _held(store: TraceStore) -> dict:
    """What grows with distinct values: terms rows, their copy in memory, planner counts."""
    with store._lock:
        return {"terms": store._db.execute("SELECT count(*) FROM terms").fetchone()[0],
                "in_memory": sum(len(values) for values in store._terms.values()),
                "counts": len(store._planner.counts)}


def _consistent(store: TraceStore) -> None:
    """The copy in memory is the table, every trace's numbers are in it, and the counts are
    what a count of the table gives."""
    with store._lock:
        db = store._db
        table = {(col, value): id_ for id_, col, value in db.execute(
            "SELECT id, col, value FROM terms")}
        memory = {(col, value): id_ for col, values in store._terms.items()
                  for value, id_ in values.items()}
        assert memory == table
        for col in POSITION:
            assert db.execute("SELECT count(*) FROM traces WHERE %s IS NOT NULL AND %s NOT IN "
                              "(SELECT id FROM terms WHERE col = ?)" % (col, col),
                              (col,)).fetchone() == (0,), col
        fresh = Planner(empty=False)
        fresh.load(db)
        assert store._planner.counts == fresh.counts


def _questions(records: list[dict], gone: list[dict]) -> list[dict]:
    """Queries about the kept traces' values, and about values only purged traces had."""
    asks = [{}]
    for r in records[:12] + gone[:6]:
        asks += [{"resource_id": r["resource_id"]}, {"resource_name": r["resource_name"]},
                 {"user": r["user"]["name"]}, {"access_key_id": r["user"]["access_key_id"]},
                 {"user": r["user"]["name"], "trace_rating": r["trace_rating"]},
                 {"resource_type": r["resource_type"], "enterprise_project_id":
                  r["enterprise_project_id"]},
                 {"trace_name": r["trace_name"], "access_key_id": r["user"]["access_key_id"],
                  "trace_rating": "incident"}]
    return asks


def _answers(store: TraceStore, asks: list[dict]) -> list:
    out = []
    for filters, project in itertools.product(asks, (P1, P2)):
        out.append([(p.records, p.marker) for p in walk(store, 7, project, filters=filters)])
        out.append(query(store, project, filters=filters, limit=200).records)
    return out


@pytest.mark.parametrize("where", ["memory", "file"])
def test_three_retention_cycles_hold_what_one_holds_and_answer_exactly(tmp_path, where):
    store = TraceStore(tmp_path / "traces.sqlite3" if where == "file" else None)
    one_cycle = None
    for c in range(4):
        records = _cycle(c)
        for r in records[:PER_CYCLE // 2]:
            store.add(r)
        store.add_many(records[PER_CYCLE // 2:])
        purged = store.purge(T + c * CYCLE_MS + PER_CYCLE * 60_000)
        assert purged == (PER_CYCLE if c else 0)
        assert store.count() == PER_CYCLE
        _consistent(store)
        if one_cycle is None:
            one_cycle = _held(store)
        assert _held(store) == one_cycle, c
        fresh = TraceStore()
        fresh.add_many(records)
        asks = _questions(records, _cycle(c - 1) if c else [])
        assert _answers(store, asks) == _answers(fresh, asks)
        assert store.resource_types([P1, P2]) == fresh.resource_types([P1, P2])
        fresh.close()
    store.close()


def test_a_purge_that_fails_changes_nothing_the_copies_included():
    store = TraceStore()
    store.add_many(_cycle(0))
    store.add_many(_cycle(1))
    before = _held(store)
    forget = store._forget_terms

    def fails_after_deleting(gone):
        forget(gone)
        raise sqlite3.OperationalError("disk I/O error")

    store._forget_terms = fails_after_deleting
    with pytest.raises(sqlite3.OperationalError):
        store.purge(T + CYCLE_MS + PER_CYCLE * 60_000)
    assert store.count() == 2 * PER_CYCLE and _held(store) == before
    _consistent(store)
    del store._forget_terms
    assert store.purge(T + CYCLE_MS + PER_CYCLE * 60_000) == PER_CYCLE
    _consistent(store)
    store.close()


def test_purges_between_concurrent_group_commits_keep_every_number_true(tmp_path):
    """Writers add traces of new values (shared transactions, single statements, the side
    tables) while purges drop the values of the traces before them: no trace is left holding
    a number the table has dropped or given to another value."""
    store = TraceStore(tmp_path / "traces.sqlite3", retention_days=1)
    errors = []

    def write(worker: int):
        try:
            for i in range(150):
                n = worker * 10_000 + i
                store.add(rec(n, T + i * 60_000, user=user("w%d-u%d" % (worker, i % 5)),
                              resource_id="w%d-ds-%d" % (worker, i), resource_name="n%d" % n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in writers:
        t.start()
    cut = T
    while any(t.is_alive() for t in writers):
        cut += 30 * 60_000
        store.purge(cut + DAY_MS)
    for t in writers:
        t.join()
    assert errors == []
    _consistent(store)
    kept = store.count()
    store.purge(T + 150 * 60_000 + DAY_MS)
    assert store.count() == 0 < kept or kept == 0
    _consistent(store)
    assert _held(store) == {"terms": 0, "in_memory": 0, "counts": 0}
    store.close()
