"""A team's data and serving work: datasets and their labelling, models and conversions,
inference services (v1 and v2), the access keys an admin stores for ModelArts, and dedicated
resource pools (old clusters and v2 pools).

Kinds this module keeps in TeamWork (facts beside "id"):

- ``dataset``: name, type (0 images, 100 texts), sensitive, slot (its work folder),
  versions [version ids, oldest first] with version_names {id: name}, extra (labels added
  by labellers), uploads [[sample id, name, label or None]];
- ``model``: name, version, deploying (services being created from it); a model that a
  registered v1 service names, or that is being deployed, is never deleted;
- ``conversion``: name (registered once it has finished: it can be deleted);
- ``service`` (v1): name, model_id, running; ``service_v2``: name, app, tag, running;
- ``authorization`` (id = the IAM user id): access_key, user_name;
- ``cluster``: name, nodes; ``pool`` (id = metadata.name): display, nodes.

Models are imported from the output of a completed training job v2 (work_compute's
``training_v2`` kind: facts output, outcome, ends_ms), or from the bucket's models/base/.

Every call goes to the team's project (an admin's own project is the region's main one).
"""

from __future__ import annotations

import base64

from simulator.generate.work.common import HOUR, LABELS, MINUTE
from simulator.generate.work_compute import TRAINING_V2

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning

MAX_DATASETS, MAX_MODELS, MAX_CONVERSIONS = 6, 6, 4
MAX_SERVICES, MAX_INFER_SERVICES, MAX_CLUSTERS, MAX_POOLS = 3, 4, 2, 2
MAX_VERSIONS, MAX_UPLOADS, MAX_EXTRA_LABELS = 3, 16, 4
UPLOAD_BATCH = 4  # images a labeller uploads at once, at most (three batches a sitting)
# names and folders are reused in turn, so that what the team leaves in OBS stays bounded
WORK_SLOTS, NAME_CYCLE, DATASET_CYCLE, VERSION_CYCLE, UPLOAD_CYCLE = 6, 100, 10, 10, 32

# waits longer than the engine's DWELL for each asynchronous step
DATASET_READY = 2 * MINUTE  # dataset_create 40 s
VERSION_READY = 2 * MINUTE  # dataset_version 60 s (and one version a minute)
SYNC_DONE = 3 * MINUTE  # dataset_sync 90 s
IMPORT_DONE = 4 * MINUTE  # dataset_import 180 s
EXPORT_DONE = 3 * MINUTE  # dataset_export 120 s
MODEL_READY = 3 * MINUTE  # models_publish 90 s
CONVERSION_DONE = 9 * MINUTE  # conversions_run 420 s
SERVICE_READY = 5 * MINUTE  # services_deploy / services_v2_deploy 240 s
SERVICE_STOPPED = 2 * MINUTE  # services_v2_stop 40 s
POOL_READY = 20 * MINUTE  # clusters_create / pools_create 900 s

IMAGE, TEXT = 0, 100
SOURCES = {IMAGE: "raw/images/", TEXT: "raw/texts/"}
TOPICS = {IMAGE: ("pets", "wildlife", "street-scenes", "product-photos"),
          TEXT: ("support-tickets", "reviews", "news-articles")}
SENSITIVE_TOPICS = {IMAGE: ("customer-faces", "customer-id-scans", "patient-xrays"),
                    TEXT: ("customer-pii", "customer-chats", "patient-notes")}
EXTRA_LABELS = ("fox", "horse", "rabbit", "deer", "owl", "cow", "sheep", "duck", "goat", "pig")
RENAMES = {"fox": "red-fox", "owl": "barn-owl", "deer": "roe-deer", "duck": "mallard"}
COLOURS = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4")
SAMPLE_DATA = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 40).decode()

MODEL_NAMES = ("image-classifier", "text-classifier", "churn-ranker", "defect-detector")
SERVICE_FLAVORS = ("modelarts.vm.cpu.2u", "modelarts.vm.cpu.8u", "modelarts.vm.gpu.p4")
INFER_APPS = ("ocr-api", "embedding-api", "chat-assistant", "image-tagger")
CONVERSION_TEMPLATES = ("TF-SavedModel-To-Ascend-C32", "TF-FrozenGraph-To-Ascend-C32",
                        "TF-FrozenGraph-To-TFLite")
CLUSTER_SPECS = ("modelarts.vm.cpu.8ud", "modelarts.vm.gpu.p4", "modelarts.vm.gpu.v100")
POOL_FLAVORS = ("modelarts.vm.gpu.t4u8", "modelarts.vm.gpu.v100", "modelarts.vm.cpu.16u")


# -- shared helpers ---------------------------------------------------------------------------

def _call(actor, work, operation_id: str, body=None, **kw):
    """A call in the team's project, whoever makes it."""
    return actor.call(operation_id, body, project_id=work.team.project.id, **kw)


def _slip(rng) -> bool:
    return rng.random() < MISTAKE_RATE


def _counter(work, key: str) -> int:
    """1, 2, 3, ... per team and key."""
    return int(work.name("#" + key).rsplit("-", 1)[1])


def _cycled_name(work, prefix: str, kind: str, field: str = "name",
                 cycle: int = NAME_CYCLE) -> str:
    """prefix-N with N cycling below `cycle` (OBS paths named after it stay bounded), never
    the name of a registered resource of the kind."""
    taken = {f.get(field) for f in work.assets.get(kind, {}).values()}
    while True:
        name = "%s-%d" % (prefix, _counter(work, prefix) % cycle)
        if name not in taken:
            return name


def _idle(work, kind: str, **match) -> list:
    """Registered resources of a kind that nobody works on, oldest first."""
    return [f for f in work.assets.get(kind, {}).values()
            if not f.get("busy") and all(f.get(k) == v for k, v in match.items())]


def _taken_oldest(work, kind: str, **match) -> dict | None:
    found = _idle(work, kind, **match)
    if found:
        found[0]["busy"] = True
        return found[0]
    return None


