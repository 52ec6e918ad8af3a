"""CTS v3 query API in process, on a frozen clock (cts-and-auth.md section 2): ListTraces
paging, window, validation, filters, retention and isolation; ListOperations, ListQuotas,
ListUserResources, ListTraceResources. Traces come from real ModelArts dataset calls.
"""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from simulator import registry
from simulator.cts.record import TraceInput, user_info
from simulator.errors import ApiError
from simulator.identity import signing
from tests.conftest import make_app
from tests.helpers import (DOMAIN, FROZEN_MS, GLOBEX_PROJECT_ID, HEX32, OTHER_PROJECT_ID,
                           PROJECT_ID, USER_AGENT, USERS, SignedClient, expected_record)

DS = "/v2/{project_id}/datasets"
TRACES = "/v3/{project_id}/traces"
GLOBEX = USERS["mallory"]["domain"]
HOUR_MS = 3_600_000


def create_body(name="flowers"):
    return {"dataset_name": name, "dataset_type": 0,
            "data_sources": [{"data_type": 0, "data_path": "/acme-data/%s/in/" % name}],
            "work_path": "/acme-data/%s/out/" % name, "work_path_type": 0}


def ok(resp, status=200):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp.json


def create_dataset(client, name="flowers"):
    resp = client.post(DS, create_body(name))
    return resp, ok(resp, 201)["dataset_id"]


def labels_url(dataset_id):
    return DS + "/%s/data-annotations/labels" % dataset_id


def cts_400(message):
    return {"error_code": "CTS.0300", "error_msg": "Query failed: " + message}


def list_ok(client, **query):
    body = ok(client.get(TRACES, query=query))
    assert set(body) == {"traces", "meta_data"}
    assert set(body["meta_data"]) == {"count", "marker"}
    assert body["meta_data"]["count"] == len(body["traces"])
    return body


def page_through(client, limit, **query):
    """Follow meta_data.marker with next until it is null; returns the page bodies."""
    pages = []
    nxt = None
    while True:
        q = dict(query, limit=limit)
        if nxt:
            q["next"] = nxt
        body = list_ok(client, **q)
        pages.append(body)
        nxt = body["meta_data"]["marker"]
        if nxt is None:
            return pages
        assert body["traces"], "a page with a marker must not be empty"
        assert nxt == body["traces"][-1]["trace_id"]
        assert len(pages) < 2000, "the marker never ends"


def stored(sim, project_id=PROJECT_ID):
    """Every system trace of a project, straight from the store, newest first."""
    return sim.traces.query(project_id, after_ms=-1, before_ms=2 ** 62, limit=10 ** 6).records


def inject(sim, *, project_id=PROJECT_ID, user="admin", service_type="ModelArts",
           resource_type="dataset", trace_name="createDataset", status=200,
           enterprise_project_id="0", time_ms=None, **kw) -> dict:
    """A trace recorded without an API call (for values the datasets family cannot make)."""
    directory = sim.directory
    project = directory.project(project_id)
    u = directory.user(user, domain_id=project.domain.id)
    ak = u.credentials[0].access_key
    now = sim.clock.now_ms() if time_ms is None else time_ms
    return sim.record(TraceInput(
        trace_id=sim.ids.uuid(), trace_name=trace_name, resource_type=resource_type,
        operation_id=kw.pop("operation_id", "Injected"), api_version="v3", read_only=False,
        service_type=service_type, project_id=project_id, domain_id=project.domain.id,
        time_ms=now, record_time_ms=now, status=status, request_body=None,
        response_body=None, resource_id=kw.pop("resource_id", "r-1"),
        resource_name=kw.pop("resource_name", "injected"), request_id=sim.ids.request_id(),
        source_ip="10.0.0.1", user_agent="inject/1.0", user=user_info(u, u.domain, ak),
        enterprise_project_id=enterprise_project_id, **kw))


def raw_call(app, method, path, *, ak, sk, project_id=PROJECT_ID, body=None, query="",
             token=None, security_token=None, extra_headers=None):
    """A call signed with any key pair (SignedClient only knows the fixture users)."""
    sim = app.extensions["modelarts_sim"]
    data = orjson.dumps(body) if body is not None else b""
    url = "http://localhost" + path + ("?" + query if query else "")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Project-Id": project_id}
    headers.update(extra_headers or {})
    if token:
        headers["X-Auth-Token"] = token
    else:
        headers = signing.sign(method, url, headers, data, ak, sk, sim.clock.now_ms(),
                               security_token)
    return app.test_client().open(path + ("?" + query if query else ""), method=method,
                                  data=data, headers=headers)


# -- the record a call leaves ----------------------------------------------------------------

def test_each_call_leaves_its_whole_record(client, sim):
    resp, ds = create_dataset(client)
    sim.clock.advance(2)
    req = {"labels": [{"name": "rose"}]}
    resp2 = client.post(labels_url(ds), req)
    ok(resp2)
    sim.clock.advance(1)
    resp3 = client.post(labels_url("nope"), req)
    assert resp3.status_code == 400
    traces = list_ok(client)["traces"]
    assert len(traces) == 3
    assert traces[0] == expected_record(
        traces[0], trace_name="createLabel", operation_id="CreateLabels", resource_id="nope",
        resource_name="", code=400, request=req, response=resp3.json,
        error_code="ModelArts.4352", time=FROZEN_MS + 3000,
        request_id=resp3.headers["X-Request-Id"])
    assert traces[1] == expected_record(
        traces[1], trace_name="createLabel", operation_id="CreateLabels", resource_id=ds,
        resource_name="flowers", code=200, request=req, response=resp2.json,
        time=FROZEN_MS + 2000, request_id=resp2.headers["X-Request-Id"])
    assert traces[2] == expected_record(
        traces[2], trace_name="createDataset", operation_id="CreateDataset", resource_id=ds,
        resource_name="flowers", code=201, request=create_body(), response=resp.json,
        time=FROZEN_MS, request_id=resp.headers["X-Request-Id"])
    assert len({t["trace_id"] for t in traces}) == 3


