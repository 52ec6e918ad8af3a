"""SDK-HMAC-SHA256 (cts-and-auth.md section 5.1): the reference vector, the canonical forms, and
requests signed by huaweicloudsdkcore's own Signer sent to the simulator (in process and over
HTTP)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from simulator.app import create_app
from simulator.clock import Clock
from simulator.core import Simulator
from simulator.identity import signing
from simulator.identity.accounts import Directory
from simulator.identity.auth import AuthError, Authenticator, RawRequest
from simulator.settings import Settings
from simulator.signed_client import SessionTransport, SignedClient
from tests.helpers import PROJECT_ID, USERS

# -- the reference vector (cts-and-auth.md section 5.1) ---------------------------------------

REF_AK = "AKEXAMPLE0000000"
REF_SK = "SKEXAMPLE"
REF_PROJECT = "0123456789abcdef0123456789abcdef"
REF_PATH = "/v3/%s/traces" % REF_PROJECT
REF_QUERY = "limit=50&service_type=ModelArts&trace_type=system&user=alice%20bob"
REF_DATE = "20240102T030405Z"
REF_DATE_MS = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp() * 1000)
REF_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "huaweicloud-usdk-python/3.0",
    "X-Project-Id": REF_PROJECT,
    "X-Sdk-Date": REF_DATE,
    "Host": "127.0.0.1:8080",
}
REF_SIGNED = ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"]
REF_CANONICAL = (
    "GET\n"
    "/v3/0123456789abcdef0123456789abcdef/traces/\n"
    "limit=50&service_type=ModelArts&trace_type=system&user=alice%20bob\n"
    "content-type:application/json\n"
    "host:127.0.0.1:8080\n"
    "user-agent:huaweicloud-usdk-python/3.0\n"
    "x-project-id:0123456789abcdef0123456789abcdef\n"
    "x-sdk-date:20240102T030405Z\n"
    "\n"
    "content-type;host;user-agent;x-project-id;x-sdk-date\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)
REF_STRING_TO_SIGN = (
    "SDK-HMAC-SHA256\n"
    "20240102T030405Z\n"
    "cf9f77591ee8cb30bd352aef5d79de9daf37acd33ff97294617e66fd77e90967"
)
REF_SIGNATURE = "e52d9a37a09096b65fb7a62b2880d805c510d6b80a800f4f85f3ab9a8f4e15ee"
REF_AUTHORIZATION = ("SDK-HMAC-SHA256 Access=AKEXAMPLE0000000, SignedHeaders=content-type;host;"
                     "user-agent;x-project-id;x-sdk-date, Signature=" + REF_SIGNATURE)
UA = "modelarts-sim-tests/1.0"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _lower(headers: dict) -> dict:
    return {k.lower(): v for k, v in headers.items()}


# -- signing with the SDK itself (shared with test_auth / test_iam) ----------------------------

def sdk_sign(method: str, path: str, query=(), body: bytes | str = b"", *, ak: str, sk: str,
             when_ms: int | None = None, host: str = "localhost", headers: dict | None = None,
             project_id: str | None = PROJECT_ID, security_token: str | None = None,
             content_type: str | None = "application/json"):
    """Sign a request with huaweicloudsdkcore's Signer. Returns (uri, headers, body): the uri
    (path and query) exactly as the SDK would put it on the wire. ``when_ms`` None lets the SDK
    stamp the current (real) time."""
    header_params = {"User-Agent": UA}
    if content_type:
        header_params["Content-Type"] = content_type
    if project_id:
        header_params["X-Project-Id"] = project_id
    if when_ms is not None:
        header_params["X-Sdk-Date"] = signing.format_sdk_date(when_ms)
    if security_token:
        header_params["X-Security-Token"] = security_token
    header_params.update(headers or {})
    req = SdkRequest(method=method, schema="http", host=host, resource_path=path,
                     query_params=list(query), header_params=header_params, body=body)
    Signer(BasicCredentials(ak, sk)).sign(req)
    data = req.body if isinstance(req.body, bytes) else (req.body or "").encode()
    return req.uri, dict(req.header_params), data


def sdk_canonical_query(pairs) -> str:
    req = SdkRequest(query_params=[(k, list(v) if isinstance(v, list) else v) for k, v in pairs])
    return Signer._process_canonical_query_string(req)


def sdk_canonical_uri(path: str) -> str:
    return Signer(BasicCredentials("a", "b"))._process_canonical_uri(
        SdkRequest(resource_path=path))


# -- 1. the reference vector, piece by piece ---------------------------------------------------

def test_reference_canonical_request():
    canon = signing.canonical_request("GET", REF_PATH, REF_QUERY, _lower(REF_HEADERS),
                                      REF_SIGNED, b"")
    assert canon == REF_CANONICAL


def test_reference_string_to_sign():
    assert signing.string_to_sign(REF_DATE, REF_CANONICAL) == REF_STRING_TO_SIGN


def test_reference_signature():
    assert signing.signature(REF_SK, REF_DATE, REF_CANONICAL) == REF_SIGNATURE
    # and it is plain lower-hex HMAC-SHA256 keyed with the SK bytes
    assert hmac.new(REF_SK.encode(), REF_STRING_TO_SIGN.encode(),
                    hashlib.sha256).hexdigest() == REF_SIGNATURE


def test_reference_client_side_sign_produces_the_reference_headers():
    url = "http://127.0.0.1:8080" + REF_PATH + "?" + REF_QUERY
    base = {k: v for k, v in REF_HEADERS.items() if k not in ("X-Sdk-Date", "Host")}
    out = signing.sign("GET", url, base, b"", REF_AK, REF_SK, REF_DATE_MS)
    assert out == dict(REF_HEADERS, Authorization=REF_AUTHORIZATION)


def test_reference_vector_is_what_the_sdk_signer_produces():
    pairs = [("limit", 50), ("service_type", "ModelArts"), ("trace_type", "system"),
             ("user", "alice bob")]
    headers = {k: v for k, v in REF_HEADERS.items() if k != "Host"}
    req = SdkRequest("GET", "http", "127.0.0.1:8080", REF_PATH, query_params=pairs,
                     header_params=dict(headers), body="")
    Signer(BasicCredentials(REF_AK, REF_SK)).sign(req)
    assert req.header_params["Authorization"] == REF_AUTHORIZATION
    assert req.header_params["Host"] == "127.0.0.1:8080"
    assert req.uri == REF_PATH + "?" + REF_QUERY


def test_parse_reference_authorization():
    assert signing.parse_authorization(REF_AUTHORIZATION) == (REF_AK, REF_SIGNED, REF_SIGNATURE)


@pytest.mark.parametrize("value", [
    "", "SDK-HMAC-SHA256", "Basic dXNlcjpwYXNz",
    "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host",  # no signature
    "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=xyz",  # not hex
    "SDK-HMAC-SM3 Access=AK, SignedHeaders=host, Signature=abcd",  # another algorithm
    "V11-HMAC-SHA256 Credential=AK/20240102/cn-north-4/cts, SignedHeaders=host, Signature=ab",
])
def test_parse_authorization_rejects_malformed(value):
    assert signing.parse_authorization(value) is None


def test_sdk_date_round_trip():
    assert signing.parse_sdk_date(REF_DATE) == REF_DATE_MS
    assert signing.format_sdk_date(REF_DATE_MS) == REF_DATE
    for bad in ("", "2024-01-02T03:04:05Z", "20240102T030405", "20241302T030405Z",
                "20240230T030405Z", "20240102T250405Z", "20240102T030405Z ", "2024010２T030405Z",
                "+0240102T030405Z", None, 20240102):
        assert signing.parse_sdk_date(bad) is None
    assert signing.parse_sdk_date("20240229T235959Z") == 1709251199000


def test_only_a_repeated_query_key_is_ambiguous():
    assert not signing.repeats_a_key("")
    assert not signing.repeats_a_key("limit=10")
    assert not signing.repeats_a_key("limit=10&offset=0&limita=1")
    assert signing.repeats_a_key("id=9&id=10")
    assert signing.repeats_a_key("a=1&b=2&a")
    assert signing.repeats_a_key("a=1&%61=2")  # the same key once decoded


# -- 2. the verifier accepts the reference request ---------------------------------------------

REF_ACCOUNTS = """
[[domains]]
id = "11111111111111111111111111111111"
name = "example"

  [[domains.projects]]
  id = "0123456789abcdef0123456789abcdef"
  name = "cn-north-4"

  [[domains.users]]
  id = "22222222222222222222222222222222"
  name = "example-admin"
  role = "admin"
  default = true

    [[domains.users.credentials]]
    access_key = "AKEXAMPLE0000000"
    secret_key = "SKEXAMPLE"
