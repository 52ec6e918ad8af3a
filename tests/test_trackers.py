"""CTS trackers: the API (reference section 2.2) and the trace files they write into OBS
(section 3), on the in-process app with a frozen clock."""

from __future__ import annotations

import gzip
import hashlib
import re

import orjson
import pytest

from simulator.obs import backend as obs
from tests.helpers import DOMAIN, FROZEN_MS, PROJECT_ID

TRACKER = "/v3/{project_id}/tracker"
TRACKERS = "/v3/{project_id}/trackers"
DS = "/v2/{project_id}/datasets"
PERIOD_MS = 300_000


def bucket(sim, name="cts-bucket"):
    obs.store(sim.obs_account).create_bucket(name, "us-east-1")
    return name


def objects(sim, name="cts-bucket") -> dict[str, bytes]:
    found = obs.store(sim.obs_account).buckets[name].keys
    return {k: found[k].value for k in sorted(found.keys())}


def system_tracker(client, sim, **obs_info):
    info = {"bucket_name": bucket(sim), "file_prefix_name": "audit", **obs_info}
    resp = client.post(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                 "obs_info": info})
    assert resp.status_code == 201, resp.json
    return resp.json


def create_dataset(client, name):
    resp = client.post(DS, {"dataset_name": name, "data_sources": [{"data_path": "/acme-data/x/"}],
                            "work_path": "/acme-data/out/", "work_path_type": 0})
    assert resp.status_code == 201, resp.json
    return resp


def flush(app) -> int:
    return app.test_client().post("/_sim/flush", json={}).json["files_written"]


def test_create_and_list_the_management_tracker(client, sim):
    body = system_tracker(client, sim)
    assert body == {
        "id": body["id"], "create_time": FROZEN_MS, "kms_id": None,
        "is_support_validate": False, "is_organization_tracker": False,
        "management_event_selector": {"exclude_service": []},
        "lts": {"is_lts_enabled": False, "log_group_name": "CTS",
                "log_topic_name": "system-trace"},
        "tracker_type": "system", "domain_id": DOMAIN["id"], "project_id": PROJECT_ID,
        "tracker_name": "system", "agency_name": None, "status": "enabled",
        "is_support_trace_files_encryption": False,
        "obs_info": {"bucket_name": "cts-bucket", "file_prefix_name": "audit",
                     "is_obs_created": False, "bucket_lifecycle": 30, "compress_type": "gzip",
                     "is_sort_by_service": True, "is_authorized_bucket": True,
                     "bucket_location": ""}}
    listed = client.get(TRACKERS).json["trackers"]
    assert listed == [{**body, "group_id": None, "stream_id": None}]
    assert client.get(TRACKERS, query={"tracker_type": "data"}).json == {"trackers": []}
    quotas = client.get("/v3/{project_id}/quotas").json["resources"]
    assert quotas[:2] == [{"type": "system_tracker", "used": 1, "quota": 1},
                          {"type": "data_tracker", "used": 0, "quota": 100}]


