"""The IAM side (cts-and-auth.md sections 5.2-5.4): password and token-method tokens, token
validation, project and domain discovery, temporary AK/SK, and the official CTS SDK finding its
project id through the simulator."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, Credentials
from huaweicloudsdkcore.exceptions.exceptions import SdkException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest

from simulator.identity import signing
from tests.helpers import (DOMAIN, GLOBEX_PROJECT_ID, OTHER_PROJECT_ID, PROJECT_ID, USERS,
                           SignedClient, user_object)
from tests.test_auth import (DATASET, DS_PATH, assert_apig_401, issue_temporary, issue_token,
                             password_auth, post_dataset, send)
from tests.test_signing import sdk_sign

GLOBEX = USERS["mallory"]["domain"]
DAY_MS = 86_400_000
TOKEN_PATH = "/v3/auth/tokens"
STS_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
PROJECTS = {
    PROJECT_ID: ("cn-north-4", DOMAIN),
    OTHER_PROJECT_ID: ("ap-southeast-1", DOMAIN),
    GLOBEX_PROJECT_ID: ("cn-north-4", GLOBEX),
}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def token_body(now_ms, *, user="admin", methods=("password",), project_id=None,
               domain_scope=False, host="http://localhost") -> dict:
    u = USERS[user]
    dom = u.get("domain", DOMAIN)
    body = {
        "methods": list(methods),
        "expires_at": iso(now_ms + DAY_MS),
        "issued_at": iso(now_ms),
        "user": {"id": u["id"], "name": user, "password_expires_at": "",
                 "domain": dict(dom)},
        "roles": [{"id": "0", "name": "readonly" if user == "auditor" else "te_admin"}],
    }
    if project_id:
        name, pdom = PROJECTS[project_id]
        body["project"] = {"id": project_id, "name": name, "domain": dict(pdom)}
        body["catalog"] = [
            {"type": kind, "id": kind, "name": kind, "endpoints": [
                {"id": "%s-%s" % (kind, name), "interface": "public", "region": name,
                 "region_id": name, "url": host}]}
            for kind in ("modelarts", "cts", "iam")]
    else:
        assert domain_scope
        body["domain"] = dict(dom)
    return {"token": body}


def iam_error(status: int, code: str, message: str) -> dict:
    title = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
    return {"error": {"code": status, "message": message, "title": title},
            "error_code": code, "error_msg": message}


WRONG_PASSWORD = iam_error(401, "IAM.0001", "The username or password is wrong.")
BAD_TOKEN = iam_error(401, "IAM.0001", "The token is invalid or has expired.")


def post_json(app, path, body, headers=None):
    """POST a body byte-for-byte (Flask's json= would reorder keys)."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return app.test_client().post(path, data=data, headers=dict(
        {"Content-Type": "application/json;charset=utf8"}, **(headers or {})))


# -- POST /v3/auth/tokens, password method ------------------------------------------------------

def test_password_token_project_scope_by_name(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth(scope={"project": {"name": "cn-north-4"}}))
    assert resp.status_code == 201, resp.json
    token = resp.headers["X-Subject-Token"]
    assert token.startswith("MII") and len(token) > 100
    assert resp.json == token_body(sim.clock.now_ms(), project_id=PROJECT_ID)
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"


@pytest.mark.parametrize("host, url", [("LocalHost:9550", "http://localhost:9550"),
                                       ("sim.example:80", "http://sim.example"),
                                       ("xn--n3h.example:9550", "http://\u2603.example:9550")])
def test_the_token_catalog_names_the_host_the_caller_used(app, sim, host, url):
    """As werkzeug reads a Host header: lower case, the scheme's port left out, IDNA decoded."""
    resp = post_json(app, TOKEN_PATH, password_auth(scope={"project": {"name": "cn-north-4"}}),
                     headers={"Host": host})
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), project_id=PROJECT_ID, host=url)


def test_password_token_project_scope_by_id(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth(scope={"project": {"id": OTHER_PROJECT_ID}}))
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), project_id=OTHER_PROJECT_ID)


def test_project_wins_when_both_scopes_are_given(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth(scope={
        "project": {"id": OTHER_PROJECT_ID}, "domain": {"name": "acme"}}))
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), project_id=OTHER_PROJECT_ID)


@pytest.mark.parametrize("scope", [{"domain": {"name": "acme"}}, {"domain": {"id": DOMAIN["id"]}},
                                   {"domain": {"id": DOMAIN["id"], "name": "acme"}}])
def test_password_token_domain_scope(app, sim, scope):
    resp = post_json(app, TOKEN_PATH, password_auth(scope=scope))
    assert resp.status_code == 201, resp.json
    assert resp.headers["X-Subject-Token"].startswith("MII")
    assert resp.json == token_body(sim.clock.now_ms(), domain_scope=True)


