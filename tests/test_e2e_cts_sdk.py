"""The official huaweicloudsdkcts client against a real simulator on 127.0.0.1 (cts-and-auth.md
section 5.4): ModelArts calls signed by hand with plain requests, then every CTS v3 query the
SDK offers, compared field by field with the records the calls must leave."""

from __future__ import annotations

import time

import orjson
import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcts.v3 import (CtsClient, ListOperationsRequest, ListQuotasRequest,
                                  ListTraceResourcesRequest, ListTracesRequest,
                                  ListUserResourcesRequest)
from huaweicloudsdkcts.v3.model.traces import Traces
from huaweicloudsdkcts.v3.model.user_info import UserInfo

from simulator.identity import signing
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import (DOMAIN, GLOBEX_PROJECT_ID, HEX32, PROJECT_ID, USER_AGENT, USERS,
                           expected_record)

DS = "/v2/{project_id}/datasets"
GLOBEX = USERS["mallory"]["domain"]

# the keys of the SDK's trace model (cts-and-auth.md 1.1, "What the v3 ListTraces response
# model contains")
TRACE_MODEL_KEYS = {
    "resource_id", "trace_name", "trace_rating", "trace_type", "request", "response", "code",
    "api_version", "message", "record_time", "trace_id", "time", "user", "service_type",
    "resource_type", "source_ip", "resource_name", "request_id", "location_info", "endpoint",
    "resource_url", "enterprise_project_id", "resource_account_id", "read_only",
    "operation_id"}


def create_body(name):
    return {"dataset_name": name, "dataset_type": 0,
            "data_sources": [{"data_type": 0, "data_path": "/acme-data/%s/in/" % name}],
            "work_path": "/acme-data/%s/out/" % name, "work_path_type": 0}


class Calls:
    """ModelArts calls over the network, signed as huaweicloudsdkcore signs them, and the
    whole record each must leave (time taken from the record, checked to lie in the call)."""

    def __init__(self, server):
        self.server = server
        self.expected: list[dict] = []  # oldest first
        self._pending: list[tuple] = []

    def call(self, method, path, body=None, *, user="admin", project_id=PROJECT_ID):
        url = self.server.endpoint + path.replace("{project_id}", project_id)
        data = orjson.dumps(body) if body is not None else b""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Project-Id": project_id}
        u = USERS[user]
        before = self.server.sim.clock.now_ms()
        signed = signing.sign(method, url, headers, data, u["ak"], u["sk"], before)
        resp = requests.request(method, url, data=data, headers=signed, timeout=30)
        after = self.server.sim.clock.now_ms()
        return resp, before, after

    def traced(self, method, path, body=None, *, status, trace_name, operation_id,
               resource_id, resource_name, user="admin", error_code=None):
        resp, before, after = self.call(method, path, body, user=user)
        assert resp.status_code == status, resp.text
        rid = resp.headers["X-Request-Id"]
        # committed before the response: the store has it now
        found = self.server.sim.traces.query(PROJECT_ID, after_ms=0, before_ms=2 ** 62,
                                             limit=1).records
        assert found and found[0]["request_id"] == rid
        actual = found[0]
        assert before <= actual["time"] <= actual["record_time"] <= after
        response = resp.json() if resp.content else None
        exp = expected_record(actual, trace_name=trace_name, operation_id=operation_id,
                              resource_id=resource_id(response) if callable(resource_id)
                              else resource_id, resource_name=resource_name, code=status,
                              request=body, response=response, user=user,
                              error_code=error_code, time=actual["time"], request_id=rid)
        exp["record_time"] = actual["record_time"]
        assert actual == exp
        self.expected.append(exp)
        return resp

    def newest_first(self):
        return list(reversed(self.expected))


def sdk_view(record: dict) -> dict:
    """What Traces.to_dict() must give for a stored record."""
    out = {k: record.get(k) for k in Traces.openapi_types}
    user = record["user"]
    out["user"] = {k: user.get(k) for k in UserInfo.openapi_types}
    return out


@pytest.fixture
def sdk(server):
    """Makes CtsClients for the server and closes their connections after the test."""
    made = []

    def make(user="admin", *, ak=None, sk=None, project_id=PROJECT_ID) -> CtsClient:
        cfg = HttpConfig.get_default_config()
        cfg.timeout = (5, 30)
        u = USERS[user]
        cred = BasicCredentials(ak=ak or u["ak"], sk=sk or u["sk"], project_id=project_id)
        client = (CtsClient.new_builder().with_http_config(cfg).with_credentials(cred)
                  .with_endpoint(server.endpoint).build())
        made.append(client)
        return client
    yield make
    for client in made:
        client.close()


