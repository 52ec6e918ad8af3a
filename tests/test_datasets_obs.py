"""Datasets read and write OBS for real: creation and sync read the data source, imports read a
folder or a manifest, exports and versions write files and manifests, uploaded samples land in
the work path, and a missing bucket is the documented error."""

import base64
import hashlib
import time

import orjson
import pytest

from simulator.obs.files import split
from tests.helpers import check_refusal, ok, obs_keys as keys, obs_put, obs_read as read

DS = "/v2/{project_id}/datasets"


def body(name="flowers", data_path="/acme-data/flowers/in/", work_path="/acme-data/flowers/out/",
         dataset_type=0, **extra):
    return {"dataset_name": name, "dataset_type": dataset_type,
            "data_sources": [{"data_type": 0, "data_path": data_path}],
            "work_path": work_path, "work_path_type": 0, **extra}


def create(client, sim, **kw) -> str:
    created = ok(client.post(DS, body(**kw)), 201)
    sim.clock.advance(5)  # created, and its data source imported
    return created["dataset_id"]


def samples(client, dataset_id) -> dict:
    """name -> (source, sample_type, label names, size)"""
    got = ok(client.get(DS + "/%s/data-annotations/samples" % dataset_id,
                        query={"limit": "500"}))
    assert got["sample_count"] == len(got["samples"])
    return {s["sample_name"]: (s["source"], s["sample_type"],
                               sorted(t["name"] for t in s["labels"]), s["sample_size"])
            for s in got["samples"]}


def manifest(sim, path) -> list[dict]:
    return [orjson.loads(line) for line in read(sim, path).splitlines()]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- creation reads the data source -----------------------------------------------------------

def test_creation_makes_a_sample_of_each_image_with_the_labels_beside_it(client, sim):
    src = "/acme-data/flowers/in/"
    obs_put(sim, src + "a.jpg", src + "b.png", src + "c.JPEG", data=b"pixels")
    obs_put(sim, src + "a.txt", data=b"rose\n\ntulip\nrose\n")  # a's labels, one a line
    obs_put(sim, src + "daisy/d.jpg", src + "daisy/e.bmp", data=b"px")  # tree: folder = label
    obs_put(sim, src + "deep/er/f.jpg", data=b"p")  # two folders down: no label
    obs_put(sim, src + "notes.md", src + "clip.mp4", src + "folder/")  # not images
    obs_put(sim, "/acme-data/flowers/other/g.jpg")  # beside the data source, not in it
    created = ok(client.post(DS, body()), 201)
    task_url = DS + "/%s/import-tasks/%s" % (created["dataset_id"], created["import_task_id"])
    running = ok(client.get(task_url))
    assert (running["status"], running["total_sample_count"],
            running["imported_sample_count"]) == ("QUEUING", 6, 0)
    assert samples(client, created["dataset_id"]) == {}  # nothing until the import completes
    sim.clock.advance(5)
    ds_id = created["dataset_id"]
    assert samples(client, ds_id) == {
        "a.jpg": ("obs:/" + src + "a.jpg", 0, ["rose", "tulip"], 6),
        "b.png": ("obs:/" + src + "b.png", 0, [], 6),
        "c.JPEG": ("obs:/" + src + "c.JPEG", 0, [], 6),
        "d.jpg": ("obs:/" + src + "daisy/d.jpg", 0, ["daisy"], 2),
        "e.bmp": ("obs:/" + src + "daisy/e.bmp", 0, ["daisy"], 2),
        "f.jpg": ("obs:/" + src + "deep/er/f.jpg", 0, [], 1),
    }
    done = ok(client.get(task_url))
    assert (done["status"], done["total_sample_count"], done["imported_sample_count"],
            done["annotated_sample_count"]) == ("COMPLETED", 6, 6, 3)
    shown = ok(client.get(DS + "/" + ds_id))
    assert (shown["total_sample_count"], shown["annotated_sample_count"]) == (6, 3)
    # the labels found became the dataset's own, next to the one it was created with
    names = [label["name"] for label in ok(client.get(
        DS + "/%s/data-annotations/labels" % ds_id))["labels"]]
    assert names == ["rose", "tulip", "daisy"]
    one = ok(client.get(DS + "/%s/data-annotations/samples/%s" % (
        ds_id, hashlib.md5((src + "a.jpg").encode()).hexdigest())))
    assert one["sample_name"] == "a.jpg"


