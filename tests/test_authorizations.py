"""Authorizations v2: storing an access key (addAkSk) and removing it (deleteAkSk) leave exactly
their record; agency authorizations are served but not audited; the SK is never answered,
listed, stored or traced."""

import pickle

import orjson
import pytest

from tests.helpers import OTHER_PROJECT_ID, PROJECT_ID, USERS, SignedClient
from tests.test_models import check, ok, refused

AUTH = "/v2/{project_id}/authorizations"
DEV = USERS["developer"]
CREDENTIAL = {"user_id": DEV["id"], "type": "credential", "content": DEV["ak"],
              "secret_key": DEV["sk"], "user_name": "developer"}
AGENCY = {"user_id": USERS["auditor"]["id"], "type": "agency", "content": "modelarts_agency"}
RESULT = {"result": "true"}


def masked(body: dict) -> dict:
    return dict(body, secret_key="********") if "secret_key" in body else body


def _check(client, resp, **kw):
    return check(client, resp, resource_type="service", api_version="v2", **kw)


def _refused(client, resp, status, code, **kw):
    return refused(client, resp, status, code, resource_type="service", api_version="v2",
                   **kw)


@pytest.fixture
def access_key(client):
    ok(client.post(AUTH, CREDENTIAL))
    return DEV["ak"]


# -- one whole record per operation --------------------------------------------------------------

def test_add_ak_sk(client):
    resp = client.post(AUTH, CREDENTIAL)
    assert ok(resp) == RESULT
    _check(client, resp, trace_name="addAkSk", operation_id="CreateAuthorization",
           resource_id=DEV["ak"], resource_name="developer", code=200,
           request=masked(CREDENTIAL), response=RESULT)


def test_delete_ak_sk(client, access_key):
    resp = client.delete(AUTH, query={"user_id": DEV["id"]})
    assert ok(resp) == RESULT
    _check(client, resp, trace_name="deleteAkSk", operation_id="DeleteAuthorizations",
           resource_id=access_key, resource_name="developer", code=200,
           request={"user_id": DEV["id"]}, response=RESULT)
    assert ok(client.get(AUTH))["total_count"] == 0


# -- the secret key ------------------------------------------------------------------------------

def test_the_sk_never_leaves_the_request(client, sim, access_key):
    admin = USERS["admin"]
    calls = [
        client.get(AUTH),
        client.post(AUTH, CREDENTIAL),  # duplicate
        client.post(AUTH, dict(CREDENTIAL, user_id=admin["id"], user_name="admin",
                               secret_key=DEV["sk"][::-1])),  # wrong SK
        client.post(AUTH, dict(CREDENTIAL, user_id=admin["id"], user_name="admin",
                               content="not-an-ak")),
        client.post(AUTH, dict(CREDENTIAL, user_id=admin["id"], user_name="admin",
                               content=admin["ak"], secret_key=admin["sk"])),
        client.get(AUTH),
        client.delete(AUTH, query={"user_id": "all"}),
    ]
    for resp in calls:
        assert DEV["sk"] not in resp.get_data(as_text=True)
        assert admin["sk"] not in resp.get_data(as_text=True)
    traces = client.traces()
    assert [t["trace_name"] for t in traces].count("addAkSk") == 5
    text = orjson.dumps(traces).decode()
    assert DEV["sk"] not in text and admin["sk"] not in text and DEV["sk"][::-1] not in text
    for trace in traces:
        if trace["trace_name"] == "addAkSk":
            assert orjson.loads(trace["request"])["secret_key"] == "********"
    assert DEV["sk"].encode() not in pickle.dumps(sim.state("authorizations", PROJECT_ID))


def test_list_shows_no_secret(client, access_key, sim):
    ok(client.post(AUTH, AGENCY))
    listed = ok(client.get(AUTH))
    assert listed["total_count"] == 2
    by_type = {a["type"]: a for a in listed["auth"]}
    assert by_type["credential"] == {"user_id": DEV["id"], "user_name": "developer",
                                     "type": "credential", "content": DEV["ak"],
                                     "create_time": sim.clock.now_ms()}
    assert by_type["agency"]["content"] == "modelarts_agency"
    assert by_type["agency"]["user_name"] == "auditor"


# -- agencies are served, not audited ------------------------------------------------------------

def test_agency_authorizations_leave_no_trace(client, access_key):
    before = len(client.traces())
    assert ok(client.post(AUTH, AGENCY)) == RESULT
    assert ok(client.delete(AUTH, query={"user_id": AGENCY["user_id"]})) == RESULT
    assert len(client.traces()) == before
    assert [a["type"] for a in ok(client.get(AUTH))["auth"]] == ["credential"]
    for bad in (dict(AGENCY, content="bad agency!"), dict(AGENCY, secret_key="x"),
                dict(AGENCY, user_id="nobody")):
        resp = client.post(AUTH, bad)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101", bad
    assert len(client.traces()) == before