def test_the_trace_is_committed_before_the_response(client, sim):
    resp, ds = create_dataset(client)
    # nothing ran between the response and this read of the store
    newest = sim.traces.query(PROJECT_ID, after_ms=0, before_ms=2 ** 62, limit=1).records
    assert newest == [expected_record(
        newest[0], trace_name="createDataset", operation_id="CreateDataset", resource_id=ds,
        resource_name="flowers", code=201, request=create_body(), response=resp.json,
        request_id=resp.headers["X-Request-Id"])]
    resp = client.post(labels_url(ds), {"labels": [{"name": "a"}]})
    assert sim.traces.count() == 2
    assert sim.traces.get(client.last_trace()["trace_id"])["request_id"] == resp.headers[
        "X-Request-Id"]


def test_x_request_id_is_the_trace_request_id(client, sim):
    responses = []
    _, ds = create_dataset(client)
    responses.append(client.post(labels_url(ds), {"labels": [{"name": "a"}]}))  # 200
    responses.append(client.post(labels_url(ds), {"labels": [{"name": "a"}]}))  # 400 exists
    responses.append(client.as_user("auditor").post(labels_url(ds), {"labels": [{"name": "b"}]}))
    responses.append(client.delete(DS + "/" + ds))  # 204, empty body
    assert [r.status_code for r in responses] == [200, 400, 403, 204]
    traces = list_ok(client, limit=4)["traces"]
    ids = [r.headers["X-Request-Id"] for r in reversed(responses)]
    assert [t["request_id"] for t in traces] == ids
    assert all(HEX32.match(i) for i in ids) and len(set(ids)) == 4
    assert [t["code"] for t in traces] == ["204", "403", "400", "200"]
    # CTS answers carry their own request id too, different from any trace's
    cts = client.get(TRACES)
    assert HEX32.match(cts.headers["X-Request-Id"])
    assert cts.headers["X-Request-Id"] not in ids


def test_calls_that_are_not_audited_leave_no_trace(client, sim, app):
    _, ds = create_dataset(client)
    before = sim.traces.count()
    ok(client.get(DS))
    ok(client.get(DS + "/" + ds))
    ok(client.get(labels_url(ds)))
    ok(client.get(TRACES))
    ok(client.get("/v3/{project_id}/operations"))
    ok(client.get("/v3/{project_id}/quotas"))
    ok(client.get("/v3/{project_id}/user-resources"))
    ok(client.get("/v3/%s/resources" % DOMAIN["id"]))
    assert client.get(TRACES, query={"limit": 0}).status_code == 400
    # refused by API Gateway: a bad signature never reaches the service
    resp = raw_call(app, "POST", DS.replace("{project_id}", PROJECT_ID),
                    ak=USERS["admin"]["ak"], sk="not-the-secret-key", body=create_body("x"))
    assert resp.status_code == 401
    assert resp.json == {"error_code": "APIGW.0301",
                         "error_msg": "Incorrect IAM authentication information: verify aksk "
                                      "signature fail",
                         "request_id": resp.headers["X-Request-Id"]}
    assert sim.traces.count() == before == 1


# -- paging ----------------------------------------------------------------------------------

@pytest.fixture
def many(client, sim):
    """A dataset and 350 label creations: 351 traces, three calls per second of the clock
    (so many share a millisecond). Returns the X-Request-Ids newest first."""
    calls = []
    resp, ds = create_dataset(client)
    calls.append((sim.clock.now_ms(), resp.headers["X-Request-Id"]))
    for i in range(350):
        if i % 3 == 0:
            sim.clock.advance(1)
        resp = client.post(labels_url(ds), {"labels": [{"name": "label-%03d" % i}]})
        ok(resp)
        calls.append((sim.clock.now_ms(), resp.headers["X-Request-Id"]))
    # newest first: later time first, and among one instant the later call first
    order = sorted(enumerate(calls), key=lambda p: (p[1][0], p[0]), reverse=True)
    return [request_id for _, (_, request_id) in order]


@pytest.mark.parametrize("limit, sizes", [
    (200, [200, 151]),
    (50, [50] * 7 + [1]),
    (27, [27] * 13),  # 351 = 13 x 27: the last page is full and has no marker
    (117, [117] * 3),
    (7, [7] * 50 + [1]),
])
def test_paging_through_hundreds_of_traces(client, sim, many, limit, sizes):
    pages = page_through(client, limit)
    assert [p["meta_data"]["count"] for p in pages] == sizes
    assert [len(p["traces"]) for p in pages] == sizes
    seen = [t for p in pages for t in p["traces"]]
    assert [t["request_id"] for t in seen] == many
    assert len({t["trace_id"] for t in seen}) == 351
    times = [t["time"] for t in seen]
    assert times == sorted(times, reverse=True)
    assert times[0] == FROZEN_MS + 117_000 and times[-1] == FROZEN_MS
    # each page's marker is its last trace; the last page's marker is null
    for page in pages[:-1]:
        assert page["meta_data"]["marker"] == page["traces"][-1]["trace_id"]
    assert pages[-1]["meta_data"] == {"count": sizes[-1], "marker": None}
    # the pages hold the stored records, whole
    assert seen == stored(sim)
    # and reading them recorded nothing
    assert sim.traces.count() == 351


def test_paging_is_stable_while_new_traces_arrive(client, sim, many):
    first = list_ok(client, limit=100)
    create_dataset(client, "late")  # newer than the marker: not on later pages
    rest = page_through(client, 100, next=first["meta_data"]["marker"])
    seen = first["traces"] + [t for p in rest for t in p["traces"]]
    assert [t["request_id"] for t in seen] == many


def test_default_limit_is_10(client, sim, many):
    body = list_ok(client)
    assert [t["request_id"] for t in body["traces"]] == many[:10]
    assert body["meta_data"] == {"count": 10, "marker": body["traces"][9]["trace_id"]}
    assert list_ok(client, limit="")["traces"] == body["traces"]


@pytest.mark.parametrize("limit", [1, 200])
def test_limit_bounds_are_accepted(client, many, limit):
    body = list_ok(client, limit=limit)
    assert [t["request_id"] for t in body["traces"]] == many[:limit]


