"""Data management: each of the 14 audited operations leaves exactly its record, every error
case answers the datasets dialect and is traced as a warning, and lifecycles move on the clock."""

import base64

import pytest

from tests.helpers import check_refusal, check_trace, ok, FROZEN_MS, expected_record, obs_put

DS = "/v2/{project_id}/datasets"
CREATE = {"dataset_name": "flowers", "dataset_type": 0,
          "data_sources": [{"data_type": 0, "data_path": "/acme-data/flowers/in/"}],
          "work_path": "/acme-data/flowers/out/", "work_path_type": 0,
          "labels": [{"name": "rose", "type": 0, "property": {"@modelarts:color": "#ff0000"}}]}


_ok = ok


@pytest.fixture
def dataset(client, sim):
    body = _ok(client.post(DS, CREATE), 201)
    sim.clock.advance(5)  # creation done
    return body["dataset_id"]


check = check_trace


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- one whole record per operation --------------------------------------------------------------

def test_create_dataset(client):
    resp = client.post(DS, CREATE)
    body = _ok(resp, 201)
    assert set(body) == {"dataset_id", "import_task_id"}
    assert body["import_task_id"].startswith(body["dataset_id"] + "_")
    check(client, resp, trace_name="createDataset", operation_id="CreateDataset",
          resource_id=body["dataset_id"], resource_name="flowers", code=201,
          request=CREATE, response=body, time=FROZEN_MS)


def test_delete_dataset(client, dataset):
    resp = client.delete(DS + "/" + dataset)
    assert resp.status_code == 204 and resp.get_data() == b""
    check(client, resp, trace_name="deleteDataset", operation_id="DeleteDataset",
          resource_id=dataset, resource_name="flowers", code=204, request=None, response=None)
    assert _ok(client.get(DS + "/" + dataset), 400)["error_code"] == "ModelArts.4352"


def test_update_dataset(client, dataset):
    req = {"description": "spring flowers", "add_labels": [{"name": "tulip", "type": 0}]}
    resp = client.put(DS + "/" + dataset, req)
    assert _ok(resp) == {"dataset_id": dataset}
    check(client, resp, trace_name="updateDataset", operation_id="UpdateDataset",
          resource_id=dataset, resource_name="flowers", code=200, request=req,
          response={"dataset_id": dataset})
    shown = _ok(client.get(DS + "/" + dataset))
    assert shown["description"] == "spring flowers"
    assert [l["name"] for l in shown["labels"]] == ["rose", "tulip"]


def test_publish_dataset_version(client, dataset):
    req = {"version_name": "v1", "description": "first"}
    resp = client.post(DS + "/%s/versions" % dataset, req)
    body = _ok(resp, 201)
    check(client, resp, trace_name="publishDatasetVersion", operation_id="CreateDatasetVersion",
          resource_id=dataset, resource_name="flowers", code=201, request=req, response=body)


def test_delete_dataset_version(client, dataset, sim):
    version = _ok(client.post(DS + "/%s/versions" % dataset, {}), 201)["version_id"]
    resp = client.delete(DS + "/%s/versions/%s" % (dataset, version))
    assert resp.status_code == 204
    check(client, resp, trace_name="deleteDatasetVersion", operation_id="DeleteDatasetVersion",
          resource_id=dataset, resource_name="flowers", code=204, request=None, response=None)


def test_sync_data_source(client, dataset):
    resp = client.post(DS + "/%s/sync-data" % dataset)
    assert resp.status_code == 200 and resp.get_data() == b""
    check(client, resp, trace_name="syncDataSource", operation_id="SyncDataSource",
          resource_id=dataset, resource_name="flowers", code=200, request=None, response=None)


def test_export_data_from_dataset(client, dataset):
    req = {"path": "/acme-data/export/", "export_type": 2}
    resp = client.post(DS + "/%s/export-tasks" % dataset, req)
    body = _ok(resp)
    assert set(body) == {"task_id"}
    check(client, resp, trace_name="exportDataFromDataset", operation_id="CreateExportTask",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)