@pytest.mark.parametrize("body, code", [
    ({"tracker_type": "other", "tracker_name": "system"}, "CTS.0202"),
    ({"tracker_type": "system", "tracker_name": "audit"}, "CTS.0204"),
    ({"tracker_type": "data", "tracker_name": "-bad"}, "CTS.0203"),
    ({"tracker_type": "data", "tracker_name": "system"}, "CTS.0203"),
    ({"tracker_type": "system", "tracker_name": "system",
      "obs_info": {"bucket_name": "Not_A_Bucket"}}, "CTS.0231"),
    ({"tracker_type": "system", "tracker_name": "system",
      "obs_info": {"bucket_name": "no-such-bucket"}}, "CTS.0211"),
    ({"tracker_type": "system", "tracker_name": "system",
      "obs_info": {"bucket_name": "cts-bucket", "is_obs_created": True}}, "CTS.0215"),
    ({"tracker_type": "system", "tracker_name": "system",
      "obs_info": {"bucket_name": "cts-bucket", "file_prefix_name": "a/b"}}, "CTS.0218"),
    ({"tracker_type": "system", "tracker_name": "system",
      "obs_info": {"bucket_name": "cts-bucket", "compress_type": "zip"}}, "CTS.0003"),
    ({"tracker_type": "system", "tracker_name": "system",
      "data_bucket": {"data_bucket_name": "cts-bucket"}}, "CTS.0206"),
    ({"tracker_type": "data", "tracker_name": "reads"}, "CTS.0210"),
    ({"tracker_type": "data", "tracker_name": "reads",
      "data_bucket": {"data_bucket_name": "cts-bucket", "data_event": ["DELETE"]}}, "CTS.0225"),
    ({"tracker_type": "data", "tracker_name": "reads",
      "data_bucket": {"data_bucket_name": "cts-bucket", "data_event": []}}, "CTS.0219"),
    ({"tracker_type": "data", "tracker_name": "reads",
      "data_bucket": {"data_bucket_name": "gone-bucket", "data_event": ["READ"]}}, "CTS.0211"),
    ({"tracker_type": "data", "tracker_name": "reads",
      "obs_info": {"bucket_name": "cts-bucket"},
      "data_bucket": {"data_bucket_name": "cts-bucket", "data_event": ["READ"]}}, "CTS.0213"),
    ([1, 2], "CTS.0003"),
])
def test_bad_trackers_get_the_documented_errors(client, sim, body, code):
    bucket(sim)
    resp = client.post(TRACKER, body)
    assert resp.status_code == 400 and resp.json["error_code"] == code, resp.json
    assert client.get(TRACKERS).json == {"trackers": []}


def test_one_management_tracker_and_is_obs_created_makes_the_bucket(client, sim):
    made = client.post(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                 "obs_info": {"bucket_name": "made-for-cts",
                                              "is_obs_created": True}})
    assert made.status_code == 201 and "made-for-cts" in obs.store(sim.obs_account).buckets
    again = client.post(TRACKER, {"tracker_type": "system", "tracker_name": "system"})
    assert again.status_code == 400 and again.json["error_code"] == "CTS.0201"


def test_data_trackers_share_no_operation_type_of_a_bucket(client, sim):
    bucket(sim, "tracked")
    first = client.post(TRACKER, {"tracker_type": "data", "tracker_name": "reads",
                                  "data_bucket": {"data_bucket_name": "tracked",
                                                  "data_event": ["READ"]}})
    assert first.status_code == 201
    assert first.json["data_bucket"] == {"data_bucket_name": "tracked", "data_event": ["READ"],
                                         "search_enabled": True}
    clash = client.post(TRACKER, {"tracker_type": "data", "tracker_name": "all",
                                  "data_bucket": {"data_bucket_name": "tracked",
                                                  "data_event": ["WRITE", "READ"]}})
    assert clash.json["error_code"] == "CTS.0209"
    writes = client.post(TRACKER, {"tracker_type": "data", "tracker_name": "writes",
                                   "data_bucket": {"data_bucket_name": "tracked",
                                                   "data_event": ["WRITE"]}})
    assert writes.status_code == 201
    moved = client.put(TRACKER, {"tracker_type": "data", "tracker_name": "writes",
                                 "data_bucket": {"data_bucket_name": "cts-bucket",
                                                 "data_event": ["WRITE"]}})
    assert moved.json["error_code"] == "CTS.0212"
    dup = client.post(TRACKER, {"tracker_type": "data", "tracker_name": "writes",
                                "data_bucket": {"data_bucket_name": "tracked",
                                                "data_event": ["WRITE"]}})
    assert dup.json["error_code"] == "CTS.0208"
    quotas = client.get("/v3/{project_id}/quotas").json["resources"]
    assert quotas[1] == {"type": "data_tracker", "used": 2, "quota": 100}
    # no tracker_name: every data tracker goes
    assert client.delete(TRACKERS).status_code == 204
    assert client.get(TRACKERS).json == {"trackers": []}


def test_update_and_delete(client, sim):
    system_tracker(client, sim)
    bad = client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                               "status": "paused"})
    assert bad.json["error_code"] == "CTS.0205"
    off = client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                               "status": "disabled", "is_support_validate": True})
    assert (off.status_code, off.data) == (200, b"")
    [listed] = client.get(TRACKERS).json["trackers"]
    assert (listed["status"], listed["is_support_validate"]) == ("disabled", True)
    missing = client.put(TRACKER, {"tracker_type": "data", "tracker_name": "nope"})
    assert (missing.status_code, missing.json["error_code"]) == (404, "CTS.0214")
    gone = client.delete(TRACKERS, query={"tracker_type": "system", "tracker_name": "system"})
    assert gone.status_code == 204
    again = client.delete(TRACKERS, query={"tracker_type": "system", "tracker_name": "system"})
    assert (again.status_code, again.json["error_code"]) == (404, "CTS.0214")