@pytest.mark.parametrize("value, message", [
    (0, "limit must be between 1 and 200, not 0"),
    (201, "limit must be between 1 and 200, not 201"),
    (-1, "limit must be between 1 and 200, not -1"),
    (10_000, "limit must be between 1 and 200, not 10000"),
    ("abc", "limit must be an integer, not 'abc'"),
    ("1.5", "limit must be an integer, not '1.5'"),
    ("10abc", "limit must be an integer, not '10abc'"),
])
def test_limit_validation(client, value, message):
    resp = client.get(TRACES, query={"limit": value})
    assert resp.status_code == 400
    assert resp.json == cts_400(message)
    assert HEX32.match(resp.headers["X-Request-Id"])


def test_bad_next_marker(client, sim):
    _, ds = create_dataset(client)
    resp = client.get(TRACES, query={"next": "bogus"})
    assert resp.status_code == 400
    assert resp.json == cts_400("next: no trace 'bogus' in this project (it may have expired)")
    unknown = "0f8a3c52-6d1e-4b7a-9c3f-2e5d8a1b4c6d"
    resp = client.get(TRACES, query={"next": unknown})
    assert resp.json == cts_400("next: no trace '%s' in this project (it may have expired)"
                                % unknown)


# -- the time window -------------------------------------------------------------------------

def test_default_window_is_the_last_hour(client, sim):
    old, ds = create_dataset(client, "old")
    sim.clock.advance(0.001)
    edge = client.post(labels_url(ds), {"labels": [{"name": "a"}]})
    sim.clock.advance(3599.999)  # "old" is now exactly one hour old, "edge" 1 ms younger
    now_resp = client.post(labels_url(ds), {"labels": [{"name": "b"}]})
    ids = lambda body: [t["request_id"] for t in body["traces"]]  # noqa: E731
    assert ids(list_ok(client)) == [now_resp.headers["X-Request-Id"],
                                    edge.headers["X-Request-Id"]]
    everything = [now_resp.headers["X-Request-Id"], edge.headers["X-Request-Id"],
                  old.headers["X-Request-Id"]]
    assert ids(list_ok(client, **{"from": FROZEN_MS - 1})) == everything
    assert ids(list_ok(client, **{"from": FROZEN_MS - 1, "to": FROZEN_MS + 1})) == everything[2:]
    sim.clock.advance(7200)
    assert list_ok(client) == {"traces": [], "meta_data": {"count": 0, "marker": None}}
    assert ids(list_ok(client, **{"from": 0})) == everything
    assert ids(list_ok(client, **{"from": 0, "to": sim.clock.now_ms()})) == everything


def test_default_window_includes_the_current_instant(client, sim):
    resp, _ = create_dataset(client)
    # the clock is frozen: the trace's time is "now", and it is listed
    assert [t["request_id"] for t in list_ok(client)["traces"]] == [resp.headers["X-Request-Id"]]
    # an explicit to=now excludes it (to is exclusive)
    assert list_ok(client, to=FROZEN_MS)["traces"] == []


def test_from_and_to_are_exclusive(client, sim):
    ids = []
    resp, ds = create_dataset(client)
    ids.append(resp.headers["X-Request-Id"])
    for name in ("a", "b", "c"):
        sim.clock.advance(1)
        ids.append(client.post(labels_url(ds), {"labels": [{"name": name}]}).headers[
            "X-Request-Id"])
    got = lambda **q: [t["request_id"] for t in list_ok(client, **q)["traces"]]  # noqa: E731
    T = FROZEN_MS
    assert got(**{"from": T, "to": T + 3000}) == [ids[2], ids[1]]
    assert got(**{"from": T - 1, "to": T + 3001}) == ids[::-1]
    assert got(**{"from": T + 1000, "to": T + 2000}) == []
    assert got(**{"from": T + 999, "to": T + 1001}) == [ids[1]]
    assert got(**{"from": T + 2000}) == [ids[3]]
    assert got(**{"from": T - 1, "to": T + 1}) == [ids[0]]


@pytest.mark.parametrize("query, message", [
    ({"from": "abc"}, "from must be an integer, not 'abc'"),
    ({"to": "1.5"}, "to must be an integer, not '1.5'"),
    ({"from": FROZEN_MS, "to": FROZEN_MS}, "from (%d) must be earlier than to (%d)"
     % (FROZEN_MS, FROZEN_MS)),
    ({"from": FROZEN_MS + 5, "to": FROZEN_MS}, "from (%d) must be earlier than to (%d)"
     % (FROZEN_MS + 5, FROZEN_MS)),
    ({"to": FROZEN_MS - 2 * HOUR_MS}, "from (%d) must be earlier than to (%d)"
     % (FROZEN_MS - HOUR_MS, FROZEN_MS - 2 * HOUR_MS)),  # from defaults to now - 1 h
])
def test_window_validation(client, query, message):
    resp = client.get(TRACES, query=query)
    assert resp.status_code == 400
    assert resp.json == cts_400(message)


@pytest.mark.parametrize("query", [{"to": 10 ** 20}, {"from": "9" * 30, "to": "9" * 31}])
def test_out_of_range_window_is_a_400(client, query):
    resp = client.get(TRACES, query=query)
    assert resp.status_code == 400
    assert resp.json["error_code"] == "CTS.0300"
    assert resp.json["error_msg"].startswith("Query failed: ")


@pytest.mark.parametrize("value", ["1_0", " 5", "\u0661\u0660", "\uff11\uff12"])
def test_only_plain_decimal_integers_are_accepted(client, value):
    resp = client.get(TRACES, query={"limit": value})
    assert resp.status_code == 400
    assert resp.json == cts_400("limit must be an integer, not %r" % value)


# -- trace type and tracker ------------------------------------------------------------------

def test_trace_type_missing_means_system(client, sim):
    create_dataset(client)
    system = list_ok(client, trace_type="system")
    assert len(system["traces"]) == 1
    assert list_ok(client) == system
    assert list_ok(client, trace_type="") == system
    assert list_ok(client, trace_type="system", tracker_name="system") == system


