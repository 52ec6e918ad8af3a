"""simulator/cts/store.py: the SQLite trace store and its keyset pagination.

Order is newest first by time; among traces of the same millisecond the one stored last comes
first (insertion order, the store's seq), so a frozen clock still lists calls newest first.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import threading
import time

import orjson
import pytest

from simulator.cts.store import DAY_MS, FILTERS, Page, TraceStore

P1 = "cbf27734ac1035250b66402800e03d2c"
P2 = "e0a3a91f2346cc13fc27ed12b10877a9"
P3 = "9394235bbaccfd8a1328d49db94fdc5d"
T = 1_795_000_000_000
EVER = (0, 2 ** 62)  # a window that holds every test record


def user(name="admin", ak="EA9DJ2SB8WQEE7QK29UO"):
    return {"id": "id-" + name, "name": name, "user_name": name, "type": "User",
            "account_id": "f3c95789ace1a9542c5d6baed2eac902",
            "domain": {"id": "f3c95789ace1a9542c5d6baed2eac902", "name": "acme"},
            "access_key_id": ak, "principal_id": "id-" + name,
            "principal_urn": "iam::f3c95789ace1a9542c5d6baed2eac902:user:" + name,
            "principal_is_root_user": "false"}


def rec(n: int, time: int, project: str = P1, **over) -> dict:
    """A whole trace record; n makes the trace id (ids sort as n does)."""
    r = {
        "trace_id": "00000000-0000-4000-8000-%012d" % n,
        "trace_name": "createLabel",
        "trace_rating": "normal",
        "trace_type": "ApiCall",
        "service_type": "ModelArts",
        "resource_type": "dataset",
        "resource_id": "ds-1",
        "resource_name": "flowers",
        "time": time,
        "record_time": time + 3,
        "request": '{"labels":[{"name":"l%d"}]}' % n,
        "response": '{"success":true}',
        "code": "200",
        "api_version": "v2",
        "message": None,
        "source_ip": "127.0.0.1",
        "request_id": "%032x" % n,
        "location_info": None,
        "endpoint": None,
        "resource_url": None,
        "user": user(),
        "enterprise_project_id": "0",
        "read_only": False,
        "operation_id": "CreateLabels",
        "tracker_name": "system",
        "project_id": project,
        "domain_id": "f3c95789ace1a9542c5d6baed2eac902",
        "event_type": "system",
        "user_agent": "tests/1.0",
    }
    r.update(over)
    return r


def newest_first(inserted):
    """The expected order of records given in the order they were stored."""
    order = sorted(enumerate(inserted), key=lambda pair: (pair[1]["time"], pair[0]),
                   reverse=True)
    return [r for _, r in order]


def query(store, project=P1, **kw):
    kw.setdefault("after_ms", EVER[0])
    kw.setdefault("before_ms", EVER[1])
    kw.setdefault("limit", 200)
    return store.query(project, **kw)


def walk(store, limit, project=P1, **kw):
    """Follow markers to the end; returns the pages."""
    pages, marker = [], None
    while True:
        page = query(store, project, limit=limit, marker=marker, **kw)
        pages.append(page)
        if page.marker is None:
            return pages
        assert page.marker == page.records[-1]["trace_id"]
        at = store.position(project, page.marker)
        assert at is not None and at[0] == page.records[-1]["time"]
        marker = at
        assert len(pages) < 1000, "the markers never end"


@pytest.fixture
def store():
    s = TraceStore()
    yield s
    s.close()


# -- ordering and pages ----------------------------------------------------------------------

def test_newest_first_with_ties_broken_by_insertion_order(store):
    records = [rec(3, T), rec(1, T + 5), rec(7, T), rec(2, T + 5), rec(9, T - 1), rec(4, T),
               rec(8, T + 9), rec(5, T - 1)]
    for r in records:  # inserted out of time order, one by one
        store.add(r)
    page = query(store)
    # at T the order is 4, 7, 3 (stored last first), not by trace id (which would be 7, 4, 3)
    assert page == Page([rec(8, T + 9), rec(2, T + 5), rec(1, T + 5), rec(4, T), rec(7, T),
                         rec(3, T), rec(5, T - 1), rec(9, T - 1)], None)


def test_ties_within_one_batch_keep_the_batch_order(store):
    store.add_many([rec(5, T), rec(2, T), rec(9, T)])
    store.add_many([rec(1, T), rec(3, T - 1)])
    assert query(store).records == [rec(1, T), rec(9, T), rec(2, T), rec(5, T), rec(3, T - 1)]


def test_records_come_back_exactly_as_stored(store):
    r = rec(1, T, message=None, read_only=True, user=None, extra_key={"nested": [1, "2", None]},
            request="", response="", location_info="ModelArts.4352")
    store.add(r)
    assert query(store).records == [r]
    assert store.get(r["trace_id"]) == r


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 10, 29, 30, 200])
def test_keyset_paging_sees_every_trace_once(store, limit):
    # 30 traces over 8 instants: many ties, and ties that straddle page boundaries
    records = [rec(n, T + (n * 7919) % 8) for n in range(1, 31)]
    store.add_many(records)
    pages = walk(store, limit)
    seen = [r for p in pages for r in p.records]
    assert seen == newest_first(records)
    assert [len(p.records) for p in pages[:-1]] == [limit] * (len(pages) - 1)
    assert 1 <= len(pages[-1].records) <= limit
    assert len(pages) == -(-30 // limit)
    assert pages[-1].marker is None


def test_marker_is_the_last_trace_of_the_page_and_null_on_the_last_page(store):
    store.add_many([rec(n, T + n) for n in range(1, 6)])
    first = query(store, limit=2)
    assert first == Page([rec(5, T + 5), rec(4, T + 4)], rec(4, 0)["trace_id"])
    second = query(store, limit=2, marker=store.position(P1, first.marker))
    assert second == Page([rec(3, T + 3), rec(2, T + 2)], rec(2, 0)["trace_id"])
    third = query(store, limit=2, marker=store.position(P1, second.marker))
    assert third == Page([rec(1, T + 1)], None)


def test_exactly_limit_pages(store):
    store.add_many([rec(n, T + n) for n in range(1, 7)])
    # 6 traces, limit 6: one page, no marker
    assert query(store, limit=6) == Page(newest_first([rec(n, T + n) for n in range(1, 7)]), None)
    # limit 3: two full pages, the second without a marker (no empty third page)
    pages = walk(store, 3)
    assert [p.records for p in pages] == [[rec(6, T + 6), rec(5, T + 5), rec(4, T + 4)],
                                          [rec(3, T + 3), rec(2, T + 2), rec(1, T + 1)]]
    assert [p.marker for p in pages] == [rec(4, 0)["trace_id"], None]


def test_empty_store_gives_an_empty_page(store):
    assert query(store) == Page([], None)
    assert query(store, limit=1) == Page([], None)


def test_marker_with_tied_times(store):
    store.add_many([rec(n, T) for n in (4, 1, 5, 2, 3)])
    # stored 4, 1, 5, 2, 3 at one instant: listed 3, 2, 5, 1, 4
    page = query(store, limit=2, marker=store.position(P1, rec(5, 0)["trace_id"]))
    assert page == Page([rec(1, T), rec(4, T)], None)
    page = query(store, limit=2, marker=store.position(P1, rec(3, 0)["trace_id"]))
    assert page == Page([rec(2, T), rec(5, T)], rec(5, 0)["trace_id"])
    assert query(store, limit=2, marker=store.position(P1, rec(4, 0)["trace_id"])) == Page(
        [], None)


# -- the window ------------------------------------------------------------------------------

def test_from_and_to_are_exclusive(store):
    store.add_many([rec(n, T + n) for n in range(0, 6)])
    page = query(store, after_ms=T + 1, before_ms=T + 4)
    assert page == Page([rec(3, T + 3), rec(2, T + 2)], None)
    assert query(store, after_ms=T + 2, before_ms=T + 3) == Page([], None)
    assert query(store, after_ms=T - 1, before_ms=T + 6).records == newest_first(
        [rec(n, T + n) for n in range(0, 6)])


def test_window_and_marker_intersect(store):
    store.add_many([rec(n, T + n) for n in range(0, 10)])
    page = query(store, after_ms=T + 2, before_ms=T + 9,
                 marker=store.position(P1, rec(6, 0)["trace_id"]), limit=2)
    assert page == Page([rec(5, T + 5), rec(4, T + 4)], rec(4, 0)["trace_id"])
    page = query(store, after_ms=T + 2, before_ms=T + 9, marker=store.position(P1, page.marker),
                 limit=2)
    assert page == Page([rec(3, T + 3)], None)


# -- filters ---------------------------------------------------------------------------------

def test_the_filters_are_the_listtraces_parameters():
    assert FILTERS == {
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


def _variety():
    """Records that differ in every filtered field; each value is shared by several."""
    out = []
    for n in range(1, 25):
        name = ("admin", "developer", "auditor")[n % 3]
        ak = ("EA9DJ2SB8WQEE7QK29UO", "QQRXI6VBTCJBS73Z4Z61", "NUMLHM5ZME0K1Y5G3C40",
              "TMPAKTEMPORARY000001")[n % 4]
        out.append(rec(
            n, T + n % 5,
            service_type=("ModelArts", "CTS")[n % 2],
            user=user(name, ak),
            resource_id=("ds-1", "ds-2", "ds-3")[n % 3 if n % 2 else (n + 1) % 3],
            resource_name=("flowers", "Flowers", "cars", "")[n % 4],
            resource_type=("dataset", "tracker", "Notebook")[n % 3],
            trace_name=("createLabel", "createDataset", "deleteLabel", "CreateJobV2")[n % 4],
            trace_rating=("normal", "warning", "incident")[(n // 2) % 3],
            enterprise_project_id=("0", "ep-1")[n % 5 == 0],
        ))
    return out


def _field(record, name):
    if name == "user":
        return record["user"]["name"]
    if name == "access_key_id":
        return record["user"]["access_key_id"]
    return record[name]


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_returns_exactly_the_matching_traces(store, name):
    records = _variety()
    store.add_many(records)
    values = sorted({_field(r, name) for r in records})
    assert len(values) >= 2, "the fixture must vary %s" % name
    for value in values + ["no-such-value"]:
        want = newest_first([r for r in records if _field(r, name) == value])
        assert query(store, filters={name: value}).records == want, (name, value)


def test_filters_are_exact_and_case_sensitive(store):
    store.add_many(_variety())
    flowers = query(store, filters={"resource_name": "flowers"}).records
    upper = query(store, filters={"resource_name": "Flowers"}).records
    assert flowers and upper
    assert {r["resource_name"] for r in flowers} == {"flowers"}
    assert {r["resource_name"] for r in upper} == {"Flowers"}
    assert query(store, filters={"resource_name": "flow"}).records == []
    assert query(store, filters={"trace_name": "createlabel"}).records == []


def test_filters_combine_with_and(store):
    records = _variety()
    store.add_many(records)
    want = newest_first([r for r in records if r["service_type"] == "CTS"
                         and r["user"]["name"] == "developer"
                         and r["resource_type"] == "tracker"])
    assert len(want) == 4
    got = query(store, filters={"service_type": "CTS", "user": "developer",
                                "resource_type": "tracker"}).records
    assert got == want
    narrower = [r for r in want if r["trace_name"] == "createDataset"]
    assert len(narrower) == 2
    assert query(store, filters={"service_type": "CTS", "trace_name": "createDataset",
                                 "resource_type": "tracker", "user": "developer"}).records == (
        narrower)
    assert query(store, filters={"service_type": "CTS", "user": "developer",
                                 "resource_type": "Notebook"}).records == []


@pytest.mark.parametrize("names", list(itertools.combinations(sorted(FILTERS), 2)),
                         ids="+".join)
def test_every_pair_of_filters_returns_exactly_the_matching_traces(store, names):
    """Whichever index the planner walks, the other filter is checked on every row."""
    records = _variety()
    store.add_many(records)
    combos = {tuple(_field(r, n) for n in names) for r in records}
    combos |= {(a, b) for a in {_field(r, names[0]) for r in records}
               for b in ("normal", "no-such-value")}  # absent combinations too
    for values in sorted(combos):
        want = newest_first([r for r in records
                             if all(_field(r, n) == v for n, v in zip(names, values))])
        got = query(store, filters=dict(zip(names, values))).records
        assert got == want, (names, values)


def test_filtered_paging(store):
    records = _variety()
    store.add_many(records)
    want = newest_first([r for r in records if r["user"]["name"] == "admin"])
    pages = walk(store, 3, filters={"user": "admin"})
    assert [r for p in pages for r in p.records] == want
    assert pages[-1].marker is None


# -- trace id --------------------------------------------------------------------------------

def test_trace_id_lookup(store):
    store.add_many([rec(n, T + n) for n in range(1, 6)])
    store.add(rec(6, T, project=P2))
    target = rec(3, T + 3)
    assert query(store, trace_id=target["trace_id"]) == Page([target], None)
    assert store.get(target["trace_id"]) == target
    assert store.get("no-such-trace") is None
    assert query(store, trace_id="no-such-trace") == Page([], None)
    # the project still applies
    assert query(store, P2, trace_id=target["trace_id"]) == Page([], None)
    assert query(store, P2, trace_id=rec(6, 0)["trace_id"]) == Page([rec(6, T, project=P2)],
                                                                     None)


def test_position_is_time_and_insertion_order_of_a_trace_of_that_project(store):
    store.add(rec(1, T + 11))
    store.add(rec(2, T + 22, project=P2))
    first, second = store.position(P1, rec(1, 0)["trace_id"]), store.position(
        P2, rec(2, 0)["trace_id"])
    assert first[0] == T + 11 and second[0] == T + 22
    assert first[1] < second[1]
    assert store.position(P2, rec(1, 0)["trace_id"]) is None
    assert store.position(P1, rec(2, 0)["trace_id"]) is None
    assert store.position(P1, "nope") is None


def test_a_marker_belongs_to_one_listing(store):
    """A data trace's id is no marker for the system listing, nor one tracker's for another."""
    store.add(rec(1, T + 1, tracker_name="bucket-log"), category="data")
    store.add(rec(2, T + 2))
    data_id, system_id = rec(1, 0)["trace_id"], rec(2, 0)["trace_id"]
    assert store.position(P1, data_id) is None
    assert store.position(P1, data_id, "data", "bucket-log")[0] == T + 1
    assert store.position(P1, data_id, "data", "other-log") is None
    assert store.position(P1, system_id)[0] == T + 2


def test_purge_forgets_resource_types_whose_traces_all_expired():
    store = TraceStore(retention_days=7)
    store.add(rec(1, T, resource_type="model"))
    store.add(rec(2, T + 5 * DAY_MS))
    assert store.resource_types([P1]) == {"ModelArts": ["dataset", "model"]}
    assert store.purge(T + 7 * DAY_MS) == 1
    assert store.resource_types([P1]) == {"ModelArts": ["dataset"]}
    store.close()


# -- isolation -------------------------------------------------------------------------------

def test_projects_are_isolated(store):
    a = [rec(n, T + n, project=P1) for n in range(1, 4)]
    b = [rec(n, T + n, project=P2) for n in range(4, 6)]
    store.add_many(a + b)
    assert query(store, P1).records == newest_first(a)
    assert query(store, P2).records == newest_first(b)
    assert query(store, P3).records == []
    assert query(store, P2, filters={"user": "admin"}).records == newest_first(b)


def test_category_and_tracker_are_isolated(store):
    system = [rec(1, T + 1), rec(2, T + 2)]
    data_a = [rec(3, T + 3, tracker_name="bucket-audit", event_type="data"),
              rec(4, T + 4, tracker_name="bucket-audit", event_type="data")]
    data_b = [rec(5, T + 5, tracker_name="other", event_type="data")]
    store.add_many(system)
    store.add_many(data_a, category="data")
    store.add(data_b[0], category="data")
    assert query(store).records == newest_first(system)
    assert query(store, category="system", tracker_name="system").records == newest_first(system)
    assert query(store, category="data", tracker_name="bucket-audit").records == newest_first(
        data_a)
    assert query(store, category="data", tracker_name="other").records == data_b
    assert query(store, category="data", tracker_name="system").records == []
    assert query(store, category="system", tracker_name="bucket-audit").records == []


def test_a_record_without_tracker_name_is_filed_under_system(store):
    r = rec(1, T)
    del r["tracker_name"]
    store.add(r)
    assert query(store).records == [r]


# -- writing ---------------------------------------------------------------------------------

def test_add_many_is_all_or_nothing(store):
    store.add(rec(1, T))
    with pytest.raises(sqlite3.IntegrityError):
        store.add_many([rec(2, T + 2, user=user("developer")), rec(1, T + 1)])
    assert store.count() == 1
    assert query(store).records == [rec(1, T)]
    assert store.operators(P1, 0) == ["admin"]
    # and the store still works
    store.add(rec(3, T + 3))
    assert store.count() == 2


def test_count_and_clear(store):
    store.add_many([rec(n, T, project=(P1, P2)[n % 2]) for n in range(10)])
    assert store.count() == 10
    store.clear()
    assert store.count() == 0
    assert query(store).records == []
    assert store.operators(P1, 0) == []
    assert store.resource_types([P1, P2]) == {}


# -- retention -------------------------------------------------------------------------------

def test_purge_drops_what_is_past_retention():
    store = TraceStore(retention_days=7)
    now = T + 30 * DAY_MS
    edge = now - 7 * DAY_MS
    kept = [rec(3, edge + 1), rec(4, now), rec(5, now - DAY_MS, project=P2)]
    store.add_many([rec(1, edge - 1), rec(2, edge)] + kept)
    assert store.purge(now) == 2
    assert store.count() == 3
    assert query(store).records == newest_first(kept[:2])
    assert query(store, P2).records == [kept[2]]
    assert store.get(rec(2, 0)["trace_id"]) is None
    assert store.purge(now) == 0
    store.close()


def test_purge_with_another_retention():
    store = TraceStore(retention_days=1)
    assert store.retention_ms == DAY_MS
    store.add_many([rec(1, T - DAY_MS), rec(2, T - DAY_MS + 1)])
    assert store.purge(T) == 1
    assert query(store).records == [rec(2, T - DAY_MS + 1)]
    store.close()


# -- operators and resource types ------------------------------------------------------------

def test_operators(store):
    store.add_many([
        rec(1, T + 100, user=user("developer")),
        rec(2, T + 50, user=user("admin")),
        rec(3, T + 10, user=user("admin")),  # an older call does not move last_seen back
        rec(4, T + 5, user=user("auditor")),
        rec(5, T + 200, user=None),  # no user: no operator
        rec(6, T + 300, project=P2, user=user("mallory")),
    ])
    assert store.operators(P1, 0) == ["admin", "auditor", "developer"]
    assert store.operators(P1, T + 6) == ["admin", "developer"]
    assert store.operators(P1, T + 50) == ["admin", "developer"]
    assert store.operators(P1, T + 51) == ["developer"]
    assert store.operators(P1, T + 101) == []
    assert store.operators(P2, 0) == ["mallory"]
    assert store.operators(P3, 0) == []


def test_resource_types(store):
    store.add_many([
        rec(1, T, resource_type="dataset"),
        rec(2, T, resource_type="dataset"),
        rec(3, T, resource_type="Notebook"),
        rec(4, T, project=P2, resource_type="model"),
        rec(5, T, project=P2, service_type="CTS", resource_type="tracker"),
        rec(6, T, project=P3, service_type="IAM", resource_type="user"),
    ])
    assert store.resource_types([P1]) == {"ModelArts": ["Notebook", "dataset"]}
    assert store.resource_types([P1, P2]) == {"CTS": ["tracker"],
                                              "ModelArts": ["Notebook", "dataset", "model"]}
    assert list(store.resource_types([P1, P2, P3])) == ["CTS", "IAM", "ModelArts"]
    assert store.resource_types([]) == {}
    assert store.resource_types(["0" * 32]) == {}


# -- on disk ---------------------------------------------------------------------------------

def _load(store):
    records = ([rec(n, T + n % 4, user=user(("admin", "developer")[n % 2])) for n in range(40)]
               + [rec(100 + n, T + n, project=P2, resource_type="model") for n in range(5)])
    store.add_many(records[:20])
    for r in records[20:]:
        store.add(r)
    store.add(rec(200, T + 1, tracker_name="bucket-audit"), category="data")
    return records


def _check(store, records):
    assert store.count() == 46
    assert [r for p in walk(store, 7) for r in p.records] == newest_first(
        [r for r in records if r["project_id"] == P1])
    assert query(store, P2).records == newest_first(
        [r for r in records if r["project_id"] == P2])
    assert query(store, category="data", tracker_name="bucket-audit").records == [
        rec(200, T + 1, tracker_name="bucket-audit")]
    assert store.operators(P1, 0) == ["admin", "developer"]
    assert store.resource_types([P1, P2]) == {"ModelArts": ["dataset", "model"]}


def test_a_file_store_survives_close_and_reopen(tmp_path):
    path = tmp_path / "nested" / "dir" / "traces.sqlite3"  # the parents are created
    store = TraceStore(path)
    records = _load(store)
    _check(store, records)
    store.close()

    again = TraceStore(path)
    _check(again, records)
    # stored after the reopen at an instant that already has traces: it still comes first
    again.add(rec(300, T + 3))
    again.close()
    third = TraceStore(path)
    assert third.count() == 47
    assert query(third).records == newest_first(
        [r for r in records if r["project_id"] == P1] + [rec(300, T + 3)])
    assert query(third, limit=1).records == [rec(300, T + 3)]
    third.close()


def test_a_closed_file_store_is_whole_in_its_main_file(tmp_path):
    """After close, nothing is left behind in the write-ahead log: the .sqlite3 file alone
    holds every trace (it can be copied or backed up on its own)."""
    path = tmp_path / "traces.sqlite3"
    store = TraceStore(path)
    records = _load(store)
    store.close()
    copy = tmp_path / "copy" / "traces.sqlite3"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    moved = TraceStore(copy)
    _check(moved, records)
    moved.close()


def test_a_file_store_commits_on_add(tmp_path):
    path = tmp_path / "traces.sqlite3"
    writer = TraceStore(path)
    reader = TraceStore(path)  # a second connection sees each add as soon as it returns
    writer.add(rec(1, T))
    assert query(reader).records == [rec(1, T)]
    writer.add_many([rec(2, T + 1), rec(3, T + 2)])
    assert query(reader).records == [rec(3, T + 2), rec(2, T + 1), rec(1, T)]
    reader.close()
    writer.close()


# -- group commit ----------------------------------------------------------------------------

def test_concurrent_adds_are_each_committed_before_they_return(tmp_path):
    """Adds from many threads share transactions, yet each returns only once its own trace
    is committed: another connection to the file sees it at that moment."""
    path = tmp_path / "traces.sqlite3"
    writer, reader = TraceStore(path), TraceStore(path)
    missing, errors = [], []

    def work(worker: int):
        try:
            for i in range(40):
                r = rec(worker * 1000 + i, T + i, user=user("u%d" % worker))
                writer.add(r)
                if reader.get(r["trace_id"]) != r:
                    missing.append(r["trace_id"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and missing == []
    assert reader.count() == 320
    assert reader.operators(P1, 0) == sorted("u%d" % w for w in range(8))
    reader.close()
    writer.close()


def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the writers never got there"
        time.sleep(0.001)


def test_a_bad_record_in_a_shared_transaction_fails_only_its_own_add(store):
    """While one write is under way three adds queue up; the next writer takes them as one
    batch, which fails on the duplicate; the two good ones are still stored."""
    store.add(rec(1, T))
    release = threading.Event()
    write = store._write

    def slow_write(entries):
        if entries[0].trace_id == rec(2, 0)["trace_id"]:
            release.wait(10)
        write(entries)

    store._write = slow_write
    outcome = {}

    def add(n, r):
        try:
            store.add(r)
            outcome[n] = "stored"
        except sqlite3.IntegrityError:
            outcome[n] = "refused"

    leader = threading.Thread(target=add, args=(2, rec(2, T + 2)))
    leader.start()
    _until(store._writer.locked)
    queued = [threading.Thread(target=add, args=(n, r)) for n, r in (
        (3, rec(3, T + 3)), (1, rec(1, T + 9)), (4, rec(4, T + 4)))]
    for t in queued:
        t.start()
    _until(lambda: len(store._queue) == 3)
    release.set()
    for t in [leader, *queued]:
        t.join()
    assert outcome == {2: "stored", 3: "stored", 1: "refused", 4: "stored"}
    assert query(store).records == newest_first([rec(1, T), rec(2, T + 2), rec(3, T + 3),
                                                 rec(4, T + 4)])


def test_a_trace_costs_one_statement_two_with_new_values_a_transaction_for_side_tables(store):
    statements = []
    store._db.set_trace_callback(statements.append)
    store.add(rec(1, T))  # a first operator and resource type: side tables, one transaction
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    statements.clear()
    store.add(rec(2, T + 1))  # the same values: one INSERT, its own transaction
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO traces")
    statements.clear()
    other = rec(3, T + 2, resource_id="ds-2", resource_name="tulips")
    store.add(other)  # two values never seen: numbered in one statement, then the INSERT
    assert len(statements) == 2 and statements[0].startswith("INSERT INTO terms")
    assert statements[1].startswith("INSERT INTO traces")
    statements.clear()
    newcomer = rec(4, T + 3, user={**rec(4, T)["user"], "name": "someone-new"})
    store.add(newcomer)  # a new operator
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    store._db.set_trace_callback(None)
    assert query(store).records == newest_first([rec(1, T), rec(2, T + 1), other, newcomer])
    assert query(store, filters={"resource_name": "tulips"}).records == [other]
    assert query(store, filters={"user": "someone-new"}).records == [newcomer]
    assert _fresh_counts(store) == {k: v for k, v in store._planner.counts.items() if v}


def test_a_value_numbered_for_a_trace_that_failed_is_reused(store):
    store.add(rec(1, T))
    with pytest.raises(sqlite3.IntegrityError):  # the same trace id again, with a new name
        store.add(rec(1, T + 1, resource_name="orphan"))
    store.add(rec(2, T + 2, resource_name="orphan"))
    assert query(store, filters={"resource_name": "orphan"}).records == [
        rec(2, T + 2, resource_name="orphan")]
    assert store._db.execute("SELECT count(*) FROM terms WHERE value = 'orphan'").fetchone() == (1,)


# -- the planner -----------------------------------------------------------------------------

def _fresh_counts(store):
    from simulator.cts.planner import Planner
    fresh = Planner(empty=False)
    fresh.load(store._db)
    return {k: v for k, v in fresh.counts.items() if v}


def test_the_planner_counts_stay_exact_through_add_purge_and_clear():
    store = TraceStore(retention_days=7)
    records = _variety()
    store.add_many(records[:10])
    for r in records[10:]:
        store.add(r)
    counts = lambda: {k: v for k, v in store._planner.counts.items() if v}  # noqa: E731
    assert counts() == _fresh_counts(store)
    admin = store._terms["user_name"]["admin"]
    assert counts()[(store._listings[(P1, "system", "system")], "user_name", admin)] == 8
    assert store.purge(T + 3 + 7 * DAY_MS) > 0
    assert counts() == _fresh_counts(store)
    store.clear()
    assert counts() == {}
    store.close()


def test_the_planner_walks_the_index_that_selects_fewest(store):
    common = [rec(n, T + n, user=user("admin")) for n in range(1, 40)]
    rare = [rec(100, T + 100, user=user("admin"), trace_rating="incident"),
            rec(101, T + 101, user=user("bob"), trace_rating="normal")]
    store.add_many(common + rare)
    listing = store._listings[(P1, "system", "system")]

    def pick(**cols):
        ids = {col: store._terms[col].get(value, -1) for col, value in cols.items()}
        return store._planner.index(store._db, listing, ids)

    assert pick() == "traces_by_time"
    assert pick(user_name="admin") == "traces_by_user_name"
    assert pick(user_name="admin", trace_rating="incident") == "traces_by_rating_user_name"
    assert pick(user_name="bob", trace_rating="normal") == "traces_by_user_name"
    assert pick(user_name="admin", trace_rating="normal",
                resource_id="ds-1") == "traces_by_rating_user_name"
    assert pick(user_name="admin", trace_name="nothing-like-it") == "traces_by_trace_name"
    assert pick(user_name="admin", enterprise_project_id="ep-9") == "traces_by_ep_user_name"


def test_every_index_answers_its_filters_without_reading_the_table(store):
    """Each filter index carries every filter column, so SQLite checks all of them in the
    index and reads a table row only for a trace of the page."""
    store.add_many(_variety())
    db = store._db
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces' "
        "AND name LIKE 'traces_by_%' AND name NOT IN ('traces_by_time', 'traces_by_age')")]
    assert len(names) == 9 + 8
    where = " AND ".join("%s = 1" % c for c in FILTERS.values())
    for name in names:
        plan = " ".join(r[-1] for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT seq FROM traces INDEXED BY %s WHERE listing = 1 AND "
            "%s ORDER BY time DESC, seq DESC" % (name, where)))
        assert "COVERING INDEX %s" % name in plan, plan


def test_a_reopened_store_counts_what_it_holds(tmp_path):
    path = tmp_path / "traces.sqlite3"
    store = TraceStore(path)
    store.add_many(_variety())
    store.close()
    again = TraceStore(path)
    assert again._planner.counts is None  # read on first use, not at start
    want = newest_first([r for r in _variety() if r["user"]["name"] == "admin"
                         and r["trace_rating"] == "warning"])
    assert query(again, filters={"user": "admin", "trace_rating": "warning"}).records == want
    assert {k: v for k, v in again._planner.counts.items() if v} == _fresh_counts(again)
    again.close()


_EARLIER_COLUMNS = ("seq INTEGER PRIMARY KEY, trace_id TEXT NOT NULL UNIQUE, "
                    "project_id TEXT NOT NULL, category TEXT NOT NULL, tracker_name TEXT NOT "
                    "NULL, time INTEGER NOT NULL, service_type TEXT, user_name TEXT, resource_id "
                    "TEXT, resource_name TEXT, resource_type TEXT, trace_name TEXT, trace_rating "
                    "TEXT, access_key_id TEXT, enterprise_project_id TEXT")


@pytest.mark.parametrize("record_apart", [False, True], ids=["record-inline", "record-apart"])
def test_a_store_of_an_earlier_layout_is_moved_to_this_one(tmp_path, record_apart):
    """Earlier layouts kept the filter values as text, and the record either as the last
    column of `traces` or in `trace_records`; opening one stores its traces again."""
    path = tmp_path / "traces.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(
        "CREATE TABLE traces (%s%s);%s"
        "CREATE INDEX traces_by_user_name ON traces "
        "(project_id, category, tracker_name, user_name, time);"
        % (_EARLIER_COLUMNS, "" if record_apart else ", record BLOB NOT NULL",
           "CREATE TABLE trace_records (seq INTEGER PRIMARY KEY, record BLOB NOT NULL);"
           if record_apart else ""))
    old = [rec(1, T), rec(2, T + 1, user=user("developer")), rec(3, T, tracker_name="audit")]
    for seq, r in enumerate(old, 1):
        blob = orjson.dumps(r)
        db.execute("INSERT INTO traces (seq, trace_id, project_id, category, tracker_name, "
                   "time, user_name%s) VALUES (?,?,?,?,?,?,?%s)" % (
                       ("", "") if record_apart else (", record", ",?")),
                   (seq, r["trace_id"], P1, "data" if seq == 3 else "system",
                    r["tracker_name"], r["time"], r["user"]["name"],
                    *(() if record_apart else (blob,))))
        if record_apart:
            db.execute("INSERT INTO trace_records VALUES (?, ?)", (seq, blob))
    db.commit()
    db.close()
    store = TraceStore(path)
    assert query(store).records == newest_first(old[:2])
    assert query(store, filters={"user": "developer"}).records == [old[1]]
    assert query(store, category="data", tracker_name="audit").records == [old[2]]
    store.add(rec(4, T + 2))
    assert store.get(rec(4, 0)["trace_id"]) == rec(4, T + 2)
    store.close()
    tables = {r[0] for r in sqlite3.connect(str(path)).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & {"traces_earlier", "trace_records_earlier", "trace_records"}
