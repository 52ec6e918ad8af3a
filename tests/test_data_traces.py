"""Data traces: object operations on a bucket a data tracker watches, recorded, queryable with
ListTraces(trace_type=data) and delivered to the tracker's own bucket."""

from __future__ import annotations

import gzip

import orjson
import pytest
import requests
from obs import ObsClient

from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import DOMAIN, PROJECT_ID, USERS, UUID, cts_record, server_call

ADMIN = USERS["admin"]


@pytest.fixture
def server():
    running = start_in_thread(Settings(port=0, seed=9))
    yield running
    running.stop()


def esdk(server, sk=ADMIN["sk"]) -> ObsClient:
    return ObsClient(access_key_id=ADMIN["ak"], secret_access_key=sk, server=server.endpoint,
                     max_retry_count=0, timeout=30)


def data_tracker(server, name="watch", events=("READ", "WRITE"), archive="data-archive",
                 created: list | None = None):
    """An ObsClient, after creating a data tracker on bucket `tracked` (its reply appended to
    `created`)."""
    client = esdk(server)
    client.createBucket("tracked")
    if archive:
        client.createBucket(archive)
    body = {"tracker_type": "data", "tracker_name": name,
            "data_bucket": {"data_bucket_name": "tracked", "data_event": list(events)}}
    if archive:
        body["obs_info"] = {"bucket_name": archive, "file_prefix_name": "obs"}
    resp = server_call(server, "POST", "/v3/{project_id}/tracker", body)
    assert resp.status_code == 201, resp.text
    if created is not None:
        created.append((body, resp))
    return client


def data_traces(server, tracker="watch") -> list[dict]:
    resp = server_call(server, "GET", "/v3/{project_id}/traces",
                       query="trace_type=data&tracker_name=%s&limit=200" % tracker)
    assert resp.status_code == 200, resp.text
    return resp.json()["traces"]


def test_an_upload_is_one_exact_data_trace(server):
    created = []
    client = data_tracker(server, created=created)
    put = client.putContent("tracked", "in/a b.txt", "hello")
    assert put.status == 200
    [trace] = data_traces(server)
    assert UUID.match(trace["trace_id"])
    assert trace["user_agent"].startswith("obs-sdk-python")
    assert trace == {
        "trace_id": trace["trace_id"], "trace_name": "putObject", "trace_rating": "normal",
        "trace_type": "ObsSDK", "service_type": "OBS", "resource_type": "object",
        "resource_id": "tracked/in/a b.txt", "resource_name": "in/a b.txt",
        "time": trace["time"], "record_time": trace["record_time"], "request": "",
        "response": "", "code": "200", "api_version": "", "message": None,
        "source_ip": "127.0.0.1", "request_id": put.requestId, "location_info": None,
        "endpoint": None, "resource_url": None,
        "user": {"id": ADMIN["id"], "name": "admin", "user_name": "admin", "type": "User",
                 "account_id": DOMAIN["id"], "domain": DOMAIN, "access_key_id": ADMIN["ak"],
                 "principal_id": ADMIN["id"],
                 "principal_urn": "iam::%s:user:admin" % DOMAIN["id"],
                 "principal_is_root_user": "false"},
        "enterprise_project_id": "0", "read_only": False, "operation_id": "ObsPutObject",
        "tracker_name": "watch", "project_id": PROJECT_ID, "domain_id": DOMAIN["id"],
        "event_type": "data", "user_agent": trace["user_agent"]}
    assert trace["time"] <= trace["record_time"]
    # data traces are not management traces: those hold the tracker's creation alone
    management = server_call(server, "GET", "/v3/{project_id}/traces", query="limit=200")
    [(body, reply)] = created
    [create] = management.json()["traces"]
    assert create == cts_record(
        create, trace_name="createTracker", operation_id="CreateTracker",
        resource_id=reply.json()["id"], resource_name="watch", code=201, request=body,
        response=reply.json(), request_id=reply.headers["X-Request-Id"], time=create["time"],
        record_time=create["record_time"])