@pytest.mark.parametrize("value", ["management", "System", "SYSTEM", "all", "Data"])
def test_bad_trace_type(client, value):
    resp = client.get(TRACES, query={"trace_type": value})
    assert resp.status_code == 400
    assert resp.json == cts_400("trace_type must be system or data, not %r" % value)


def test_data_traces_need_a_tracker_name(client):
    resp = client.get(TRACES, query={"trace_type": "data"})
    assert resp.status_code == 400
    assert resp.json == cts_400("tracker_name is required when trace_type is data")


def test_data_traces_are_kept_apart(client, sim):
    create_dataset(client)
    now = sim.clock.now_ms()
    data = dict(client.last_trace(), trace_id="11111111-2222-4333-8444-555555555555",
                tracker_name="bucket-audit", event_type="data", trace_type="ObsSDK",
                service_type="OBS", resource_type="bucket", time=now, record_time=now)
    sim.traces.add(data, category="data")
    assert list_ok(client, trace_type="data", tracker_name="bucket-audit") == {
        "traces": [data], "meta_data": {"count": 1, "marker": None}}
    assert list_ok(client, trace_type="data", tracker_name="other")["traces"] == []
    assert [t["trace_name"] for t in list_ok(client)["traces"]] == ["createDataset"]
    assert list_ok(client, tracker_name="bucket-audit")["traces"] == []


# -- filters ---------------------------------------------------------------------------------

@pytest.fixture
def mixed(client, sim, monkeypatch):
    """Traces that differ in every filtered field. Returns them newest first, as recorded."""
    admin, dev = client, client.as_user("developer")
    _, flowers = create_dataset(admin, "flowers")
    sim.clock.advance(1)
    _, cars = create_dataset(dev, "cars")
    sim.clock.advance(1)
    ok(admin.post(labels_url(flowers), {"labels": [{"name": "rose"}]}))
    sim.clock.advance(1)
    ok(dev.post(labels_url(cars), {"labels": [{"name": "suv"}]}))
    sim.clock.advance(1)
    assert admin.post(labels_url("nope"), {"labels": [{"name": "x"}]}).status_code == 400
    sim.clock.advance(1)
    ok(dev.put(DS + "/" + cars, {"description": "four wheels"}))
    sim.clock.advance(1)

    def broken(ctx):
        raise ApiError(503, "ModelArts.0001", "Internal error.", resource_id=flowers,
                       resource_name="flowers")
    monkeypatch.setitem(registry.HANDLERS, "CreateLabels", broken)
    assert admin.post(labels_url(flowers), {"labels": [{"name": "tulip"}]}).status_code == 503
    monkeypatch.undo()
    sim.clock.advance(1)
    inject(sim, user="developer", service_type="CTS", resource_type="tracker",
           trace_name="createTracker", enterprise_project_id="ep-1", resource_id="trk-1",
           resource_name="system")
    sim.clock.advance(1)
    ok(admin.post(DS + "/%s/data-annotations/labels/delete" % flowers,
                  {"labels": [{"name": "rose"}]}))
    traces = list_ok(admin, limit=200)["traces"]
    assert [t["trace_name"] for t in traces] == [
        "deleteLabel", "createTracker", "createLabel", "updateDataset", "createLabel",
        "createLabel", "createLabel", "createDataset", "createDataset"]
    assert [t["trace_rating"] for t in traces] == [
        "normal", "normal", "incident", "normal", "warning", "normal", "normal", "normal",
        "normal"]
    return traces


def _value(trace, name):
    if name == "user":
        return trace["user"]["name"]
    if name == "access_key_id":
        return trace["user"]["access_key_id"]
    return trace[name]


FILTER_NAMES = ["service_type", "user", "resource_id", "resource_name", "resource_type",
                "trace_name", "trace_rating", "access_key_id", "enterprise_project_id"]


@pytest.mark.parametrize("name", FILTER_NAMES)
def test_each_filter_returns_exactly_the_matching_traces(client, mixed, name):
    values = sorted({_value(t, name) for t in mixed} - {""})
    assert len(values) >= 2, "the fixture must vary %s" % name
    for value in values:
        want = [t for t in mixed if _value(t, name) == value]
        assert 0 < len(want) < len(mixed)
        body = list_ok(client, **{name: value})
        assert body == {"traces": want, "meta_data": {"count": len(want), "marker": None}}, (
            name, value)
    if name != "trace_rating":
        assert list_ok(client, **{name: "no-such-" + name})["traces"] == []


def test_filter_values_seen(mixed):
    assert {t["user"]["name"] for t in mixed} == {"admin", "developer"}
    assert {t["user"]["access_key_id"] for t in mixed} == {USERS["admin"]["ak"],
                                                           USERS["developer"]["ak"]}
    assert {t["service_type"] for t in mixed} == {"ModelArts", "CTS"}
    assert {t["enterprise_project_id"] for t in mixed} == {"0", "ep-1"}
    assert {t["resource_name"] for t in mixed} == {"flowers", "cars", "", "system"}


def test_filters_combine(client, mixed):
    want = [t for t in mixed if t["user"]["name"] == "developer"
            and t["trace_name"] == "createLabel"]
    assert len(want) == 1
    assert list_ok(client, user="developer", trace_name="createLabel")["traces"] == want
    assert list_ok(client, user="developer", trace_name="createLabel",
                   trace_rating="warning")["traces"] == []


def test_filtered_paging(client, mixed):
    want = [t for t in mixed if t["user"]["name"] == "admin"]
    pages = page_through(client, 2, user="admin")
    assert [t for p in pages for t in p["traces"]] == want
    assert [p["meta_data"]["count"] for p in pages] == [2, 2, 1]


def test_filters_are_case_sensitive(client, mixed):
    assert list_ok(client, trace_name="CreateLabel")["traces"] == []
    assert list_ok(client, user="Admin")["traces"] == []
    assert list_ok(client, service_type="modelarts")["traces"] == []


@pytest.mark.parametrize("value", ["critical", "Normal", "WARNING", "info"])
def test_bad_trace_rating(client, value):
    resp = client.get(TRACES, query={"trace_rating": value})
    assert resp.status_code == 400
    assert resp.json == cts_400("trace_rating must be one of normal, warning, incident, not %r"
                                % value)