def test_import_samples_to_dataset(client, dataset, sim):
    obs_put(sim, "/acme-data/more/a.jpg")
    req = {"import_path": "/acme-data/more/", "import_type": "dir"}
    resp = client.post(DS + "/%s/import-tasks" % dataset, req)
    body = _ok(resp)
    assert body["task_id"].startswith(dataset + "_")
    check(client, resp, trace_name="importSamplesToDataset", operation_id="CreateImportTask",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)


def test_create_label(client, dataset):
    req = {"labels": [{"name": "daisy", "type": 0}, {"name": "lily"}]}
    resp = client.post(DS + "/%s/data-annotations/labels" % dataset, req)
    body = _ok(resp)
    assert body == {"success": True, "results": [{"success": True}, {"success": True}]}
    check(client, resp, trace_name="createLabel", operation_id="CreateLabels",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)


def test_update_labels_in_a_batch(client, dataset):
    req = {"labels": [{"name": "rose", "property": {"@modelarts:color": "#00ff00",
                                                    "@modelarts:rename_to": "red-rose"}}]}
    resp = client.put(DS + "/%s/data-annotations/labels" % dataset, req)
    body = _ok(resp)
    check(client, resp, trace_name="updateLabel", operation_id="UpdateLabels",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)
    labels = _ok(client.get(DS + "/%s/data-annotations/labels" % dataset))
    assert labels == {"total_number": 1, "labels": [
        {"name": "red-rose", "type": 0, "property": {"@modelarts:color": "#00ff00"},
         "attributes": []}]}


def test_update_one_label(client, dataset):
    req = {"@modelarts:color": "#93c47d"}
    resp = client.put(DS + "/%s/data-annotations/labels/rose" % dataset, req)
    assert resp.status_code == 204
    check(client, resp, trace_name="updateLabel", operation_id="UpdateLabel",
          resource_id=dataset, resource_name="flowers", code=204, request=req, response=None)


def test_delete_label(client, dataset):
    req = {"labels": [{"name": "rose"}]}
    resp = client.post(DS + "/%s/data-annotations/labels/delete" % dataset, req)
    assert _ok(resp) == {"success": True}
    check(client, resp, trace_name="deleteLabel", operation_id="DeleteLabels",
          resource_id=dataset, resource_name="flowers", code=200, request=req,
          response={"success": True})


def test_delete_label_with_samples(client, dataset):
    resp = client.delete(DS + "/%s/data-annotations/labels/rose" % dataset)
    assert resp.status_code == 204
    check(client, resp, trace_name="deleteLabelWithSamples", operation_id="DeleteLabelAndSamples",
          resource_id=dataset, resource_name="flowers", code=204, request=None, response=None)


def test_upload_samples(client, dataset):
    req = {"samples": [{"name": "1.jpg", "data": b64(b"\xff\xd8jpeg"), "sample_type": 0,
                        "labels": [{"name": "rose"}]}]}
    resp = client.post(DS + "/%s/data-annotations/samples" % dataset, req)
    body = _ok(resp)
    assert body["success"] is True and len(body["results"]) == 1
    assert body["results"][0]["name"] == "/acme-data/flowers/out/1.jpg"
    check(client, resp, trace_name="uploadSamples", operation_id="UploadSamples",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)


def test_delete_samples(client, dataset):
    up = _ok(client.post(DS + "/%s/data-annotations/samples" % dataset,
                         {"samples": [{"name": "2.jpg", "data": b64(b"x")}]}))
    sample_id = up["results"][0]["info"]
    req = {"samples": [sample_id], "delete_source": False}
    resp = client.post(DS + "/%s/data-annotations/samples/delete" % dataset, req)
    body = _ok(resp)
    check(client, resp, trace_name="deleteSamples", operation_id="DeleteSamples",
          resource_id=dataset, resource_name="flowers", code=200, request=req, response=body)
    assert _ok(client.get(DS + "/%s/data-annotations/samples" % dataset))["sample_count"] == 0


# -- refusals: the datasets dialect, traced as warnings ------------------------------------------

_refused = check_refusal


def test_duplicate_dataset_name(client, dataset):
    resp = client.post(DS, CREATE)
    _refused(client, resp, 400, "ModelArts.4351", trace_name="createDataset",
             operation_id="CreateDataset", resource_id="", resource_name="flowers",
             request=CREATE)