def all_pages(cts, **kw):
    """list_traces following meta_data.marker with next until it is None."""
    pages, nxt = [], None
    while True:
        resp = cts.list_traces(ListTracesRequest(next=nxt, **kw))
        pages.append(resp)
        nxt = resp.meta_data.marker
        if nxt is None:
            return pages
        assert nxt == resp.traces[-1].trace_id
        assert len(pages) < 500


@pytest.fixture
def calls(server):
    """A varied history: two users, two datasets, labels, a refused call, an update."""
    c = Calls(server)
    ds = lambda r: r["dataset_id"]  # noqa: E731
    flowers = c.traced("POST", DS, create_body("flowers"), status=201,
                       trace_name="createDataset", operation_id="CreateDataset",
                       resource_id=ds, resource_name="flowers").json()["dataset_id"]
    cars = c.traced("POST", DS, create_body("cars"), status=201, user="developer",
                    trace_name="createDataset", operation_id="CreateDataset",
                    resource_id=ds, resource_name="cars").json()["dataset_id"]
    for name in ("rose", "tulip", "daisy"):
        c.traced("POST", DS + "/%s/data-annotations/labels" % flowers,
                 {"labels": [{"name": name}]}, status=200, trace_name="createLabel",
                 operation_id="CreateLabels", resource_id=flowers, resource_name="flowers")
    c.traced("POST", DS + "/%s/data-annotations/labels" % cars, {"labels": [{"name": "suv"}]},
             status=200, user="developer", trace_name="createLabel",
             operation_id="CreateLabels", resource_id=cars, resource_name="cars")
    refused = c.traced("POST", DS + "/nope/data-annotations/labels",
                       {"labels": [{"name": "x"}]}, status=400, trace_name="createLabel",
                       operation_id="CreateLabels", resource_id="nope", resource_name="",
                       error_code="ModelArts.4352")
    assert refused.json() == {"error_code": "ModelArts.4352",
                              "error_msg": "Dataset nope does not exist."}
    c.traced("PUT", DS + "/" + cars, {"description": "four wheels"}, status=200,
             user="developer", trace_name="updateDataset", operation_id="UpdateDataset",
             resource_id=cars, resource_name="cars")
    c.flowers, c.cars = flowers, cars
    return c


# -- ListTraces ------------------------------------------------------------------------------

def test_the_sdk_model_has_the_documented_keys():
    assert set(Traces.openapi_types) == TRACE_MODEL_KEYS


def test_list_traces_returns_exactly_the_records(server, sdk, calls):
    cts = sdk()
    resp = cts.list_traces(ListTracesRequest(trace_type="system", limit=200))
    assert resp.meta_data.count == 8
    assert resp.meta_data.marker is None
    assert [t.to_dict() for t in resp.traces] == [sdk_view(r) for r in calls.newest_first()]
    # the fields a SIEM keys on, read from the objects themselves
    first = resp.traces[0]
    assert (first.trace_name, first.code, first.trace_rating, first.read_only) == (
        "updateDataset", "200", "normal", False)
    assert first.user.domain.to_dict() == {"id": DOMAIN["id"], "name": DOMAIN["name"]}
    assert first.user.access_key_id == USERS["developer"]["ak"]
    assert first.user.principal_is_root_user == "false"
    assert first.user.session_context is None and first.user.invoked_by is None
    failed = resp.traces[1]
    assert (failed.code, failed.trace_rating, failed.location_info, failed.resource_id) == (
        "400", "warning", "ModelArts.4352", "nope")
    assert orjson.loads(failed.response) == {"error_code": "ModelArts.4352",
                                             "error_msg": "Dataset nope does not exist."}
    # and the stored records are those the calls left
    assert server.sim.traces.query(PROJECT_ID, after_ms=0, before_ms=2 ** 62,
                                   limit=100).records == calls.newest_first()


def test_trace_type_omitted_is_system(server, sdk, calls):
    cts = sdk()
    a = cts.list_traces(ListTracesRequest(limit=200))
    b = cts.list_traces(ListTracesRequest(trace_type="system", limit=200))
    assert [t.to_dict() for t in a.traces] == [t.to_dict() for t in b.traces]
    assert len(a.traces) == 8