def test_an_empty_folder_makes_an_empty_dataset(client, sim):
    created = ok(client.post(DS, body()), 201)
    sim.clock.advance(5)
    task = ok(client.get(DS + "/%s/import-tasks/%s" % (created["dataset_id"],
                                                       created["import_task_id"])))
    assert (task["status"], task["total_sample_count"], task["imported_sample_count"]) == (
        "COMPLETED", 0, 0)
    assert ok(client.get(DS + "/" + created["dataset_id"]))["total_sample_count"] == 0


@pytest.mark.parametrize("dataset_type, files, taken", [
    (100, ["a.txt", "b.csv", "c.jpg"], {"a.txt": 1, "b.csv": 1}),
    (200, ["a.wav", "b.mp3"], {"a.wav": 2}),
    (400, ["t.csv", "t.txt"], {"t.csv": 4}),
    (600, ["v.mp4", "v.avi"], {"v.mp4": 6}),
    (900, ["x.bin", "y.jpg", "z.manifest"], {"x.bin": 9, "y.jpg": 9}),
])
def test_each_dataset_type_takes_its_own_kind_of_file(client, sim, dataset_type, files, taken):
    obs_put(sim, *["/acme-data/flowers/in/" + f for f in files])
    extra = {"schema": [{"schema_id": 0, "name": "c", "type": "STRING"}]} \
        if dataset_type == 400 else {}
    ds_id = create(client, sim, dataset_type=dataset_type, **extra)
    assert {name: kind for name, (_, kind, _, _) in samples(client, ds_id).items()} == taken


@pytest.mark.parametrize("field", ["data_path", "work_path"])
def test_a_missing_bucket_is_refused_and_traced(client, sim, field):
    req = body(**{field: "/no-such-bucket/x/"})
    resp = client.post(DS, req)
    check_refusal(client, resp, 400, "ModelArts.4311", trace_name="createDataset",
                  operation_id="CreateDataset", resource_id="", resource_name="flowers",
                  request=req)
    assert resp.json["error_msg"] == "OBS bucket no-such-bucket does not exist."
    assert ok(client.get(DS))["total_number"] == 0


# -- sync ---------------------------------------------------------------------------------------

def test_sync_adds_new_files_and_drops_the_gone(client, sim):
    src = "/acme-data/flowers/in/"
    obs_put(sim, src + "keep.jpg", src + "gone.jpg")
    ds_id = create(client, sim)
    upload = {"samples": [{"name": "mine.jpg", "data": b64(b"u")}]}
    ok(client.post(DS + "/%s/data-annotations/samples" % ds_id, upload))
    sim.obs_files.delete(src + "gone.jpg")
    obs_put(sim, src + "new1.jpg", src + "sub/new2.png")
    ok(client.post(DS + "/%s/sync-data" % ds_id))
    sim.clock.advance(5)
    status = ok(client.get(DS + "/%s/sync-data/status" % ds_id))
    assert (status["status"], status["add_sample_count"], status["deleted_sample_count"],
            status["total_sample_count"]) == ("COMPLETED", 2, 1, 4)
    # the uploaded sample lives in the work path, which a sync leaves alone
    assert sorted(samples(client, ds_id)) == ["keep.jpg", "mine.jpg", "new1.jpg", "new2.png"]


def test_sync_whose_bucket_vanished_is_refused_or_fails(client, sim):
    obs_put(sim, "/src-bucket/in/a.jpg")
    ds_id = create(client, sim, data_path="/src-bucket/in/")
    ok(client.post(DS + "/%s/sync-data" % ds_id))
    sim.obs_files.delete("/src-bucket/in/a.jpg")
    sim.obs_files.delete_bucket("src-bucket")
    sim.clock.advance(5)
    status = ok(client.get(DS + "/%s/sync-data/status" % ds_id))
    assert (status["status"], status["add_sample_count"]) == ("FAILED", 0)
    assert len(samples(client, ds_id)) == 1  # a failed sync loses nothing
    resp = client.post(DS + "/%s/sync-data" % ds_id)
    assert (resp.status_code, resp.json["error_code"]) == (400, "ModelArts.4311")