def test_password_token_without_scope_is_domain_scoped(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth())
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), domain_scope=True)


def test_password_token_user_domain_by_id(app, sim):
    body = password_auth(scope={"project": {"name": "cn-north-4"}})
    body["auth"]["identity"]["password"]["user"]["domain"] = {"id": DOMAIN["id"]}
    resp = post_json(app, TOKEN_PATH, body)
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), project_id=PROJECT_ID)


def test_same_project_name_in_another_account_resolves_to_that_accounts_project(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth(
        "mallory", domain="globex", scope={"project": {"name": "cn-north-4"}}))
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), user="mallory",
                                   project_id=GLOBEX_PROJECT_ID)


def test_auditor_token_has_the_readonly_role(app, sim):
    resp = post_json(app, TOKEN_PATH, password_auth("auditor", scope={
        "project": {"name": "cn-north-4"}}))
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), user="auditor", project_id=PROJECT_ID)
    assert resp.json["token"]["roles"] == [{"id": "0", "name": "readonly"}]


def test_token_lasts_24_hours_in_microsecond_iso_form(app, sim):
    sim.clock.advance(0.123)  # a fractional second shows in the microsecond field
    resp = post_json(app, TOKEN_PATH, password_auth(scope={"project": {"name": "cn-north-4"}}))
    body = resp.json["token"]
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    issued = datetime.strptime(body["issued_at"], fmt)
    expires = datetime.strptime(body["expires_at"], fmt)
    assert expires - issued == timedelta(hours=24)
    assert body["issued_at"].endswith(".123000Z")
    assert len(body["issued_at"]) == len("2026-11-18T11:06:40.123000Z")
    assert issued.replace(tzinfo=timezone.utc).timestamp() * 1000 == sim.clock.now_ms()


def test_tokens_are_distinct(app):
    assert issue_token(app) != issue_token(app)


@pytest.mark.parametrize("body, expected", [
    (password_auth(password="Admin@123456"), WRONG_PASSWORD),
    (password_auth(password=""), WRONG_PASSWORD),
    (password_auth("nobody", password="x"), WRONG_PASSWORD),
    (password_auth(domain="globex"), WRONG_PASSWORD),  # admin is not a globex user
    (password_auth("mallory"), WRONG_PASSWORD),  # mallory is not an acme user
    (password_auth(password=["Admin@12345"]), WRONG_PASSWORD),
    (password_auth(scope={"project": {"name": "eu-west-0"}}),
     iam_error(401, "IAM.0001", "The project in the scope does not exist in the user's account.")),
    (password_auth(scope={"project": {"id": "ffffffffffffffffffffffffffffffff"}}),
     iam_error(401, "IAM.0001", "The project in the scope does not exist in the user's account.")),
    (password_auth(scope={"project": {"id": GLOBEX_PROJECT_ID}}),  # another account's project
     iam_error(401, "IAM.0001", "The project in the scope does not exist in the user's account.")),
    (password_auth(scope={"domain": {"name": "globex"}}),
     iam_error(401, "IAM.0001", "The domain in the scope is not the user's account.")),
    (password_auth(scope={"domain": {"id": GLOBEX["id"]}}),
     iam_error(401, "IAM.0001", "The domain in the scope is not the user's account.")),
    ({"auth": {"identity": {"methods": ["token"], "token": {"id": "MIInope"}}}}, BAD_TOKEN),
], ids=["wrong-password", "empty-password", "unknown-user", "wrong-domain", "other-account-user",
        "password-not-a-string", "unknown-project-name", "unknown-project-id",
        "other-account-project", "other-domain-name", "other-domain-id", "unknown-token"])
def test_token_refusals_are_401(app, sim, body, expected):
    resp = post_json(app, TOKEN_PATH, body)
    assert resp.status_code == 401, resp.json
    assert resp.json == expected
    assert "X-Subject-Token" not in resp.headers
    assert sim.traces.count() == 0


def _bad(message):
    return iam_error(400, "IAM.0003", message)


