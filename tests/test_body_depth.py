"""A body nested deeper than the record can hold is refused before any handler, in each family's
own words, and traced: a change is never applied and then left without its trace because its
body could not be encoded (issue 15, section 1)."""

from __future__ import annotations

import orjson
import pytest

from simulator import catalog, registry
from simulator.errors import ApiError
from simulator.app import json_depth
from simulator.settings import MAX_ENCODABLE_DEPTH, Settings, SettingsError
from tests.conftest import make_app
from tests.helpers import PROJECT_ID, SignedClient, expected_record

registry.load_all()


def _one_write_of_each_family():
    """The first write with a body of every family the walk serves, a traced one where the
    family has one (CTS's and IAM's are not audited)."""
    chosen = {}
    for op in catalog.OPERATIONS:
        if op.method in ("POST", "PUT") and op.operation_id in registry.HANDLERS and (
                op.family not in chosen or (op.traced and not chosen[op.family].traced)):
            chosen[op.family] = op
    return list(chosen.values())


WRITES = _one_write_of_each_family()


def _nested(depth: int):
    """An object `depth` objects and arrays deep: {"a": [[...{"k": 1}...]]}."""
    value = {"k": 1}
    for _ in range(depth - 2):
        value = [value]
    return {"a": value}


def _path(op) -> str:
    return op.path.replace("{project_id}", PROJECT_ID).replace("{", "").replace("}", "")


def test_the_families_are_all_covered():
    assert {op.family for op in WRITES} == set(catalog.FAMILIES) - {"obs"}


@pytest.mark.parametrize("depth", [65, 254, 1023])
@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.operation_id)
def test_a_body_too_deep_is_the_familys_400_and_traced(app, sim, op, depth):
    client = SignedClient(app)
    before = sim.traces.count()
    raw = orjson.dumps(_nested(depth)) if depth <= MAX_ENCODABLE_DEPTH else (
        b'{"a":' + b"[" * (depth - 2) + b'{"k":1}' + b"]" * (depth - 2) + b"}")
    resp = client.request(op.method, _path(op), raw=raw)
    message = "the request body is nested more than 64 levels deep"
    expected = op.dialect.body(ApiError(400, op.dialect.bad_body, message), "")
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.json == expected
    assert sim.traces.count() == before + op.traced
    if not op.traced:
        return
    trace = client.traces(limit=1)[0] if op.service_type == "ModelArts" else client.traces(
        limit=1, service_type=op.service_type)[0]
    assert trace == expected_record(
        trace, trace_name=op.trace_name, operation_id=op.operation_id, resource_id="",
        resource_name="", code=400, request=None, response=expected,
        resource_type=op.resource_type, api_version=op.api_version,
        error_code=op.dialect.bad_body, request_id=resp.headers["X-Request-Id"],
        read_only=op.read_only, service_type=op.service_type)


def test_a_body_as_deep_as_allowed_is_applied_and_traced_whole(app, sim):
    """64 levels: a label whose property holds a value 60 arrays deep is created, and its
    trace holds the whole body."""
    client = SignedClient(app)
    ds = client.post("/v2/{project_id}/datasets", {
        "dataset_name": "deep", "data_sources": [{"data_path": "/acme-data/in/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).json["dataset_id"]
    value = "leaf"
    for _ in range(60):
        value = [value]
    body = {"labels": [{"name": "deep", "type": 0, "property": {"@modelarts:shortcut": value}}]}
    assert json_depth(body) == 64
    path = "/v2/{project_id}/datasets/%s/data-annotations/labels" % ds
    resp = client.post(path, body)
    assert resp.status_code == 200, resp.json
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="createLabel", operation_id="CreateLabels", resource_id=ds,
        resource_name="deep", code=200, request=body, response=resp.json,
        request_id=resp.headers["X-Request-Id"])
    assert [label["name"] for label in client.get(path).json["labels"]] == ["deep"]


def test_the_limit_is_a_setting_within_what_a_record_holds():
    app = make_app(max_body_depth=3)
    try:
        resp = SignedClient(app).post("/v2/{project_id}/datasets", {"a": [[[1]]]})
        assert resp.json == {"error_code": "ModelArts.0101",
                             "error_msg": "the request body is nested more than 3 levels deep"}
    finally:
        app.extensions["modelarts_sim"].close()
    for bad in (0, MAX_ENCODABLE_DEPTH):
        with pytest.raises(SettingsError, match="max_body_depth"):
            Settings(max_body_depth=bad)


@pytest.mark.parametrize("value, depth", [
    (1, 0), ("x", 0), ({}, 1), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[]], {}], 3),
])
def test_json_depth(value, depth):
    assert json_depth(value) == depth