# -- import tasks -------------------------------------------------------------------------------

def test_import_a_folder_adds_only_the_files_not_yet_held(client, sim):
    obs_put(sim, "/acme-data/flowers/in/a.jpg")
    ds_id = create(client, sim)
    obs_put(sim, "/acme-data/more/a.jpg", "/acme-data/more/b.jpg")
    obs_put(sim, "/acme-data/more/b.txt", data=b"lily")
    url = DS + "/%s/import-tasks" % ds_id
    counts = []
    for _ in range(2):
        task = ok(client.post(url, {"import_path": "/acme-data/more/",
                                    "import_annotations": False}))
        sim.clock.advance(5)
        shown = ok(client.get(url + "/" + task["task_id"]))
        counts.append((shown["status"], shown["import_type"], shown["total_sample_count"],
                       shown["imported_sample_count"]))
    assert counts == [("COMPLETED", 0, 2, 2), ("COMPLETED", 0, 2, 0)]
    listed = ok(client.get(DS + "/%s/data-annotations/samples" % ds_id))["samples"]
    assert sorted((s["source"], [t["name"] for t in s["labels"]]) for s in listed) == [
        ("obs://acme-data/flowers/in/a.jpg", []), ("obs://acme-data/more/a.jpg", []),
        ("obs://acme-data/more/b.jpg", [])]  # import_annotations false: b.txt not read


def test_import_refusals(client, sim):
    ds_id = create(client, sim)
    url = DS + "/%s/import-tasks" % ds_id
    obs_put(sim, "/acme-data/docs/readme.md")
    cases = [({"import_path": "/nowhere-bucket/x/"}, "ModelArts.4311"),
             ({"import_path": "/acme-data/docs/"}, "ModelArts.4340"),
             ({"import_path": "/acme-data/empty/"}, "ModelArts.4340"),
             ({"import_path": "/acme-data/none.manifest"}, "ModelArts.4374")]
    for req, code in cases:
        resp = client.post(url, req)
        check_refusal(client, resp, 400, code, trace_name="importSamplesToDataset",
                      operation_id="CreateImportTask", resource_id=ds_id,
                      resource_name="flowers", request=req)
    assert ok(client.get(url))["total_count"] == 1  # only the creation's own


def test_import_a_manifest_with_labels_and_boxes(client, sim):
    obs_put(sim, "/acme-data/pics/1.jpg", "/acme-data/pics/2.jpg", "/acme-data/pics/3.jpg")
    voc = (b"<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
           b"<xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>")
    obs_put(sim, "/acme-data/pics/3.xml", data=voc)
    lines = [
        {"source": "s3://acme-data/pics/1.jpg", "usage": "TRAIN",
         "annotation": [{"type": "modelarts/object_detection", "name": "dog",
                         "property": {"@modelarts:shape": "bndbox",
                                      "@modelarts:feature": [[0, 0], [5, 5]]}}]},
        {"source": "obs://acme-data/pics/2.jpg"},
        {"source": "obs://acme-data/pics/3.jpg",
         "annotation": [{"annotation-loc": "obs://acme-data/pics/3.xml"}]},
        {"source": "obs://acme-data/pics/gone.jpg", "annotation": [{"name": "ghost"}]},
    ]
    obs_put(sim, "/acme-data/pics/set.manifest",
            data=b"\n".join(orjson.dumps(line) for line in lines) + b"\n\n")
    ds_id = create(client, sim, dataset_type=1)
    task = ok(client.post(DS + "/%s/import-tasks" % ds_id,
                          {"import_path": "/acme-data/pics/set.manifest"}))
    sim.clock.advance(5)
    shown = ok(client.get(DS + "/%s/import-tasks/%s" % (ds_id, task["task_id"])))
    assert (shown["status"], shown["import_type"], shown["total_sample_count"],
            shown["imported_sample_count"], shown["annotated_sample_count"]) == (
        "COMPLETED", 1, 4, 3, 2)
    listed = ok(client.get(DS + "/%s/data-annotations/samples" % ds_id))["samples"]
    labels = {s["sample_name"]: s["labels"] for s in listed}
    assert labels == {
        "1.jpg": [{"name": "dog", "type": 1, "attributes": [],
                   "property": {"@modelarts:shape": "bndbox",
                                "@modelarts:feature": [[0, 0], [5, 5]]}}],
        "2.jpg": [],
        "3.jpg": [{"name": "cat", "type": 1, "attributes": [],
                   "property": {"@modelarts:shape": "bndbox",
                                "@modelarts:feature": [[1, 2], [30, 40]]}}],
    }