MALFORMED = [
    (b"", _bad("the body must be an object")),
    (b"   ", _bad("the body must be an object")),
    (b"[]", _bad("the body must be an object")),
    (b'"auth"', _bad("the body must be an object")),
    (b"{}", _bad("auth must be an object")),
    (b'{"auth": null}', _bad("auth must be an object")),
    (b'{"auth": []}', _bad("auth must be an object")),
    (b'{"auth": {}}', _bad("auth.identity must be an object")),
    (b'{"auth": {"identity": "x"}}', _bad("auth.identity must be an object")),
    (b'{"auth": {"identity": {}}}', _bad("auth.identity.methods must be a non-empty list")),
    (b'{"auth": {"identity": {"methods": []}}}',
     _bad("auth.identity.methods must be a non-empty list")),
    (b'{"auth": {"identity": {"methods": "password"}}}',
     _bad("auth.identity.methods must be a non-empty list")),
    (b'{"auth": {"identity": {"methods": ["totp"]}}}',
     _bad("unsupported identity method(s): totp")),
    (b'{"auth": {"identity": {"methods": [1, {"a": 2}]}}}',
     _bad("unsupported identity method(s): 1, {'a': 2}")),
    (b'{"auth": {"identity": {"methods": ["password"]}}}',
     _bad("auth.identity.password must be an object")),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {}}}}',
     _bad("auth.identity.password.user must be an object")),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {"user": "admin"}}}}',
     _bad("auth.identity.password.user must be an object")),
    (b'{"auth": {"identity": {"methods": ["token"]}}}',
     _bad("auth.identity.token must be an object")),
    (orjson.dumps(password_auth(scope="cn-north-4")), _bad("auth.scope must be an object")),
    (orjson.dumps(password_auth(scope={"project": "cn-north-4"})),
     _bad("auth.scope.project must be an object")),
    (orjson.dumps(password_auth(scope={"project": {}})),
     _bad("auth.scope.project needs an id or a name")),
    (orjson.dumps(password_auth(scope={"domain": "acme"})),
     _bad("auth.scope.domain must be an object")),
]


@pytest.mark.parametrize("raw, expected", MALFORMED, ids=[r.decode()[:60] for r, _ in MALFORMED])
def test_malformed_token_requests_are_400(app, raw, expected):
    resp = post_json(app, TOKEN_PATH, raw)
    assert resp.status_code == 400, resp.json
    assert resp.json == expected


@pytest.mark.parametrize("raw", [b"{", b"{'auth': 1}", b"not json", b'{"auth": {}', b"\xff\xfe"])
def test_invalid_json_is_400(app, raw):
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = "the request body is not valid JSON: %s" % exc
    resp = post_json(app, TOKEN_PATH, raw)
    assert resp.status_code == 400, resp.json
    assert resp.json == _bad(message)


@pytest.mark.parametrize("domain", ["acme", ["acme"], 7])
def test_user_domain_not_an_object_is_400(app, domain):
    body = password_auth()
    body["auth"]["identity"]["password"]["user"]["domain"] = domain
    resp = post_json(app, TOKEN_PATH, body)
    assert resp.status_code == 400, resp.json
    assert resp.json == _bad("auth.identity.password.user.domain must be an object")