@pytest.mark.parametrize("limit, sizes", [(3, [3, 3, 2]), (4, [4, 4]), (1, [1] * 8),
                                          (8, [8]), (200, [8])])
def test_paging_with_next(server, sdk, calls, limit, sizes):
    pages = all_pages(sdk(), limit=limit)
    assert [p.meta_data.count for p in pages] == sizes
    assert [len(p.traces) for p in pages] == sizes
    assert pages[-1].meta_data.marker is None
    seen = [t.to_dict() for p in pages for t in p.traces]
    assert seen == [sdk_view(r) for r in calls.newest_first()]


def test_default_limit_is_10(server, sdk):
    c = Calls(server)
    resp, _, _ = c.call("POST", DS, create_body("many"))
    ds = resp.json()["dataset_id"]
    ids = [resp.headers["X-Request-Id"]]
    for i in range(11):
        r, _, _ = c.call("POST", DS + "/%s/data-annotations/labels" % ds,
                         {"labels": [{"name": "l%d" % i}]})
        assert r.status_code == 200
        ids.append(r.headers["X-Request-Id"])
    cts = sdk()
    first = cts.list_traces(ListTracesRequest())
    assert [t.request_id for t in first.traces] == ids[::-1][:10]
    assert first.meta_data.count == 10 and first.meta_data.marker == first.traces[-1].trace_id
    rest = cts.list_traces(ListTracesRequest(next=first.meta_data.marker))
    assert [t.request_id for t in rest.traces] == ids[::-1][10:]
    assert rest.meta_data.count == 2 and rest.meta_data.marker is None


@pytest.mark.parametrize("field, value_of", [
    ("trace_name", lambda c: "createLabel"),
    ("trace_name", lambda c: "updateDataset"),
    ("resource_id", lambda c: c.flowers),
    ("resource_id", lambda c: c.cars),
    ("resource_id", lambda c: "nope"),
    ("resource_name", lambda c: "cars"),
    ("user", lambda c: "admin"),
    ("user", lambda c: "developer"),
    ("trace_rating", lambda c: "normal"),
    ("trace_rating", lambda c: "warning"),
    ("trace_rating", lambda c: "incident"),
    ("access_key_id", lambda c: USERS["developer"]["ak"]),
    ("service_type", lambda c: "ModelArts"),
    ("resource_type", lambda c: "dataset"),
    ("enterprise_project_id", lambda c: "0"),
])
def test_filters_through_the_request_object(server, sdk, calls, field, value_of):
    value = value_of(calls)

    def matches(r):
        if field == "user":
            return r["user"]["name"] == value
        if field == "access_key_id":
            return r["user"]["access_key_id"] == value
        return r[field] == value
    want = [sdk_view(r) for r in calls.newest_first() if matches(r)]
    resp = sdk().list_traces(ListTracesRequest(limit=200, **{field: value}))
    assert [t.to_dict() for t in resp.traces] == want
    assert resp.meta_data.count == len(want)


def test_filters_combine_and_page(server, sdk, calls):
    want = [sdk_view(r) for r in calls.newest_first()
            if r["trace_name"] == "createLabel" and r["user"]["name"] == "admin"]
    assert len(want) == 4
    pages = all_pages(sdk(), trace_name="createLabel", user="admin", limit=3)
    assert [t.to_dict() for p in pages for t in p.traces] == want
    assert [p.meta_data.count for p in pages] == [3, 1]


def test_trace_id_and_time_window(server, sdk, calls):
    cts = sdk()
    target = calls.expected[3]  # the second label on flowers
    resp = cts.list_traces(ListTracesRequest(trace_id=target["trace_id"], user="developer",
                                             trace_name="updateDataset"))
    assert [t.to_dict() for t in resp.traces] == [sdk_view(target)]
    # from/to (sent as "from" and "to") are exclusive
    t0, t1 = calls.expected[0]["time"], calls.expected[-1]["time"]
    resp = cts.list_traces(ListTracesRequest(_from=t0 - 1, to=t1 + 1, limit=200))
    assert [t.to_dict() for t in resp.traces] == [sdk_view(r) for r in calls.newest_first()]
    resp = cts.list_traces(ListTracesRequest(_from=t1, to=t1 + 1000, limit=200))
    assert resp.traces == [] and resp.meta_data.count == 0 and resp.meta_data.marker is None
    resp = cts.list_traces(ListTracesRequest(_from=t0 - 10_000, to=t0, limit=200))
    assert resp.traces == []