FILE = re.compile(r"^CloudTraces/cn-north-4/(\d{4})/(\d{2})/(\d{2})/system/ModelArts/"
                  r"audit_CloudTrace_cn-north-4_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)_"
                  r"[0-9a-f]{16}\.json\.gz$")
CTS_FILE = re.compile(r"^CloudTraces/cn-north-4/\d{4}/\d{2}/\d{2}/system/CTS/audit_CloudTrace_")


def modelarts_files(sim) -> dict[str, bytes]:
    """The tracker's trace files of ModelArts's folder (CTS's own traces have one of theirs)."""
    return {k: v for k, v in objects(sim).items() if FILE.match(k)}


def cts_records(sim) -> list[dict]:
    """Every record of the trace files in CTS's folder: CTS's own tracker operations."""
    found = [(k, v) for k, v in objects(sim).items() if CTS_FILE.match(k)]
    assert len(found) + len(modelarts_files(sim)) == len(
        [k for k in objects(sim) if "/Digest/" not in k]), objects(sim).keys()
    return [r for _, body in found for r in orjson.loads(gzip.decompress(body))]


def listed_cts(client) -> list[dict]:
    """CTS's own traces as ListTraces serves them, in the order recorded."""
    return list(reversed(client.traces(service_type="CTS")))


def test_flush_writes_every_trace_recorded_since_the_tracker_was_enabled(client, sim, app):
    create_dataset(client, "before")  # recorded before the tracker: not delivered
    system_tracker(client, sim)
    create_dataset(client, "one")
    create_dataset(client, "two")
    assert flush(app) == 2  # ModelArts's file, and CTS's with the tracker's own createTracker
    [(key, body)] = modelarts_files(sim).items()
    match = FILE.match(key)
    assert match, key
    assert match.groups() == ("2026", "11", "18", "2026-11-18T11-06-40Z")  # the flush instant
    raw = gzip.decompress(body)
    records = orjson.loads(raw)
    assert raw == orjson.dumps(records, option=orjson.OPT_SORT_KEYS)  # keys sorted
    listed = client.traces(service_type="ModelArts")  # newest first
    assert records == list(reversed(listed[:2]))  # the same records, in the order recorded
    assert [r["resource_name"] for r in records] == ["one", "two"]
    own = cts_records(sim)
    assert own == listed_cts(client)
    assert [(r["trace_name"], r["resource_name"]) for r in own] == [("createTracker", "system")]
    assert flush(app) == 0  # nothing new
    create_dataset(client, "three")
    assert flush(app) == 1 and len(objects(sim)) == 3


def test_files_are_cut_per_transfer_period_on_the_simulation_clock(client, sim, app):
    system_tracker(client, sim)
    start = sim.clock.now_ms()
    boundary = (start // PERIOD_MS + 1) * PERIOD_MS
    create_dataset(client, "early")
    sim.clock.advance((boundary - start) / 1000 + 10)  # into the next period
    create_dataset(client, "late")
    # the first period closed: one file a service, named at its end
    assert sim.delivery.run() == 2
    [key] = modelarts_files(sim)
    assert FILE.match(key).group(4) == "2026-11-18T11-10-00Z"
    assert [r["resource_name"] for r in orjson.loads(gzip.decompress(objects(sim)[key]))] == [
        "early"]
    [cts_key] = [k for k in objects(sim) if CTS_FILE.match(k)]
    assert "_cn-north-4_2026-11-18T11-10-00Z_" in cts_key  # the same period's end
    assert cts_records(sim) == listed_cts(client)
    assert sim.delivery.run() == 0  # the second period is still open
    sim.clock.advance(PERIOD_MS / 1000)
    assert sim.delivery.run() == 1
    assert sorted(FILE.match(k).group(4) for k in modelarts_files(sim)) == [
        "2026-11-18T11-10-00Z", "2026-11-18T11-15-00Z"]


def test_a_disabled_tracker_writes_nothing_and_resumes_from_when_it_is_enabled(client, sim,
                                                                                app):
    system_tracker(client, sim)
    client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                         "status": "disabled"})
    create_dataset(client, "unseen")
    assert flush(app) == 0
    client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                         "status": "enabled"})
    create_dataset(client, "seen")
    assert flush(app) == 2
    [body] = modelarts_files(sim).values()
    assert [r["resource_name"] for r in orjson.loads(gzip.decompress(body))] == ["seen"]
    # of CTS's own traces, the enabling is delivered: it was recorded once enabled (the
    # creation and the disabling, recorded before, were not delivered while disabled)
    enabling = listed_cts(client)[-1]
    assert orjson.loads(enabling["request"])["status"] == "enabled"
    assert cts_records(sim) == [enabling]