@pytest.mark.parametrize("token_id", [["MIIx"], {"id": "MIIx"}])
def test_token_method_with_unhashable_id_is_not_500(app, token_id):
    resp = post_json(app, TOKEN_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": token_id}}}})
    assert resp.status_code == 400, resp.json
    assert resp.json["error_code"] in ("IAM.0001", "IAM.0003")


def test_methods_with_unhashable_entries_do_not_crash(app):
    resp = post_json(app, TOKEN_PATH, {"auth": {"identity": {"methods": [["password"]]}}})
    assert resp.status_code == 400, resp.json
    assert resp.json == _bad("unsupported identity method(s): ['password']")


# -- using a token ------------------------------------------------------------------------------

def test_token_calls_modelarts_and_cts(app, sim, client):
    token = issue_token(app)
    http = app.test_client()
    resp = http.get(DS_PATH, headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.json
    assert resp.json == {"datasets": [], "total_number": 0}

    resp = http.post(DS_PATH, data=orjson.dumps(DATASET),
                     headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.json
    resp = http.get("/v3/%s/traces?limit=10" % PROJECT_ID, headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.json
    traces = resp.json["traces"]
    assert [t["trace_name"] for t in traces] == ["createDataset"]
    # a token carries no access key, and is no temporary session
    assert traces[0]["user"] == dict(user_object("admin"), access_key_id="")


def test_domain_scoped_token_may_call_every_project_of_its_account(app):
    token = issue_token(app, scope={"domain": {"name": "acme"}})
    http = app.test_client()
    for pid in (PROJECT_ID, OTHER_PROJECT_ID):
        resp = http.get("/v2/%s/datasets" % pid, headers={"X-Auth-Token": token})
        assert resp.status_code == 200, (pid, resp.json)
    resp = http.get("/v2/%s/datasets" % GLOBEX_PROJECT_ID, headers={"X-Auth-Token": token})
    assert resp.status_code == 403
    assert resp.json["error_code"] == "ModelArts.0210"


def test_token_scoped_to_another_project_of_the_domain_is_refused(app, sim):
    token = issue_token(app, scope={"project": {"id": OTHER_PROJECT_ID}})
    http = app.test_client()
    resp = http.get(DS_PATH, headers={"X-Auth-Token": token})
    assert resp.status_code == 403
    assert resp.json == {"error_code": "ModelArts.0210", "error_msg": "The project id in the URL "
                         "does not match the project of the credentials"}
    resp = http.get("/v3/%s/traces" % PROJECT_ID, headers={"X-Auth-Token": token})
    assert resp.status_code == 403
    assert resp.json == {"error_code": "CTS.0002", "error_msg": "Authentication failed or no "
                         "permission: the project id in the URL does not belong to the caller"}
    # its own project works
    resp = http.get("/v2/%s/datasets" % OTHER_PROJECT_ID, headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.json


def test_token_scope_beats_x_project_id(app):
    token = issue_token(app, scope={"project": {"id": OTHER_PROJECT_ID}})
    resp = app.test_client().get(DS_PATH, headers={"X-Auth-Token": token,
                                                   "X-Project-Id": PROJECT_ID})
    assert resp.status_code == 403
    assert resp.json["error_code"] == "ModelArts.0210"


def test_auditor_token_cannot_write(app, client):
    token = issue_token(app, "auditor")
    resp = app.test_client().post(DS_PATH, data=orjson.dumps(DATASET), headers={
        "X-Auth-Token": token, "Content-Type": "application/json"})
    assert resp.status_code == 403
    assert resp.json["error_code"] == "ModelArts.0108"
    trace = client.last_trace()
    assert (trace["code"], trace["trace_rating"], trace["user"]) == (
        "403", "warning", dict(user_object("auditor"), access_key_id=""))


# -- the token method: re-scoping ---------------------------------------------------------------

def test_token_method_rescopes_with_the_id_in_the_body(app, sim):
    old = issue_token(app)
    resp = post_json(app, TOKEN_PATH, {"auth": {
        "identity": {"methods": ["token"], "token": {"id": old}},
        "scope": {"project": {"id": OTHER_PROJECT_ID}}}})
    assert resp.status_code == 201, resp.json
    new = resp.headers["X-Subject-Token"]
    assert new.startswith("MII") and new != old
    assert resp.json == token_body(sim.clock.now_ms(), methods=["token"],
                                   project_id=OTHER_PROJECT_ID)
    http = app.test_client()
    assert http.get("/v2/%s/datasets" % OTHER_PROJECT_ID,
                    headers={"X-Auth-Token": new}).status_code == 200
    assert http.get(DS_PATH, headers={"X-Auth-Token": new}).status_code == 403
    # the old token still works for its own project
    assert http.get(DS_PATH, headers={"X-Auth-Token": old}).status_code == 200


def test_token_method_takes_the_x_auth_token_header(app, sim):
    old = issue_token(app, "developer", scope={"domain": {"name": "acme"}})
    resp = post_json(app, TOKEN_PATH, {"auth": {
        "identity": {"methods": ["token"], "token": {}},
        "scope": {"project": {"name": "cn-north-4"}}}}, headers={"X-Auth-Token": old})
    assert resp.status_code == 201, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), user="developer", methods=["token"],
                                   project_id=PROJECT_ID)


def test_token_method_with_an_expired_token_is_401(app, sim):
    old = issue_token(app)
    sim.clock.advance(24 * 3600)
    resp = post_json(app, TOKEN_PATH, {"auth": {
        "identity": {"methods": ["token"], "token": {"id": old}},
        "scope": {"project": {"name": "cn-north-4"}}}})
    assert resp.status_code == 401
    assert resp.json == BAD_TOKEN


def test_rescoped_token_expires_24_hours_after_it_was_issued(app, sim):
    old = issue_token(app)
    sim.clock.advance(3600)
    resp = post_json(app, TOKEN_PATH, {"auth": {
        "identity": {"methods": ["token"], "token": {"id": old}},
        "scope": {"project": {"name": "cn-north-4"}}}})
    new = resp.headers["X-Subject-Token"]
    assert resp.json["token"]["expires_at"] == iso(sim.clock.now_ms() + DAY_MS)
    sim.clock.advance(23 * 3600)
    http = app.test_client()
    assert_apig_401(http.get(DS_PATH, headers={"X-Auth-Token": old}), "token expires")
    assert http.get(DS_PATH, headers={"X-Auth-Token": new}).status_code == 200


# -- GET /v3/auth/tokens: validation ------------------------------------------------------------

def test_validate_token(app, sim):
    caller = issue_token(app, "developer")
    subject = issue_token(app, scope={"project": {"id": OTHER_PROJECT_ID}})
    resp = app.test_client().get(TOKEN_PATH, headers={"X-Auth-Token": caller,
                                                      "X-Subject-Token": subject})
    assert resp.status_code == 200, resp.json
    assert resp.headers["X-Subject-Token"] == subject
    assert resp.json == token_body(sim.clock.now_ms(), project_id=OTHER_PROJECT_ID)


def test_validate_token_with_aksk_caller(app, sim, client):
    subject = issue_token(app, "auditor", scope={"domain": {"name": "acme"}})
    resp = client.get(TOKEN_PATH, headers={"X-Subject-Token": subject})
    assert resp.status_code == 200, resp.json
    assert resp.json == token_body(sim.clock.now_ms(), user="auditor", domain_scope=True)


NOT_FOUND = iam_error(404, "IAM.0004", "The token could not be found or has expired.")


@pytest.mark.parametrize("subject", ["MIInotatoken", "", None])
def test_validate_unknown_token_is_404(app, client, subject):
    headers = {} if subject is None else {"X-Subject-Token": subject}
    resp = client.get(TOKEN_PATH, headers=headers)
    assert resp.status_code == 404
    assert resp.json == NOT_FOUND
    assert "X-Subject-Token" not in resp.headers


def test_validate_expired_token_is_404(app, sim, client):
    subject = issue_token(app)
    sim.clock.advance(24 * 3600)
    resp = client.get(TOKEN_PATH, headers={"X-Subject-Token": subject})
    assert resp.status_code == 404
    assert resp.json == NOT_FOUND


def test_validate_needs_an_authenticated_caller(app):
    subject = issue_token(app)
    resp = app.test_client().get(TOKEN_PATH, headers={"X-Subject-Token": subject})
    assert_apig_401(resp, "x-auth-token not found")


# -- project and domain discovery ---------------------------------------------------------------

def _project(pid, domain_id, name, host="http://localhost"):
    return {"id": pid, "name": name, "domain_id": domain_id, "enabled": True,
            "is_domain": False, "parent_id": domain_id, "description": "",
            "links": {"self": host + "/v3/projects/" + pid}}


def _links(host="http://localhost", path="/v3/projects"):
    return {"self": host + path, "previous": None, "next": None}


def test_list_projects_by_name_returns_exactly_one(app, client):
    resp = client.get("/v3/projects", query={"name": "cn-north-4"})
    assert resp.status_code == 200, resp.json
    assert resp.json == {"projects": [_project(PROJECT_ID, DOMAIN["id"], "cn-north-4")],
                         "links": _links()}


def test_list_projects_signed_as_the_sdk_does(app, sim):
    """What BasicCredentials.process_auth_params sends: only User-Agent (no Content-Type, no
    X-Project-Id), an empty body, ?name=REGION."""
    admin = USERS["admin"]
    uri, headers, data = sdk_sign("GET", "/v3/projects", [("name", "ap-southeast-1")], "",
                                  ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms(),
                                  project_id=None, content_type=None)
    assert headers["Authorization"].split("SignedHeaders=")[1].startswith(
        "host;user-agent;x-sdk-date,")
    resp = send(app, "GET", uri, headers, data)
    assert resp.status_code == 200, resp.json
    assert resp.json["projects"] == [_project(OTHER_PROJECT_ID, DOMAIN["id"], "ap-southeast-1")]


def test_list_projects_of_another_account(app):
    mallory = SignedClient(app, "mallory", GLOBEX_PROJECT_ID)
    resp = mallory.get("/v3/projects", query={"name": "cn-north-4"})
    assert resp.status_code == 200, resp.json
    assert resp.json["projects"] == [_project(GLOBEX_PROJECT_ID, GLOBEX["id"], "cn-north-4")]


def test_list_projects_without_a_name_lists_the_accounts_projects(app, client):
    resp = client.get("/v3/projects")
    assert resp.status_code == 200, resp.json
    assert resp.json == {"projects": [_project(PROJECT_ID, DOMAIN["id"], "cn-north-4"),
                                      _project(OTHER_PROJECT_ID, DOMAIN["id"], "ap-southeast-1")],
                         "links": _links()}


@pytest.mark.parametrize("query", [{"name": "eu-west-0"}, {"domain_id": GLOBEX["id"]},
                                   {"name": "cn-north-4", "domain_id": GLOBEX["id"]}])
def test_list_projects_filters_to_nothing(app, client, query):
    resp = client.get("/v3/projects", query=query)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"projects": [], "links": _links()}


def test_list_projects_with_domain_id_of_the_caller(app, client):
    resp = client.get("/v3/projects", query={"name": "cn-north-4", "domain_id": DOMAIN["id"]})
    assert resp.json["projects"] == [_project(PROJECT_ID, DOMAIN["id"], "cn-north-4")]


def test_list_projects_with_a_token(app):
    token = issue_token(app, "mallory")
    resp = app.test_client().get("/v3/projects?name=cn-north-4", headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.json
    assert [p["id"] for p in resp.json["projects"]] == [GLOBEX_PROJECT_ID]


def test_list_projects_needs_credentials(app):
    assert_apig_401(app.test_client().get("/v3/projects?name=cn-north-4"),
                    "x-auth-token not found")


@pytest.mark.parametrize("user, domain", [("admin", DOMAIN), ("auditor", DOMAIN),
                                          ("mallory", GLOBEX)])
def test_list_auth_domains(app, user, domain):
    resp = SignedClient(app, user).get("/v3/auth/domains")
    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "domains": [{"id": domain["id"], "name": domain["name"], "enabled": True,
                     "description": "",
                     "links": {"self": "http://localhost/v3/auth/domains/" + domain["id"]}}],
        "links": _links(path="/v3/auth/domains")}


def test_iam_calls_are_not_traced(app, sim, client):
    token = issue_token(app)
    client.get("/v3/projects", query={"name": "cn-north-4"})
    client.get("/v3/auth/domains")
    client.get(TOKEN_PATH, headers={"X-Subject-Token": token})
    issue_temporary(app, token)
    assert sim.traces.count() == 0


# -- temporary AK/SK ----------------------------------------------------------------------------

def test_temporary_credential_body(app, sim):
    token = issue_token(app)
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": token, "duration_seconds": 3600}}}},
        headers={"X-Auth-Token": token})
    assert resp.status_code == 201, resp.json
    cred = resp.json["credential"]
    assert sorted(cred) == ["access", "expires_at", "secret", "securitytoken"]
    assert len(cred["access"]) == 20 and cred["access"].isalnum() and cred["access"].isupper()
    assert len(cred["secret"]) == 40 and cred["secret"].isalnum()
    assert cred["securitytoken"].startswith("MII") and len(cred["securitytoken"]) > 200
    assert cred["expires_at"] == iso(sim.clock.now_ms() + 3600 * 1000)
    # a fresh pair each time
    again = issue_temporary(app, token, 3600)
    assert again["access"] != cred["access"] and again["secret"] != cred["secret"]


def test_temporary_credential_default_duration_is_15_minutes(app, sim):
    cred = issue_temporary(app, issue_token(app))
    assert cred["expires_at"] == iso(sim.clock.now_ms() + 900 * 1000)


def test_temporary_credential_signs_calls_with_x_security_token(app, sim, client):
    token = issue_token(app)
    cred = issue_temporary(app, token, 900)
    created = sim.clock.now_ms()
    sim.clock.advance(5)
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 201, resp.json
    traces = client.traces(access_key_id=cred["access"])
    assert len(traces) == 1
    assert traces[0]["user"] == dict(
        user_object("admin"), access_key_id=cred["access"],
        session_context={"attributes": {"created_at": str(created),
                                        "mfa_authenticated": "false"}})
    assert traces[0]["trace_name"] == "createDataset"
    assert client.traces(access_key_id=USERS["admin"]["ak"]) == []


def test_temporary_credential_through_the_sdk_credentials_object(app, sim, client):
    """BasicCredentials(...).with_security_token(...).sign_request adds X-Security-Token and
    X-Project-Id itself, as the service clients do."""
    cred = issue_temporary(app, issue_token(app, "developer"), 900)
    creds = BasicCredentials(cred["access"], cred["secret"], PROJECT_ID).with_security_token(
        cred["securitytoken"])
    req = SdkRequest("GET", "http", "localhost", "/v3/%s/traces" % PROJECT_ID,
                     query_params=[("limit", 10)], body="", header_params={
                         "Content-Type": "application/json", "User-Agent": "sdk-test",
                         "X-Sdk-Date": signing.format_sdk_date(sim.clock.now_ms())})
    creds.sign_request(req)
    assert req.header_params["X-Security-Token"] == cred["securitytoken"]
    assert "x-security-token" in req.header_params["Authorization"]
    resp = send(app, "GET", req.uri, req.header_params, b"")
    assert resp.status_code == 200, resp.json
    assert resp.json == {"traces": [], "meta_data": {"count": 0, "marker": None}}


def test_temporary_credential_belongs_to_the_tokens_user(app, sim, client):
    cred = issue_temporary(app, issue_token(app, "auditor"))
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 403
    assert resp.json["error_code"] == "ModelArts.0108"
    assert client.last_trace()["user"]["name"] == "auditor"


def test_temporary_credential_of_another_account_cannot_touch_acme(app, sim):
    cred = issue_temporary(app, issue_token(app, "mallory"))
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 403
    assert resp.json["error_code"] == "ModelArts.0210"


DURATION_ERROR = _bad("duration_seconds must be an integer from 900 to 86400")


@pytest.mark.parametrize("duration", [899, 86401, 0, -900, "900", 900.0, 900.5, True, None,
                                      [900]])
def test_temporary_credential_duration_out_of_bounds_is_400(app, duration):
    token = issue_token(app)
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": token, "duration_seconds": duration}}}},
        headers={"X-Auth-Token": token})
    assert resp.status_code == 400, resp.json
    assert resp.json == DURATION_ERROR