"""


def _ref_authenticator(now_ms=REF_DATE_MS):
    import tomllib
    directory = Directory.from_mapping(tomllib.loads(REF_ACCOUNTS))
    return Authenticator("strict", directory, None, Clock(start_ms=now_ms, frozen=True), 900)


def _ref_raw(headers=None, path=REF_PATH, query=REF_QUERY, body=b"", method="GET"):
    h = _lower(dict(REF_HEADERS, Authorization=REF_AUTHORIZATION))
    h.update(_lower(headers or {}))
    return RawRequest(method, path, query, h, body)


def test_authenticator_accepts_the_reference_request():
    caller = _ref_authenticator().authenticate(_ref_raw())
    assert (caller.user.name, caller.access_key_id, caller.via, caller.project_id,
            caller.temporary) == ("example-admin", REF_AK, "aksk", REF_PROJECT, False)


@pytest.mark.parametrize("change", [
    {"path": REF_PATH + "x"},
    {"query": REF_QUERY.replace("50", "51")},
    {"query": REF_QUERY + "&marker=abc"},
    {"method": "DELETE"},
    {"body": b"{}"},
    {"headers": {"User-Agent": "curl/8.0"}},
    {"headers": {"X-Project-Id": "ffffffffffffffffffffffffffffffff"}},
    {"headers": {"Host": "127.0.0.1:8081"}},
    {"headers": {"Authorization": REF_AUTHORIZATION[:-1] + "f"}},
    {"headers": {"Authorization": REF_AUTHORIZATION.replace("SignedHeaders=content-type;",
                                                            "SignedHeaders=")}},
])
def test_authenticator_rejects_any_change_to_the_reference_request(change):
    with pytest.raises(AuthError) as info:
        _ref_authenticator().authenticate(_ref_raw(**change))
    assert str(info.value) == ("Incorrect IAM authentication information: "
                               "verify aksk signature fail")


def test_unsigned_headers_may_change():
    # headers requests adds after signing (Accept, Connection...) are not signed
    caller = _ref_authenticator().authenticate(_ref_raw(headers={
        "Accept": "*/*", "Accept-Encoding": "gzip", "Connection": "keep-alive"}))
    assert caller.access_key_id == REF_AK


def test_reference_request_accepted_by_the_app_over_wsgi(tmp_path: Path):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(REF_ACCOUNTS)
    settings = Settings(auth="strict", seed=3, accounts=str(accounts))
    sim = Simulator(settings, clock=Clock(start_ms=REF_DATE_MS + 60_000, frozen=True))
    app = create_app(settings, sim)
    try:
        http = app.test_client()
        resp = http.get(REF_PATH + "?" + REF_QUERY,
                        headers=dict(REF_HEADERS, Authorization=REF_AUTHORIZATION))
        assert resp.status_code == 200, resp.json
        assert resp.json == {"traces": [], "meta_data": {"count": 0, "marker": None}}
        # one flipped hex digit: refused
        resp = http.get(REF_PATH + "?" + REF_QUERY, headers=dict(
            REF_HEADERS, Authorization=REF_AUTHORIZATION[:-1] + "f"))
        assert resp.status_code == 401
        assert resp.json == {"error_code": "APIGW.0301",
                             "error_msg": "Incorrect IAM authentication information: "
                                          "verify aksk signature fail",
                             "request_id": resp.headers["X-Request-Id"]}
    finally:
        sim.close()


# -- 3. canonical URI ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("/v3/p/traces", "/v3/p/traces/"),  # trailing slash added
    ("/v3/p/traces/", "/v3/p/traces/"),  # ... but never doubled
    ("/", "/"),
    ("/v2/p/datasets/a%20b", "/v2/p/datasets/a%20b/"),  # space stays %20
    ("/v2/p/datasets/a b", "/v2/p/datasets/a%20b/"),  # a raw space is encoded
    ("/v2/p/datasets/a+b", "/v2/p/datasets/a%2Bb/"),  # + is not a space in a path
    ("/v2/p/datasets/a%2Bb", "/v2/p/datasets/a%2Bb/"),
    ("/v2/p/x/%7Eok~", "/v2/p/x/~ok~/"),  # ~ is unreserved
    ("/v2/p/x/a-b_c.d", "/v2/p/x/a-b_c.d/"),
    ("/v2/p/x/a:b@c=d", "/v2/p/x/a%3Ab%40c%3Dd/"),
    ("/v2/p/x/caf%C3%A9", "/v2/p/x/caf%C3%A9/"),  # UTF-8 percent-encoded
    ("/v2/p/x/%e4%b8%ad", "/v2/p/x/%E4%B8%AD/"),  # upper-case hex
    ("/v2/p/x/a%2Fb", "/v2/p/x/a/b/"),  # an encoded slash is decoded first, as the SDK does
])
def test_canonical_uri(raw, expected):
    assert signing.canonical_uri(raw) == expected
    assert sdk_canonical_uri(raw) == expected  # the SDK agrees


# -- 4. canonical query -------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("", ""),  # empty query
    (REF_QUERY, REF_QUERY),
    ("user=alice%20bob", "user=alice%20bob"),  # spaces are %20, never +
    ("trace_type=system&limit=50", "limit=50&trace_type=system"),  # sorted by key
    ("b=2&a=3&a=1", "a=1&a=3&b=2"),  # duplicate keys sorted by value
    ("a=x&a=x", "a=x&a=x"),  # duplicates kept
    ("z=1&a=", "a=&z=1"),  # blank values kept
    ("flag", "flag="),  # a key without '='
    ("name=%E4%B8%AD%E6%96%87", "name=%E4%B8%AD%E6%96%87"),
    ("k%20ey=v%2Fw", "k%20ey=v%2Fw"),  # keys are encoded too; '/' encoded
    ("a=%7Ex", "a=~x"),
    ("a=b%3Dc", "a=b%3Dc"),
    ("plus=1%2B1", "plus=1%2B1"),
    ("from=1&to=2&next=abc-def_1.2", "from=1&next=abc-def_1.2&to=2"),
])
def test_canonical_query(raw, expected):
    assert signing.canonical_query(raw) == expected


@pytest.mark.parametrize("pairs", [
    [],
    [("limit", 50), ("user", "alice bob")],
    [("b", 2), ("a", [3, 1])],
    [("b", "y"), ("a", "x"), ("a", "w")],
    [("flag", True), ("other", False)],
    [("name", "中文 名")],
    [("path", "/a b/+c&d=e")],
    [("x", ""), ("tilde", "~a~")],
    [("trace_type", "system"), ("service_type", "ModelArts"), ("resource_name", "ds-1"),
     ("from", 1795000000000), ("to", 1795000001000), ("limit", 200)],
])
def test_the_wire_query_the_sdk_sends_is_its_own_canonical_form(pairs):
    """The SDK puts its canonical query string on the wire; the server must rebuild exactly it."""
    sdk = sdk_canonical_query(pairs)
    assert signing.canonical_query(sdk) == sdk


def test_list_of_numbers_in_query_keeps_the_sdk_order():
    sdk = sdk_canonical_query([("n", [10, 9])])
    assert sdk == "n=9&n=10"
    assert signing.canonical_query(sdk, keep_value_order=True) == sdk
    assert signing.canonical_query(sdk) == "n=10&n=9"  # the fully sorted form, tried first


# -- 5. payload hash ----------------------------------------------------------------------------

def test_payload_hash_of_empty_body_is_the_empty_hash():
    assert signing.payload_hash(b"", {}) == EMPTY
    assert signing.EMPTY_HASH == EMPTY
    # the SDK returns the empty hash for an empty body even with X-Sdk-Content-Sha256
    assert signing.payload_hash(b"", {"x-sdk-content-sha256": "UNSIGNED-PAYLOAD"}) == EMPTY


def test_payload_hash_of_a_body_is_its_sha256():
    body = b'{"dataset_name":"a b"}'
    assert signing.payload_hash(body, {}) == \
        "38ae27877b1427d006145242c4631321066ff5db0987ba8907e807c12ae5f543"


def test_payload_hash_unsigned_payload():
    body = b"\x00\x01binary"
    assert signing.payload_hash(body, {"x-sdk-content-sha256": "UNSIGNED-PAYLOAD"}) == \
        "UNSIGNED-PAYLOAD"
    canon = signing.canonical_request(
        "PUT", "/v2/p/x", "", {"host": "h", "x-sdk-content-sha256": "UNSIGNED-PAYLOAD",
                               "x-sdk-date": REF_DATE},
        ["host", "x-sdk-content-sha256", "x-sdk-date"], body)
    assert canon == ("PUT\n/v2/p/x/\n\nhost:h\nx-sdk-content-sha256:UNSIGNED-PAYLOAD\n"
                     "x-sdk-date:20240102T030405Z\n\nhost;x-sdk-content-sha256;x-sdk-date\n"
                     "UNSIGNED-PAYLOAD")


def test_canonical_headers_are_stripped_and_a_body_hashed():
    body = b'{"a": 1}'
    canon = signing.canonical_request(
        "post", "/v2/p/datasets", "b=1&a=2",
        {"host": "localhost", "x-sdk-date": "  " + REF_DATE + " ",
         "content-type": "application/json"},
        ["content-type", "host", "x-sdk-date"], body)
    assert canon == ("POST\n/v2/p/datasets/\na=2&b=1\ncontent-type:application/json\n"
                     "host:localhost\nx-sdk-date:20240102T030405Z\n\n"
                     "content-type;host;x-sdk-date\n" + hashlib.sha256(body).hexdigest())


@pytest.mark.parametrize("method, path, pairs, body, content_type", [
    ("GET", "/v3/%s/traces" % PROJECT_ID, [("limit", 50), ("user", "alice bob")], "",
     "application/json"),
    ("POST", "/v2/%s/datasets" % PROJECT_ID, [], '{"dataset_name":"x y"}',
     "application/json;charset=UTF-8"),
    ("PUT", "/v2/%s/datasets/a%%20b" % PROJECT_ID, [("n", "中")], "raw bytes",
     "application/octet-stream"),
    ("DELETE", "/v2/%s/datasets/abc" % PROJECT_ID, [("flag", True)], "", None),
])
def test_client_side_sign_agrees_with_the_sdk(method, path, pairs, body, content_type):
    """signing.sign (used by the tests' SignedClient, the CLI and benchmarks) == the SDK."""
    uri, sdk_headers, data = sdk_sign(method, path, pairs, body, ak=REF_AK, sk=REF_SK,
                                      when_ms=REF_DATE_MS, content_type=content_type)
    base = {k: v for k, v in sdk_headers.items() if k not in ("Authorization", "Host",
                                                                "X-Sdk-Date")}
    ours = signing.sign(method, "http://localhost" + uri, base, data, REF_AK, REF_SK, REF_DATE_MS)
    assert ours["Authorization"] == sdk_headers["Authorization"]


# -- 6. the SDK's Signer against the in-process app ---------------------------------------------

DATASET = {"dataset_name": "signed-by-sdk",
           "data_sources": [{"data_type": 0, "data_path": "/acme-data/data/"}],
           "work_path": "/acme-data/work/", "work_path_type": 0}


def _send(app, method, uri, headers, data):
    return app.test_client().open(uri, method=method, headers=headers, data=data)


def test_sdk_signed_get_with_query_accepted(app, sim):
    admin = USERS["admin"]
    pairs = [("limit", 50), ("service_type", "ModelArts"), ("trace_type", "system"),
             ("user", "alice bob")]
    uri, headers, data = sdk_sign("GET", "/v3/%s/traces" % PROJECT_ID, pairs, "",
                                  ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms())
    assert uri.endswith("?limit=50&service_type=ModelArts&trace_type=system&user=alice%20bob")
    resp = _send(app, "GET", uri, headers, data)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"traces": [], "meta_data": {"count": 0, "marker": None}}