def test_trace_id_overrides_every_other_filter(client, sim, mixed):
    target = mixed[5]  # developer's createLabel on cars
    assert (target["user"]["name"], target["trace_name"]) == ("developer", "createLabel")
    body = list_ok(client, trace_id=target["trace_id"], user="admin", trace_name="deleteLabel",
                   service_type="CTS", resource_id="nope", resource_name="flowers",
                   resource_type="tracker", trace_rating="incident",
                   access_key_id=USERS["admin"]["ak"], enterprise_project_id="ep-1",
                   next="bogus", **{"from": 0, "to": 1})
    assert body == {"traces": [target], "meta_data": {"count": 1, "marker": None}}
    assert list_ok(client, trace_id="0f8a3c52-6d1e-4b7a-9c3f-2e5d8a1b4c6d")["traces"] == []


def test_trace_id_outside_the_default_window(client, sim):
    create_dataset(client)
    sim.clock.advance(3 * 3600)
    assert list_ok(client)["traces"] == []
    trace = stored(sim)[0]
    assert list_ok(client, trace_id=trace["trace_id"])["traces"] == [trace]


# -- retention -------------------------------------------------------------------------------

def test_traces_older_than_seven_days_are_never_returned(client, sim):
    create_dataset(client, "ancient")
    old = stored(sim)[0]
    sim.clock.advance(6 * 86400)
    create_dataset(client, "recent")
    recent = stored(sim)[0]
    assert list_ok(client, **{"from": 0})["traces"] == [recent, old]
    assert list_ok(client, trace_id=old["trace_id"])["traces"] == [old]
    sim.clock.advance(86400 + 0.001)  # "ancient" is now 7 days and 1 ms old
    assert list_ok(client, **{"from": 0})["traces"] == [recent]
    assert list_ok(client, **{"from": 0, "to": FROZEN_MS + 1})["traces"] == []
    assert list_ok(client, trace_id=old["trace_id"])["traces"] == []
    assert list_ok(client, resource_name="ancient", **{"from": 0})["traces"] == []
    sim.clock.advance(30 * 86400)
    assert list_ok(client, **{"from": 0})["traces"] == []
    assert list_ok(client, trace_id=recent["trace_id"])["traces"] == []


def test_the_retention_edge_is_the_same_for_list_lookup_and_purge(client, sim):
    create_dataset(client)
    trace = stored(sim)[0]
    sim.clock.advance(7 * 86400)  # exactly 7 days old: purge would drop it now
    by_id = list_ok(client, trace_id=trace["trace_id"])["traces"]
    listed = list_ok(client, **{"from": 0})["traces"]
    assert by_id == []
    assert listed == by_id


# -- isolation -------------------------------------------------------------------------------

def test_traces_are_invisible_from_another_account(client, app, sim):
    create_dataset(client)
    trace = client.last_trace()
    mallory = SignedClient(app, "mallory", GLOBEX_PROJECT_ID)
    assert list_ok(mallory, **{"from": 0}) == {"traces": [],
                                                "meta_data": {"count": 0, "marker": None}}
    assert list_ok(mallory, trace_id=trace["trace_id"])["traces"] == []
    resp = mallory.get(TRACES, query={"next": trace["trace_id"]})
    assert resp.status_code == 400
    assert resp.json == cts_400("next: no trace %r in this project (it may have expired)"
                                % trace["trace_id"])
    # acme's project id in the path is refused outright
    intruder = SignedClient(app, "mallory", PROJECT_ID)
    resp = intruder.get(TRACES)
    assert resp.status_code == 403
    assert resp.json == {"error_code": "CTS.0002",
                         "error_msg": "Authentication failed or no permission: the project id "
                                      "in the URL does not belong to the caller"}
    assert sim.traces.count() == 1


def test_traces_are_invisible_from_the_accounts_other_project(client, app, sim):
    resp, _ = create_dataset(client)
    trace = client.last_trace()
    other = SignedClient(app, project_id=OTHER_PROJECT_ID)
    assert list_ok(other, **{"from": 0})["traces"] == []
    assert list_ok(other, trace_id=trace["trace_id"])["traces"] == []
    assert other.get(TRACES, query={"next": trace["trace_id"]}).status_code == 400
    # a call in the other project is kept there, and only there
    resp2 = other.post(DS, create_body("elsewhere"))
    ok(resp2, 201)
    theirs = list_ok(other)["traces"]
    assert theirs == [expected_record(
        theirs[0], trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp2.json["dataset_id"], resource_name="elsewhere", code=201,
        request=create_body("elsewhere"), response=resp2.json, project_id=OTHER_PROJECT_ID,
        request_id=resp2.headers["X-Request-Id"])]
    assert list_ok(client)["traces"] == [trace]


def test_a_refused_cross_account_call_is_traced_in_the_callers_account(client, app, sim):
    _, ds = create_dataset(client)
    ours = list_ok(client)["traces"]
    intruder = SignedClient(app, "mallory", PROJECT_ID)
    req = {"labels": [{"name": "stolen"}]}
    resp = intruder.post(labels_url(ds), req)
    assert resp.status_code == 403
    assert resp.json == {"error_code": "ModelArts.0210",
                         "error_msg": "The project id in the URL does not match the project "
                                      "of the credentials"}
    assert list_ok(client)["traces"] == ours
    theirs = list_ok(SignedClient(app, "mallory", GLOBEX_PROJECT_ID))["traces"]
    assert theirs == [expected_record(
        theirs[0], trace_name="createLabel", operation_id="CreateLabels", resource_id="",
        resource_name="", code=403, request=req, response=resp.json, user="mallory",
        project_id=GLOBEX_PROJECT_ID, error_code="ModelArts.0210",
        request_id=resp.headers["X-Request-Id"])]


# -- what the record says about the caller ---------------------------------------------------

