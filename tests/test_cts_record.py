"""simulator/cts/record.py: the pure trace builder (cts-and-auth.md section 1).

Every expectation below is written out by hand, field by field, so that a change to any field
of a trace fails a test.
"""

from __future__ import annotations

import copy

import orjson
import pytest

from simulator.cts.record import (MASK, MAX_VALUE_CHARS, TraceInput, build, mask, rating_for,
                                  user_info)
from simulator.identity.accounts import Domain, User

ACME = Domain("f3c95789ace1a9542c5d6baed2eac902", "acme")
PROJECT_ID = "cbf27734ac1035250b66402800e03d2c"
ADMIN = User(id="f1260ebc7d56ab567714dc919b27dbdf", name="admin", role="admin", domain=ACME)
ROOT = User(id="0a1b2c3d4e5f60718293a4b5c6d7e8f9", name="acme", role="admin", domain=ACME,
            root=True)
AK = "EA9DJ2SB8WQEE7QK29UO"
T = 1_795_000_000_000
TRACE_ID = "0f8a3c52-6d1e-4b7a-9c3f-2e5d8a1b4c6d"
REQUEST_ID = "6513270e269e0d37f2a74de452e6b438"

ADMIN_USER = {
    "id": "f1260ebc7d56ab567714dc919b27dbdf",
    "name": "admin",
    "user_name": "admin",
    "type": "User",
    "account_id": "f3c95789ace1a9542c5d6baed2eac902",
    "domain": {"id": "f3c95789ace1a9542c5d6baed2eac902", "name": "acme"},
    "access_key_id": "EA9DJ2SB8WQEE7QK29UO",
    "principal_id": "f1260ebc7d56ab567714dc919b27dbdf",
    "principal_urn": "iam::f3c95789ace1a9542c5d6baed2eac902:user:admin",
    "principal_is_root_user": "false",
}


def trace_input(**over) -> TraceInput:
    """A successful CreateDataset call; keyword arguments replace single inputs."""
    base = dict(
        trace_id=TRACE_ID,
        trace_name="createDataset",
        resource_type="dataset",
        operation_id="CreateDataset",
        api_version="v2",
        read_only=False,
        service_type="ModelArts",
        project_id=PROJECT_ID,
        domain_id=ACME.id,
        time_ms=T,
        record_time_ms=T + 37,
        status=201,
        request_body={"dataset_name": "flowers", "work_path": "/bucket/out/"},
        response_body={"dataset_id": "Pde0IgxLd6GncfBAepf"},
        resource_id="Pde0IgxLd6GncfBAepf",
        resource_name="flowers",
        request_id=REQUEST_ID,
        source_ip="203.0.113.10",
        user_agent="huaweicloud-usdk-python/3.0",
        user=user_info(ADMIN, ACME, AK),
    )
    base.update(over)
    return TraceInput(**base)


def success_record(**over) -> dict:
    """The whole record trace_input() must build, written out literally."""
    record = {
        "trace_id": "0f8a3c52-6d1e-4b7a-9c3f-2e5d8a1b4c6d",
        "trace_name": "createDataset",
        "trace_rating": "normal",
        "trace_type": "ApiCall",
        "service_type": "ModelArts",
        "resource_type": "dataset",
        "resource_id": "Pde0IgxLd6GncfBAepf",
        "resource_name": "flowers",
        "time": 1_795_000_000_000,
        "record_time": 1_795_000_000_037,
        "request": '{"dataset_name":"flowers","work_path":"/bucket/out/"}',
        "response": '{"dataset_id":"Pde0IgxLd6GncfBAepf"}',
        "code": "201",
        "api_version": "v2",
        "message": None,
        "source_ip": "203.0.113.10",
        "request_id": "6513270e269e0d37f2a74de452e6b438",
        "location_info": None,
        "endpoint": None,
        "resource_url": None,
        "user": ADMIN_USER,
        "enterprise_project_id": "0",
        "read_only": False,
        "operation_id": "CreateDataset",
        "tracker_name": "system",
        "project_id": "cbf27734ac1035250b66402800e03d2c",
        "domain_id": "f3c95789ace1a9542c5d6baed2eac902",
        "event_type": "system",
        "user_agent": "huaweicloud-usdk-python/3.0",
    }
    record.update(over)
    return record


# -- whole records ---------------------------------------------------------------------------