@pytest.mark.parametrize("content, message", [
    (b'{"source": "obs://acme-data/a.jpg"}\nnot json\n', "Line 2 of the manifest is not JSON."),
    (b'{"source": "/acme-data/a.jpg"}\n', "Line 1 of the manifest has no obs:// or s3:// "
                                          "source."),
    (b'[1, 2]\n', "Line 1 of the manifest has no obs:// or s3:// source."),
])
def test_a_broken_manifest_fails_the_task_and_says_where(client, sim, content, message):
    obs_put(sim, "/acme-data/a.jpg")
    obs_put(sim, "/acme-data/bad.manifest", data=content)
    ds_id = create(client, sim)
    task = ok(client.post(DS + "/%s/import-tasks" % ds_id,
                          {"import_path": "/acme-data/bad.manifest"}))
    sim.clock.advance(5)
    shown = ok(client.get(DS + "/%s/import-tasks/%s" % (ds_id, task["task_id"])))
    assert (shown["status"], shown["error_code"], shown["error_msg"]) == (
        "FAILED", "ModelArts.4362", "Import data error: " + message)
    assert samples(client, ds_id) == {}


def test_hostile_label_files_are_not_trusted(client, sim):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<annotation><object><name>&b;</name></object></annotation>")
    obs_put(sim, "/acme-data/flowers/in/1.jpg", "/acme-data/flowers/in/2.jpg")
    obs_put(sim, "/acme-data/flowers/in/1.xml", data=bomb)
    obs_put(sim, "/acme-data/flowers/in/2.xml", data=b"<annotation><object>")  # cut short
    obs_put(sim, "/acme-data/flowers/in/3.jpg")
    obs_put(sim, "/acme-data/flowers/in/3.xml", data=(  # a box of no size: the label alone
        b"<annotation><object><name>x</name><bndbox><xmin>inf</xmin><ymin>nan</ymin>"
        b"<xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>"))
    ds_id = create(client, sim, dataset_type=1)
    assert {k: v[2] for k, v in samples(client, ds_id).items()} == {
        "1.jpg": [], "2.jpg": [], "3.jpg": ["x"]}


# -- export tasks -------------------------------------------------------------------------------

def _labelled_dataset(client, sim, dataset_type=0) -> str:
    src = "/acme-data/flowers/in/"
    obs_put(sim, src + "r1.jpg", src + "r2.jpg", src + "t1.jpg", src + "u1.jpg", data=b"img")
    obs_put(sim, src + "r1.txt", src + "r2.txt", data=b"rose")
    obs_put(sim, src + "t1.txt", data=b"tulip\nrose")
    return create(client, sim, dataset_type=dataset_type)


def test_export_tile_writes_files_label_files_and_a_manifest(client, sim):
    ds_id = _labelled_dataset(client, sim)
    task = ok(client.post(DS + "/%s/export-tasks" % ds_id,
                          {"path": "/acme-data/export/", "export_type": 0,
                           "source_type_header": "s3://"}))
    assert keys(sim, "/acme-data/export/") == []  # not before it runs
    sim.clock.advance(5)
    shown = ok(client.get(DS + "/%s/export-tasks/%s" % (ds_id, task["task_id"])))
    assert (shown["status"], shown["total_sample_count"], shown["finished_sample_count"]) == (
        "SUCCESSED", 3, 3)
    written = keys(sim, "/acme-data/export/")
    assert written == ["export/flowers.manifest", "export/r1.jpg", "export/r1.txt", "export/r2.jpg",
                    "export/r2.txt", "export/t1.jpg", "export/t1.txt"]
    assert read(sim, "/acme-data/export/t1.txt") == b"tulip\nrose\n"
    assert read(sim, "/acme-data/export/r1.jpg") == b"img"
    records = manifest(sim, "/acme-data/export/flowers.manifest")
    assert [(r["source"], r["usage"], [a["name"] for a in r["annotation"]],
             {a["type"] for a in r["annotation"]}) for r in records] == [
        ("s3://acme-data/export/r1.jpg", "TRAIN", ["rose"], {"modelarts/image_classification"}),
        ("s3://acme-data/export/r2.jpg", "TRAIN", ["rose"], {"modelarts/image_classification"}),
        ("s3://acme-data/export/t1.jpg", "TRAIN", ["tulip", "rose"],
         {"modelarts/image_classification"})]
    done_at = time.gmtime(shown["update_time"] / 1000)  # written when the task ended
    assert records[0]["annotation"][0]["creation-time"] == time.strftime("%Y-%m-%d %H:%M:%S",
                                                                         done_at)