def _reclaim(work, kind: str, facts: dict) -> bool:
    """Take back a resource released during a long wait, if it is still there and free."""
    if work.assets.get(kind, {}).get(facts["id"]) is not facts or facts.get("busy"):
        return False
    facts["busy"] = True
    return True


def _reclaim_soon(work, kind: str, facts: dict, tries: int = 6):
    """Wait (a while each time) until a released resource is free to take back; False when
    it is gone or stays busy."""
    for _ in range(tries):
        if _reclaim(work, kind, facts):
            return True
        if work.assets.get(kind, {}).get(facts["id"]) is not facts:
            return False
        yield 10 * MINUTE
    return False


# -- datasets ---------------------------------------------------------------------------------

def _work_path(work, slot: int) -> str:
    return work.path("datasets/ws-%d/" % slot)


def _export_path(work, dataset_type: int) -> str:
    return work.path("exports/%s/" % ("images" if dataset_type == IMAGE else "texts"))


def _dataset_body(work, name: str, dataset_type: int, slot: int, description: str) -> dict:
    body = {"dataset_name": name, "dataset_type": dataset_type, "description": description,
            "data_sources": [{"data_type": 0, "data_path": work.path(SOURCES[dataset_type])}],
            "work_path": _work_path(work, slot), "work_path_type": 0}
    if dataset_type == IMAGE:
        body["labels"] = [{"name": label, "type": IMAGE} for label in LABELS]
    return body


def _new_dataset(actor, work, rng, topic: str, dataset_type: int, sensitive: bool = False,
                 description: str = ""):
    """Create a dataset over the team's raw files and wait for its first import; returns its
    facts (busy: the caller releases them), or None when the call was refused."""
    name = _cycled_name(work, topic, "dataset", cycle=DATASET_CYCLE)
    slot = _counter(work, "dataset-slot") % WORK_SLOTS
    if _slip(rng) and work.count("dataset"):  # a name the team already uses: refused
        taken = next(iter(work.assets["dataset"].values()))["name"]
        _call(actor, work, "CreateDataset",
              _dataset_body(work, taken, dataset_type, slot, description))
        yield 40.0
    reply = _call(actor, work, "CreateDataset",
                  _dataset_body(work, name, dataset_type, slot, description))
    if reply.status != 201:
        return None
    facts = work.add("dataset", reply.body["dataset_id"], name=name, type=dataset_type,
                     sensitive=sensitive, slot=slot, versions=[], version_names={}, extra=[],
                     uploads=[], versions_made=0, uploads_made=0, busy=True)
    yield DATASET_READY
    return facts


def _delete_dataset(actor, work, facts: dict) -> None:
    _call(actor, work, "DeleteDataset", dataset_id=facts["id"])
    work.remove("dataset", facts["id"])


def _retire_datasets(actor, work, keep: int) -> int:
    """Delete the oldest idle datasets until at most `keep` are registered."""
    deleted = 0
    while work.count("dataset") > keep:
        oldest = _taken_oldest(work, "dataset")
        if oldest is None:
            break
        _delete_dataset(actor, work, oldest)
        deleted += 1
    return deleted


def _publish_version(actor, work, rng, ds: dict):
    """Publish a version and wait until it is ready (and a minute has passed)."""
    names = ds["version_names"]
    for gone in set(names) - set(ds["versions"]):  # deleted by someone else
        del names[gone]
    live = set(names.values())
    while True:
        ds["versions_made"] += 1
        name = "v%d" % (ds["versions_made"] % VERSION_CYCLE)
        if name not in live:
            break
    body = {"version_name": name, "description": rng.choice(
        ("weekly snapshot", "after relabelling", "for the next training run", "")),
        "train_evaluate_sample_ratio": rng.choice(("0.80", "0.90", "1.00"))}
    reply = _call(actor, work, "CreateDatasetVersion", body, dataset_id=ds["id"])
    if reply.status == 201:
        ds["versions"].append(reply.body["version_id"])
        names[reply.body["version_id"]] = name
    yield VERSION_READY


def _drop_old_versions(actor, work, ds: dict, keep: int) -> None:
    while len(ds["versions"]) > keep:
        version_id = ds["versions"].pop(0)
        ds["version_names"].pop(version_id, None)
        _call(actor, work, "DeleteDatasetVersion", dataset_id=ds["id"], version_id=version_id)


def _export(actor, work, rng, ds: dict):
    """Export the dataset (its latest version, when it has one) to the team's export folder,
    in the tile layout (each file with its label file)."""
    body = {"path": _export_path(work, ds["type"]), "export_type": rng.choice((0, 2, 2)),
            "export_format": 2}
    if ds["versions"] and rng.random() < 0.7:
        body["version_id"] = ds["versions"][-1]
    _call(actor, work, "CreateExportTask", body, dataset_id=ds["id"])
    yield EXPORT_DONE


def _sync_and_import(actor, work, rng, ds: dict):
    """Pick up the new files of the data drop: a data source sync (image datasets only), then
    an import of the drop folder."""
    if ds["type"] == IMAGE:
        _call(actor, work, "SyncDataSource", dataset_id=ds["id"])
        yield SYNC_DONE
    body = {"import_path": work.path(SOURCES[ds["type"]]), "import_type": "dir",
            "import_annotations": rng.random() < 0.8}
    _call(actor, work, "CreateImportTask", body, dataset_id=ds["id"])
    yield IMPORT_DONE


def curate_dataset(actor, work, rng):
    """An engineer sets up a dataset for a new experiment: retires the oldest one when the
    team has many, creates the new one over the raw data, describes it and publishes a
    first version."""
    _retire_datasets(actor, work, MAX_DATASETS - 1)
    dataset_type = IMAGE if rng.random() < 0.7 else TEXT
    ds = yield from _new_dataset(actor, work, rng, rng.choice(TOPICS[dataset_type]),
                                 dataset_type)
    if ds is None:
        return
    body = {"description": "%s for the %s team" % (rng.choice(
        ("Training data", "Evaluation set", "Baseline data")), work.team.name)}
    _call(actor, work, "UpdateDataset", body, dataset_id=ds["id"])
    yield rng.uniform(2, 10) * MINUTE
    yield from _publish_version(actor, work, rng, ds)
    work.release(ds)


