"""The read-only user, across the whole catalog (issue 15 §1): every state-changing operation
with a handler refuses the fixture auditor of acme in its service's words (403
ModelArts.0108, CTS.0013), changes nothing, and, where the operation is audited, leaves exactly
one whole warning trace naming the auditor. The one exemption: IAM issues any user a token or
temporary keys for itself (the catalog's any_role rows)."""

from __future__ import annotations

import pickle
import re

import pytest

from simulator import catalog, registry
from simulator.obs import backend as obs
from tests.helpers import DOMAIN, PROJECT_ID, USERS, SignedClient, expected_record

TRACKER = "/v3/{project_id}/tracker"
NOTIFICATIONS = "/v3/{project_id}/notifications"
TOPIC = "urn:smn:cn-north-4:%s:audit-alerts" % PROJECT_ID

MODELARTS_WORDS = "You are not authorized to perform operation %s: user auditor may only read"
CTS_WORDS = "No permission, check roles: user auditor may only read and cannot perform " \
    "operation %s"


def refusal(op) -> dict:
    """The whole 403 body a read-only user's write gets, in the family's dialect."""
    dialect = op.dialect.name
    if dialect == "cts":
        return {"error_code": "CTS.0013", "error_msg": CTS_WORDS % op.operation_id}
    message = MODELARTS_WORDS % op.operation_id
    bodies = {
        "modelarts": {"error_code": "ModelArts.0108", "error_msg": message},
        "devenviron": {"error_code": "ModelArts.0108", "error_message": message},
        "is_success": {"is_success": False, "error_code": "ModelArts.0108",
                       "error_message": message},
        "training_v2": {"error_code": "ModelArts.0108", "error_msg": message,
                        "error_solution": ""},
    }
    assert dialect in bodies, "%s (%s) has a write no test says how it refuses" % (
        op.operation_id, dialect)
    return bodies[dialect]


def writes() -> list[catalog.Operation]:
    """Every operation with a handler that changes state (handlers are registered once a
    simulator exists: the app fixture made one before the walk asks)."""
    return [op for op in catalog.OPERATIONS
            if op.operation_id in registry.HANDLERS and not op.read_only]


def path_of(op) -> str:
    """The row's path, in the fixture project and account; other parameters are ids nothing
    holds (the role check comes before any lookup)."""
    path = op.path.replace("{project_id}", PROJECT_ID).replace("{domain_id}", DOMAIN["id"])
    return re.sub(r"\{(\w+)\}", lambda m: "no-such-" + m.group(1).replace("_", "-"), path)


def body_of(op):
    """A body that picks this row among those sharing its method and path (None for DELETE)."""
    if op.when is not None:
        key, value = op.when
        return {key: value if value is not None else "running"}
    return None if op.method == "DELETE" else {}


def everything(sim) -> bytes:
    """Every family's state in every project, and the account's buckets."""
    states = {family: sorted((pid, pickle.dumps(state)) for pid, state in sim.states_of(family))
              for family in catalog.FAMILIES}
    return pickle.dumps((states, sorted(obs.store(sim.obs_account).buckets)))