def test_export_tree_puts_each_file_in_its_label_folder(client, sim):
    ds_id = _labelled_dataset(client, sim)
    ok(client.post(DS + "/%s/export-tasks" % ds_id,
                   {"path": "/acme-data/tree/", "export_type": 2, "export_format": 1}))
    sim.clock.advance(5)
    written = keys(sim, "/acme-data/tree/")
    assert written == ["tree/flowers.manifest", "tree/rose/r1.jpg", "tree/rose/r2.jpg",
                    "tree/tulip/t1.jpg", "tree/u1.jpg"]


def test_an_export_imports_back_with_the_same_labels(client, sim):
    ds_id = _labelled_dataset(client, sim)
    ok(client.post(DS + "/%s/export-tasks" % ds_id, {"path": "/acme-data/export/"}))
    sim.clock.advance(5)
    again = create(client, sim, name="again", data_path="/acme-data/export/",
                   work_path="/acme-data/again/")
    first = {k: v[2] for k, v in samples(client, ds_id).items()}
    assert {k: v[2] for k, v in samples(client, again).items()} == first
    via_manifest = create(client, sim, name="via-manifest", data_path="/acme-data/void/",
                          work_path="/acme-data/vm/")
    ok(client.post(DS + "/%s/import-tasks" % via_manifest,
                   {"import_path": "/acme-data/export/flowers.manifest"}))
    sim.clock.advance(5)
    assert {k: v[2] for k, v in samples(client, via_manifest).items()} == first


def test_an_object_detection_export_writes_voc_files(client, sim):
    obs_put(sim, "/acme-data/flowers/in/1.jpg")
    obs_put(sim, "/acme-data/flowers/in/1.xml", data=(
        b"<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
        b"<xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>"))
    ds_id = create(client, sim, dataset_type=1)
    ok(client.post(DS + "/%s/export-tasks" % ds_id, {"path": "/acme-data/det/"}))
    sim.clock.advance(5)
    again = create(client, sim, name="det-again", data_path="/acme-data/det/",
                   work_path="/acme-data/det-work/", dataset_type=1)
    listed = ok(client.get(DS + "/%s/data-annotations/samples" % again))["samples"]
    assert [s["labels"] for s in listed] == [[{
        "name": "cat", "type": 1, "attributes": [],
        "property": {"@modelarts:shape": "bndbox", "@modelarts:feature": [[1, 2], [3, 4]]}}]]


def test_export_of_a_version_to_a_new_dataset(client, sim):
    ds_id = _labelled_dataset(client, sim)
    version = ok(client.post(DS + "/%s/versions" % ds_id, {}), 201)["version_id"]
    sim.clock.advance(5)
    obs_put(sim, "/acme-data/flowers/in/late.jpg")  # after the version: not in it
    ok(client.post(DS + "/%s/sync-data" % ds_id))
    sim.clock.advance(5)
    req = {"path": "/acme-data/copy/", "version_id": version,
           "export_params": {"export_dest": "NEW_DATASET", "export_new_dataset_name": "copy",
                             "export_new_dataset_work_path": "/acme-data/copy-work/"}}
    ok(client.post(DS + "/%s/export-tasks" % ds_id, req))
    sim.clock.advance(5)
    found = [d for d in ok(client.get(DS))["datasets"] if d["dataset_name"] == "copy"]
    assert len(found) == 1
    copy = found[0]
    assert (copy["status"], copy["total_sample_count"], copy["annotated_sample_count"],
            copy["data_sources"], copy["work_path"]) == (
        1, 4, 3, [{"data_type": 0, "data_path": "/acme-data/copy/"}], "/acme-data/copy-work/")
    assert {v[0] for v in samples(client, copy["dataset_id"]).values()} == {
        "obs://acme-data/copy/r1.jpg", "obs://acme-data/copy/r2.jpg",
        "obs://acme-data/copy/t1.jpg", "obs://acme-data/copy/u1.jpg"}


