"""Datasets: an engineer's datasets over the team's raw files, their versions, data source
syncs, imports and exports; and the sensitive datasets (customer and patient data) that the
exfiltration scenario exports.

The ``dataset`` kind in TeamWork (facts beside "id"): name, type (0 images, 100 texts),
sensitive, slot (its work folder), versions [version ids, oldest first] with version_names
{id: name}, extra (labels added by labellers) and uploads [[sample id, name, label or None]]
(both kept by labelling.py).
"""

from __future__ import annotations

from simulator.generate.work.common import (LABELS, MINUTE, WORK_SLOTS, call, counter,
                                            cycled_name, slipped, taken_oldest)

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_DATASETS, MAX_VERSIONS = 6, 3
DATASET_CYCLE, VERSION_CYCLE = 10, 10  # names reused in turn (OBS paths stay bounded)

# waits longer than the engine's DWELL for each asynchronous step
DATASET_READY = 2 * MINUTE  # dataset_create 40 s
VERSION_READY = 2 * MINUTE  # dataset_version 60 s (and one version a minute)
SYNC_DONE = 3 * MINUTE  # dataset_sync 90 s
IMPORT_DONE = 4 * MINUTE  # dataset_import 180 s
EXPORT_DONE = 3 * MINUTE  # dataset_export 120 s

IMAGE, TEXT = 0, 100
SOURCES = {IMAGE: "raw/images/", TEXT: "raw/texts/"}
TOPICS = {IMAGE: ("pets", "wildlife", "street-scenes", "product-photos"),
          TEXT: ("support-tickets", "reviews", "news-articles")}
SENSITIVE_TOPICS = {IMAGE: ("customer-faces", "customer-id-scans", "patient-xrays"),
                    TEXT: ("customer-pii", "customer-chats", "patient-notes")}


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


def new_dataset(actor, work, rng, topic: str, dataset_type: int, sensitive: bool = False,
                description: str = ""):
    """Create a dataset over the team's raw files and wait for its first import; returns its
    facts (busy: the caller releases them), or None when the call was refused."""
    name = cycled_name(work, topic, "dataset", cycle=DATASET_CYCLE)
    slot = counter(work, "dataset-slot") % WORK_SLOTS
    if slipped(rng, MISTAKE_RATE) and work.count("dataset"):
        # a name the team already uses: refused
        taken = next(iter(work.assets["dataset"].values()))["name"]
        call(actor, work, "CreateDataset",
             _dataset_body(work, taken, dataset_type, slot, description))
        yield 40.0
    reply = call(actor, work, "CreateDataset",
                 _dataset_body(work, name, dataset_type, slot, description))
    if reply.status != 201:
        return None
    facts = work.add("dataset", reply.body["dataset_id"], name=name, type=dataset_type,
                     sensitive=sensitive, slot=slot, versions=[], version_names={}, extra=[],
                     uploads=[], versions_made=0, uploads_made=0, busy=True)
    yield DATASET_READY
    return facts


def _delete_dataset(actor, work, facts: dict) -> None:
    call(actor, work, "DeleteDataset", dataset_id=facts["id"])
    work.remove("dataset", facts["id"])


def _retire_datasets(actor, work, keep: int) -> int:
    """Delete the oldest idle datasets until at most `keep` are registered."""
    deleted = 0
    while work.count("dataset") > keep:
        oldest = taken_oldest(work, "dataset")
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
    reply = call(actor, work, "CreateDatasetVersion", body, dataset_id=ds["id"])
    if reply.status == 201:
        ds["versions"].append(reply.body["version_id"])
        names[reply.body["version_id"]] = name
    yield VERSION_READY


def _drop_old_versions(actor, work, ds: dict, keep: int) -> None:
    while len(ds["versions"]) > keep:
        version_id = ds["versions"].pop(0)
        ds["version_names"].pop(version_id, None)
        call(actor, work, "DeleteDatasetVersion", dataset_id=ds["id"], version_id=version_id)


def _export(actor, work, rng, ds: dict):
    """Export the dataset (its latest version, when it has one) to the team's export folder,
    in the tile layout (each file with its label file)."""
    body = {"path": _export_path(work, ds["type"]), "export_type": rng.choice((0, 2, 2)),
            "export_format": 2}
    if ds["versions"] and rng.random() < 0.7:
        body["version_id"] = ds["versions"][-1]
    call(actor, work, "CreateExportTask", body, dataset_id=ds["id"])
    yield EXPORT_DONE


def _sync_and_import(actor, work, rng, ds: dict):
    """Pick up the new files of the data drop: a data source sync (image datasets only), then
    an import of the drop folder."""
    if ds["type"] == IMAGE:
        call(actor, work, "SyncDataSource", dataset_id=ds["id"])
        yield SYNC_DONE
    body = {"import_path": work.path(SOURCES[ds["type"]]), "import_type": "dir",
            "import_annotations": rng.random() < 0.8}
    call(actor, work, "CreateImportTask", body, dataset_id=ds["id"])
    yield IMPORT_DONE


def curate_dataset(actor, work, rng):
    """An engineer sets up a dataset for a new experiment: retires the oldest one when the
    team has many, creates the new one over the raw data, describes it and publishes a
    first version."""
    _retire_datasets(actor, work, MAX_DATASETS - 1)
    dataset_type = IMAGE if rng.random() < 0.7 else TEXT
    ds = yield from new_dataset(actor, work, rng, rng.choice(TOPICS[dataset_type]),
                                dataset_type)
    if ds is None:
        return
    body = {"description": "%s for the %s team" % (rng.choice(
        ("Training data", "Evaluation set", "Baseline data")), work.team.name)}
    call(actor, work, "UpdateDataset", body, dataset_id=ds["id"])
    yield rng.uniform(2, 10) * MINUTE
    yield from _publish_version(actor, work, rng, ds)
    work.release(ds)


def sensitive_dataset(actor, work, rng):
    """A dataset of customer or patient data (customer-faces-3, customer-pii-7, ...),
    registered with sensitive=True: teams keep such data, and the exfiltration scenario
    exports it. Returns its facts (released), or None."""
    dataset_type = IMAGE if rng.random() < 0.6 else TEXT
    ds = yield from new_dataset(actor, work, rng, rng.choice(SENSITIVE_TOPICS[dataset_type]),
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
    ds = yield from new_dataset(actor, work, rng, rng.choice(TOPICS[IMAGE]), IMAGE)
    if ds is None:
        return
    call(actor, work, "UpdateDataset", {"description": "Weekly data drop"},
         dataset_id=ds["id"])
    yield rng.uniform(2, 5) * MINUTE
    yield from _publish_version(actor, work, rng, ds)
    yield from _sync_and_import(actor, work, rng, ds)
    yield from _export(actor, work, rng, ds)
    yield from _publish_version(actor, work, rng, ds)
    _drop_old_versions(actor, work, ds, 1)
    yield rng.uniform(5, 20) * MINUTE
    if not _retire_datasets(actor, work, MAX_DATASETS - 1):
        _delete_dataset(actor, work, taken_oldest(work, "dataset") or ds)
    if ds["id"] in work.assets["dataset"]:
        work.release(ds)