def test_success_builds_every_field():
    record = build(trace_input())
    assert record == success_record()
    # the API form of the trace (1.1) plus the file-form keys, nothing else
    assert list(record) == list(success_record())


def test_client_error_is_a_warning_with_the_error_code_as_location_info():
    error = {"error_code": "ModelArts.4352", "error_msg": "Dataset nope does not exist."}
    record = build(trace_input(
        trace_name="createLabel", operation_id="CreateLabels", status=400,
        request_body={"labels": [{"name": "cat"}]}, response_body=error,
        resource_id="nope", resource_name=None, error_code="ModelArts.4352"))
    assert record == success_record(
        trace_name="createLabel", operation_id="CreateLabels", trace_rating="warning",
        code="400", request='{"labels":[{"name":"cat"}]}',
        response='{"error_code":"ModelArts.4352","error_msg":"Dataset nope does not exist."}',
        resource_id="nope", resource_name="", location_info="ModelArts.4352")


def test_server_error_is_an_incident():
    error = {"error_code": "ModelArts.0001", "error_msg": "Internal error."}
    record = build(trace_input(status=503, response_body=error, error_code="ModelArts.0001"))
    assert record == success_record(
        trace_rating="incident", code="503",
        response='{"error_code":"ModelArts.0001","error_msg":"Internal error."}',
        location_info="ModelArts.0001")


@pytest.mark.parametrize("status, rating", [
    (200, "normal"), (201, "normal"), (204, "normal"), (302, "normal"), (399, "normal"),
    (400, "warning"), (403, "warning"), (404, "warning"), (499, "warning"),
    (500, "incident"), (503, "incident"), (599, "incident"),
])
def test_default_rating_rule(status, rating):
    assert rating_for(status) == rating
    assert build(trace_input(status=status))["trace_rating"] == rating
    assert build(trace_input(status=status))["code"] == str(status)


@pytest.mark.parametrize("status, rating", [
    (200, "normal"), (299, "normal"), (300, "warning"), (400, "warning"),
    (403, "warning"), (404, "incident"), (500, "incident"),
])
def test_configured_thresholds(status, rating):
    assert rating_for(status, 300, 404) == rating
    record = build(trace_input(status=status, warning_min_status=300, incident_min_status=404))
    assert record == success_record(trace_rating=rating, code=str(status))


def test_raised_warning_threshold_makes_a_client_error_normal():
    record = build(trace_input(status=404, warning_min_status=500, incident_min_status=600,
                               error_code="ModelArts.4352"))
    assert record == success_record(trace_rating="normal", code="404",
                                    location_info="ModelArts.4352")
    record = build(trace_input(status=503, warning_min_status=500, incident_min_status=600))
    assert record["trace_rating"] == "warning"


@pytest.mark.parametrize("status, override", [
    (200, "warning"),  # the VPC example: a 200 whose business result failed
    (202, "incident"),
    (500, "normal"),
    (400, "incident"),
])
def test_explicit_rating_overrides_the_status(status, override):
    record = build(trace_input(status=status, rating=override))
    assert record == success_record(trace_rating=override, code=str(status))


def test_system_action_has_an_empty_source_ip():
    record = build(trace_input(trace_type="SystemAction", source_ip="10.1.2.3"))
    assert record == success_record(trace_type="SystemAction", source_ip="")


def test_console_action_keeps_its_source_ip():
    record = build(trace_input(trace_type="ConsoleAction"))
    assert record == success_record(trace_type="ConsoleAction", source_ip="203.0.113.10")


def test_trace_with_no_user_and_no_resource():
    record = build(trace_input(user=None, resource_id=None, resource_name=None,
                               request_body=None, response_body=None, status=204))
    assert record == success_record(user=None, resource_id="", resource_name="", request="",
                                    response="", code="204")


def test_file_form_fields_and_extra_keys():
    record = build(trace_input(tracker_name="my-data-tracker", event_type="data",
                               enterprise_project_id="ep-42",
                               extra={"resource_account_id": "33ad2150460f661f900f5390875004e9",
                                      "message": "replayed"}))
    expected = success_record(tracker_name="my-data-tracker", event_type="data",
                              enterprise_project_id="ep-42", message="replayed")
    expected["resource_account_id"] = "33ad2150460f661f900f5390875004e9"
    assert record == expected


