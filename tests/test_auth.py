"""Who may call: AK/SK and token checks (401 APIGW.0301, never traced), the three auth modes,
cross-account and cross-project refusals (403 ModelArts.0210, traced in the caller's own project)
and the read-only auditor (403 ModelArts.0108)."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from simulator.identity import signing
from tests.conftest import make_app
from tests.helpers import (DOMAIN, GLOBEX_PROJECT_ID, HEX32, OTHER_PROJECT_ID, PROJECT_ID, USERS,
                           SignedClient, expected_record, user_object)
from tests.test_signing import UA, sdk_sign

ADMIN = USERS["admin"]
DS_PATH = "/v2/%s/datasets" % PROJECT_ID
DATASET = {"dataset_name": "auth-ds",
           "data_sources": [{"data_type": 0, "data_path": "/acme-data/data/"}],
           "work_path": "/acme-data/work/", "work_path_type": 0}
PREFIX = "Incorrect IAM authentication information: "
BAD_SIGNATURE = "verify aksk signature fail"
MINUTE_MS = 60_000
DAY_S = 86_400


# -- helpers (test_iam.py uses them too) --------------------------------------------------------

def assert_apig_401(resp, reason: str) -> None:
    """The whole body API Gateway answers an authentication failure with."""
    assert resp.status_code == 401, (resp.status_code, resp.data)
    request_id = resp.headers.get("X-Request-Id", "")
    assert HEX32.match(request_id), request_id
    assert resp.json == {"error_code": "APIGW.0301", "error_msg": PREFIX + reason,
                         "request_id": request_id}
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"


def password_auth(user="admin", password=None, domain="acme", scope=None) -> dict:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password if password is not None else USERS[user]["password"],
        "domain": {"name": domain}}}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def issue_token(app, user="admin", scope=None) -> str:
    """An IAM token for a fixture user (project scope cn-north-4 of its own account by default)."""
    domain = USERS[user].get("domain", DOMAIN)["name"]
    resp = app.test_client().post("/v3/auth/tokens", json=password_auth(
        user, domain=domain, scope=scope if scope is not None else
        {"project": {"name": "cn-north-4"}}))
    assert resp.status_code == 201, resp.json
    return resp.headers["X-Subject-Token"]


def issue_temporary(app, token: str, duration: int | None = None) -> dict:
    spec = {"id": token}
    if duration is not None:
        spec["duration_seconds"] = duration
    resp = app.test_client().post(
        "/v3.0/OS-CREDENTIAL/securitytokens", headers={"X-Auth-Token": token},
        json={"auth": {"identity": {"methods": ["token"], "token": spec}}})
    assert resp.status_code == 201, resp.json
    return resp.json["credential"]


def send(app, method, uri, headers, data=b""):
    return app.test_client().open(uri, method=method, headers=headers, data=data)


def manual_sign(method, path, query, headers: dict, body: bytes, signed: list[str], ak, sk,
                sdk_date: str) -> dict:
    """Sign with a chosen SignedHeaders list (to build requests the SDK would never send)."""
    lower = {k.lower(): v for k, v in headers.items()}
    canon = signing.canonical_request(method, path, query, lower, signed, body)
    sig = signing.signature(sk, sdk_date, canon)
    out = dict(headers)
    out["Authorization"] = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        ak, ";".join(signed), sig)
    return out


def post_dataset(app, sim, *, ak=ADMIN["ak"], sk=ADMIN["sk"], when_ms=None, body=DATASET,
                 **kw):
    uri, headers, data = sdk_sign("POST", DS_PATH, [], orjson.dumps(body), ak=ak, sk=sk,
                                  when_ms=sim.clock.now_ms() if when_ms is None else when_ms,
                                  **kw)
    return uri, headers, data


# -- strict mode: accepted ----------------------------------------------------------------------

def test_strict_accepts_a_good_signature(app, sim):
    uri, headers, data = sdk_sign("GET", DS_PATH, [], "", ak=ADMIN["ak"], sk=ADMIN["sk"],
                                  when_ms=sim.clock.now_ms())
    resp = send(app, "GET", uri, headers, data)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"datasets": [], "total_number": 0}
    assert HEX32.match(resp.headers["X-Request-Id"])


def test_strict_good_signed_write_is_traced_as_the_signer(app, sim, client):
    dev = USERS["developer"]
    uri, headers, data = post_dataset(app, sim, ak=dev["ak"], sk=dev["sk"])
    resp = send(app, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    assert sim.traces.count() == 1
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp.json["dataset_id"], resource_name="auth-ds", code=201, request=DATASET,
        response=resp.json, user="developer", time=sim.clock.now_ms(),
        request_id=resp.headers["X-Request-Id"])


@pytest.mark.parametrize("minutes", [-15, -14, 14, 15])
def test_strict_accepts_x_sdk_date_within_15_minutes(app, sim, minutes):
    uri, headers, data = post_dataset(app, sim, when_ms=sim.clock.now_ms() + minutes * MINUTE_MS)
    resp = send(app, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json


def test_strict_accepts_a_signature_over_extra_headers(app, sim):
    uri, headers, data = post_dataset(app, sim, headers={"X-Custom-Thing": "  padded  "})
    assert "x-custom-thing" in headers["Authorization"]
    resp = send(app, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json


# -- strict mode: refused, with the APIG body, and never traced --------------------------------

def _wrong_sk(app, sim):
    return ("POST",) + post_dataset(app, sim, sk=ADMIN["sk"][:-1] + "X"), BAD_SIGNATURE


def _unknown_ak(app, sim):
    return (("POST",) + post_dataset(app, sim, ak="NOSUCHKEY00000000000", sk="whatever"),
            "verify aksk signature fail, access key NOSUCHKEY00000000000 does not exist")


def _tampered_body(app, sim):
    uri, headers, _ = post_dataset(app, sim)
    return ("POST", uri, headers, orjson.dumps(dict(DATASET, dataset_name="other"))), \
        BAD_SIGNATURE


def _tampered_body_whitespace(app, sim):
    uri, headers, data = post_dataset(app, sim)
    return ("POST", uri, headers, data + b" "), BAD_SIGNATURE


def _tampered_query(app, sim):
    uri, headers, data = sdk_sign("POST", DS_PATH, [("workspace_id", "0")], orjson.dumps(DATASET),
                                  ak=ADMIN["ak"], sk=ADMIN["sk"], when_ms=sim.clock.now_ms())
    assert uri.endswith("?workspace_id=0")
    return ("POST", uri[:-1] + "1", headers, data), BAD_SIGNATURE


def _added_query(app, sim):
    uri, headers, data = post_dataset(app, sim)
    return ("POST", uri + "?extra=1", headers, data), BAD_SIGNATURE


def _tampered_path(app, sim):
    uri, headers, data = sdk_sign("DELETE", DS_PATH + "/abc", [], "", ak=ADMIN["ak"],
                                  sk=ADMIN["sk"], when_ms=sim.clock.now_ms())
    return ("DELETE", uri.replace("/abc", "/abd"), headers, data), BAD_SIGNATURE


def _tampered_method(app, sim):
    uri, headers, data = sdk_sign("GET", DS_PATH + "/abc", [], "", ak=ADMIN["ak"],
                                  sk=ADMIN["sk"], when_ms=sim.clock.now_ms())
    return ("DELETE", uri, headers, data), BAD_SIGNATURE


def _tampered_host(app, sim):
    uri, headers, data = post_dataset(app, sim)
    return ("POST", uri, dict(headers, Host="evil.example"), data), BAD_SIGNATURE


def _tampered_signed_header(app, sim):
    uri, headers, data = post_dataset(app, sim)
    return ("POST", uri, dict(headers, **{"User-Agent": "something-else/1.0"}), data), \
        BAD_SIGNATURE


def _host_not_signed(app, sim):
    date = signing.format_sdk_date(sim.clock.now_ms())
    body = orjson.dumps(DATASET)
    headers = {"Content-Type": "application/json", "X-Sdk-Date": date, "Host": "localhost"}
    headers = manual_sign("POST", DS_PATH, "", headers, body, ["content-type", "x-sdk-date"],
                          ADMIN["ak"], ADMIN["sk"], date)
    return ("POST", DS_PATH, headers, body), \
        "verify aksk signature fail, the host header must be signed"


def _signed_x_sdk_date_missing(app, sim):
    uri, headers, data = post_dataset(app, sim)
    del headers["X-Sdk-Date"]
    return ("POST", uri, headers, data), \
        "verify aksk signature fail, signed header x-sdk-date is missing"


def _x_sdk_date_absent_and_unsigned(app, sim):
    body = orjson.dumps(DATASET)
    headers = {"Content-Type": "application/json", "Host": "localhost"}
    headers = manual_sign("POST", DS_PATH, "", headers, body, ["content-type", "host"],
                          ADMIN["ak"], ADMIN["sk"], signing.format_sdk_date(sim.clock.now_ms()))
    return ("POST", DS_PATH, headers, body), "verify aksk signature fail, x-sdk-date not found"


def _malformed_x_sdk_date(date):
    def build(app, sim):
        body = orjson.dumps(DATASET)
        headers = {"Content-Type": "application/json", "Host": "localhost", "X-Sdk-Date": date}
        headers = manual_sign("POST", DS_PATH, "", headers, body,
                              ["content-type", "host", "x-sdk-date"], ADMIN["ak"], ADMIN["sk"],
                              date)
        return ("POST", DS_PATH, headers, body), \
            "verify aksk signature fail, x-sdk-date is not YYYYMMDDTHHMMSSZ"
    return build


def _skewed(minutes: float):
    def build(app, sim):
        return (("POST",) + post_dataset(app, sim, when_ms=sim.clock.now_ms() + int(
            minutes * MINUTE_MS)), "verify aksk signature fail, signature expired")
    return build


def _malformed_authorization(value):
    def build(app, sim):
        uri, headers, data = post_dataset(app, sim)
        return ("POST", uri, dict(headers, Authorization=value), data), (
            "verify aksk signature fail, the Authorization header is not SDK-HMAC-SHA256 "
            "Access=..., SignedHeaders=..., Signature=...")
    return build


def _no_credentials(app, sim):
    return ("POST", DS_PATH, {"Content-Type": "application/json"}, orjson.dumps(DATASET)), \
        "x-auth-token not found"


def _unknown_token(app, sim):
    return ("POST", DS_PATH, {"Content-Type": "application/json", "X-Auth-Token": "MIIbogus"},
            orjson.dumps(DATASET)), "decrypt token fail"


def _expired_token(app, sim):
    token = issue_token(app)
    sim.clock.advance(DAY_S + 1)
    return ("POST", DS_PATH, {"Content-Type": "application/json", "X-Auth-Token": token},
            orjson.dumps(DATASET)), "token expires"


def _token_at_expiry(app, sim):
    token = issue_token(app)
    sim.clock.advance(DAY_S)
    return ("POST", DS_PATH, {"Content-Type": "application/json", "X-Auth-Token": token},
            orjson.dumps(DATASET)), "token expires"


def _temporary_without_security_token(app, sim):
    cred = issue_temporary(app, issue_token(app))
    return (("POST",) + post_dataset(app, sim, ak=cred["access"], sk=cred["secret"]),
            "verify aksk signature fail, a temporary access key needs x-security-token")


def _temporary_with_wrong_security_token(app, sim):
    cred = issue_temporary(app, issue_token(app))
    other = issue_temporary(app, issue_token(app))
    return (("POST",) + post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                     security_token=other["securitytoken"]),
            "verify aksk signature fail, security token is invalid")


def _temporary_expired(app, sim):
    cred = issue_temporary(app, issue_token(app), duration=900)
    sim.clock.advance(901)
    return (("POST",) + post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                     security_token=cred["securitytoken"]),
            "verify aksk signature fail, security token expires")


def _temporary_with_wrong_sk(app, sim):
    cred = issue_temporary(app, issue_token(app))
    return (("POST",) + post_dataset(app, sim, ak=cred["access"], sk=cred["secret"] + "x",
                                     security_token=cred["securitytoken"]), BAD_SIGNATURE)


def _swapped_body_under_an_unsigned_content_hash(app, sim):
    """A captured signed POST, its body swapped, and X-Sdk-Content-Sha256 (not among the
    signed headers) naming the captured body's hash: once enough to run the new body."""
    uri, headers, data = post_dataset(app, sim)
    other = orjson.dumps(dict(DATASET, dataset_name="swapped"))
    headers = dict(headers, **{"X-Sdk-Content-Sha256": hashlib.sha256(data).hexdigest()})
    return ("POST", uri, headers, other), BAD_SIGNATURE