def test_a_trace_is_listed_as_soon_as_the_call_returns(server, sdk):
    c = Calls(server)
    cts = sdk()
    resp = c.traced("POST", DS, create_body("quick"), status=201, trace_name="createDataset",
                    operation_id="CreateDataset", resource_id=lambda r: r["dataset_id"],
                    resource_name="quick")
    ds = resp.json()["dataset_id"]
    for name in ("a", "b", "c"):
        r = c.traced("POST", DS + "/%s/data-annotations/labels" % ds,
                     {"labels": [{"name": name}]}, status=200, trace_name="createLabel",
                     operation_id="CreateLabels", resource_id=ds, resource_name="quick")
        newest = cts.list_traces(ListTracesRequest(limit=1)).traces
        assert [t.request_id for t in newest] == [r.headers["X-Request-Id"]]
        assert newest[0].to_dict() == sdk_view(c.expected[-1])


def test_another_account_sees_nothing_and_may_not_look(server, sdk, calls):
    mallory = sdk("mallory", project_id=GLOBEX_PROJECT_ID)
    resp = mallory.list_traces(ListTracesRequest(limit=200, _from=0))
    assert resp.traces == [] and resp.meta_data.count == 0
    resp = mallory.list_traces(ListTracesRequest(trace_id=calls.expected[0]["trace_id"]))
    assert resp.traces == []
    nosy = sdk("mallory", project_id=PROJECT_ID)
    with pytest.raises(ClientRequestException) as info:
        nosy.list_traces(ListTracesRequest())
    e = info.value
    assert (e.status_code, e.error_code, e.error_msg) == (
        403, "CTS.0002", "Authentication failed or no permission: the project id in the URL "
                         "does not belong to the caller")
    assert HEX32.match(e.request_id)


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", [0, 201, 500])
def test_bad_limit_raises_client_request_exception(server, sdk, limit):
    with pytest.raises(ClientRequestException) as info:
        sdk().list_traces(ListTracesRequest(limit=limit))
    e = info.value
    assert e.status_code == 400
    assert e.error_code == "CTS.0300"
    assert e.error_msg == "Query failed: limit must be between 1 and 200, not %d" % limit
    assert HEX32.match(e.request_id)


def test_bad_next_raises_client_request_exception(server, sdk, calls):
    with pytest.raises(ClientRequestException) as info:
        sdk().list_traces(ListTracesRequest(next="no-such-trace"))
    e = info.value
    assert (e.status_code, e.error_code, e.error_msg) == (
        400, "CTS.0300",
        "Query failed: next: no trace 'no-such-trace' in this project (it may have expired)")
    assert HEX32.match(e.request_id)


def test_bad_secret_key_is_refused_by_the_gateway(server, sdk, calls):
    before = server.sim.traces.count()
    with pytest.raises(ClientRequestException) as info:
        sdk(sk="0" * 40).list_traces(ListTracesRequest())
    e = info.value
    assert e.status_code == 401
    assert e.error_code == "APIGW.0301"
    assert e.error_msg == "Incorrect IAM authentication information: verify aksk signature fail"
    assert HEX32.match(e.request_id)
    assert server.sim.traces.count() == before


def test_unknown_access_key_is_refused_by_the_gateway(server, sdk):
    cts = sdk(ak="AKUNKNOWN00000000000", sk="x" * 40)
    with pytest.raises(ClientRequestException) as info:
        cts.list_quotas(ListQuotasRequest())
    e = info.value
    assert (e.status_code, e.error_code, e.error_msg) == (
        401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature "
                           "fail, access key AKUNKNOWN00000000000 does not exist")
    assert HEX32.match(e.request_id)


# -- the other queries -----------------------------------------------------------------------

def test_list_operations(server, sdk):
    resp = sdk().list_operations(
        ListOperationsRequest(service_type="ModelArts", resource_type="dataset"))
    expected = {"operations": [{
        "service_type": "ModelArts", "resource_type": "dataset", "operation_list": [
            "createDataset", "deleteDataset", "updateDataset", "publishDatasetVersion",
            "deleteDatasetVersion", "syncDataSource", "exportDataFromDataset",
            "importSamplesToDataset", "createLabel", "updateLabel", "deleteLabel",
            "deleteLabelWithSamples", "uploadSamples", "deleteSamples"]}]}
    assert [o.to_dict() for o in resp.operations] == expected["operations"]
    assert resp.to_json_object() == expected
    with pytest.raises(ClientRequestException) as info:
        sdk().list_operations(ListOperationsRequest(resource_type="dataset"))
    assert (info.value.status_code, info.value.error_code, info.value.error_msg) == (
        400, "CTS.0300", "Query failed: resource_type needs service_type")