def test_a_temporary_credential_is_in_the_trace(app, sim):
    http = app.test_client()
    login = http.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "developer", "password": USERS["developer"]["password"],
            "domain": {"name": "acme"}}}},
        "scope": {"project": {"id": PROJECT_ID}}}})
    assert login.status_code == 201
    token = login.headers["X-Subject-Token"]
    sim.clock.advance(10)
    made = http.post("/v3.0/OS-CREDENTIAL/securitytokens", headers={"X-Auth-Token": token},
                     json={"auth": {"identity": {"methods": ["token"],
                                                 "token": {"duration_seconds": 900}}}})
    assert made.status_code == 201
    cred = made.json["credential"]
    created_at = sim.clock.now_ms()
    sim.clock.advance(5)
    resp = raw_call(app, "POST", "/v2/%s/datasets" % PROJECT_ID, ak=cred["access"],
                    sk=cred["secret"], security_token=cred["securitytoken"],
                    body=create_body("temp"))
    ok(resp, 201)
    client = SignedClient(app)
    traces = list_ok(client)["traces"]
    assert len(traces) == 1  # IAM calls are not audited
    expected = expected_record(
        traces[0], trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp.json["dataset_id"], resource_name="temp", code=201,
        request=create_body("temp"), response=resp.json, user="developer",
        time=FROZEN_MS + 15_000, request_id=resp.headers["X-Request-Id"])
    expected["user"]["access_key_id"] = cred["access"]
    expected["user"]["session_context"] = {"attributes": {
        "created_at": str(created_at), "mfa_authenticated": "false"}}
    assert traces == [expected]
    assert list_ok(client, access_key_id=cred["access"])["traces"] == [expected]
    assert list_ok(client, access_key_id=USERS["developer"]["ak"])["traces"] == []
    assert list_ok(client, user="developer")["traces"] == [expected]


def test_a_token_call_has_no_access_key(app, sim):
    http = app.test_client()
    login = http.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "password": USERS["admin"]["password"], "domain": {"name": "acme"}}}},
        "scope": {"project": {"id": PROJECT_ID}}}})
    token = login.headers["X-Subject-Token"]
    resp = raw_call(app, "POST", "/v2/%s/datasets" % PROJECT_ID, ak=None, sk=None, token=token,
                    body=create_body("bytoken"))
    ok(resp, 201)
    traces = list_ok(SignedClient(app))["traces"]
    expected = expected_record(
        traces[0], trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp.json["dataset_id"], resource_name="bytoken", code=201,
        request=create_body("bytoken"), response=resp.json,
        request_id=resp.headers["X-Request-Id"])
    expected["user"]["access_key_id"] = ""
    assert traces == [expected]