def sensitive_dataset(actor, work, rng):
    """A dataset of customer or patient data (customer-faces-3, customer-pii-7, ...),
    registered with sensitive=True: teams keep such data, and the exfiltration scenario
    exports it. Returns its facts (released), or None."""
    dataset_type = IMAGE if rng.random() < 0.6 else TEXT
    ds = yield from _new_dataset(actor, work, rng, rng.choice(SENSITIVE_TOPICS[dataset_type]),
                                 dataset_type, sensitive=True,
                                 description="Restricted: contains personal data")
    if ds is None:
        return None
    work.release(ds)
    return ds


def keep_customer_dataset(actor, work, rng):
    """An engineer sets up a dataset of customer data for a product model (retiring the
    oldest dataset when the team has many)."""
    _retire_datasets(actor, work, MAX_DATASETS - 1)
    yield from sensitive_dataset(actor, work, rng)


def publish_dataset_version(actor, work, rng):
    """An engineer freezes the current samples as a version before a training run, and
    deletes the oldest versions nobody trains on any more."""
    ds = work.take("dataset", rng)
    if ds is None:
        return
    yield from _publish_version(actor, work, rng, ds)
    _drop_old_versions(actor, work, ds, MAX_VERSIONS)
    work.release(ds)


def refresh_dataset(actor, work, rng):
    """New raw files landed in the bucket: the engineer syncs the data source and imports
    the drop."""
    yield from work.using("dataset", rng, lambda ds: _sync_and_import(actor, work, rng, ds))


def export_dataset(actor, work, rng):
    """An engineer exports a dataset to the team's bucket for an offline job."""
    yield from work.using("dataset", rng, lambda ds: _export(actor, work, rng, ds))


def dataset_week(actor, work, rng):
    """CHORE (ml-engineer): the week's data round: a new dataset, described, versioned,
    synced, topped up, exported, versioned again with the old version dropped; then last
    week's datasets are retired (this one when there is no other)."""
    ds = yield from _new_dataset(actor, work, rng, rng.choice(TOPICS[IMAGE]), IMAGE)
    if ds is None:
        return
    _call(actor, work, "UpdateDataset", {"description": "Weekly data drop"},
          dataset_id=ds["id"])
    yield rng.uniform(2, 5) * MINUTE
    yield from _publish_version(actor, work, rng, ds)
    yield from _sync_and_import(actor, work, rng, ds)
    yield from _export(actor, work, rng, ds)
    yield from _publish_version(actor, work, rng, ds)
    _drop_old_versions(actor, work, ds, 1)
    yield rng.uniform(5, 20) * MINUTE
    if not _retire_datasets(actor, work, MAX_DATASETS - 1):
        _delete_dataset(actor, work, _taken_oldest(work, "dataset") or ds)
    if ds["id"] in work.assets["dataset"]:
        work.release(ds)


# -- labelling (data labellers, in the console) ---------------------------------------------------

def _free_labels(ds: dict) -> list:
    return [n for n in EXTRA_LABELS if n not in ds["extra"]]


def _create_labels(actor, work, ds: dict, names: list) -> bool:
    body = {"labels": [{"name": n, "type": IMAGE,
                        "property": {"@modelarts:color": COLOURS[EXTRA_LABELS.index(n)
                                                                 % len(COLOURS)]}}
                       for n in names]}
    if _call(actor, work, "CreateLabels", body, dataset_id=ds["id"]).status != 200:
        return False
    ds["extra"] += names
    return True


def _upload(actor, work, rng, ds: dict, labels: list, count: int):
    """Upload `count` images, each labelled with one of `labels` (None: unlabelled)."""
    live = {u[1] for u in ds["uploads"]}
    if _slip(rng) and ds["uploads"]:  # uploads a file the dataset already holds: refused
        _call(actor, work, "UploadSamples", {"samples": [
            {"name": ds["uploads"][-1][1], "data": SAMPLE_DATA, "sample_type": 0}]},
            dataset_id=ds["id"])
        yield 30.0
    samples = []
    for _ in range(UPLOAD_CYCLE):
        if len(samples) == count:
            break
        ds["uploads_made"] += 1
        name = "upload_%02d.jpg" % (ds["uploads_made"] % UPLOAD_CYCLE)
        if name in live:
            continue
        live.add(name)
        label = rng.choice(labels)
        sample = {"name": name, "data": SAMPLE_DATA, "sample_type": 0}
        if label:
            sample["labels"] = [{"name": label, "type": IMAGE}]
        samples.append((sample, label))
    reply = _call(actor, work, "UploadSamples", {
        "samples": [s for s, _ in samples], "final_annotation": True}, dataset_id=ds["id"])
    if reply.status == 200:
        for (sample, label), result in zip(samples, reply.body["results"]):
            ds["uploads"].append([result["info"], sample["name"], label])


def _delete_samples(actor, work, ds: dict, count: int) -> None:
    gone = ds["uploads"][:count]
    if not gone:
        return
    _call(actor, work, "DeleteSamples", {"samples": [u[0] for u in gone],
                                         "delete_source": False}, dataset_id=ds["id"])
    del ds["uploads"][:count]


def _relabel(ds: dict, old: str, new: str | None) -> None:
    for upload in ds["uploads"]:
        if upload[2] == old:
            upload[2] = new