def test_list_quotas(server, sdk, calls):
    resp = sdk().list_quotas(ListQuotasRequest())
    expected = {"resources": [
        {"type": "system_tracker", "used": 0, "quota": 1},
        {"type": "data_tracker", "used": 0, "quota": 100},
        {"type": "smn_notification", "used": 0, "quota": 100}]}
    assert [q.to_dict() for q in resp.resources] == expected["resources"]
    assert resp.to_json_object() == expected


def test_list_user_resources(server, sdk, calls):
    resp = sdk().list_user_resources(ListUserResourcesRequest())
    assert [u.to_dict() for u in resp.users] == [{"name": "admin"}, {"name": "developer"}]
    assert resp.to_json_object() == {"users": [{"name": "admin"}, {"name": "developer"}]}
    mallory = sdk("mallory", project_id=GLOBEX_PROJECT_ID)
    assert mallory.list_user_resources(ListUserResourcesRequest()).to_json_object() == {
        "users": []}


def test_list_trace_resources(server, sdk, calls):
    cts = sdk()
    resp = cts.list_trace_resources(ListTraceResourcesRequest(domain_id=DOMAIN["id"]))
    assert [r.to_dict() for r in resp.resources] == [{"service_type": "ModelArts",
                                                      "resource": ["dataset"]}]
    assert resp.to_json_object() == {"resources": [{"service_type": "ModelArts",
                                                    "resource": ["dataset"]}]}
    with pytest.raises(ClientRequestException) as info:
        cts.list_trace_resources(ListTraceResourcesRequest(domain_id=GLOBEX["id"]))
    e = info.value
    assert (e.status_code, e.error_code, e.error_msg) == (
        403, "CTS.0002", "Authentication failed or no permission: the domain id in the URL is "
                         "not the caller's account")
    assert HEX32.match(e.request_id)
    mallory = sdk("mallory", project_id=GLOBEX_PROJECT_ID)
    assert mallory.list_trace_resources(
        ListTraceResourcesRequest(domain_id=GLOBEX["id"])).to_json_object() == {"resources": []}


# -- the server under the SDK ----------------------------------------------------------------

def test_stop_returns_promptly_while_an_sdk_connection_is_open():
    """RunningServer.stop must close open keep-alive connections itself; it once closed only
    the listener, so stop() waited out its 10 s join with the server thread still alive."""
    running = start_in_thread(Settings(port=0, seed=5))
    cfg = HttpConfig.get_default_config()
    cred = BasicCredentials(ak=USERS["admin"]["ak"], sk=USERS["admin"]["sk"],
                            project_id=PROJECT_ID)
    cts = (CtsClient.new_builder().with_http_config(cfg).with_credentials(cred)
           .with_endpoint(running.endpoint).build())
    try:
        assert cts.list_traces(ListTracesRequest()).meta_data.count == 0  # keeps a connection
        with pytest.raises(ClientRequestException) as info:  # and one left checked out
            cts.list_traces(ListTracesRequest(limit=0))
        assert info.value.status_code == 400
        started = time.monotonic()
        running.stop()
        took = time.monotonic() - started
        alive = running._thread.is_alive()
    finally:
        cts.close()
        running._thread.join(timeout=10)
    assert took < 3, "stop() took %.1f s" % took
    assert not alive, "the server thread outlived stop()"


def test_stop_right_after_a_response_never_fails():
    """stop() just after an answer, while the worker that sent it may still be waking the
    server's loop. An earlier stop() closed the loop's trigger from a thunk sent through that
    same trigger and raised OSError EBADF in about one stop in ten."""
    for seed in range(15):
        running = start_in_thread(Settings(port=0, seed=seed))
        cred = BasicCredentials(ak=USERS["admin"]["ak"], sk=USERS["admin"]["sk"],
                                project_id=PROJECT_ID)
        cts = (CtsClient.new_builder().with_http_config(HttpConfig.get_default_config())
               .with_credentials(cred).with_endpoint(running.endpoint).build())
        try:
            with pytest.raises(ClientRequestException):
                cts.list_traces(ListTracesRequest(limit=0))
            started = time.monotonic()
            running.stop()
            assert time.monotonic() - started < 3
            assert not running._thread.is_alive()
        finally:
            cts.close()
            running._thread.join(timeout=10)