def test_every_object_operation_is_named_and_rated(server):
    client = data_tracker(server)
    client.putContent("tracked", "k.txt", "v")
    client.getObject("tracked", "k.txt", loadStreamInMemory=True)
    client.getObjectMetadata("tracked", "k.txt")
    client.copyObject("tracked", "k.txt", "tracked", "copy.txt")
    client.getObject("tracked", "missing.txt", loadStreamInMemory=True)
    init = client.initiateMultipartUpload("tracked", "big.bin")
    client.uploadPart("tracked", "big.bin", 1, init.body.uploadId, b"x" * 10)
    client.abortMultipartUpload("tracked", "big.bin", init.body.uploadId)
    client.deleteObject("tracked", "copy.txt")
    client.listObjects("tracked")  # a bucket call: not a data event
    names = [(t["trace_name"], t["code"], t["trace_rating"], t["read_only"])
             for t in reversed(data_traces(server))]
    assert names == [
        ("putObject", "200", "normal", False), ("getObject", "200", "normal", True),
        ("getObjectMetadata", "200", "normal", True), ("copyObject", "200", "normal", False),
        ("getObject", "404", "warning", True), ("initiateMultipartUpload", "200", "normal",
                                                False),
        ("uploadPart", "200", "normal", False), ("abortMultipartUpload", "204", "normal",
                                                 False),
        ("deleteObject", "204", "normal", False)]


def test_a_read_tracker_records_reads_only_and_other_buckets_nothing(server):
    client = data_tracker(server, name="reads", events=("READ",), archive=None)
    client.createBucket("elsewhere")
    client.putContent("tracked", "k", "v")
    client.putContent("elsewhere", "k", "v")
    client.getObject("tracked", "k", loadStreamInMemory=True)
    client.getObject("elsewhere", "k", loadStreamInMemory=True)
    assert [t["trace_name"] for t in data_traces(server, "reads")] == ["getObject"]


def test_a_refused_request_leaves_no_data_trace(server):
    data_tracker(server)
    refused = esdk(server, sk="wrong").putContent("tracked", "k", "v")
    assert refused.errorCode == "SignatureDoesNotMatch"
    assert data_traces(server) == []


def test_data_traces_are_delivered_to_the_trackers_bucket(server):
    client = data_tracker(server)
    client.putContent("tracked", "k", "v")
    client.getObject("tracked", "k", loadStreamInMemory=True)
    assert requests.post(server.endpoint + "/_sim/flush", json={}, timeout=30).json() == {
        "files_written": 1}
    [obj] = client.listObjects("data-archive", prefix="CloudTraces/").body.contents
    assert "/watch/OBS/obs_CloudTrace_cn-north-4_" in obj.key
    got = client.getObject("data-archive", obj.key, loadStreamInMemory=True)
    delivered = orjson.loads(gzip.decompress(got.body.buffer))
    assert delivered == list(reversed(data_traces(server)))


def test_a_disabled_data_tracker_records_nothing(server):
    client = data_tracker(server)
    server_call(server, "PUT", "/v3/{project_id}/tracker",
        {"tracker_type": "data", "tracker_name": "watch", "status": "disabled"})
    client.putContent("tracked", "k", "v")
    assert data_traces(server) == []


def test_signed_url_calls_are_data_traces_without_their_signature(server):
    client = data_tracker(server)
    client.putContent("tracked", "k", "v")
    url = client.createSignedUrl("GET", "tracked", "k", expires=300)
    assert requests.get(url.signedUrl, headers=url.actualSignedRequestHeaders,
                        timeout=30).content == b"v"
    put = client.createSignedUrl("PUT", "tracked", "k2", expires=300)
    assert requests.put(put.signedUrl, data=b"w", headers=put.actualSignedRequestHeaders,
                        timeout=30).status_code == 200
    traces = list(reversed(data_traces(server)))
    assert [t["trace_name"] for t in traces] == ["putObject", "getObject", "putObject"]
    assert all("Signature" not in t["request"] and ADMIN["ak"] not in t["request"]
               for t in traces)
    assert traces[1]["user"]["access_key_id"] == ADMIN["ak"]