def test_dataset_not_found_is_http_400(client):
    resp = client.delete(DS + "/noSuchDataset0000001")
    body = _refused(client, resp, 400, "ModelArts.4352", trace_name="deleteDataset",
                    operation_id="DeleteDataset", resource_id="noSuchDataset0000001",
                    resource_name="", request=None)
    assert body["error_msg"] == "Dataset noSuchDataset0000001 does not exist."


@pytest.mark.parametrize("change, message", [
    ({"dataset_name": "bad name!"}, "dataset_name"),
    ({"dataset_name": "x" * 101}, "dataset_name"),
    ({"dataset_name": None}, "dataset_name"),
    ({"dataset_type": 7}, "dataset_type"),
    ({"data_sources": []}, "data_sources"),
    ({"data_sources": [{"data_type": 0, "data_path": "no-slash/"}]}, "data_path"),
    ({"data_sources": [{"data_type": 0, "data_path": "/Bad_Bucket/x/"}]}, "bucket"),
    ({"work_path": "/acme-data/"}, "work_path"),
    ({"work_path": "/acme-data/flowers/in/out/"}, "inside the input path"),
    ({"work_path_type": 3}, "work_path_type"),
    ({"description": "<script>"}, "description"),
    ({"labels": [{"name": "x", "property": {"color": "red"}}]}, "@modelarts:"),
    ({"dataset_type": 400}, "schema"),
])
def test_create_dataset_validation(client, change, message):
    req = {k: v for k, v in {**CREATE, **change}.items() if v is not None}
    resp = client.post(DS, req)
    body = _refused(client, resp, 400, "ModelArts.4396", trace_name="createDataset",
                    operation_id="CreateDataset", resource_id="",
                    resource_name=req.get("dataset_name", ""), request=req)
    assert message in body["error_msg"]


def test_body_that_is_not_json(client):
    resp = client.call("POST", DS, raw=b"{not json")
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.0101"
    trace = client.last_trace()
    assert trace["trace_name"] == "createDataset" and trace["trace_rating"] == "warning"
    assert trace["request"] == ""


def test_body_of_the_wrong_type(client):
    resp = client.post(DS, [1, 2])
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.4396"


def test_version_errors(client, dataset, sim):
    _ok(client.post(DS + "/%s/versions" % dataset, {"version_name": "v1"}), 201)
    resp = client.post(DS + "/%s/versions" % dataset, {"version_name": "v2"})
    _refused(client, resp, 400, "ModelArts.4370", trace_name="publishDatasetVersion",
             operation_id="CreateDatasetVersion", resource_id=dataset, resource_name="flowers",
             request={"version_name": "v2"})
    sim.clock.advance(61)
    resp = client.post(DS + "/%s/versions" % dataset, {"version_name": "v1"})
    assert resp.json["error_code"] == "ModelArts.4371"
    resp = client.delete(DS + "/%s/versions/nope" % dataset)
    _refused(client, resp, 400, "ModelArts.4353", trace_name="deleteDatasetVersion",
             operation_id="DeleteDatasetVersion", resource_id=dataset, resource_name="flowers",
             request=None)


def test_label_errors(client, dataset):
    resp = client.post(DS + "/%s/data-annotations/labels" % dataset,
                       {"labels": [{"name": "rose"}]})
    assert resp.status_code == 400 and resp.json["error_code"] == "ModelArts.4411"
    resp = client.put(DS + "/%s/data-annotations/labels/none" % dataset, {})
    assert resp.json["error_code"] == "ModelArts.4410"
    resp = client.post(DS + "/%s/data-annotations/labels/delete" % dataset,
                       {"labels": [{"name": "none"}]})
    assert resp.json["error_code"] == "ModelArts.4410"
    resp = client.delete(DS + "/%s/data-annotations/labels/none" % dataset)
    assert resp.json["error_code"] == "ModelArts.4410"
    resp = client.post(DS + "/%s/data-annotations/labels/delete" % dataset,
                       {"labels": [{"name": "rose"}]}, query={"delete_policy": "5"})
    assert resp.json["error_code"] == "ModelArts.4396"


