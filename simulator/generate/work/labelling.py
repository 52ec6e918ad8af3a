"""Labelling: data labellers, in the console, add classes to an image dataset, upload
pictures with their labels, recolour, rename and drop classes, and delete bad samples.

Labellers keep two facts of a ``dataset`` (see datasets.py): extra (the labels they added)
and uploads [[sample id, name, label or None]].
"""

from __future__ import annotations

import base64

from simulator.generate.work.common import MINUTE, call, slipped
from simulator.generate.work.datasets import IMAGE, new_dataset

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning
MAX_UPLOADS, MAX_EXTRA_LABELS = 16, 4
UPLOAD_BATCH = 4  # images a labeller uploads at once, at most (three batches a sitting)
UPLOAD_CYCLE = 32  # upload names reused in turn (OBS paths stay bounded)

EXTRA_LABELS = ("fox", "horse", "rabbit", "deer", "owl", "cow", "sheep", "duck", "goat", "pig")
RENAMES = {"fox": "red-fox", "owl": "barn-owl", "deer": "roe-deer", "duck": "mallard"}
COLOURS = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4")
SAMPLE_DATA = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 40).decode()


def _free_labels(ds: dict) -> list:
    return [n for n in EXTRA_LABELS if n not in ds["extra"]]


def _create_labels(actor, work, ds: dict, names: list) -> bool:
    body = {"labels": [{"name": n, "type": IMAGE,
                        "property": {"@modelarts:color": COLOURS[EXTRA_LABELS.index(n)
                                                                 % len(COLOURS)]}}
                       for n in names]}
    if call(actor, work, "CreateLabels", body, dataset_id=ds["id"]).status != 200:
        return False
    ds["extra"] += names
    return True


def _upload(actor, work, rng, ds: dict, labels: list, count: int):
    """Upload `count` images, each labelled with one of `labels` (None: unlabelled)."""
    live = {u[1] for u in ds["uploads"]}
    if slipped(rng, MISTAKE_RATE) and ds["uploads"]:
        # uploads a file the dataset already holds: refused
        call(actor, work, "UploadSamples", {"samples": [
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
    reply = call(actor, work, "UploadSamples", {
        "samples": [s for s, _ in samples], "final_annotation": True}, dataset_id=ds["id"])
    if reply.status == 200:
        for (sample, label), result in zip(samples, reply.body["results"]):
            ds["uploads"].append([result["info"], sample["name"], label])


def _delete_samples(actor, work, ds: dict, count: int) -> None:
    gone = ds["uploads"][:count]
    if not gone:
        return
    call(actor, work, "DeleteSamples", {"samples": [u[0] for u in gone],
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
        reply = call(actor, work, "UpdateLabels", {"labels": [{"name": name,
                                                               "property": prop}]},
                     dataset_id=ds["id"])
    else:
        prop = {"@modelarts:shortcut": rng.choice("1234qwer")}
        reply = call(actor, work, "UpdateLabel", prop, dataset_id=ds["id"], label_name=name)
    if rename and reply.status == 200:
        ds["extra"][ds["extra"].index(name)] = rename
        _relabel(ds, name, rename)


def _delete_label(actor, work, ds: dict, name: str, with_samples: bool) -> None:
    """Drop a label: its samples stay unlabelled, or (with_samples) go with it."""
    if with_samples:
        reply = call(actor, work, "DeleteLabelAndSamples", dataset_id=ds["id"],
                     label_name=name, query={"delete_source": "false"})
    else:
        reply = call(actor, work, "DeleteLabels", {"labels": [{"name": name}]},
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
        ds = yield from new_dataset(actor, work, rng, "labelling-batch", IMAGE)
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
    call(actor, work, "UpdateLabels", {"labels": [
        {"name": first, "property": {"@modelarts:color": rng.choice(COLOURS)}}]},
        dataset_id=ds["id"])
    call(actor, work, "UpdateLabel", {"@modelarts:shortcut": "1"}, dataset_id=ds["id"],
         label_name=second)
    yield rng.uniform(5, 15) * MINUTE
    _delete_samples(actor, work, ds, 1)
    yield rng.uniform(2, 10) * MINUTE
    _delete_label(actor, work, ds, first, with_samples=False)
    _delete_label(actor, work, ds, second, with_samples=True)
    if len(ds["uploads"]) > MAX_UPLOADS:
        _delete_samples(actor, work, ds, len(ds["uploads"]) - MAX_UPLOADS // 2)
    work.release(ds)