def test_export_refusals_and_a_bucket_gone_before_it_runs(client, sim):
    ds_id = _labelled_dataset(client, sim)
    url = DS + "/%s/export-tasks" % ds_id
    resp = client.post(url, {"path": "/missing-bucket/out/"})
    check_refusal(client, resp, 400, "ModelArts.4311", trace_name="exportDataFromDataset",
                  operation_id="CreateExportTask", resource_id=ds_id, resource_name="flowers",
                  request={"path": "/missing-bucket/out/"})
    taken = {"path": "/acme-data/x/", "export_params": {
        "export_dest": "NEW_DATASET", "export_new_dataset_name": "flowers",
        "export_new_dataset_work_path": "/acme-data/y/"}}
    assert client.post(url, taken).json["error_code"] == "ModelArts.4351"
    obs_put(sim, "/short-lived/")
    task = ok(client.post(url, {"path": "/short-lived/out/"}))
    sim.obs_files.delete_bucket("short-lived")
    sim.clock.advance(5)
    shown = ok(client.get(url + "/" + task["task_id"]))
    assert (shown["status"], shown["error_code"], shown["finished_sample_count"]) == (
        "FAILED", "ModelArts.4311", 0)


# -- samples and versions -----------------------------------------------------------------------

def test_uploaded_samples_land_in_the_work_path_and_deleting_the_source_removes_them(client,
                                                                                       sim):
    ds_id = create(client, sim)
    url = DS + "/%s/data-annotations/samples" % ds_id
    up = ok(client.post(url, {"samples": [{"name": "a.jpg", "data": b64(b"AAA")},
                                          {"name": "b.jpg", "data": b64(b"BB")}]}))
    assert read(sim, "/acme-data/flowers/out/a.jpg") == b"AAA"
    assert read(sim, "/acme-data/flowers/out/b.jpg") == b"BB"
    ids = [r["info"] for r in up["results"]]
    ok(client.post(url + "/delete", {"samples": [ids[0]], "delete_source": True}))
    ok(client.post(url + "/delete", {"samples": [ids[1]]}))
    assert keys(sim, "/acme-data/flowers/out/") == [
        "flowers/out/b.jpg"]


def test_uploads_into_a_vanished_work_bucket_are_refused_whole(client, sim):
    obs_put(sim, "/work-bucket/")
    ds_id = create(client, sim, work_path="/work-bucket/w/")
    sim.obs_files.delete_bucket("work-bucket")
    resp = client.post(DS + "/%s/data-annotations/samples" % ds_id,
                       {"samples": [{"name": "a.jpg", "data": b64(b"A")}]})
    assert (resp.status_code, resp.json["error_code"]) == (400, "ModelArts.4311")
    assert samples(client, ds_id) == {}


def test_deleting_a_label_with_policy_2_deletes_its_only_samples_files(client, sim):
    ds_id = _labelled_dataset(client, sim)
    ok(client.post(DS + "/%s/data-annotations/labels/delete" % ds_id,
                   {"labels": [{"name": "rose"}]}, query={"delete_policy": "2"}))
    left = [k.rsplit("/", 1)[1] for k in keys(sim, "/acme-data/flowers/in/")]
    assert left == ["r1.txt", "r2.txt", "t1.jpg", "t1.txt", "u1.jpg"]
    assert sorted(samples(client, ds_id)) == ["t1.jpg", "u1.jpg"]


def test_a_published_version_writes_its_manifest(client, sim):
    ds_id = _labelled_dataset(client, sim)
    version = ok(client.post(DS + "/%s/versions" % ds_id, {}), 201)["version_id"]
    shown = ok(client.get(DS + "/%s/versions/%s" % (ds_id, version)))
    assert shown["manifest_path"] == "/acme-data/flowers/out/annotation/V001/V001.manifest"
    assert not sim.obs_files.exists(shown["manifest_path"])
    sim.clock.advance(5)
    records = manifest(sim, shown["manifest_path"])
    assert [(split(r["source"])[1], [a["name"] for a in r.get("annotation", [])])
            for r in records] == [("flowers/in/r1.jpg", ["rose"]), ("flowers/in/r2.jpg", ["rose"]),
                                  ("flowers/in/t1.jpg", ["tulip", "rose"]),
                                  ("flowers/in/u1.jpg", [])]