def test_read_only_and_api_version_are_copied():
    record = build(trace_input(read_only=True, api_version="v1", operation_id="ShowDataset",
                               trace_name="showDataset"))
    assert record == success_record(read_only=True, api_version="v1",
                                    operation_id="ShowDataset", trace_name="showDataset")


# -- record_time -----------------------------------------------------------------------------

@pytest.mark.parametrize("record_time, expected", [
    (T - 1, T),  # a clock that stepped back never yields record_time < time
    (T - 86_400_000, T),
    (T, T),
    (T + 1, T + 1),
    (T + 5_000, T + 5_000),
])
def test_record_time_is_never_before_time(record_time, expected):
    record = build(trace_input(record_time_ms=record_time))
    assert record["time"] == T
    assert record["record_time"] == expected
    assert record == success_record(record_time=expected)


# -- request / response text -----------------------------------------------------------------

@pytest.mark.parametrize("body, text", [
    (None, ""),
    ({}, ""),
    ("", ""),
    ({"a": 1}, '{"a":1}'),
    ({"b": [1, 2, {"c": None}], "a": True}, '{"b":[1,2,{"c":null}],"a":true}'),
    ([{"x": 1}, {"y": "z"}], '[{"x":1},{"y":"z"}]'),
    ({"name": "猫 label", "q": "a\"b"}, '{"name":"猫 label","q":"a\\"b"}'),
    ({"limit": "10", "offset": "0"}, '{"limit":"10","offset":"0"}'),  # a GET's query params
    ({"n": 1.5, "big": 2 ** 53}, '{"n":1.5,"big":9007199254740992}'),
])
def test_request_and_response_are_json_strings(body, text):
    record = build(trace_input(request_body=body, response_body=body))
    assert record["request"] == text
    assert record["response"] == text
    assert isinstance(record["request"], str) and isinstance(record["response"], str)
    if text:
        assert orjson.loads(record["request"]) == body


def test_request_and_response_are_masked_in_the_record():
    record = build(trace_input(
        request_body={"auth": {"identity": {"methods": ["password"],
                                            "password": {"user": {"name": "alice",
                                                                  "password": "s3cret"}}}}},
        response_body={"credential": {"access": "AKTMP", "secret": "SKTMP",
                                      "securitytoken": "MIIxyz", "expires_at": "2026-11-18"}}))
    assert record == success_record(
        request='{"auth":{"identity":{"methods":["password"],"password":"********"}}}',
        response='{"credential":{"access":"AKTMP","secret":"********",'
                 '"securitytoken":"********","expires_at":"2026-11-18"}}')


# -- masking ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "secret_key", "SECRET_KEY", "Secret_Key", "secret", "sk", "SK",
    "password", "Password", "PASSWORD", "new_password", "old_Password", "passwd",
    "token", "Token", "X-Auth-Token", "x-auth-token", "access_token", "id_token",
    "securitytoken", "SecurityToken", "security_token", "SECURITY_TOKEN",
    "adminPass", "AdminPass", "private_key", "credential_secret",
])
def test_mask_secret_keys_in_any_case(key):
    assert MASK == "********"
    assert mask({key: "value-1", "name": "keep"}) == {key: "********", "name": "keep"}
    assert mask({"outer": {key: 12345}}) == {"outer": {key: "********"}}
    assert mask([{key: ["a", "b"]}]) == [{key: "********"}]


@pytest.mark.parametrize("key", ["access_key", "ak", "AccessKeyId", "name", "user_name",
                                 "description", "dataset_id", "work_path", "key", "domain"])
def test_mask_keeps_ordinary_keys(key):
    assert mask({key: "value", "n": [1, {key: "v2"}]}) == {key: "value", "n": [1, {key: "v2"}]}


def test_mask_nested_in_lists_and_dicts():
    body = {
        "users": [
            {"name": "a", "password": "p1"},
            {"name": "b", "Password": "p2", "profile": {"Secret_Key": "k", "age": 3}},
        ],
        "credential": {"access": "AK", "secret": "S", "securitytoken": "T"},
        "matrix": [[{"token": "t"}], [{"x": 1}]],
        "plain": ["password", "token"],  # values equal to secret names are not keys
    }
    original = copy.deepcopy(body)
    assert mask(body) == {
        "users": [
            {"name": "a", "password": "********"},
            {"name": "b", "Password": "********", "profile": {"Secret_Key": "********", "age": 3}},
        ],
        "credential": {"access": "AK", "secret": "********", "securitytoken": "********"},
        "matrix": [[{"token": "********"}], [{"x": 1}]],
        "plain": ["password", "token"],
    }
    assert body == original, "mask() must not change its argument"