def _signed_content_hash_of_another_body(app, sim):
    data = orjson.dumps(DATASET)
    uri, headers, _ = post_dataset(app, sim, headers={
        "X-Sdk-Content-Sha256": hashlib.sha256(data + b" ").hexdigest()})
    return ("POST", uri, headers, data), BAD_SIGNATURE


def _temporary_with_an_unsigned_security_token(app, sim):
    cred = issue_temporary(app, issue_token(app))
    uri, headers, data = post_dataset(app, sim, ak=cred["access"], sk=cred["secret"])
    headers = dict(headers, **{"X-Security-Token": cred["securitytoken"]})
    return ("POST", uri, headers, data), \
        "verify aksk signature fail, x-security-token must be signed"


REFUSALS = {
    "wrong_sk": _wrong_sk,
    "unknown_ak": _unknown_ak,
    "tampered_body": _tampered_body,
    "tampered_body_whitespace": _tampered_body_whitespace,
    "tampered_query": _tampered_query,
    "added_query": _added_query,
    "tampered_path": _tampered_path,
    "tampered_method": _tampered_method,
    "tampered_host": _tampered_host,
    "tampered_signed_header": _tampered_signed_header,
    "host_not_signed": _host_not_signed,
    "signed_x_sdk_date_missing": _signed_x_sdk_date_missing,
    "x_sdk_date_absent": _x_sdk_date_absent_and_unsigned,
    "x_sdk_date_iso": _malformed_x_sdk_date("2026-11-18T11:06:40Z"),
    "x_sdk_date_no_z": _malformed_x_sdk_date("20261118T110640"),
    "x_sdk_date_epoch": _malformed_x_sdk_date("1795000000"),
    "x_sdk_date_16_min_ahead": _skewed(16),
    "x_sdk_date_16_min_behind": _skewed(-16),
    "x_sdk_date_15_min_1_s_ahead": _skewed(15 + 1 / 60),
    "x_sdk_date_15_min_1_s_behind": _skewed(-15 - 1 / 60),
    "x_sdk_date_a_day_behind": _skewed(-24 * 60),
    "authorization_basic": _malformed_authorization("Basic YWRtaW46QWRtaW5AMTIzNDU="),
    "authorization_bare": _malformed_authorization("SDK-HMAC-SHA256"),
    "authorization_no_signature": _malformed_authorization(
        "SDK-HMAC-SHA256 Access=%s, SignedHeaders=host;x-sdk-date" % ADMIN["ak"]),
    "authorization_not_hex": _malformed_authorization(
        "SDK-HMAC-SHA256 Access=%s, SignedHeaders=host;x-sdk-date, Signature=zz" % ADMIN["ak"]),
    "authorization_other_algorithm": _malformed_authorization(
        "SDK-HMAC-SM3 Access=%s, SignedHeaders=host;x-sdk-date, Signature=ab" % ADMIN["ak"]),
    "no_credentials": _no_credentials,
    "unknown_token": _unknown_token,
    "expired_token": _expired_token,
    "token_at_expiry": _token_at_expiry,
    "temporary_without_security_token": _temporary_without_security_token,
    "temporary_with_wrong_security_token": _temporary_with_wrong_security_token,
    "temporary_expired": _temporary_expired,
    "temporary_with_wrong_sk": _temporary_with_wrong_sk,
    "swapped_body_under_an_unsigned_content_hash": _swapped_body_under_an_unsigned_content_hash,
    "signed_content_hash_of_another_body": _signed_content_hash_of_another_body,
    "temporary_with_an_unsigned_security_token": _temporary_with_an_unsigned_security_token,
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_strict_refuses_with_apig_401_and_no_trace(app, sim, case):
    (method, uri, headers, data), reason = REFUSALS[case](app, sim)
    before = sim.traces.count()
    resp = send(app, method, uri, headers, data)
    assert_apig_401(resp, reason)
    assert sim.traces.count() == before == 0


@pytest.mark.parametrize("content_type, declared", [
    ("application/json", "body"), ("text/plain", "UNSIGNED-PAYLOAD")])
def test_a_signed_content_hash_is_taken_when_it_is_the_bodys_or_unsigned_payload(
        app, sim, content_type, declared):
    """huaweicloudsdkcore signs X-Sdk-Content-Sha256 like any header, and sends UNSIGNED-PAYLOAD
    for a body that is not JSON, which API Gateway takes without hashing the body."""
    data = orjson.dumps(DATASET)
    extra = {"X-Sdk-Content-Sha256": hashlib.sha256(data).hexdigest()} if declared == "body" \
        else {}
    uri, headers, data = post_dataset(app, sim, headers=extra, content_type=content_type)
    assert headers["X-Sdk-Content-Sha256"] == (
        hashlib.sha256(data).hexdigest() if declared == "body" else "UNSIGNED-PAYLOAD")
    assert "x-sdk-content-sha256" in headers["Authorization"]
    resp = send(app, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json


def test_the_same_request_correctly_signed_is_traced(app, sim):
    """The control for the refusals above: the request they spoil succeeds and leaves a trace."""
    assert sim.traces.count() == 0
    resp = send(app, "POST", *post_dataset(app, sim))
    assert resp.status_code == 201, resp.json
    assert sim.traces.count() == 1


def test_request_ids_of_refusals_are_distinct(app, sim):
    ids = set()
    for _ in range(3):
        resp = send(app, *_wrong_sk(app, sim)[0])
        assert_apig_401(resp, BAD_SIGNATURE)
        ids.add(resp.headers["X-Request-Id"])
    assert len(ids) == 3


def test_refused_reads_of_traces_are_401_too(app, sim):
    resp = app.test_client().get("/v3/%s/traces" % PROJECT_ID)
    assert_apig_401(resp, "x-auth-token not found")


def test_temporary_credentials_work_until_they_expire(app, sim, client):
    cred = issue_temporary(app, issue_token(app), duration=900)
    created_ms = sim.clock.now_ms()
    sim.clock.advance(899)
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"]))
    assert resp.status_code == 201, resp.json
    user = client.last_trace()["user"]
    assert user == dict(user_object("admin"), access_key_id=cred["access"], session_context={
        "attributes": {"created_at": str(created_ms), "mfa_authenticated": "false"}})
    sim.clock.advance(1)
    resp = send(app, "POST", *post_dataset(app, sim, ak=cred["access"], sk=cred["secret"],
                                          security_token=cred["securitytoken"],
                                          body=dict(DATASET, dataset_name="late")))
    assert_apig_401(resp, "verify aksk signature fail, security token expires")


def test_token_works_until_24_hours(app, sim):
    token = issue_token(app)
    sim.clock.advance(DAY_S - 1)
    resp = app.test_client().get(DS_PATH, headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.json
    sim.clock.advance(1)
    resp = app.test_client().get(DS_PATH, headers={"X-Auth-Token": token})
    assert_apig_401(resp, "token expires")


# -- lenient mode -------------------------------------------------------------------------------

@pytest.fixture
def lenient():
    app = make_app(auth="lenient")
    yield app
    app.extensions["modelarts_sim"].close()


def test_lenient_accepts_a_bad_signature_and_names_the_caller_from_the_ak(lenient):
    sim = lenient.extensions["modelarts_sim"]
    dev = USERS["developer"]
    uri, headers, data = post_dataset(lenient, sim, ak=dev["ak"], sk="not-the-secret")
    resp = send(lenient, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    trace = SignedClient(lenient).last_trace()
    assert trace == expected_record(
        trace, trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp.json["dataset_id"], resource_name="auth-ds", code=201, request=DATASET,
        response=resp.json, user="developer", time=sim.clock.now_ms(),
        request_id=resp.headers["X-Request-Id"])


def test_lenient_ignores_a_stale_x_sdk_date(lenient):
    sim = lenient.extensions["modelarts_sim"]
    uri, headers, data = post_dataset(lenient, sim, when_ms=sim.clock.now_ms() - DAY_S * 1000)
    resp = send(lenient, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    assert SignedClient(lenient).last_trace()["user"] == user_object("admin")


def test_lenient_unknown_ak_becomes_a_user_named_after_it(lenient):
    sim = lenient.extensions["modelarts_sim"]
    ak = "STRANGERAK0000000001"
    uri, headers, data = post_dataset(lenient, sim, ak=ak, sk="anything")
    resp = send(lenient, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    traces = SignedClient(lenient).traces(user=ak)
    assert len(traces) == 1
    uid = hashlib.md5(ak.encode()).hexdigest()
    assert traces[0]["user"] == {
        "id": uid, "name": ak, "user_name": ak, "type": "User", "account_id": DOMAIN["id"],
        "domain": DOMAIN, "access_key_id": ak, "principal_id": uid,
        "principal_urn": "iam::%s:user:%s" % (DOMAIN["id"], ak),
        "principal_is_root_user": "false"}
    assert (traces[0]["project_id"], traces[0]["code"]) == (PROJECT_ID, "201")


def test_lenient_without_credentials_is_the_default_admin(lenient):
    sim = lenient.extensions["modelarts_sim"]
    resp = lenient.test_client().post(DS_PATH, json=DATASET, headers={"User-Agent": UA})
    assert resp.status_code == 201, resp.json
    trace = SignedClient(lenient).last_trace()
    assert trace["user"] == dict(user_object("admin"), access_key_id="")
    assert sim.traces.count() == 1


def test_lenient_malformed_authorization_is_the_default_admin(lenient):
    resp = lenient.test_client().post(DS_PATH, json=DATASET,
                                      headers={"Authorization": "Basic eDp5"})
    assert resp.status_code == 201, resp.json
    assert SignedClient(lenient).last_trace()["user"] == dict(user_object("admin"),
                                                             access_key_id="")


def test_lenient_unknown_token_is_the_default_admin(lenient):
    resp = lenient.test_client().get(DS_PATH, headers={"X-Auth-Token": "MIInope"})
    assert resp.status_code == 200, resp.json
    assert resp.json == {"datasets": [], "total_number": 0}


def test_lenient_still_keeps_accounts_apart(lenient):
    sim = lenient.extensions["modelarts_sim"]
    mallory = USERS["mallory"]
    uri, headers, data = post_dataset(lenient, sim, ak=mallory["ak"], sk="wrong")
    resp = send(lenient, "POST", uri, headers, data)
    assert resp.status_code == 403
    assert resp.json == {"error_code": "ModelArts.0210", "error_msg": "The project id in the "
                         "URL does not match the project of the credentials"}


# -- off mode -----------------------------------------------------------------------------------

@pytest.fixture
def off():
    app = make_app(auth="off")
    yield app
    app.extensions["modelarts_sim"].close()


def test_off_needs_no_credentials_and_calls_are_the_default_admin(off):
    sim = off.extensions["modelarts_sim"]
    resp = off.test_client().post(DS_PATH, data=orjson.dumps(DATASET),
                                  headers={"User-Agent": UA, "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.json
    trace = SignedClient(off).last_trace()
    assert trace == dict(expected_record(
        trace, trace_name="createDataset", operation_id="CreateDataset",
        resource_id=resp.json["dataset_id"], resource_name="auth-ds", code=201, request=DATASET,
        response=resp.json, time=sim.clock.now_ms(), request_id=resp.headers["X-Request-Id"]),
        user=dict(user_object("admin"), access_key_id=""))


def test_off_ignores_signatures_tokens_and_dates(off):
    sim = off.extensions["modelarts_sim"]
    mallory = USERS["mallory"]
    uri, headers, data = post_dataset(off, sim, ak=mallory["ak"], sk="wrong",
                                      when_ms=sim.clock.now_ms() - 10 * DAY_S * 1000)
    resp = send(off, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    assert SignedClient(off).last_trace()["user"] == dict(user_object("admin"), access_key_id="")
    resp = off.test_client().get("/v3/%s/traces" % PROJECT_ID,
                                 headers={"X-Auth-Token": "MIIexpired"})
    assert resp.status_code == 200
    assert resp.json["meta_data"]["count"] == 1


# -- cross-account and cross-project ------------------------------------------------------------

ERR_0210 = {"error_code": "ModelArts.0210",
            "error_msg": "The project id in the URL does not match the project of the credentials"}


@pytest.mark.parametrize("x_project_id", [PROJECT_ID, GLOBEX_PROJECT_ID])
def test_cross_account_write_is_refused_and_traced_in_the_callers_own_project(
        app, sim, client, x_project_id):
    mallory = SignedClient(app, "mallory", PROJECT_ID)
    resp = mallory.post("/v2/{project_id}/datasets", DATASET,
                        headers={"X-Project-Id": x_project_id})
    assert resp.status_code == 403
    assert resp.json == ERR_0210
    assert sim.traces.count() == 1

    own = SignedClient(app, "mallory", GLOBEX_PROJECT_ID)
    traces = own.traces()
    assert traces == [expected_record(
        traces[0], trace_name="createDataset", operation_id="CreateDataset", resource_id="",
        resource_name="", code=403, request=DATASET, response=ERR_0210, user="mallory",
        project_id=GLOBEX_PROJECT_ID, error_code="ModelArts.0210", time=sim.clock.now_ms(),
        request_id=resp.headers["X-Request-Id"])]
    assert traces[0]["trace_rating"] == "warning"
    # acme's audit log does not show it, in any of acme's projects
    assert client.traces() == []
    assert SignedClient(app, "admin", OTHER_PROJECT_ID).traces() == []


def test_cross_account_read_is_refused(app):
    resp = SignedClient(app, "mallory", PROJECT_ID).get("/v2/{project_id}/datasets")
    assert resp.status_code == 403
    assert resp.json == ERR_0210


def test_cross_account_list_traces_is_refused_in_the_cts_dialect(app, client):
    client.post("/v2/{project_id}/datasets", DATASET)
    resp = SignedClient(app, "mallory", PROJECT_ID).get("/v3/{project_id}/traces")
    assert resp.status_code == 403
    assert resp.json == {"error_code": "CTS.0002", "error_msg": "Authentication failed or no "
                         "permission: the project id in the URL does not belong to the caller"}


def test_unknown_project_in_the_path_is_refused(app):
    resp = SignedClient(app, "admin", "ffffffffffffffffffffffffffffffff").get(
        "/v2/{project_id}/datasets")
    assert resp.status_code == 403
    assert resp.json == ERR_0210


def test_x_project_id_of_another_acme_project_is_refused(app, sim, client):
    resp = client.get("/v2/{project_id}/datasets", headers={"X-Project-Id": OTHER_PROJECT_ID})
    assert resp.status_code == 403
    assert resp.json == ERR_0210

    resp = client.post("/v2/{project_id}/datasets", DATASET,
                       headers={"X-Project-Id": OTHER_PROJECT_ID})
    assert resp.status_code == 403
    assert resp.json == ERR_0210
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="createDataset", operation_id="CreateDataset", resource_id="",
        resource_name="", code=403, request=DATASET, response=ERR_0210,
        error_code="ModelArts.0210", time=sim.clock.now_ms(),
        request_id=resp.headers["X-Request-Id"])


def test_x_project_id_matching_the_path_of_the_other_project_works(app):
    other = SignedClient(app, "admin", OTHER_PROJECT_ID)
    resp = other.post("/v2/{project_id}/datasets", DATASET)
    assert resp.status_code == 201, resp.json
    assert other.last_trace()["project_id"] == OTHER_PROJECT_ID


# -- roles --------------------------------------------------------------------------------------

ERR_0108 = {"error_code": "ModelArts.0108", "error_msg": "You are not authorized to perform "
            "operation CreateDataset: user auditor may only read"}


def test_auditor_write_is_refused_and_traced_as_a_warning(app, sim, client):
    auditor = client.as_user("auditor")
    resp = auditor.post("/v2/{project_id}/datasets", DATASET)
    assert resp.status_code == 403
    assert resp.json == ERR_0108
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="createDataset", operation_id="CreateDataset", resource_id="",
        resource_name="", code=403, request=DATASET, response=ERR_0108, user="auditor",
        rating="warning", error_code="ModelArts.0108", time=sim.clock.now_ms(),
        request_id=resp.headers["X-Request-Id"])
    # nothing was created
    assert client.get("/v2/{project_id}/datasets").json == {"datasets": [], "total_number": 0}


def test_auditor_can_read(app, client):
    auditor = client.as_user("auditor")
    resp = auditor.get("/v2/{project_id}/datasets")
    assert resp.status_code == 200, resp.json
    assert resp.json == {"datasets": [], "total_number": 0}
    created = client.post("/v2/{project_id}/datasets", DATASET)
    assert created.status_code == 201
    listed = auditor.get("/v2/{project_id}/datasets").json
    assert listed["total_number"] == 1
    assert [d["dataset_id"] for d in listed["datasets"]] == [created.json["dataset_id"]]
    # and read the audit log
    assert [t["trace_name"] for t in auditor.traces()] == ["createDataset"]


def test_auditor_delete_is_refused(app, client):
    created = client.post("/v2/{project_id}/datasets", DATASET).json["dataset_id"]
    resp = client.as_user("auditor").delete("/v2/{project_id}/datasets/" + created)
    assert resp.status_code == 403
    assert resp.json == {"error_code": "ModelArts.0108", "error_msg": "You are not authorized to "
                         "perform operation DeleteDataset: user auditor may only read"}
    assert client.get("/v2/{project_id}/datasets").json["total_number"] == 1


def test_developer_may_write(app, client):
    resp = client.as_user("developer").post("/v2/{project_id}/datasets", DATASET)
    assert resp.status_code == 201, resp.json
    assert client.last_trace()["user"] == user_object("developer")


@pytest.mark.parametrize("host", ["xn--a", "xn--n3h-", "[1:80]"])
def test_a_host_header_werkzeug_cannot_read_costs_only_the_answers_that_show_the_host(off, host):
    """Only three IAM answers name the host the caller used: the rest never parse it, so a Host
    header werkzeug refuses (a bad IDNA label, a broken IPv6 form) is not their 500."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app
    environ = EnvironBuilder(path=DS_PATH + "/nope", method="DELETE",
                             headers={"User-Agent": UA}).get_environ()
    environ["HTTP_HOST"] = host  # werkzeug's own test client cannot send it
    environ["REMOTE_ADDR"] = "127.0.0.1"  # as the test client would give it
    body, status, headers = run_wsgi_app(off.wsgi_app, environ, buffered=True)
    assert status == "400 BAD REQUEST"
    answer = orjson.loads(b"".join(body))
    assert answer == {"error_code": "ModelArts.4352", "error_msg": "Dataset nope does not exist."}
    trace = SignedClient(off).last_trace()
    assert trace == dict(expected_record(
        trace, trace_name="deleteDataset", operation_id="DeleteDataset", resource_id="nope",
        resource_name="", code=400, request=None, response=answer, error_code="ModelArts.4352",
        time=off.extensions["modelarts_sim"].clock.now_ms(),
        request_id=headers["X-Request-Id"]), user=dict(user_object("admin"), access_key_id=""),
        user_agent=UA)