def test_sdk_signed_post_create_and_delete_accepted(app, sim, client):
    admin = USERS["admin"]
    body = orjson.dumps(DATASET).decode()
    uri, headers, data = sdk_sign("POST", "/v2/%s/datasets" % PROJECT_ID, [], body,
                                  ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms(),
                                  content_type="application/json;charset=UTF-8")
    resp = _send(app, "POST", uri, headers, data)
    assert resp.status_code == 201, resp.json
    dataset_id = resp.json["dataset_id"]
    assert client.last_trace()["trace_name"] == "createDataset"

    uri, headers, data = sdk_sign("DELETE", "/v2/%s/datasets/%s" % (PROJECT_ID, dataset_id), [],
                                  "", ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms())
    resp = _send(app, "DELETE", uri, headers, data)
    assert resp.status_code == 204, resp.data
    assert [t["trace_name"] for t in client.traces()] == ["deleteDataset", "createDataset"]


def test_sdk_signed_path_with_encoded_characters_reaches_the_service(app, sim):
    """A path parameter the SDK percent-encodes (quote(v, safe='')) still verifies: the answer
    is the service's own "no such dataset" (with the decoded id), not APIG's 401."""
    from urllib.parse import quote
    admin = USERS["admin"]
    path = "/v2/%s/datasets/%s" % (PROJECT_ID, quote("no such:id é", safe=""))
    uri, headers, data = sdk_sign("GET", path, [], "", ak=admin["ak"], sk=admin["sk"],
                                  when_ms=sim.clock.now_ms())
    resp = _send(app, "GET", uri, headers, data)
    assert resp.status_code == 400, resp.json
    assert resp.json == {"error_code": "ModelArts.4352",
                         "error_msg": "Dataset no such:id \u00e9 does not exist."}