@pytest.mark.parametrize("duration", [900, 86400])
def test_temporary_credential_duration_bounds_are_allowed(app, sim, duration):
    cred = issue_temporary(app, issue_token(app), duration)
    assert cred["expires_at"] == iso(sim.clock.now_ms() + duration * 1000)


def test_temporary_credential_of_a_day_works_until_the_end_of_the_day(app, sim):
    cred = issue_temporary(app, issue_token(app), 86400)
    sim.clock.advance(86399)
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 201, resp.json
    sim.clock.advance(1)
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"],
                                          body=dict(DATASET, dataset_name="too-late")))
    assert_apig_401(resp, "verify aksk signature fail, security token expires")


@pytest.mark.parametrize("body, expected", [
    ({"auth": {"identity": {"methods": ["password"], "token": {}}}},
     _bad('auth.identity.methods must be ["token"]')),
    ({"auth": {"identity": {"methods": ["token", "password"], "token": {}}}},
     _bad('auth.identity.methods must be ["token"]')),
    ({"auth": {"identity": {"methods": ["token"], "token": "x"}}},
     _bad("auth.identity.token must be an object")),
    ({"auth": "x"}, _bad("auth must be an object")),
    ([], _bad("the body must be an object")),
])
def test_temporary_credential_malformed_is_400(app, body, expected):
    token = issue_token(app)
    resp = post_json(app, STS_PATH, body, headers={"X-Auth-Token": token})
    assert resp.status_code == 400, resp.json
    assert resp.json == expected