def test_mask_leaves_empty_secrets_alone():
    assert mask({"password": None, "token": "", "sk": 0}) == {
        "password": None, "token": "", "sk": "********"}


def test_mask_whole_secret_objects():
    assert mask({"password": {"user": {"name": "alice", "password": "x"}}}) == {
        "password": "********"}
    assert mask({"secret_key": ["a", "b"]}) == {"secret_key": "********"}


def test_mask_scalars_and_non_string_keys():
    assert mask(5) == 5
    assert mask(None) is None
    assert mask(True) is True
    assert mask("short") == "short"
    assert mask({1: "x"}) == {1: "x"}


def test_huge_strings_are_elided():
    assert MAX_VALUE_CHARS == 4096
    at_limit = "A" * 4096
    over = "B" * 4097
    huge = "C" * 100_000
    body = {"samples": [{"name": "a.jpg", "data": huge}, {"name": "b.jpg", "data": at_limit}],
            "note": over, "deep": {"deeper": [over]}}
    assert mask(body) == {
        "samples": [{"name": "a.jpg", "data": "...(100000 characters elided)"},
                    {"name": "b.jpg", "data": at_limit}],
        "note": "...(4097 characters elided)",
        "deep": {"deeper": ["...(4097 characters elided)"]},
    }
    assert mask(over) == "...(4097 characters elided)"


def test_huge_secret_is_masked_not_elided():
    assert mask({"password": "x" * 9000}) == {"password": "********"}


def test_huge_value_elided_in_the_record():
    record = build(trace_input(request_body={"samples": [{"name": "a.jpg", "data": "Q" * 5000}]},
                               response_body="R" * 4097))
    assert record == success_record(
        request='{"samples":[{"name":"a.jpg","data":"...(5000 characters elided)"}]}',
        response='"...(4097 characters elided)"')


# -- user_info -------------------------------------------------------------------------------

def test_user_info_of_an_iam_user():
    assert user_info(ADMIN, ACME, AK) == ADMIN_USER


def test_user_info_of_the_root_user():
    assert user_info(ROOT, ACME, "ROOTAK0000000000000X") == {
        "id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "name": "acme",
        "user_name": "acme",
        "type": "User",
        "account_id": "f3c95789ace1a9542c5d6baed2eac902",
        "domain": {"id": "f3c95789ace1a9542c5d6baed2eac902", "name": "acme"},
        "access_key_id": "ROOTAK0000000000000X",
        "principal_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "principal_urn": "iam::f3c95789ace1a9542c5d6baed2eac902:user:acme",
        "principal_is_root_user": "true",
    }


def test_user_info_without_an_access_key():
    expected = dict(ADMIN_USER, access_key_id="")
    assert user_info(ADMIN, ACME, None) == expected
    assert user_info(ADMIN, ACME, "") == expected


def test_user_info_of_a_temporary_credential():
    info = user_info(ADMIN, ACME, "TMPAKQ7Z2X4C6V8B0N1M", temporary=True,
                     session_created_ms=1_794_999_000_123)
    assert info == dict(ADMIN_USER, access_key_id="TMPAKQ7Z2X4C6V8B0N1M", session_context={
        "attributes": {"created_at": "1794999000123", "mfa_authenticated": "false"}})
    assert "invoked_by" not in info


def test_user_info_of_a_console_session():
    info = user_info(ADMIN, ACME, "CONSOLEAK00000000001", console=True,
                     session_created_ms=1_795_000_000_000)
    assert info == dict(ADMIN_USER, access_key_id="CONSOLEAK00000000001",
                        invoked_by=["service.console"],
                        session_context={"attributes": {"created_at": "1795000000000",
                                                        "mfa_authenticated": "false"}})


def test_user_info_in_a_built_record():
    user = user_info(ADMIN, ACME, "TMPAKQ7Z2X4C6V8B0N1M", temporary=True,
                     session_created_ms=T - 60_000)
    record = build(trace_input(user=user))
    assert record == success_record(user={
        **ADMIN_USER, "access_key_id": "TMPAKQ7Z2X4C6V8B0N1M",
        "session_context": {"attributes": {"created_at": "1794999940000",
                                           "mfa_authenticated": "false"}}})