def test_a_vanished_bucket_is_an_error_and_loses_nothing(client, sim, app):
    system_tracker(client, sim)
    create_dataset(client, "while-there")
    store = obs.store(sim.obs_account)
    store.delete_bucket("cts-bucket")
    create_dataset(client, "while-gone")
    assert flush(app) == 0
    [listed] = client.get(TRACKERS).json["trackers"]
    assert (listed["status"], listed["detail"]) == ("error", "noBucket")
    bucket(sim)
    assert flush(app) == 2
    [body] = modelarts_files(sim).values()
    assert [r["resource_name"] for r in orjson.loads(gzip.decompress(body))] == [
        "while-there", "while-gone"]
    assert cts_records(sim) == listed_cts(client)  # createTracker
    [listed] = client.get(TRACKERS).json["trackers"]
    assert listed["status"] == "enabled" and "detail" not in listed


def test_plain_json_files_without_service_folders_and_the_older_file_form(client, sim, app):
    sim.settings.trace_file_code, sim.settings.trace_file_user = "int", "string"
    system_tracker(client, sim, compress_type="json", is_sort_by_service=False,
                   file_prefix_name="")
    create_dataset(client, "plain")
    assert flush(app) == 1  # one folder: no service's of its own
    [(key, body)] = objects(sim).items()
    assert re.match(r"^CloudTraces/cn-north-4/2026/11/18/system/_CloudTrace_cn-north-4_"
                    r"2026-11-18T11-06-40Z_[0-9a-f]{16}\.json$", key), key
    records = orjson.loads(body)
    listed = list(reversed(client.traces()))  # createTracker, createDataset
    assert [r["service_type"] for r in listed] == ["CTS", "ModelArts"]
    assert sorted(records, key=lambda r: r["service_type"]) == [
        {**r, "code": int(r["code"]), "user": orjson.dumps(r["user"]).decode()}
        for r in listed]


# -- digest files ------------------------------------------------------------------------------

DIGEST = re.compile(r"^CloudTraces/cn-north-4/2026/11/18/system/Digest/(ModelArts|CTS)/"
                    r"audit_CloudTrace-Digest_cn-north-4_2026-11-18T(\d{2})-00-00Z\.json\.gz$")