def test_source_ip_from_x_forwarded_for_only_when_trusted(client, sim):
    create_dataset(client, "direct")
    client.post(DS, create_body("proxied"), headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
    assert [t["source_ip"] for t in list_ok(client)["traces"]] == ["127.0.0.1", "127.0.0.1"]
    trusting = make_app(trust_forwarded_for=True)
    try:
        c = SignedClient(trusting)
        c.post(DS, create_body("proxied"), headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
        create_dataset(c, "direct")
        assert [t["source_ip"] for t in list_ok(c)["traces"]] == ["127.0.0.1", "203.0.113.7"]
    finally:
        trusting.extensions["modelarts_sim"].close()


def test_a_server_error_is_an_incident(client, sim, monkeypatch):
    _, ds = create_dataset(client)

    def broken(ctx):
        raise ApiError(503, "ModelArts.0001", "Internal error.", resource_id=ds,
                       resource_name="flowers")
    monkeypatch.setitem(registry.HANDLERS, "CreateLabels", broken)
    req = {"labels": [{"name": "x"}]}
    resp = client.post(labels_url(ds), req)
    assert resp.status_code == 503
    assert resp.json == {"error_code": "ModelArts.0001", "error_msg": "Internal error."}
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="createLabel", operation_id="CreateLabels", resource_id=ds,
        resource_name="flowers", code=503, request=req, response=resp.json,
        rating="incident", error_code="ModelArts.0001", request_id=resp.headers["X-Request-Id"])
    assert list_ok(client, trace_rating="incident")["traces"] == [trace]


def test_configured_rating_thresholds():
    app = make_app(warning_min_status=500, incident_min_status=400)
    try:
        client = SignedClient(app)
        req = {"labels": [{"name": "x"}]}
        resp = client.post(labels_url("nope"), req)
        assert resp.status_code == 400
        trace = client.last_trace()
        assert trace == expected_record(
            trace, trace_name="createLabel", operation_id="CreateLabels", resource_id="nope",
            resource_name="", code=400, request=req, response=resp.json, rating="incident",
            error_code="ModelArts.4352", request_id=resp.headers["X-Request-Id"])
    finally:
        app.extensions["modelarts_sim"].close()
    app = make_app(warning_min_status=401, incident_min_status=600)
    try:
        client = SignedClient(app)
        client.post(labels_url("nope"), {"labels": [{"name": "x"}]})
        assert client.last_trace()["trace_rating"] == "normal"
        client.as_user("auditor").post(labels_url("nope"), {"labels": [{"name": "x"}]})
        assert client.last_trace()["trace_rating"] == "warning"
    finally:
        app.extensions["modelarts_sim"].close()


def test_secrets_masked_and_huge_values_elided_in_listed_traces(client, sim):
    body = create_body("masked")
    body["data_sources"][0]["credentials"] = [{"ak": "AKPLAIN", "Secret_Key": "s3cr3t",
                                               "PASSWORD": "hunter2", "SecurityToken": "MIIx"}]
    resp = client.post(DS, body)
    ok(resp, 201)
    ds = resp.json["dataset_id"]
    sim.clock.advance(5)
    data = base64.b64encode(bytes(range(256)) * 16).decode()  # 5464 characters
    samples = {"samples": [{"name": "big.bin", "data": data},
                           {"name": "small.bin", "data": "aGk="}]}
    resp2 = client.post(DS + "/%s/data-annotations/samples" % ds, samples)
    ok(resp2)
    traces = list_ok(client)["traces"]
    masked = create_body("masked")
    masked["data_sources"][0]["credentials"] = [{"ak": "AKPLAIN", "Secret_Key": "********",
                                                 "PASSWORD": "********", "SecurityToken": "********"}]
    assert traces[1] == expected_record(
        traces[1], trace_name="createDataset", operation_id="CreateDataset", resource_id=ds,
        resource_name="masked", code=201, request=masked, response=resp.json,
        request_id=resp.headers["X-Request-Id"])
    assert traces[0] == expected_record(
        traces[0], trace_name="uploadSamples", operation_id="UploadSamples", resource_id=ds,
        resource_name="masked", code=200, time=FROZEN_MS + 5000,
        request={"samples": [{"name": "big.bin", "data": "...(5464 characters elided)"},
                             {"name": "small.bin", "data": "aGk="}]},
        response={"success": True, "results": [
            {"success": True, "name": "/acme-data/masked/out/big.bin",
             "info": hashlib.md5(b"/acme-data/masked/out/big.bin").hexdigest()},
            {"success": True, "name": "/acme-data/masked/out/small.bin",
             "info": hashlib.md5(b"/acme-data/masked/out/small.bin").hexdigest()}]},
        request_id=resp2.headers["X-Request-Id"])
    raw = orjson.dumps(traces).decode()
    for secret in ("s3cr3t", "hunter2", "MIIx", data[:64]):
        assert secret not in raw


# -- ListOperations --------------------------------------------------------------------------

DATASET_OPERATIONS = [
    "createDataset", "deleteDataset", "updateDataset", "publishDatasetVersion",
    "deleteDatasetVersion", "syncDataSource", "exportDataFromDataset", "importSamplesToDataset",
    "createLabel", "updateLabel", "deleteLabel", "deleteLabelWithSamples", "uploadSamples",
    "deleteSamples"]

ALL_MODELARTS_OPERATIONS = [
    {"service_type": "ModelArts", "resource_type": "dataset",
     "operation_list": DATASET_OPERATIONS},
    {"service_type": "ModelArts", "resource_type": "Notebook",
     "operation_list": ["create_instance", "delete_instance", "change_instance_status",
                        "createNotebook", "getNotebook", "listNotebook", "listallNotebook",
                        "updateNotebook", "deleteNotebook", "startNotebook", "stopNotebook"]},
    {"service_type": "ModelArts", "resource_type": "ModelArtsTrainJob",
     "operation_list": ["createModelArtsTrainJob", "createModelArtsTrainVersion",
                        "stopModelArtsTrainVersion", "updateModelArtsTrainDesc",
                        "deleteModelArtsTrainVersion", "deleteModelArtsTrainJob"]},
    {"service_type": "ModelArts", "resource_type": "ModelArtsTrainConfig",
     "operation_list": ["createModelArtsTrainConfig", "updateModelArtsTrainConfig",
                        "deleteModelArtsTrainConfig"]},
    {"service_type": "ModelArts", "resource_type": "ModelArtsTensorboardJob",
     "operation_list": ["createModelArtsTensorboardJob", "deleteModelArtsTensorboardJob",
                        "updateModelArtsTensorboardDesc", "stopModelArtsTensorboardJob",
                        "restartModelArtsgTensorboardJob"]},
    {"service_type": "ModelArts", "resource_type": "model",
     "operation_list": ["addModel", "updateModel", "deleteModel"]},
    {"service_type": "ModelArts", "resource_type": "convert",
     "operation_list": ["addConvert", "updateConvert", "deleteConvert"]},
    {"service_type": "ModelArts", "resource_type": "service",
     "operation_list": ["addService", "deleteService", "startOrStopService", "updateService",
                        "addAkSk", "deleteAkSk"]},
    {"service_type": "ModelArts", "resource_type": "cluster",
     "operation_list": ["createCluster", "deleteCluster", "addClusterNode",
                        "deleteClusterNode", "createClusterResult"]},
    {"service_type": "ModelArts", "resource_type": "JobV2",
     "operation_list": ["CreateJobV2", "UpdateJobV2", "DeleteJobV2", "StopJobV2",
                        "CreateJobTags", "DeleteJobTags"]},
    {"service_type": "ModelArts", "resource_type": "serviceV2",
     "operation_list": ["CreateServiceV2", "UpdateServiceV2", "StartServiceV2",
                        "StopServiceV2", "DeleteServiceV2"]},
    {"service_type": "ModelArts", "resource_type": "Pool",
     "operation_list": ["CreatePool", "ListPools", "ShowPool", "PatchPool", "DeletePool",
                        "ListPoolNodes"]},
]


def test_list_operations_for_datasets(client):
    body = ok(client.get("/v3/{project_id}/operations",
                         query={"service_type": "ModelArts", "resource_type": "dataset"}))
    assert body == {"operations": [{"service_type": "ModelArts", "resource_type": "dataset",
                                    "operation_list": DATASET_OPERATIONS}]}


def test_list_operations_for_notebooks(client):
    body = ok(client.get("/v3/{project_id}/operations",
                         query={"service_type": "ModelArts", "resource_type": "Notebook"}))
    assert body == {"operations": [ALL_MODELARTS_OPERATIONS[1]]}


OBS_DATA_OPERATIONS = {
    "service_type": "OBS", "resource_type": "object",
    "operation_list": ["putObject", "copyObject", "getObject", "getObjectMetadata",
                       "deleteObject", "deleteObjects", "initiateMultipartUpload", "uploadPart",
                       "completeMultipartUpload", "abortMultipartUpload"]}
# CTS records its own tracker and notification writes (user guide, Auditing)
CTS_OPERATIONS = [
    {"service_type": "CTS", "resource_type": "tracker",
     "operation_list": ["createTracker", "updateTracker", "deleteTracker"]},
    {"service_type": "CTS", "resource_type": "notification",
     "operation_list": ["createNotification", "updateNotification", "deleteNotification"]}]


def test_list_operations_of_every_service(client):
    assert ok(client.get("/v3/{project_id}/operations")) == {
        "operations": CTS_OPERATIONS + ALL_MODELARTS_OPERATIONS + [OBS_DATA_OPERATIONS]}
    assert ok(client.get("/v3/{project_id}/operations", query={"service_type": "CTS"})) == {
        "operations": CTS_OPERATIONS}
    assert ok(client.get("/v3/{project_id}/operations",
                         query={"service_type": "CTS", "resource_type": "notification"})) == {
        "operations": CTS_OPERATIONS[1:]}
    assert ok(client.get("/v3/{project_id}/operations", query={"service_type": "OBS"})) == {
        "operations": [OBS_DATA_OPERATIONS]}
    assert ok(client.get("/v3/{project_id}/operations",
                         query={"service_type": "ModelArts"})) == {
        "operations": ALL_MODELARTS_OPERATIONS}


@pytest.mark.parametrize("query", [{"service_type": "ECS"}, {"service_type": "modelarts"},
                                   {"service_type": "ModelArts", "resource_type": "bucket"}])
def test_list_operations_for_nothing_known(client, query):
    assert ok(client.get("/v3/{project_id}/operations", query=query)) == {"operations": []}


def test_list_operations_resource_type_needs_service_type(client):
    resp = client.get("/v3/{project_id}/operations", query={"resource_type": "dataset"})
    assert resp.status_code == 400
    assert resp.json == cts_400("resource_type needs service_type")


def test_list_operations_from_another_account_is_refused(app):
    resp = SignedClient(app, "mallory", PROJECT_ID).get("/v3/{project_id}/operations")
    assert resp.status_code == 403
    assert resp.json["error_code"] == "CTS.0002"


# -- ListQuotas ------------------------------------------------------------------------------

def test_list_quotas(client):
    expected = {"resources": [
        {"type": "system_tracker", "used": 0, "quota": 1},
        {"type": "data_tracker", "used": 0, "quota": 100},
        {"type": "smn_notification", "used": 0, "quota": 100},
    ]}
    assert ok(client.get("/v3/{project_id}/quotas")) == expected
    create_dataset(client)
    assert ok(client.get("/v3/{project_id}/quotas")) == expected


# -- ListUserResources -----------------------------------------------------------------------

def test_list_user_resources_names_the_operators(client, app, sim):
    url = "/v3/{project_id}/user-resources"
    assert ok(client.get(url)) == {"users": []}
    _, ds = create_dataset(client.as_user("developer"))
    assert ok(client.get(url)) == {"users": [{"name": "developer"}]}
    sim.clock.advance(60)
    ok(client.post(labels_url(ds), {"labels": [{"name": "a"}]}))
    ok(client.as_user("auditor").get(DS))  # reads are not audited: not an operator
    assert ok(client.get(url)) == {"users": [{"name": "admin"}, {"name": "developer"}]}
    # another account's operators are its own
    mallory = SignedClient(app, "mallory", GLOBEX_PROJECT_ID)
    assert ok(mallory.get(url)) == {"users": []}
    SignedClient(app, "mallory", PROJECT_ID).post(DS, create_body("x"))  # refused, traced
    assert ok(mallory.get(url)) == {"users": [{"name": "mallory"}]}
    assert ok(client.get(url)) == {"users": [{"name": "admin"}, {"name": "developer"}]}
    # a project's operators only
    assert ok(SignedClient(app, project_id=OTHER_PROJECT_ID).get(url)) == {"users": []}


def test_a_refused_write_makes_an_operator(client):
    client.as_user("auditor").post(DS, create_body("x"))
    assert ok(client.get("/v3/{project_id}/user-resources")) == {"users": [{"name": "auditor"}]}


def test_list_user_resources_covers_30_days(client, sim):
    url = "/v3/{project_id}/user-resources"
    create_dataset(client.as_user("developer"), "d")
    sim.clock.advance(10 * 86400)
    create_dataset(client, "a")
    sim.clock.advance(20 * 86400)  # developer's call is exactly 30 days old
    assert ok(client.get(url)) == {"users": [{"name": "admin"}, {"name": "developer"}]}
    sim.clock.advance(0.001)
    assert ok(client.get(url)) == {"users": [{"name": "admin"}]}
    sim.clock.advance(10 * 86400)
    assert ok(client.get(url)) == {"users": []}


# -- ListTraceResources ----------------------------------------------------------------------

def test_list_trace_resources(client, app, sim):
    url = "/v3/%s/resources" % DOMAIN["id"]
    assert ok(client.get(url)) == {"resources": []}
    create_dataset(client)
    assert ok(client.get(url)) == {
        "resources": [{"service_type": "ModelArts", "resource": ["dataset"]}]}
    # every project of the account counts; another account's do not
    inject(sim, project_id=OTHER_PROJECT_ID, resource_type="model", trace_name="addModel")
    inject(sim, project_id=OTHER_PROJECT_ID, service_type="CTS", resource_type="tracker",
           trace_name="createTracker")
    inject(sim, project_id=GLOBEX_PROJECT_ID, user="mallory", resource_type="Notebook",
           trace_name="create_instance")
    assert ok(client.get(url)) == {"resources": [
        {"service_type": "CTS", "resource": ["tracker"]},
        {"service_type": "ModelArts", "resource": ["dataset", "model"]}]}
    # the answer does not depend on the project the caller is scoped to
    assert ok(SignedClient(app, project_id=OTHER_PROJECT_ID).get(url)) == ok(client.get(url))
    mallory = SignedClient(app, "mallory", GLOBEX_PROJECT_ID)
    assert ok(mallory.get("/v3/%s/resources" % GLOBEX["id"])) == {
        "resources": [{"service_type": "ModelArts", "resource": ["Notebook"]}]}


@pytest.mark.parametrize("domain_id", [GLOBEX["id"], "0" * 32, PROJECT_ID])
def test_list_trace_resources_of_a_foreign_domain_is_refused(client, domain_id):
    create_dataset(client)
    resp = client.get("/v3/%s/resources" % domain_id)
    assert resp.status_code == 403
    assert resp.json == {"error_code": "CTS.0002",
                         "error_msg": "Authentication failed or no permission: the domain id "
                                      "in the URL is not the caller's account"}
    assert HEX32.match(resp.headers["X-Request-Id"])