def test_a_task_under_way_finishes_its_work_after_a_restart(tmp_path):
    from tests.conftest import make_app
    from tests.helpers import SignedClient
    first = make_app(data_dir=str(tmp_path))
    sim = first.extensions["modelarts_sim"]
    client = SignedClient(first)
    obs_put(sim, "/acme-data/flowers/in/a.jpg", "/acme-data/flowers/in/b.jpg")
    created = ok(client.post(DS, body()), 201)  # its import ends a second from now
    sim.close()  # buckets, objects, the dataset and its pending import are saved
    second = make_app(data_dir=str(tmp_path))
    try:
        again = second.extensions["modelarts_sim"]
        client = SignedClient(second)
        again.clock.advance(5)
        assert sorted(samples(client, created["dataset_id"])) == ["a.jpg", "b.jpg"]
    finally:
        second.extensions["modelarts_sim"].close()


def test_hostile_manifests_and_labels_neither_break_an_import_nor_an_export(client, sim):
    obs_put(sim, "/acme-data/p/1.jpg", "/acme-data/p/2.jpg", "/acme-data/p/3.jpg")
    lines = [{"source": "obs://acme-data/p/1.jpg", "annotation": 1},
             {"source": "obs://acme-data/p/2.jpg", "annotation": [5, {"name": 7},
                                                                   {"name": "ok"}]},
             {"source": "obs://acme-data/p/"},  # a folder is not a source
             {"source": "obs://acme-data/p/3.jpg",
              "annotation": [{"name": "box", "property": {"@modelarts:feature": [1, 2]}}]}]
    obs_put(sim, "/acme-data/p/m.manifest",
            data=b"\n".join(orjson.dumps(line) for line in lines))
    ds_id = create(client, sim, dataset_type=1)
    task = ok(client.post(DS + "/%s/import-tasks" % ds_id,
                          {"import_path": "/acme-data/p/m.manifest"}))
    sim.clock.advance(5)
    shown = ok(client.get(DS + "/%s/import-tasks/%s" % (ds_id, task["task_id"])))
    assert (shown["status"], shown["total_sample_count"], shown["imported_sample_count"]) == (
        "COMPLETED", 4, 3)
    assert {k: v[2] for k, v in samples(client, ds_id).items()} == {
        "1.jpg": [], "2.jpg": ["ok"], "3.jpg": ["box"]}
    ok(client.post(DS + "/%s/export-tasks" % ds_id, {"path": "/acme-data/exp/"}))
    sim.clock.advance(5)
    assert keys(sim, "/acme-data/exp/") == [
        "exp/1.jpg", "exp/2.jpg", "exp/2.xml", "exp/3.jpg", "exp/3.xml", "exp/flowers.manifest"]
    assert b"<bndbox>" not in read(sim, "/acme-data/exp/3.xml")  # no box to write


def test_an_export_keeps_samples_of_one_name_apart(client, sim):
    obs_put(sim, "/acme-data/flowers/in/a/img.jpg", data=b"first")
    obs_put(sim, "/acme-data/flowers/in/b/img.jpg", data=b"second")
    ds_id = create(client, sim, dataset_type=900)
    ok(client.post(DS + "/%s/data-annotations/samples" % ds_id, {"samples": [
        {"name": "README", "data": b64(b"r"), "labels": [{"name": "doc"}]}]}))
    ok(client.post(DS + "/%s/export-tasks" % ds_id, {"path": "/acme-data/exp.v1/"}))
    sim.clock.advance(5)
    written = keys(sim, "/acme-data/exp.v1/")
    assert len(written) == 5 and "exp.v1/README.txt" in written  # the label file, in the folder
    copies = sorted(read(sim, "/acme-data/" + k) for k in written if k.endswith("img.jpg"))
    assert copies == [b"first", b"second"]
    assert keys(sim, "/acme-data/exp.txt") == []
    records = manifest(sim, "/acme-data/exp.v1/flowers.manifest")
    assert len({r["source"] for r in records}) == 3