@pytest.fixture
def watched(app, sim, client):
    """acme with an enabled system tracker delivering to a bucket, a key event notification,
    and a dataset: what the auditor must not be able to touch."""
    sim.obs_files.make_bucket("cts-bucket")
    assert client.post(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                 "obs_info": {"bucket_name": "cts-bucket",
                                              "file_prefix_name": "audit"}}).status_code == 201
    created = client.post(NOTIFICATIONS, {
        "notification_name": "watch-everything", "operation_type": "complete",
        "topic_id": TOPIC})
    assert created.status_code == 201, created.json
    assert client.post("/v2/{project_id}/datasets", {
        "dataset_name": "kept", "data_sources": [{"data_path": "/acme-data/x/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0}).status_code == 201
    return created.json["notification_id"]


def test_the_exemptions_are_the_iam_calls_a_user_makes_for_itself(app):
    assert [op.operation_id for op in writes() if op.any_role] == [
        "KeystoneCreateUserTokenByPassword", "CreateTemporaryAccessKeyByToken"]
    assert {op.family for op in catalog.OPERATIONS if op.any_role} == {"iam"}
    assert not any(op.traced for op in catalog.OPERATIONS if op.any_role)


def test_every_write_of_the_catalog_refuses_the_auditor_and_changes_nothing(
        app, sim, client, watched):
    auditor = SignedClient(app, user="auditor")
    before = everything(sim)
    walked = []
    for op in writes():
        if op.any_role:
            continue
        count = sim.traces.count()
        resp = auditor.call(op.method, path_of(op), body_of(op))
        expected = refusal(op)
        assert (resp.status_code, resp.json) == (403, expected), op.operation_id
        if not op.traced:
            assert sim.traces.count() == count, op.operation_id
            continue
        assert sim.traces.count() == count + 1, op.operation_id
        trace = client.last_trace()
        assert trace == expected_record(
            trace, trace_name=sim.trace_names[op.operation_id], operation_id=op.operation_id,
            resource_id="", resource_name="", code=403,
            request=body_of(op) or None,  # an empty body is recorded as ""
            response=expected, user="auditor", rating="warning",
            error_code=expected["error_code"], resource_type=op.resource_type,
            api_version=op.api_version, service_type=op.service_type,
            time=sim.clock.now_ms(), request_id=resp.headers["X-Request-Id"]), op.operation_id
        walked.append(op.family)
    assert everything(sim) == before  # nothing changed, in any family or bucket
    # every family that writes was walked, CTS's own tracker and notification writes included
    assert set(walked) == {op.family for op in writes() if op.traced}
    assert "cts" in walked

    # the tracker the auditor tried to disable and delete is still there, enabled
    [tracker] = client.get("/v3/{project_id}/trackers").json["trackers"]
    assert (tracker["tracker_name"], tracker["status"]) == ("system", "enabled")
    [notification] = client.get(NOTIFICATIONS + "/smn").json["notifications"]
    assert (notification["notification_id"], notification["status"]) == (watched, "enabled")


def test_the_cts_refusals_name_the_auditor_and_the_operation(app, sim, client, watched):
    auditor = SignedClient(app, user="auditor")
    off = auditor.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                "status": "disabled"})
    assert (off.status_code, off.json) == (403, {
        "error_code": "CTS.0013", "error_msg": "No permission, check roles: user auditor may "
        "only read and cannot perform operation UpdateTracker"})
    trace = client.last_trace()
    assert trace == expected_record(
        trace, trace_name="updateTracker", operation_id="UpdateTracker", resource_id="",
        resource_name="", code=403,
        request={"tracker_type": "system", "tracker_name": "system", "status": "disabled"},
        response=off.json, user="auditor", rating="warning", error_code="CTS.0013",
        resource_type="tracker", api_version="v3", service_type="CTS",
        time=sim.clock.now_ms(), request_id=off.headers["X-Request-Id"])
    # tags have no trace name: refused all the same, untraced
    count = sim.traces.count()
    tracker_id = client.get("/v3/{project_id}/trackers").json["trackers"][0]["id"]
    tags = auditor.post("/v3/{project_id}/cts-tracker/%s/tags/create" % tracker_id,
                        {"tags": [{"key": "k", "value": "v"}]})
    assert (tags.status_code, tags.json) == (403, {
        "error_code": "CTS.0013", "error_msg": "No permission, check roles: user auditor may "
        "only read and cannot perform operation BatchCreateResourceTags"})
    assert sim.traces.count() == count


def test_the_auditor_reads_cts_and_gets_its_own_token_and_temporary_keys(app, sim, client,
                                                                       watched):
    auditor = SignedClient(app, user="auditor")
    count = sim.traces.count()
    assert auditor.get("/v3/{project_id}/trackers").status_code == 200
    assert auditor.get(NOTIFICATIONS + "/smn").status_code == 200
    assert auditor.get("/v3/{project_id}/traces").status_code == 200
    # CheckObsBuckets only looks: a query sent as POST, open to a read-only user
    checked = auditor.post("/v3/%s/checkbucket" % DOMAIN["id"],
                           {"buckets": [{"bucket_name": "cts-bucket"}]})
    assert checked.status_code == 200
    assert checked.json["buckets"][0]["check_bucket_response"]["success"] is True
    token = app.test_client().post("/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "auditor", "password": USERS["auditor"]["password"],
            "domain": {"name": "acme"}}}}}})
    assert token.status_code == 201, token.json
    temporary = app.test_client().post(
        "/v3.0/OS-CREDENTIAL/securitytokens",
        headers={"X-Auth-Token": token.headers["X-Subject-Token"]},
        json={"auth": {"identity": {"methods": ["token"],
                                    "token": {"id": token.headers["X-Subject-Token"]}}}})
    assert temporary.status_code == 201, temporary.json
    assert sim.traces.count() == count  # reads and IAM's answers are not audited