def _verify(public_pem: str, signature_hex: str, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(bytes.fromhex(signature_hex), data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def test_hourly_digests_are_signed_and_chained(client, sim, app):
    system_tracker(client, sim)
    client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                         "is_support_validate": True})
    create_dataset(client, "first-hour")
    sim.clock.advance(3600)  # 12:06:40: the 11:00 hour is over
    create_dataset(client, "second-hour")
    # the 11:10 trace files of ModelArts and of CTS (createTracker, updateTracker), then the
    # 11:00-12:00 digest of each service
    assert sim.delivery.run() == 4
    sim.clock.advance(3600)  # 13:06:40
    # the 12:10 trace file (ModelArts) and the 12:00-13:00 digests: CTS's has no file
    assert sim.delivery.run() == 3
    sim.clock.advance(3600)
    assert sim.delivery.run() == 2  # an hour without traces still has its digests

    store = obs.store(sim.obs_account)
    keys = sorted(store.buckets["cts-bucket"].keys.keys())
    assert [DIGEST.match(k).groups() for k in keys if DIGEST.match(k)] == [
        ("CTS", "12"), ("CTS", "13"), ("CTS", "14"),
        ("ModelArts", "12"), ("ModelArts", "13"), ("ModelArts", "14")]
    public = app.test_client().get("/_sim/keys").json["keys"][0]
    assert public["algorithm"] == "SHA256withRSA"
    cts_digests = [k for k in keys if DIGEST.match(k) and DIGEST.match(k).group(1) == "CTS"]
    _check_chain(store, public, cts_digests)
    assert [len(orjson.loads(gzip.decompress(store.buckets["cts-bucket"].keys[k].value))[
        "log_files"]) for k in cts_digests] == [1, 0, 0]
    digest_keys = [k for k in keys if DIGEST.match(k)
                   and DIGEST.match(k).group(1) == "ModelArts"]
    _check_chain(store, public, digest_keys)
    first, second, third = (orjson.loads(gzip.decompress(
        store.buckets["cts-bucket"].keys[k].value)) for k in digest_keys)
    assert [len(d["log_files"]) for d in (first, second, third)] == [1, 1, 0]
    assert (first["digest_start_time"], first["digest_end_time"]) == (
        "2026-11-18T11-00-00Z", "2026-11-18T12-00-00Z")
    assert first["log_files"][0]["object"].startswith(
        "CloudTraces/cn-north-4/2026/11/18/system/ModelArts/audit_CloudTrace_")
    # a digest changed after signing no longer verifies
    signed = store.buckets["cts-bucket"].keys[digest_keys[0]]
    assert not _verify(public["public_key_pem"], signed.metadata["x-amz-meta-signature"],
                       gzip.decompress(signed.value).replace(b"cts-bucket", b"cts-bucker"))


def _check_chain(store, public, digest_keys):
    """Each digest signed, listing its files by hash, and chained to the one before."""
    previous = None
    for key in digest_keys:
        obj = store.buckets["cts-bucket"].keys[key]
        raw = gzip.decompress(obj.value)
        digest = orjson.loads(raw)
        assert _verify(public["public_key_pem"], obj.metadata["x-amz-meta-signature"], raw)
        assert obj.metadata["x-amz-meta-signature-algorithm"] == "SHA256withRSA"
        assert digest["digest_object"] == key and digest["digest_bucket"] == "cts-bucket"
        assert digest["project_id"] == PROJECT_ID
        for entry in digest["log_files"]:
            stored = store.buckets["cts-bucket"].keys[entry["object"]].value
            assert entry["log_hash_value"] == hashlib.sha256(stored).hexdigest()
        if previous is None:  # the first of the chain
            assert digest["previous_digest_object"] == digest["previous_digest_hash_value"] == ""
        else:
            assert digest["previous_digest_object"] == previous[0]
            assert digest["previous_digest_hash_value"] == hashlib.md5(previous[1]).hexdigest()
            assert digest["previous_digest_signature"] == previous[2]
        previous = (key, obj.value, obj.metadata["x-amz-meta-signature"])


def test_the_signing_key_is_kept_in_the_data_dir(tmp_path):
    from simulator.cts.digests import Signer
    first = Signer(tmp_path).public_key()
    assert Signer(tmp_path).public_key() == first  # read back, not made again
    assert (tmp_path / "digest-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert Signer(None).public_key()["fingerprint"] != first["fingerprint"]


def test_a_trace_file_written_after_its_hours_digest_goes_in_the_next(client, sim, app):
    system_tracker(client, sim)
    client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                         "is_support_validate": True})
    tracker = sim.state("cts", PROJECT_ID).trackers["system"]
    create_dataset(client, "early")
    sim.clock.advance(3600)
    assert sim.delivery.run() == 4  # the trace files and the 11:00 digests (ModelArts, CTS)
    from simulator.cts import digests
    digests.file_written(tracker, "ModelArts", FROZEN_MS, "cts-bucket", "late.json.gz", b"x")
    assert [hour for hour, _ in tracker.digest_files] == [tracker.digest_hour_ms]