def test_sdk_unsigned_payload_for_non_json_content_type(app, sim, client):
    """Content-Type not JSON: the SDK adds X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD, so the body is
    not covered by the signature (a different body is still accepted)."""
    admin = USERS["admin"]
    signed_body = orjson.dumps(DATASET)
    uri, headers, _ = sdk_sign("POST", "/v2/%s/datasets" % PROJECT_ID, [], signed_body,
                               ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms(),
                               content_type="application/octet-stream")
    assert headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in headers["Authorization"]
    other = dict(DATASET, dataset_name="swapped-body")
    resp = _send(app, "POST", uri, headers, orjson.dumps(other))
    assert resp.status_code == 201, resp.json
    assert client.last_trace()["resource_name"] == "swapped-body"


def test_sdk_signed_json_body_is_covered(app, sim):
    admin = USERS["admin"]
    uri, headers, _ = sdk_sign("POST", "/v2/%s/datasets" % PROJECT_ID, [], orjson.dumps(DATASET),
                               ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms())
    assert "X-Sdk-Content-Sha256" not in headers
    resp = _send(app, "POST", uri, headers, orjson.dumps(dict(DATASET, dataset_name="swapped")))
    assert resp.status_code == 401
    assert resp.json["error_msg"] == ("Incorrect IAM authentication information: "
                                      "verify aksk signature fail")
    assert sim.traces.count() == 0


