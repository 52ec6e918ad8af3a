"""A SIEM collector's two ways of reading CTS, end to end against a real server: trackers made
with huaweicloudsdkcts, trace files read back from OBS with esdk-obs-python, and their content
compared with what ListTraces serves; and the files and trackers across a restart."""

from __future__ import annotations

import gzip

import orjson
import requests
from huaweicloudsdkcts.v3 import (CreateTrackerRequest, CreateTrackerRequestBody,
                                  DeleteTrackerRequest, ListQuotasRequest, ListTrackersRequest,
                                  ListTracesRequest, TrackerObsInfo, UpdateTrackerRequest,
                                  UpdateTrackerRequestBody)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from obs import ObsClient

from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import USERS, server_call
from tests.conftest import FIXTURE_BUCKETS

ADMIN = USERS["admin"]


def _obs(server) -> ObsClient:
    return ObsClient(access_key_id=ADMIN["ak"], secret_access_key=ADMIN["sk"],
                     server=server.endpoint, max_retry_count=0, timeout=30)


def _create_dataset(server, name: str) -> None:
    created = server_call(server, "POST", "/v2/{project_id}/datasets", {
        "dataset_name": name, "data_sources": [{"data_path": "/acme-data/x/"}],
        "work_path": "/acme-data/out/", "work_path_type": 0})
    assert created.status_code == 201


def _delivered(server, bucket: str) -> list[dict]:
    """Every record of every trace file in the bucket, read as a collector reads them, oldest
    first (two files named in the same second sort by their random part)."""
    client = _obs(server)
    listed = client.listObjects(bucket, prefix="CloudTraces/")
    records = []
    for obj in sorted(listed.body.contents, key=lambda o: o.key):
        got = client.getObject(bucket, obj.key, loadStreamInMemory=True)
        records += orjson.loads(gzip.decompress(got.body.buffer))
    return sorted(records, key=lambda r: r["time"])


def test_trace_files_hold_exactly_what_listtraces_serves(server, sdk):
    _obs(server).createBucket("siem-archive")
    created = sdk.cts.create_tracker(CreateTrackerRequest(body=CreateTrackerRequestBody(
        tracker_type="system", tracker_name="system",
        obs_info=TrackerObsInfo(bucket_name="siem-archive", file_prefix_name="siem"))))
    assert created.tracker_name == "system" and created.status == "enabled"
    assert created.obs_info.bucket_name == "siem-archive"
    for name in ("alpha", "beta", "gamma"):
        _create_dataset(server, name)
    # ModelArts's file, and CTS's with the tracker's own creation (CTS records it)
    assert requests.post(server.endpoint + "/_sim/flush", json={}, timeout=30).json() == {
        "files_written": 2}

    delivered = _delivered(server, "siem-archive")
    page = sdk.cts.list_traces(ListTracesRequest(trace_type="system", limit=10))
    served = [t.to_dict() for t in page.traces]
    assert [r["trace_id"] for r in delivered] == [t["trace_id"] for t in reversed(served)]
    api = server_call(server, "GET", "/v3/{project_id}/traces").json()["traces"]
    assert delivered == list(reversed(api))  # record for record, field for field
    assert [(r["service_type"], r["trace_name"]) for r in delivered] == [
        ("CTS", "createTracker")] + [("ModelArts", "createDataset")] * 3

    listed = sdk.cts.list_trackers(ListTrackersRequest())
    assert [t.tracker_name for t in listed.trackers] == ["system"]
    quotas = sdk.cts.list_quotas(ListQuotasRequest()).resources
    assert quotas[0].used == 1
    sdk.cts.update_tracker(UpdateTrackerRequest(body=UpdateTrackerRequestBody(
        tracker_type="system", tracker_name="system", status="disabled")))
    assert sdk.cts.list_trackers(ListTrackersRequest()).trackers[0].status == "disabled"
    sdk.cts.delete_tracker(DeleteTrackerRequest(tracker_name="system", tracker_type="system"))
    assert sdk.cts.list_trackers(ListTrackersRequest()).trackers == []
    try:
        sdk.cts.delete_tracker(DeleteTrackerRequest(tracker_name="system",
                                                    tracker_type="system"))
        raise AssertionError("a second delete must fail")
    except ClientRequestException as exc:
        assert (exc.status_code, exc.error_code) == (404, "CTS.0214")
    # CTS recorded each of its own writes, the refused second delete as a warning
    own = sdk.cts.list_traces(ListTracesRequest(trace_type="system", limit=10,
                                                service_type="CTS")).traces
    assert [(t.trace_name, t.code, t.trace_rating, t.resource_name) for t in reversed(own)] == [
        ("createTracker", "201", "normal", "system"), ("updateTracker", "200", "normal", "system"),
        ("deleteTracker", "204", "normal", "system"),
        ("deleteTracker", "404", "warning", "system")]


def test_trackers_and_pending_traces_survive_a_restart(tmp_path):
    first = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, data_dir=str(tmp_path)))
    try:
        _obs(first).createBucket("kept-archive")
        assert server_call(first, "POST", "/v3/{project_id}/tracker", {
            "tracker_type": "system", "tracker_name": "system",
            "obs_info": {"bucket_name": "kept-archive"}}).status_code == 201
        _create_dataset(first, "before-restart")
    finally:
        first.stop()  # shutdown writes what the tracker holds
    second = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS, data_dir=str(tmp_path)))
    try:
        assert [(r["trace_name"], r["resource_name"])
                for r in _delivered(second, "kept-archive")] == [
            ("createTracker", "system"), ("createDataset", "before-restart")]
        _create_dataset(second, "after-restart")
        assert requests.post(second.endpoint + "/_sim/flush", json={}, timeout=30).json() == {
            "files_written": 1}
        assert [(r["trace_name"], r["resource_name"])
                for r in _delivered(second, "kept-archive")] == [
            ("createTracker", "system"), ("createDataset", "before-restart"),
            ("createDataset", "after-restart")]
    finally:
        second.stop()