def _update_labels(actor, work, rng, ds: dict, batch: bool) -> None:
    """Recolour a label (the batch call may also rename it), or set its shortcut key."""
    name = rng.choice(ds["extra"])
    prop = {"@modelarts:color": rng.choice(COLOURS)}
    rename = RENAMES.get(name) if batch and rng.random() < 0.4 else None
    if rename and rename not in ds["extra"]:
        prop["@modelarts:rename_to"] = rename
    else:
        rename = None
    if batch:
        reply = _call(actor, work, "UpdateLabels", {"labels": [{"name": name,
                                                                "property": prop}]},
                      dataset_id=ds["id"])
    else:
        prop = {"@modelarts:shortcut": rng.choice("1234qwer")}
        reply = _call(actor, work, "UpdateLabel", prop, dataset_id=ds["id"], label_name=name)
    if rename and reply.status == 200:
        ds["extra"][ds["extra"].index(name)] = rename
        _relabel(ds, name, rename)


def _delete_label(actor, work, ds: dict, name: str, with_samples: bool) -> None:
    """Drop a label: its samples stay unlabelled, or (with_samples) go with it."""
    if with_samples:
        reply = _call(actor, work, "DeleteLabelAndSamples", dataset_id=ds["id"],
                      label_name=name, query={"delete_source": "false"})
    else:
        reply = _call(actor, work, "DeleteLabels", {"labels": [{"name": name}]},
                      dataset_id=ds["id"], query={"delete_policy": "0"})
    if reply.status >= 400:
        return
    ds["extra"].remove(name)
    if with_samples:
        ds["uploads"] = [u for u in ds["uploads"] if u[2] != name]
    else:
        _relabel(ds, name, None)