def test_temporary_credential_with_an_unknown_body_token_is_401(app):
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": "MIInope"}}}})
    assert resp.status_code == 401
    assert resp.json == BAD_TOKEN


def test_temporary_credential_needs_an_authenticated_caller(app):
    resp = post_json(app, STS_PATH, {"auth": {"identity": {"methods": ["token"], "token": {}}}},
                     headers={"X-Auth-Token": "MIInope"})
    assert_apig_401(resp, "decrypt token fail")


def test_temporary_credential_with_unhashable_token_id_is_not_500(app):
    token = issue_token(app)
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": [token]}}}}, headers={"X-Auth-Token": token})
    assert resp.status_code == 400, resp.json


def test_temporary_credential_with_the_token_in_the_body_only(app):
    token = issue_token(app)
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": token, "duration_seconds": 900}}}})
    assert resp.status_code == 201, resp.json


def test_temporary_credential_x_auth_token_wins_over_the_body(app, sim, client):
    header_token = issue_token(app, "developer")
    body_token = issue_token(app, "admin")
    resp = post_json(app, STS_PATH, {"auth": {"identity": {
        "methods": ["token"], "token": {"id": body_token}}}},
        headers={"X-Auth-Token": header_token})
    assert resp.status_code == 201, resp.json
    cred = resp.json["credential"]
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 201, resp.json
    assert client.last_trace()["user"]["name"] == "developer"