def test_malformed_values_are_refused_not_crashed_on(client, sim):
    bucket(sim, "tracked")
    listed = client.post(TRACKER, {"tracker_type": "data", "tracker_name": "odd",
                                   "data_bucket": {"data_bucket_name": ["tracked"],
                                                   "data_event": ["READ"]}})
    assert listed.status_code == 400 and listed.json["error_code"] == "CTS.0231"
    system_tracker(client, sim)
    refused = client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                   "obs_info": {"bucket_name": "other-bucket",
                                                "is_obs_created": True},
                                   "management_event_selector": {"exclude_service": ["ECS"]}})
    assert refused.status_code == 400
    [listed] = client.get(TRACKERS).json["trackers"]
    assert listed["obs_info"]["bucket_name"] == "cts-bucket"  # nothing changed
    assert "other-bucket" not in obs.store(sim.obs_account).buckets


def test_a_bucket_name_another_simulator_holds_is_free_here(client, sim):
    from tests.conftest import make_app
    other = make_app()
    try:
        other_sim = other.extensions["modelarts_sim"]
        other_sim.obs_files.make_bucket("held-elsewhere")
        resp = client.post(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                                     "obs_info": {"bucket_name": "held-elsewhere",
                                                  "is_obs_created": True}})
        assert resp.status_code == 201, resp.json
        assert sim.obs_files.has_bucket("held-elsewhere")
    finally:
        other_sim.close()

# -- CTS's own traces of tracker operations (user guide, Auditing: service CTS) ---------------

def test_tracker_writes_leave_whole_cts_traces(client, sim):
    from tests.helpers import cts_record
    request = {"tracker_type": "system", "tracker_name": "system",
               "obs_info": {"bucket_name": bucket(sim), "file_prefix_name": "audit"}}
    created = client.post(TRACKER, request)
    assert created.status_code == 201
    tracker_id = created.json["id"]
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="createTracker", operation_id="CreateTracker", resource_id=tracker_id,
        resource_name="system", code=201, request=request, response=created.json,
        request_id=created.headers["X-Request-Id"])
    off = {"tracker_type": "system", "tracker_name": "system", "status": "disabled"}
    resp = client.put(TRACKER, off)
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="updateTracker", operation_id="UpdateTracker", resource_id=tracker_id,
        resource_name="system", code=200, request=off, response=None,
        request_id=resp.headers["X-Request-Id"])
    query = {"tracker_type": "system", "tracker_name": "system"}
    resp = client.delete(TRACKERS, query=query)
    assert resp.status_code == 204
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="deleteTracker", operation_id="DeleteTracker", resource_id=tracker_id,
        resource_name="system", code=204, request=query, response=None,
        request_id=resp.headers["X-Request-Id"])
    # a refused one is a warning naming the tracker asked for
    resp = client.delete(TRACKERS, query=query)
    trace = client.last_trace()
    assert trace == cts_record(
        trace, trace_name="deleteTracker", operation_id="DeleteTracker", resource_id="",
        resource_name="system", code=404, request=query, response=resp.json,
        rating="warning", error_code="CTS.0214", request_id=resp.headers["X-Request-Id"])
    # reads are not recorded
    count = sim.traces.count()
    client.get(TRACKERS)
    client.get("/v3/{project_id}/traces")
    assert sim.traces.count() == count


def test_without_service_folders_one_file_holds_every_service_and_its_digest_too(client, sim):
    system_tracker(client, sim, is_sort_by_service=False)
    client.put(TRACKER, {"tracker_type": "system", "tracker_name": "system",
                         "is_support_validate": True})
    create_dataset(client, "mixed")
    sim.clock.advance(3600)
    assert sim.delivery.run() == 2  # one trace file (CTS's and ModelArts's), one digest
    [digest_key, trace_file] = sorted(objects(sim))
    assert re.match(r"^CloudTraces/cn-north-4/2026/11/18/system/audit_CloudTrace_cn-north-4_"
                    r"2026-11-18T11-10-00Z_[0-9a-f]{16}\.json\.gz$", trace_file), trace_file
    assert digest_key == "CloudTraces/cn-north-4/2026/11/18/system/Digest/" \
        "audit_CloudTrace-Digest_cn-north-4_2026-11-18T12-00-00Z.json.gz"
    records = orjson.loads(gzip.decompress(objects(sim)[trace_file]))
    assert [(r["service_type"], r["trace_name"]) for r in records] == [
        ("CTS", "createTracker"), ("CTS", "updateTracker"), ("ModelArts", "createDataset")]
    digest = orjson.loads(gzip.decompress(objects(sim)[digest_key]))
    assert [f["object"] for f in digest["log_files"]] == [trace_file]