def labelling_session(actor, work, rng):
    """A labeller's sitting: adds a class when the project needs one, uploads the new
    pictures a batch at a time with their labels, and tidies label colours; the oldest
    uploads are deleted when the dataset holds many."""
    ds = work.take("dataset", rng, type=IMAGE)
    if ds is None:
        return
    free = _free_labels(ds)
    if free and (len(ds["extra"]) < 2 or rng.random() < 0.3) and \
            len(ds["extra"]) < MAX_EXTRA_LABELS:
        _create_labels(actor, work, ds, [rng.choice(free)])
        yield rng.uniform(1, 4) * MINUTE
    for _ in range(rng.randint(1, 3)):
        yield from _upload(actor, work, rng, ds, ds["extra"] or [None],
                           rng.randint(2, UPLOAD_BATCH))
        yield rng.uniform(5, 25) * MINUTE
    if ds["extra"] and rng.random() < 0.5:
        _update_labels(actor, work, rng, ds, batch=rng.random() < 0.5)
    if len(ds["uploads"]) > MAX_UPLOADS:
        _delete_samples(actor, work, ds, len(ds["uploads"]) - MAX_UPLOADS // 2)
    work.release(ds)


def review_labels(actor, work, rng):
    """A labeller reviews a dataset: deletes bad samples, and drops a class that turned out
    useless (keeping or deleting its samples)."""
    ds = work.take("dataset", rng, type=IMAGE)
    if ds is None:
        return
    if ds["uploads"]:
        _delete_samples(actor, work, ds, rng.randint(1, min(4, len(ds["uploads"]))))
        yield rng.uniform(2, 10) * MINUTE
    if ds["extra"] and (len(ds["extra"]) >= MAX_EXTRA_LABELS or rng.random() < 0.4):
        _delete_label(actor, work, ds, ds["extra"][0], with_samples=rng.random() < 0.5)
    work.release(ds)


def labelling_week(actor, work, rng):
    """CHORE (data-labeller): a labelling round on one image dataset (set up by the labeller
    when none is free after a while): two new classes, pictures uploaded for them, colours and
    a shortcut set, a bad sample deleted, one class merged away (samples kept) and one
    dropped with its samples."""
    ds = work.take("dataset", rng, type=IMAGE)
    for _ in range(3):  # waits a while for the engineers' dataset to be free
        if ds is not None:
            break
        yield 30 * MINUTE
        ds = work.take("dataset", rng, type=IMAGE)
    if ds is None:
        ds = yield from _new_dataset(actor, work, rng, "labelling-batch", IMAGE)
        if ds is None:
            return
    while len(_free_labels(ds)) < 2 and ds["extra"]:
        _delete_label(actor, work, ds, ds["extra"][0], with_samples=False)
    first, second = rng.sample(_free_labels(ds), 2)
    if not _create_labels(actor, work, ds, [first, second]):
        work.release(ds)
        return
    yield rng.uniform(2, 5) * MINUTE
    yield from _upload(actor, work, rng, ds, [first, second], 6)
    yield rng.uniform(10, 30) * MINUTE
    _call(actor, work, "UpdateLabels", {"labels": [
        {"name": first, "property": {"@modelarts:color": rng.choice(COLOURS)}}]},
        dataset_id=ds["id"])
    _call(actor, work, "UpdateLabel", {"@modelarts:shortcut": "1"}, dataset_id=ds["id"],
          label_name=second)
    yield rng.uniform(5, 15) * MINUTE
    _delete_samples(actor, work, ds, 1)
    yield rng.uniform(2, 10) * MINUTE
    _delete_label(actor, work, ds, first, with_samples=False)
    _delete_label(actor, work, ds, second, with_samples=True)
    if len(ds["uploads"]) > MAX_UPLOADS:
        _delete_samples(actor, work, ds, len(ds["uploads"]) - MAX_UPLOADS // 2)
    work.release(ds)


# -- models and conversions -------------------------------------------------------------------

def _model_version(n: int) -> str:
    return "%d.%d.%d" % (1 + (n // 100) % 99, (n // 10) % 10, n % 10)


def _model_source(actor, work, rng) -> tuple[str, dict]:
    """(source folder, extra body fields): the model a completed training job v2 wrote under
    its output folder, or (now and then, or when none has completed) the bucket's base model."""
    now = actor.run.now_ms()
    done = [job for job in work.assets.get(TRAINING_V2, {}).values()
            if job.get("outcome") == "completed" and job.get("ends_ms", now + 1) <= now]
    if not done or rng.random() < 0.25:
        return work.path("models/base/model/"), {}
    job = rng.choice(done)
    return job["output"].rstrip("/") + "/model/", {"source_job_id": job["id"]}


def _import_model(actor, work, rng):
    """Import a model, wait until it is published; returns its facts (busy) or None."""
    name = rng.choice(MODEL_NAMES)
    version = _model_version(_counter(work, "model:" + name))
    source, extra = _model_source(actor, work, rng)
    body = {"model_name": name, "model_version": version, "model_type": "PyTorch",
            "source_location": source, "runtime": "python3.7",
            "description": "Imported from %s" % source.split("/", 2)[2], **extra}
    if _slip(rng) and work.count("model"):  # imports a version that already exists
        old = _idle(work, "model") or list(work.assets["model"].values())
        _call(actor, work, "CreateModel", dict(body, model_name=old[0]["name"],
                                               model_version=old[0]["version"]))
        yield 45.0
    reply = _call(actor, work, "CreateModel", body)
    if reply.status != 200:
        return None
    facts = work.add("model", reply.body["model_id"], name=name, version=version, deploying=0,
                     busy=True)
    yield MODEL_READY
    return facts


def _in_use(work, model: dict) -> bool:
    """Whether a service deploys the model (or is being created from it)."""
    return model["deploying"] > 0 or any(
        s["model_id"] == model["id"] for s in work.assets.get("service", {}).values())


def _retire_models(actor, work, keep: int) -> None:
    while work.count("model") > keep:
        idle = [m for m in _idle(work, "model") if not _in_use(work, m)]
        if not idle:
            return
        _delete_model(actor, work, idle[0])


def _delete_model(actor, work, model: dict) -> None:
    _call(actor, work, "DeleteModel", model_id=model["id"])
    work.remove("model", model["id"])


def import_model(actor, work, rng):
    """A trained model is registered for deployment (by an engineer, or the CI pipeline
    after a green run) and its description updated; the oldest unused models go."""
    _retire_models(actor, work, MAX_MODELS - 1)
    model = yield from _import_model(actor, work, rng)
    if model is None:
        return
    body = {"description": rng.choice(("Validated on the hold-out set", "Candidate for "
                                       "production", "Baseline for comparison"))}
    if rng.random() < 0.3:
        body["model_docs"] = [{"doc_name": "model card",
                               "doc_url": "https://wiki.example.com/%s/%s" % (
                                   work.team.name, model["name"])}]
    _call(actor, work, "UpdateModel", body, model_id=model["id"])
    work.release(model)


def _conversion_body(work, rng, name: str) -> dict:
    return {"task_name": name, "framework_type": "tensorflow",
            "template_name": rng.choice(CONVERSION_TEMPLATES),
            "input_path": work.path("models/base/model/"),
            "output_path": work.path("converted/slot-%d/" % (
                _counter(work, "conversion-slot") % WORK_SLOTS)),
            "description": "For the edge devices", "params": {"batch_size": rng.choice((1, 8))}}


def _convert(actor, work, rng):
    """Start a conversion and note it on the task; returns the task (id, name) or None."""
    name = _cycled_name(work, "convert-%s" % work.team.name, "conversion")
    reply = _call(actor, work, "CreateConversionTask", _conversion_body(work, rng, name))
    if reply.status != 200:
        return None
    yield rng.uniform(1, 3) * MINUTE
    _call(actor, work, "UpdateConversionTask",
          {"description": rng.choice(("Ascend build for the kiosk", "Quantised for edge",
                                      "Retry with batch 1"))}, task_id=reply.body["task_id"])
    return reply.body["task_id"], name


def convert_model(actor, work, rng):
    """An engineer converts a model for edge devices and keeps the finished task; the
    oldest finished tasks are deleted."""
    while work.count("conversion") >= MAX_CONVERSIONS:
        oldest = _taken_oldest(work, "conversion")
        if oldest is None:
            break
        _call(actor, work, "DeleteConversionTask", task_id=oldest["id"])
        work.remove("conversion", oldest["id"])
    task = yield from _convert(actor, work, rng)
    if task is None:
        return
    yield CONVERSION_DONE
    work.add("conversion", task[0], name=task[1])


# -- services v1 ------------------------------------------------------------------------------

def _service_config(model: dict, rng, instances: int = 1) -> list:
    return [{"model_id": model["id"], "specification": rng.choice(SERVICE_FLAVORS),
             "instance_count": instances, "weight": 100,
             "envs": {"LOG_LEVEL": rng.choice(("INFO", "WARNING"))}}]


def _deploy_service(actor, work, rng, model: dict):
    """Deploy a model as a real-time service and wait until it runs; returns its facts
    (busy) or None. The model counts as in use from the start (nobody deletes it)."""
    model["deploying"] += 1
    name = _cycled_name(work, "svc-%s" % model["name"], "service")
    taken = _idle(work, "service")
    if _slip(rng) and taken:  # reuses the name of a running service
        _call(actor, work, "CreateService", {"service_name": taken[0]["name"],
                                             "infer_type": "real-time",
                                             "config": _service_config(model, rng)})
        yield 30.0
    reply = _call(actor, work, "CreateService", {
        "service_name": name, "infer_type": "real-time",
        "description": "%s %s" % (model["name"], model["version"]),
        "config": _service_config(model, rng)})
    model["deploying"] -= 1
    if reply.status != 200:
        return None
    facts = work.add("service", reply.body["service_id"], name=name, model_id=model["id"],
                     running=True, busy=True)
    yield SERVICE_READY
    return facts


def _delete_service(actor, work, service: dict) -> None:
    _call(actor, work, "DeleteService", service_id=service["id"])
    work.remove("service", service["id"])


def _switch_service(actor, work, rng, service: dict):
    """Stop a running service, start a stopped one (and wait for it to deploy)."""
    if service["running"]:
        _call(actor, work, "StartOrStopService", {"status": "stopped"},
              service_id=service["id"])
        service["running"] = False
        if _slip(rng):  # clicks stop again
            yield 20.0
            _call(actor, work, "StartOrStopService", {"status": "stopped"},
                  service_id=service["id"])
        yield 30.0
    else:
        _call(actor, work, "StartOrStopService", {"status": "running"},
              service_id=service["id"])
        service["running"] = True
        yield SERVICE_READY


def deploy_service(actor, work, rng):
    """An engineer deploys a registered model as a real-time service, then scales it or
    edits its description; the oldest idle service is deleted when the team has many."""
    while work.count("service") >= MAX_SERVICES:
        oldest = _taken_oldest(work, "service")
        if oldest is None:
            return
        _delete_service(actor, work, oldest)
    model = work.pick("model", rng)
    if model is None:
        return
    service = yield from _deploy_service(actor, work, rng, model)
    if service is None:
        return
    if rng.random() < 0.5:
        body = {"config": _service_config(model, rng, instances=rng.randint(2, 4))}
    else:
        body = {"description": "Serving %s for the %s team" % (model["name"],
                                                                 work.team.name)}
    _call(actor, work, "UpdateService", body, service_id=service["id"])
    yield SERVICE_READY
    work.release(service)


def switch_service(actor, work, rng):
    """Services are stopped when idle (evenings, a cost review) and started when needed."""
    yield from work.using("service", rng,
                          lambda service: _switch_service(actor, work, rng, service))


def model_to_service_week(actor, work, rng):
    """CHORE (ml-engineer): a model's way to production and back: imported and described,
    converted for the edge (task noted, then deleted once done), deployed, rescaled, stopped
    for the night, started again, and at the end the service, task and model deleted."""
    model = yield from _import_model(actor, work, rng)
    if model is None:
        return
    _call(actor, work, "UpdateModel", {"description": "Release candidate"},
          model_id=model["id"])
    task = yield from _convert(actor, work, rng)
    service = yield from _deploy_service(actor, work, rng, model)
    if service is not None:
        _call(actor, work, "UpdateService",
              {"config": _service_config(model, rng, instances=2)}, service_id=service["id"])
        yield SERVICE_READY + rng.uniform(0.5, 1.5) * HOUR
        yield from _switch_service(actor, work, rng, service)
        yield rng.uniform(0.5, 1.0) * HOUR
        yield from _switch_service(actor, work, rng, service)
        yield rng.uniform(0.5, 1.0) * HOUR
        _delete_service(actor, work, service)
    if task is not None:
        yield CONVERSION_DONE
        _call(actor, work, "DeleteConversionTask", task_id=task[0])
    if not _in_use(work, model):
        _delete_model(actor, work, model)
    else:
        work.release(model)


# -- inference services v2 --------------------------------------------------------------------

def _infer_body(work, rng, name: str, app: str, tag: str) -> dict:
    image = "swr.%s.myhuaweicloud.com/%s/%s:%s" % (
        work.team.project.region, work.team.name, app, tag)
    return {"name": name, "type": "REAL_TIME", "description": "%s for %s" % (app, work.team.name),
            "group_configs": [{"name": "default", "count": 1, "weight": 100, "unit_configs": [
                {"image": {"source": "SWR", "swr_path": image},
                 "flavor": rng.choice(SERVICE_FLAVORS), "count": 1, "port": 8080}]}],
            "runtime_config": {"service_invoke": {"port": 8080, "auth_type": "API_KEY",
                                                  "protocol": "HTTPS"}}}


def _tag(n: int) -> str:
    return "v1.%d.%d" % ((n // 10) % 100, n % 10)


def _deploy_infer_service(actor, work, rng):
    """Create an image-based service and wait until it runs; returns its facts (busy)."""
    app = rng.choice(INFER_APPS)
    name = _cycled_name(work, app, "service_v2")
    tag = _tag(_counter(work, "tag:" + app))
    taken = _idle(work, "service_v2")
    if _slip(rng) and taken:  # the name of a service that exists
        _call(actor, work, "CreateInferService", _infer_body(work, rng, taken[0]["name"],
                                                             app, tag))
        yield 30.0
    reply = _call(actor, work, "CreateInferService", _infer_body(work, rng, name, app, tag))
    if reply.status != 200:
        return None
    facts = work.add("service_v2", reply.body["id"], name=name, app=app, tag=tag,
                     running=True, busy=True)
    yield SERVICE_READY
    return facts


def _roll_out(actor, work, rng, service: dict):
    """A new image tag for a running service (it upgrades in place)."""
    tag = _tag(_counter(work, "tag:" + service["app"]))
    body = _infer_body(work, rng, service["name"], service["app"], tag)
    del body["name"], body["type"]
    body["description"] = "Release %s" % tag
    if _call(actor, work, "UpdateInferService", body,
             service_id=service["id"]).status == 200:
        service["tag"] = tag
    yield SERVICE_READY


def _switch_infer_service(actor, work, service: dict):
    if service["running"]:
        _call(actor, work, "StopInferService", service_id=service["id"])
        service["running"] = False
        yield SERVICE_STOPPED
    else:
        _call(actor, work, "StartInferService", service_id=service["id"])
        service["running"] = True
        yield SERVICE_READY


def _batch_delete(actor, work, services: list) -> None:
    _call(actor, work, "BatchDeleteInferServices", {"service_ids": [s["id"] for s in services]})
    for s in services:
        work.remove("service_v2", s["id"])


def _retire_infer_services(actor, work, keep: int, also: list = ()) -> None:
    """Delete the oldest idle services (with `also`, already taken) in one batch."""
    doomed = list(also)
    extra = work.count("service_v2") - len(doomed) - keep
    for s in _idle(work, "service_v2")[:max(extra, 0)]:
        s["busy"] = True
        doomed.append(s)
    if doomed:
        _batch_delete(actor, work, doomed)


def deploy_infer_service(actor, work, rng):
    """An engineer puts a containerised model online as a v2 service; the oldest services
    are deleted in one batch when the team runs many."""
    _retire_infer_services(actor, work, MAX_INFER_SERVICES - 1)
    service = yield from _deploy_infer_service(actor, work, rng)
    if service is not None:
        work.release(service)


def release_infer_service(actor, work, rng):
    """The CI pipeline rolls a new image out to a running service (or deploys the first
    one)."""
    service = work.take("service_v2", rng, running=True)
    if service is None:
        yield from deploy_infer_service(actor, work, rng)
        return
    yield from _roll_out(actor, work, rng, service)
    work.release(service)


def switch_infer_service(actor, work, rng):
    """Idle services are stopped to save cost and started again when needed."""
    yield from work.using("service_v2", rng,
                          lambda service: _switch_infer_service(actor, work, service))


def infer_service_week(actor, work, rng):
    """CHORE (ml-engineer): a v2 service's week: deployed, a new image rolled out, stopped
    over a quiet spell and started again, then deleted with the team's oldest idle ones."""
    service = yield from _deploy_infer_service(actor, work, rng)
    if service is None:
        return
    yield rng.uniform(10, 40) * MINUTE
    yield from _roll_out(actor, work, rng, service)
    yield from _switch_infer_service(actor, work, service)
    yield rng.uniform(20, 60) * MINUTE
    yield from _switch_infer_service(actor, work, service)
    yield rng.uniform(20, 60) * MINUTE
    _retire_infer_services(actor, work, MAX_INFER_SERVICES - 1, also=[service])


# -- access keys stored for ModelArts (admin) --------------------------------------------------

def _key_holders(work) -> list:
    """The team members whose keys ModelArts may be given: the CI robot and the engineers."""
    return [p for p in work.team.members if p.role in ("ci-robot", "ml-engineer")]


def _authorize(actor, work, rng) -> dict | None:
    stored = work.assets.get("authorization", {})
    candidates = [p for p in _key_holders(work) if p.user.id not in stored]
    if not candidates:
        return None
    person = rng.choice(candidates)
    credential = person.user.credentials[0]
    body = {"user_id": person.user.id, "user_name": person.name, "type": "credential",
            "content": credential.access_key, "secret_key": credential.secret_key}
    if _slip(rng):  # pastes the wrong secret key: refused
        _call(actor, work, "CreateAuthorization",
              dict(body, secret_key=credential.secret_key[::-1]))
    if _call(actor, work, "CreateAuthorization", body).status != 200:
        return None
    return work.add("authorization", person.user.id, access_key=credential.access_key,
                    user_name=person.name)


def _revoke(actor, work, auth: dict) -> None:
    _call(actor, work, "DeleteAuthorizations", query={"user_id": auth["id"]})
    work.remove("authorization", auth["id"])


def authorize_access_key(actor, work, rng):
    """The admin stores a team member's access key so ModelArts can reach OBS for them."""
    _authorize(actor, work, rng)
    yield 0.0


def revoke_access_key(actor, work, rng):
    """The admin removes a stored access key (a person left the project, a key rotation)."""
    auth = work.take("authorization", rng)
    if auth is not None:
        _revoke(actor, work, auth)
    yield 0.0


def access_keys_week(actor, work, rng):
    """CHORE (admin): the weekly key review: one stored key is removed (stored first when
    none is) and a member's key is stored again."""
    auth = work.take("authorization", rng)
    if auth is None:
        auth = _authorize(actor, work, rng)
        if auth is None:
            return
        auth["busy"] = True
        yield rng.uniform(20, 60) * MINUTE
    _revoke(actor, work, auth)
    yield rng.uniform(5, 30) * MINUTE
    _authorize(actor, work, rng)


# -- dedicated resource pools: old clusters and v2 pools (admin, engineers) --------------------

def _create_cluster(actor, work, rng):
    """Create a dedicated pool and wait until it runs; returns its facts (busy)."""
    name = _cycled_name(work, "%s-pool" % work.team.name, "cluster")
    nodes = rng.randint(1, 3)
    reply = _call(actor, work, "CreateCluster", {
        "cluster_name": name, "description": "Dedicated nodes for %s" % work.team.name,
        "nodes": {"specification": rng.choice(CLUSTER_SPECS), "count": nodes}})
    if reply.status != 200:
        return None
    facts = work.add("cluster", reply.body["cluster_id"], name=name, nodes=nodes, busy=True)
    yield POOL_READY
    return facts


def _add_nodes(actor, work, rng, cluster: dict, count: int) -> None:
    if _slip(rng):  # asks for more nodes than a pool holds
        _call(actor, work, "AddClusterNodes", {"count": 50}, cluster_id=cluster["id"])
    if _call(actor, work, "AddClusterNodes", {"count": count},
             cluster_id=cluster["id"]).status == 200:
        cluster["nodes"] += count


def _remove_nodes(actor, work, cluster: dict, count: int) -> None:
    count = min(count, cluster["nodes"] - 1)
    if count > 0 and _call(actor, work, "DeleteClusterNodes", cluster_id=cluster["id"],
                           query={"count": str(count)}).status == 200:
        cluster["nodes"] -= count


def _delete_cluster(actor, work, cluster: dict) -> bool:
    if _call(actor, work, "DeleteCluster", cluster_id=cluster["id"]).status != 200:
        return False  # something still runs on it
    work.remove("cluster", cluster["id"])
    return True


def size_cluster(actor, work, rng):
    """Someone sizes the team's dedicated pool to the week's load: creates one, adds nodes
    before a big run, gives them back after, deletes a pool no longer needed."""
    cluster = _taken_oldest(work, "cluster")
    if cluster is None:
        cluster = yield from _create_cluster(actor, work, rng)
        if cluster is not None:
            work.release(cluster)
        return
    roll = rng.random()
    if (work.count("cluster") >= MAX_CLUSTERS and roll < 0.5) or roll < 0.15:
        if not _delete_cluster(actor, work, cluster):
            work.release(cluster)
        return
    if cluster["nodes"] < 6 and roll < 0.6:
        _add_nodes(actor, work, rng, cluster, rng.randint(1, 3))
    else:
        _remove_nodes(actor, work, cluster, rng.randint(1, 2))
    yield 0.0
    work.release(cluster)


def cluster_week(actor, work, rng):
    """CHORE (admin): a pool for a benchmark week: created (the service records when it is
    ready), scaled up for the runs, scaled down after, then deleted."""
    cluster = yield from _create_cluster(actor, work, rng)
    if cluster is None:
        return
    _add_nodes(actor, work, rng, cluster, rng.randint(1, 3))
    work.release(cluster)
    yield rng.uniform(1, 2) * HOUR
    if not (yield from _reclaim_soon(work, "cluster", cluster)):
        return
    _remove_nodes(actor, work, cluster, rng.randint(1, 2))
    work.release(cluster)
    yield rng.uniform(0.5, 1) * HOUR
    if (yield from _reclaim_soon(work, "cluster", cluster)) and \
            not _delete_cluster(actor, work, cluster):
        work.release(cluster)


def pool_body(work, display: str, flavor: str, nodes: int) -> dict:
    return {"apiVersion": "v2", "kind": "Pool",
            "metadata": {"labels": {"os.modelarts/name": display},
                         "annotations": {"os.modelarts/description":
                                         "Training pool of the %s team" % work.team.name}},
            "spec": {"type": "Dedicate", "scope": ["Train", "Infer"],
                     "network": {"name": "net-%s" % work.team.name},
                     "resources": [{"flavor": flavor, "count": nodes}]}}


def _create_pool(actor, work, rng):
    """Create a v2 pool and wait until it runs; returns its facts (busy)."""
    display = _cycled_name(work, "%s-train" % work.team.name, "pool", field="display")
    nodes, flavor = rng.randint(1, 4), rng.choice(POOL_FLAVORS)
    if _slip(rng):  # capital letters are not allowed in a pool name
        _call(actor, work, "CreatePool", pool_body(work, display.title(), flavor, nodes))
        yield 30.0
    reply = _call(actor, work, "CreatePool", pool_body(work, display, flavor, nodes))
    if reply.status != 200:
        return None
    facts = work.add("pool", reply.body["metadata"]["name"], display=display, flavor=flavor,
                     nodes=nodes, busy=True)
    yield POOL_READY
    return facts


def _scale_pool(actor, work, pool: dict, nodes: int, look_first: bool) -> None:
    """Resize the pool's node group (after a look at the pool, as in the console)."""
    if look_first:
        _call(actor, work, "ShowPool", pool_name=pool["id"])
    body = {"spec": {"resources": [{"flavor": pool["flavor"], "count": nodes}]}}
    if _call(actor, work, "PatchPool", body, pool_name=pool["id"]).status == 200:
        pool["nodes"] = nodes


def _delete_pool(actor, work, pool: dict) -> None:
    _call(actor, work, "DeletePool", pool_name=pool["id"])
    work.remove("pool", pool["id"])


def manage_pool(actor, work, rng):
    """Someone manages the team's v2 pool: creates one, looks at it and resizes it, deletes
    one no longer needed."""
    pool = _taken_oldest(work, "pool")
    if pool is None:
        pool = yield from _create_pool(actor, work, rng)
        if pool is not None:
            work.release(pool)
        return
    roll = rng.random()
    if (work.count("pool") >= MAX_POOLS and roll < 0.5) or roll < 0.1:
        _delete_pool(actor, work, pool)
        return
    _scale_pool(actor, work, pool, max(1, pool["nodes"] + rng.choice((-1, 1, 2))),
                look_first=rng.random() < 0.5)
    yield 0.0
    work.release(pool)


def review_pools(actor, work, rng):
    """An auditor or engineer looks over the pools of the project, and at one of them."""
    _call(actor, work, "ListPools", query={"status": "created"} if rng.random() < 0.3 else None)
    pools = list(work.assets.get("pool", {}).values())
    if pools and rng.random() < 0.5:
        _call(actor, work, "ShowPool", pool_name=rng.choice(pools)["id"])
    yield 0.0


def pool_week(actor, work, rng):
    """CHORE (admin): a v2 pool for the week: created, checked and resized, listed with the
    others, then deleted."""
    pool = yield from _create_pool(actor, work, rng)
    if pool is None:
        return
    _scale_pool(actor, work, pool, pool["nodes"] + 1, look_first=True)
    work.release(pool)
    yield rng.uniform(1, 2) * HOUR
    _call(actor, work, "ListPools")
    if (yield from _reclaim_soon(work, "pool", pool)):
        _delete_pool(actor, work, pool)


# -- what the planner draws from ----------------------------------------------------------------

ROUTINES = {
    "ml-engineer": [(2, curate_dataset), (2, publish_dataset_version), (1, refresh_dataset),
                    (1, export_dataset), (1, keep_customer_dataset), (2, import_model),
                    (1, convert_model), (1, deploy_service), (1, switch_service),
                    (1, deploy_infer_service), (1, switch_infer_service), (1, size_cluster),
                    (1, manage_pool), (1, review_pools)],
    "data-labeller": [(5, labelling_session), (2, review_labels)],
    "ci-robot": [(2, release_infer_service), (1, import_model)],
    "admin": [(1, authorize_access_key), (1, revoke_access_key), (1, size_cluster),
              (1, manage_pool)],
    "auditor": [(1, review_pools)],
}

CHORES = [
    ("ml-engineer", dataset_week),
    ("data-labeller", labelling_week),
    ("ml-engineer", model_to_service_week),
    ("ml-engineer", infer_service_week),
    ("admin", access_keys_week),
    ("admin", cluster_week),
    ("admin", pool_week),
]