def test_temporary_credential_with_an_aksk_signed_request(app, client):
    resp = client.post(STS_PATH, {"auth": {"identity": {"methods": ["token"],
                                                        "token": {"duration_seconds": 900}}}})
    assert resp.status_code == 201, resp.json


# -- end to end: the official CTS SDK finds its project id through the simulator ----------------

@pytest.fixture
def sdk_cache(monkeypatch):
    """The SDK caches discovered project ids in a class-level dict: give each test its own."""
    cache: dict = {}
    monkeypatch.setattr(Credentials, "_CACHE", cache)
    return cache


def _cts_client(server, user, region="cn-north-4"):
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (5, 30)
    cfg.retry_times = 0
    u = USERS[user]
    creds = BasicCredentials(u["ak"], u["sk"]).with_iam_endpoint(server.endpoint)
    client = (CtsClient.new_builder().with_http_config(cfg).with_credentials(creds)
              .with_region(Region(region, server.endpoint)).build())
    return client, creds


def _create_dataset_over_http(server, user="admin", project_id=PROJECT_ID, name="e2e-ds"):
    import requests
    u = USERS[user]
    url = "%s/v2/%s/datasets" % (server.endpoint, project_id)
    body = orjson.dumps(dict(DATASET, dataset_name=name))
    headers = signing.sign("POST", url, {"Content-Type": "application/json",
                                         "X-Project-Id": project_id, "User-Agent": "e2e"},
                           body, u["ak"], u["sk"], server.sim.clock.now_ms())
    resp = requests.post(url, data=body, headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()["dataset_id"]


def _discovery_error(build) -> str:
    """The SdkException's text. The exception is dropped at once, with its traceback, which
    holds the half-built client and its keep-alive connection (the waitress thread would not
    stop while that socket stays open)."""
    text = None
    try:
        build()
    except SdkException as exc:
        text = str(exc)
    gc.collect()
    assert text is not None, "the SDK raised no SdkException"
    return text


def test_cts_sdk_discovers_the_project_id_and_lists_traces(server, sdk_cache):
    dataset_id = _create_dataset_over_http(server)
    assert sdk_cache == {}
    # building the client with a Region makes the SDK ask GET /v3/projects?name=cn-north-4
    client, creds = _cts_client(server, "admin")
    assert creds.project_id == PROJECT_ID
    resp = client.list_traces(ListTracesRequest(trace_type="system", service_type="ModelArts",
                                                limit=10))
    assert sdk_cache == {USERS["admin"]["ak"] + "cn-north-4": PROJECT_ID}
    assert resp.meta_data.count == 1
    trace = resp.traces[0]
    assert (trace.trace_name, trace.resource_id, trace.resource_name, trace.code,
            trace.trace_rating, trace.user.name) == (
        "createDataset", dataset_id, "e2e-ds", "201", "normal", "admin")


def test_cts_sdk_discovery_per_account_and_region(server, sdk_cache):
    _create_dataset_over_http(server)  # in acme's cn-north-4
    _create_dataset_over_http(server, "mallory", GLOBEX_PROJECT_ID, "globex-ds")

    globex, creds = _cts_client(server, "mallory")
    resp = globex.list_traces(ListTracesRequest(trace_type="system", limit=10))
    assert creds.project_id == GLOBEX_PROJECT_ID
    assert [(t.resource_name, t.user.name) for t in resp.traces] == [("globex-ds", "mallory")]

    other, creds = _cts_client(server, "admin", "ap-southeast-1")
    resp = other.list_traces(ListTracesRequest(trace_type="system", limit=10))
    assert creds.project_id == OTHER_PROJECT_ID
    assert resp.meta_data.count == 0 and resp.traces == []

    assert sdk_cache == {USERS["mallory"]["ak"] + "cn-north-4": GLOBEX_PROJECT_ID,
                         USERS["admin"]["ak"] + "ap-southeast-1": OTHER_PROJECT_ID}


def test_cts_sdk_region_without_a_project_fails_discovery(server, sdk_cache):
    # the SDK discovers the project id while building the client
    text = _discovery_error(lambda: _cts_client(server, "admin", "eu-west-0"))
    assert "Failed to get project id of region 'eu-west-0'" in text
    assert sdk_cache == {}


def test_cts_sdk_wrong_secret_fails_discovery_with_apig_401(server, sdk_cache):
    cfg = HttpConfig.get_default_config()
    cfg.retry_times = 0
    creds = BasicCredentials(USERS["admin"]["ak"], "wrong-secret").with_iam_endpoint(
        server.endpoint)
    text = _discovery_error(lambda: (
        CtsClient.new_builder().with_http_config(cfg).with_credentials(creds)
        .with_region(Region("cn-north-4", server.endpoint)).build()))
    assert "Failed to get project id of region 'cn-north-4'" in text
    assert "APIGW.0301" in text
    assert sdk_cache == {}


def test_cts_sdk_with_temporary_credentials(server, sdk_cache):
    """Token -> temporary AK/SK over HTTP, then the SDK signs with them (X-Security-Token)."""
    import requests
    resp = requests.post(server.endpoint + TOKEN_PATH, data=orjson.dumps(password_auth(
        scope={"project": {"name": "cn-north-4"}})), headers={"Content-Type": "application/json"},
        timeout=10)
    assert resp.status_code == 201, resp.text
    token = resp.headers["X-Subject-Token"]
    resp = requests.post(server.endpoint + STS_PATH, data=orjson.dumps({"auth": {"identity": {
        "methods": ["token"], "token": {"id": token, "duration_seconds": 900}}}}),
        headers={"Content-Type": "application/json", "X-Auth-Token": token}, timeout=10)
    assert resp.status_code == 201, resp.text
    cred = resp.json()["credential"]
    _create_dataset_over_http(server)

    cfg = HttpConfig.get_default_config()
    cfg.retry_times = 0
    creds = BasicCredentials(cred["access"], cred["secret"], PROJECT_ID).with_security_token(
        cred["securitytoken"])
    client = (CtsClient.new_builder().with_http_config(cfg).with_credentials(creds)
              .with_endpoint(server.endpoint).build())
    resp = client.list_traces(ListTracesRequest(trace_type="system", limit=10))
    assert [(t.trace_name, t.user.name) for t in resp.traces] == [("createDataset", "admin")]
    assert sdk_cache == {}  # a project id given: no discovery
