"""A data dir started again goes on where it stopped: its id streams (seeded or not) never give
out an id a stored trace or resource holds, and its watchers' numbers are never reused
(docs/reliability.md). Rows the codec cannot read, however nested, are a CodecError."""

from __future__ import annotations

import pytest

from simulator.durable import codec
from tests.conftest import make_app
from tests.helpers import SignedClient

DATASETS = "/v2/{project_id}/datasets"


def _body(name):
    return {"dataset_name": name, "data_sources": [{"data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}


@pytest.mark.parametrize("seed", [None, 4])
@pytest.mark.parametrize("stop", ["clean", "crash"])
def test_ids_never_repeat_across_restarts(tmp_path, seed, stop):
    made, request_ids = [], []
    for n in range(3):
        app = make_app(data_dir=str(tmp_path), seed=seed)
        sim = app.extensions["modelarts_sim"]
        created = SignedClient(app).post(DATASETS, _body("d%d" % n))
        assert created.status_code == 201, created.json
        # last, a refusal traced before any handler and a read: traces outside a write's
        # change, whose ids must be kept all the same
        refused = SignedClient(app, user="auditor").post(DATASETS, _body("no"))
        assert refused.status_code == 403, refused.json
        assert SignedClient(app).get(DATASETS).status_code == 200
        made.append(created.json["dataset_id"])
        request_ids += [refused.headers["X-Request-Id"], created.headers["X-Request-Id"]]
        if stop == "clean":
            sim.close()
        # "crash": dropped as it stands; everything answered was committed
    assert len(set(made)) == 3 and len(set(request_ids)) == 6
    app = make_app(data_dir=str(tmp_path), seed=seed)
    try:
        listed = SignedClient(app).get(DATASETS).json["datasets"]
        assert sorted(d["dataset_id"] for d in listed) == sorted(made)
    finally:
        app.extensions["modelarts_sim"].close()


def test_watcher_numbers_are_never_reused(tmp_path):
    from tests.test_clusters import CLUSTERS, CREATE
    numbers = []
    for n in range(3):
        app = make_app(data_dir=str(tmp_path))
        sim = app.extensions["modelarts_sim"]
        assert SignedClient(app).post(CLUSTERS, dict(
            CREATE, cluster_name="pool-%d" % n)).status_code == 200
        numbers += [n_ for _, n_, _p, _cb in sim._watchers]
        sim.clock.advance(3600)  # every cluster so far finished deploying
        sim.settle()
        assert sim._watchers == []
        sim.close()
    assert numbers == sorted(set(numbers)) and len(numbers) == 3


@pytest.mark.parametrize("raw", [
    b"[" * 1000 + b"]" * 1000,
    b'{"$t":[' * 400 + b"1" + b"]}" * 400,
    b'{"a":' * 600 + b"1" + b"}" * 600,
])
def test_a_row_nested_too_deep_is_a_codec_error(raw):
    with pytest.raises(codec.CodecError):
        codec.loads(raw)


def test_a_delivery_attempt_is_kept_without_a_later_change(tmp_path):
    """A key event notification's attempts are made on the notifier's thread, after the call
    that matched them was answered: each is committed as it is made, so a crash right after
    leaves it in the delivery log."""
    app = make_app(data_dir=str(tmp_path))
    sim = app.extensions["modelarts_sim"]
    client = SignedClient(app)
    made = client.post("/v3/{project_id}/notifications", {
        "notification_name": "all", "operation_type": "complete",
        "topic_id": "urn:smn:cn-north-4:cbf27734ac1035250b66402800e03d2c:nowhere"})
    assert made.status_code == 201, made.json
    created = client.post(DATASETS, _body("watched"))
    assert created.status_code == 201
    assert sim.notifier.wait_idle(timeout=30)
    kept = list(sim.notifier.attempts)
    assert [a["trace_name"] for a in kept] == ["createNotification", "createDataset"]
    # "crash": dropped as it stands, with no call after the attempt
    again = make_app(data_dir=str(tmp_path))
    try:
        assert list(again.extensions["modelarts_sim"].notifier.attempts) == kept
    finally:
        again.extensions["modelarts_sim"].close()