def test_sdk_signed_list_query_parameter_accepted(app, sim):
    admin = USERS["admin"]
    uri, headers, data = sdk_sign("GET", "/v2/%s/datasets" % PROJECT_ID, [("n", [10, 9])], "",
                                  ak=admin["ak"], sk=admin["sk"], when_ms=sim.clock.now_ms())
    assert uri.endswith("?n=9&n=10")
    resp = _send(app, "GET", uri, headers, data)
    assert resp.status_code == 200, resp.json


# -- 7. the SDK's Signer against a real server (waitress, real clock) ---------------------------

def test_sdk_signed_requests_over_http(server):
    admin = USERS["admin"]
    host = server.endpoint.split("://", 1)[1]
    body = orjson.dumps(DATASET)
    # the SDK stamps X-Sdk-Date itself from the real clock; the server runs on the real clock
    uri, headers, data = sdk_sign("POST", "/v2/%s/datasets" % PROJECT_ID, [], body,
                                  ak=admin["ak"], sk=admin["sk"], host=host)
    assert headers["Host"] == host
    resp = requests.post(server.endpoint + uri, headers=headers, data=data, timeout=10)
    assert resp.status_code == 201, resp.text

    pairs = [("trace_type", "system"), ("service_type", "ModelArts"), ("limit", 10),
             ("user", "admin")]
    uri, headers, data = sdk_sign("GET", "/v3/%s/traces" % PROJECT_ID, pairs, "",
                                  ak=admin["ak"], sk=admin["sk"], host=host)
    resp = requests.get(server.endpoint + uri, headers=headers, data=data, timeout=10)
    assert resp.status_code == 200, resp.text
    traces = resp.json()["traces"]
    assert [(t["trace_name"], t["user"]["name"], t["user"]["access_key_id"]) for t in traces] == \
        [("createDataset", "admin", admin["ak"])]