def test_deleting_all_traces_each_access_key(client, sim):
    admin = USERS["admin"]
    ok(client.post(AUTH, CREDENTIAL))
    ok(client.post(AUTH, {"user_id": "all", "type": "credential", "content": admin["ak"],
                          "secret_key": admin["sk"]}))
    ok(client.post(AUTH, AGENCY))
    resp = client.delete(AUTH, query={"user_id": "all"})
    assert ok(resp) == RESULT
    latest, earlier = client.traces()[:2]
    assert {(t["trace_name"], t["resource_id"], t["resource_name"], t["request_id"])
            for t in (latest, earlier)} == {
        ("deleteAkSk", DEV["ak"], "developer", resp.headers["X-Request-Id"]),
        ("deleteAkSk", admin["ak"], "all", resp.headers["X-Request-Id"])}
    assert ok(client.get(AUTH))["total_count"] == 0


# -- refusals ------------------------------------------------------------------------------------

def test_duplicate_authorization(client, access_key):
    resp = client.post(AUTH, CREDENTIAL)
    body = _refused(client, resp, 400, "ModelArts.0424", trace_name="addAkSk",
                    operation_id="CreateAuthorization", resource_id=DEV["ak"],
                    resource_name="developer", request=masked(CREDENTIAL))
    assert "already exists" in body["error_msg"]


@pytest.mark.parametrize("change", [
    {"secret_key": "x" * 40},  # not the SK of that AK
    {"content": "AAAAAAAAAAAAAAAAAAAA"},  # no such AK
    {"content": USERS["mallory"]["ak"], "secret_key": USERS["mallory"]["sk"]},  # other account
])
def test_the_key_pair_must_be_one_of_the_account(client, change):
    req = dict(CREDENTIAL, **change)
    resp = client.post(AUTH, req)
    body = _refused(client, resp, 401, "ModelArts.3801", trace_name="addAkSk",
                    operation_id="CreateAuthorization", resource_id=req["content"],
                    resource_name="developer", request=masked(req))
    assert body["error_msg"] == "User credential (AK and SK) does not exist."


@pytest.mark.parametrize("change, message", [
    ({"user_id": "0" * 32}, "not an IAM user"),
    ({"user_id": USERS["mallory"]["id"]}, "not an IAM user"),
    ({"user_id": None}, "user_id"),
    ({"user_id": 5}, "user_id"),
    ({"user_name": "admin"}, "user_name"),
    ({"content": None}, "content"),
    ({"content": "ea9dj2sb8wqee7qk29uo"}, "access key"),
    ({"secret_key": None}, "secret_key"),
    ({"secret_key": 12}, "secret_key"),
])
def test_add_validation(client, change, message):
    req = {k: v for k, v in dict(CREDENTIAL, **change).items() if v is not None}
    resp = client.post(AUTH, req)
    content, name = req.get("content"), req.get("user_name")
    body = _refused(client, resp, 400, "ModelArts.0101", trace_name="addAkSk",
                    operation_id="CreateAuthorization",
                    resource_id=content if isinstance(content, str) else "",
                    resource_name=name, request=masked(req))
    assert message in body["error_msg"]


def test_a_body_that_names_no_type_is_refused(client):
    for req in (dict(CREDENTIAL, type="token"), {k: v for k, v in CREDENTIAL.items()
                                                 if k != "type"}):
        resp = client.post(AUTH, req)
        assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
        trace = client.last_trace()
        assert (trace["trace_name"], trace["trace_rating"]) == ("addAkSk", "warning")
        assert DEV["sk"] not in orjson.dumps(trace).decode()


def test_delete_refusals(client):
    resp = client.delete(AUTH)
    _refused(client, resp, 400, "ModelArts.0101", trace_name="deleteAkSk",
             operation_id="DeleteAuthorizations", resource_id="", resource_name="",
             request=None)
    resp = client.delete(AUTH, query={"user_id": DEV["id"]})
    _refused(client, resp, 401, "ModelArts.3801", trace_name="deleteAkSk",
             operation_id="DeleteAuthorizations", resource_id="", resource_name="developer",
             request={"user_id": DEV["id"]})


def test_read_only_auditor_is_refused(client):
    resp = client.as_user("auditor").post(AUTH, CREDENTIAL)
    _refused(client, resp, 403, "ModelArts.0108", trace_name="addAkSk",
             operation_id="CreateAuthorization", resource_id="", resource_name="",
             request=masked(CREDENTIAL), user="auditor")
    assert ok(client.as_user("auditor").get(AUTH))["total_count"] == 0


def test_projects_are_isolated(client, app, access_key):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    assert ok(other.get(AUTH))["total_count"] == 0
    assert other.delete(AUTH, query={"user_id": DEV["id"]}).json[
        "error_code"] == "ModelArts.3801"
    ok(other.post(AUTH, CREDENTIAL))  # one authorization per user in each project
    assert client.as_user("mallory").get(AUTH).json["error_code"] == "ModelArts.0210"


def test_list_paging_and_sorting(client, sim):
    for user in ("admin", "developer", "auditor"):
        ok(client.post(AUTH, {"user_id": USERS[user]["id"], "type": "agency",
                              "content": "agency-" + user}))
        sim.clock.advance(1)
    listed = ok(client.get(AUTH))
    assert [a["user_name"] for a in listed["auth"]] == ["auditor", "developer", "admin"]
    page = ok(client.get(AUTH, query={"sort_by": "user_name", "order": "asc", "offset": 1,
                                      "limit": 1}))
    assert (page["total_count"], [a["user_name"] for a in page["auth"]]) == (3, ["auditor"])
    assert client.get(AUTH, query={"sort_by": "type"}).json["error_code"] == "ModelArts.0101"