def test_sample_errors(client, dataset):
    url = DS + "/%s/data-annotations/samples" % dataset
    assert client.post(url, {"samples": [{"name": "a.jpg", "data": "%%%"}]}).json[
        "error_code"] == "ModelArts.4396"
    assert client.post(url, {"samples": [{"name": "../a.jpg", "data": b64(b"x")}]}).json[
        "error_code"] == "ModelArts.4396"
    _ok(client.post(url, {"samples": [{"name": "a.jpg", "data": b64(b"x")}]}))
    assert client.post(url, {"samples": [{"name": "a.jpg", "data": b64(b"y")}]}).json[
        "error_code"] == "ModelArts.4422"
    assert client.post(url + "/delete", {"samples": ["0" * 32]}).json[
        "error_code"] == "ModelArts.4420"
    assert client.get(url + "/" + "0" * 32).json["error_code"] == "ModelArts.4420"


def test_task_errors(client, dataset, sim):
    url = DS + "/%s/import-tasks" % dataset
    obs_put(sim, "/acme-data/x/1.jpg", "/acme-data/y/1.jpg")
    _ok(client.post(url, {"import_path": "/acme-data/x/"}))
    resp = client.post(url, {"import_path": "/acme-data/y/"})
    assert resp.json["error_code"] == "ModelArts.4356"
    resp = client.post(url, {"import_path": "/acme-data/y/a.txt", "import_type": "manifest"})
    assert resp.json["error_code"] == "ModelArts.4396"
    client.post(DS + "/%s/sync-data" % dataset)
    assert client.post(DS + "/%s/sync-data" % dataset).json["error_code"] == "ModelArts.4355"
    assert client.get(DS + "/%s/export-tasks/nope" % dataset).json[
        "error_code"] == "ModelArts.4359"
    assert client.post(DS + "/%s/export-tasks" % dataset, {}).json[
        "error_code"] == "ModelArts.4396"


def test_read_only_auditor_may_read_but_not_write(client, dataset):
    auditor = client.as_user("auditor")
    assert _ok(auditor.get(DS))["total_number"] == 1
    req = {"labels": [{"name": "daisy"}]}
    resp = auditor.post(DS + "/%s/data-annotations/labels" % dataset, req)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0108"
    actual = client.last_trace()
    assert actual == expected_record(
        actual, trace_name="createLabel", operation_id="CreateLabels", resource_id="",
        resource_name="", code=403, request=req, response=resp.json, user="auditor",
        error_code="ModelArts.0108", time=client.sim.clock.now_ms())


def test_wrong_project(client, dataset):
    mallory = client.as_user("mallory")
    resp = mallory.get(DS)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    resp = mallory.delete(DS + "/" + dataset)
    assert resp.status_code == 403 and resp.json["error_code"] == "ModelArts.0210"
    assert _ok(client.get(DS + "/" + dataset))["dataset_name"] == "flowers"
    assert all(t["user"]["name"] != "mallory" for t in client.traces())


# -- lifecycles on the simulation clock ----------------------------------------------------------

def test_dataset_creation_moves_on_the_clock(client, sim):
    ds = _ok(client.post(DS, CREATE), 201)
    url = DS + "/" + ds["dataset_id"]
    assert _ok(client.get(url))["status"] == 0
    task = _ok(client.get(url + "/import-tasks/" + ds["import_task_id"]))
    assert task["status"] == "QUEUING"
    sim.clock.advance(1.0)
    assert _ok(client.get(url))["status"] == 1
    task = _ok(client.get(url + "/import-tasks/" + ds["import_task_id"]))
    assert task["status"] == "COMPLETED" and task["elapsed_time"] == 1