def test_wrong_sk_over_http_is_refused(server):
    admin = USERS["admin"]
    host = server.endpoint.split("://", 1)[1]
    uri, headers, data = sdk_sign("GET", "/v3/%s/traces" % PROJECT_ID, [("limit", 10)], "",
                                  ak=admin["ak"], sk=admin["sk"] + "x", host=host)
    resp = requests.get(server.endpoint + uri, headers=headers, data=data, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"error_code": "APIGW.0301",
                           "error_msg": "Incorrect IAM authentication information: "
                                        "verify aksk signature fail",
                           "request_id": resp.headers["X-Request-Id"]}
    assert server.sim.traces.count() == 0


def test_signed_client_over_a_session(server):
    """simulator.signed_client over HTTP, as the benchmarks use it: the server accepts it."""
    admin = USERS["admin"]
    with requests.Session() as session:
        client = SignedClient(SessionTransport(server.endpoint, session), admin["ak"],
                              admin["sk"], project_id=PROJECT_ID, user_agent="signed-client/1",
                              clock=server.sim.clock.now_ms)
        assert client.post("/v2/{project_id}/datasets", DATASET).status_code == 201
        resp = client.get("/v3/{project_id}/traces", query={"limit": 10, "user": "admin"})
        assert resp.status_code == 200, resp.text
        assert [(t["trace_name"], t["user_agent"], t["project_id"])
                for t in resp.json()["traces"]] == [
            ("createDataset", "signed-client/1", PROJECT_ID)]
        assert client.get("/v3/{project_id}/traces", signed=False).status_code == 401


def test_the_server_takes_a_content_hash_only_signed_and_true():
    body = b'{"a":1}'
    actual = hashlib.sha256(body).hexdigest()
    other = hashlib.sha256(b"other").hexdigest()
    signed = ["host", "x-sdk-content-sha256", "x-sdk-date"]
    unsigned = ["host", "x-sdk-date"]
    for declared, signed_headers, expected in [
            (other, unsigned, actual),  # not signed: the body's own hash
            (other, signed, actual),  # signed but not the body's: the body's (no match)
            (actual.upper(), signed, actual.upper()),  # the body's, in any case
            ("UNSIGNED-PAYLOAD", signed, "UNSIGNED-PAYLOAD"),
            ("UNSIGNED-PAYLOAD", unsigned, actual)]:
        headers = {"x-sdk-content-sha256": declared}
        assert signing.payload_hash(body, headers, signed_headers) == expected, declared
        assert signing.payload_hash(body, headers) == declared  # the client signs what it says