def test_import_export_sync_and_version_lifecycles(client, dataset, sim):
    url = DS + "/" + dataset
    _ok(client.post(url + "/data-annotations/samples",
                    {"samples": [{"name": "%d.jpg" % i, "data": b64(b"img%d" % i),
                                  "labels": [{"name": "rose"}] if i % 2 else []}
                                 for i in range(4)]}))
    obs_put(sim, "/acme-data/more/extra.jpg")
    imp = _ok(client.post(url + "/import-tasks", {"import_path": "/acme-data/more/"}))["task_id"]
    assert _ok(client.get(url))["status"] == 8
    seen = []
    for _ in range(6):
        seen.append(_ok(client.get(url + "/import-tasks/" + imp))["status"])
        sim.clock.advance(0.5)
    assert seen == ["QUEUING", "STARTING", "RUNNING", "COMPLETED", "COMPLETED", "COMPLETED"]
    assert _ok(client.get(url))["status"] == 1

    exp = _ok(client.post(url + "/export-tasks", {"path": "/acme-data/exp/", "export_type": 0}))
    first = _ok(client.get(url + "/export-tasks/" + exp["task_id"]))
    assert (first["status"], first["total_sample_count"], first["finished_sample_count"]) == (
        "INIT", 2, 0)
    sim.clock.advance(2)
    done = _ok(client.get(url + "/export-tasks/" + exp["task_id"]))
    assert (done["status"], done["progress"], done["finished_sample_count"]) == (
        "SUCCESSED", 100.0, 2)
    assert _ok(client.get(url + "/export-tasks"))["total_count"] == 1

    assert _ok(client.get(url + "/sync-data/status"))["status"] == "NOT_EXIST"
    client.post(url + "/sync-data")
    assert _ok(client.get(url))["status"] == 5
    assert _ok(client.get(url + "/sync-data/status"))["status"] == "QUEUING"
    sim.clock.advance(2)
    assert _ok(client.get(url + "/sync-data/status"))["status"] == "COMPLETED"

    version = _ok(client.post(url + "/versions", {}), 201)["version_id"]
    assert _ok(client.get(url))["status"] == 6
    shown = _ok(client.get(url + "/versions/" + version))
    assert (shown["status"], shown["version_name"], shown["total_sample_count"],
            shown["annotated_sample_count"], shown["is_current"]) == (0, "V001", 5, 2, True)
    sim.clock.advance(2)
    assert _ok(client.get(url + "/versions/" + version))["status"] == 1
    info = _ok(client.get(url))
    assert (info["status"], info["current_version_id"], info["current_version_name"],
            info["total_sample_count"], info["annotated_sample_count"]) == (
        1, version, "V001", 5, 2)


def test_label_deletion_policies(client, dataset):
    url = DS + "/%s/data-annotations" % dataset
    _ok(client.post(url + "/labels", {"labels": [{"name": "tulip"}]}))
    _ok(client.post(url + "/samples", {"samples": [
        {"name": "only-rose.jpg", "data": b64(b"1"), "labels": [{"name": "rose"}]},
        {"name": "both.jpg", "data": b64(b"2"), "labels": [{"name": "rose"}, {"name": "tulip"}]},
        {"name": "none.jpg", "data": b64(b"3")}]}))
    _ok(client.post(url + "/labels/delete", {"labels": [{"name": "rose"}]},
                    query={"delete_policy": "1"}))
    samples = _ok(client.get(url + "/samples"))
    assert sorted(s["sample_name"] for s in samples["samples"]) == ["both.jpg", "none.jpg"]
    both = next(s for s in samples["samples"] if s["sample_name"] == "both.jpg")
    assert [t["name"] for t in both["labels"]] == ["tulip"]
    assert _ok(client.get(url + "/samples", query={"sample_state": "__NONE__"}))[
        "sample_count"] == 1
    assert client.delete(url + "/labels/tulip").status_code == 204
    assert _ok(client.get(url + "/samples"))["sample_count"] == 1


def test_list_datasets_paging_and_sorting(client, sim):
    for i in range(5):
        req = dict(CREATE, dataset_name="set-%d" % i,
                   work_path="/acme-data/out-%d/" % i)
        _ok(client.post(DS, req), 201)
        sim.clock.advance(1)
    page = _ok(client.get(DS, query={"limit": 2, "offset": 1}))
    assert page["total_number"] == 5
    assert [d["dataset_name"] for d in page["datasets"]] == ["set-3", "set-2"]
    page = _ok(client.get(DS, query={"sort_by": "dataset_name", "order": "asc", "limit": 10}))
    assert [d["dataset_name"] for d in page["datasets"]] == ["set-%d" % i for i in range(5)]
    assert _ok(client.get(DS, query={"search_content": "SET-4"}))["total_number"] == 1
    assert client.get(DS, query={"limit": 0}).json["error_code"] == "ModelArts.4396"
    assert client.get(DS, query={"limit": "x"}).json["error_code"] == "ModelArts.4396"
    assert client.get(DS, query={"order": "up"}).json["error_code"] == "ModelArts.4396"
