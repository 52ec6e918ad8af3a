"""A change and its trace are one unit: when the trace cannot be built, or the store cannot
commit it, the change is undone and the answer says so, in one write of every family
(docs/reliability.md)."""

from __future__ import annotations

import sqlite3

import pytest

from simulator import catalog, core
from simulator.durable import image
from simulator.errors import ApiError, NotApplied
from simulator.pipeline import NOT_APPLIED
from tests.conftest import make_app
from tests.helpers import USERS, SignedClient, obs_put
from tests import (test_authorizations, test_clusters, test_conversions, test_datasets,
                   test_devenviron, test_models, test_notebooks, test_pools, test_services_v2,
                   test_training_configs, test_training_jobs, test_training_v2,
                   test_visualization_jobs)

# (operation id, path, body): a write of each family that changes its state
WRITES = [
    ("CreateDataset", "/v2/{project_id}/datasets", test_datasets.CREATE),
    ("CreateTrainingJob (v2)", test_training_v2.TJ, test_training_v2.CREATE),
    ("CreateNotebook", "/v1/{project_id}/notebooks", test_notebooks.CREATE),
    ("CreateDevEnvInstance", test_devenviron.DE, test_devenviron.CREATE),
    ("CreateModel", test_models.MODELS, test_models.IMPORT),
    ("CreatePool", test_pools.PL, test_pools.CREATE),
    ("CreateService (v2)", test_services_v2.SV, test_services_v2.CREATE),
    ("CreateCluster", test_clusters.CLUSTERS, test_clusters.CREATE),
    ("CreateConversionTask", test_conversions.TASKS, test_conversions.CREATE),
    ("CreateTrainingJobConfig", test_training_configs.TC, test_training_configs.CREATE),
    ("CreateTrainingJob (v1)", test_training_jobs.TJ, test_training_jobs.CREATE),
    ("CreateVisualizationJob", test_visualization_jobs.VJ, test_visualization_jobs.CREATE),
    ("CreateAuthorization", test_authorizations.AUTH, test_authorizations.CREDENTIAL),
    ("CreateTracker", "/v3/{project_id}/tracker", {
        "tracker_type": "data", "tracker_name": "watcher",
        "data_bucket": {"data_bucket_name": "acme-data", "data_event": ["READ", "WRITE"]}}),
]
FAMILIES_WITHOUT_A_CREATE = {"services", "iam", "obs"}  # below, each its own way


def _state(sim) -> dict:
    """Every state row but the id streams', the clock's (which move on every call) and the
    count of watchers (an undone watcher's number is not given out again), and the watchers
    the simulator keeps in memory."""
    with sim.lock:
        rows = {n: v for n, v in image.rows(sim)
                if n not in (image.IDS, image.CLOCK, image.WATCHED)}
        rows["heap"] = sorted((done, n) for done, n, _p, _cb in sim._watchers)
        return rows


def _app():
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    obs_put(sim, "/acme-data/in/1.jpg", "/acme-data/code/train.py", "/acme-data/data/1.csv",
            "/acme-data/model/config.json", "/acme-data/model/model.pb",
            "/acme-models/mnist/model.pb", "/obs/name/events.out")
    return app, sim


def _op(path):
    found = [op for op in catalog.OPERATIONS if op.method == "POST" and op.path == path]
    assert found, path
    return found[-1]


def test_every_family_is_covered():
    assert {_op(p).family for _, p, _ in WRITES} | FAMILIES_WITHOUT_A_CREATE == set(
        catalog.FAMILIES)


def _break(monkeypatch, sim, where: str):
    if where == "store":
        def refuse(records, rows):
            raise sqlite3.OperationalError("disk I/O error")
        monkeypatch.setattr(sim.traces, "commit", refuse)
    else:
        def unbuildable(trace):
            raise ValueError("the record cannot be encoded")
        monkeypatch.setattr(core, "build", unbuildable)


@pytest.mark.parametrize("where", ["store", "build"])
@pytest.mark.parametrize("write", WRITES, ids=[w[0] for w in WRITES])
def test_a_change_whose_trace_fails_is_undone_and_says_so(monkeypatch, write, where):
    operation_id, path, body = write
    op = _op(path)
    app, sim = _app()
    try:
        client = SignedClient(app)
        before, traces = _state(sim), sim.traces.count()
        with monkeypatch.context() as m:
            _break(m, sim, where)
            resp = client.request(op.method, path, body)
        assert resp.status_code == 500, resp.get_data(as_text=True)
        expected = op.dialect.body(ApiError(500, "%s.0500" % op.dialect.prefix, NOT_APPLIED),
                                   resp.json.get("request_id", ""))
        assert resp.json == expected
        assert _state(sim) == before and sim.traces.count() == traces
        # and the same call, with the store well again, is applied once, with its trace
        again = client.request(op.method, path, body)
        assert again.status_code < 300, again.get_data(as_text=True)
        assert _state(sim) != before and sim.traces.count() == traces + 1
    finally:
        sim.close()


def test_an_iam_write_whose_commit_fails_issues_nothing(monkeypatch):
    """IAM's token calls are not audited, so a temporary key (a change to the accounts) stands
    for the family: the same commit carries it, and fails with it."""
    app, sim = _app()
    try:
        before = _state(sim)
        with monkeypatch.context() as m:
            _break(m, sim, "store")
            resp = app.test_client().post("/v3/auth/tokens", json={"auth": {"identity": {
                "methods": ["password"], "password": {"user": {
                    "name": "developer", "password": USERS["developer"]["password"],
                    "domain": {"name": "acme"}}}}}})
        assert resp.status_code == 500
        assert resp.json["error_code"] == "IAM.0500" and NOT_APPLIED in str(resp.json)
        assert _state(sim) == before  # no token was issued
    finally:
        sim.close()


def test_an_obs_write_whose_commit_fails_is_undone(monkeypatch):
    """An upload and a delete, each refused with OBS's own 500 when its commit fails: the
    object is as it was (a data tracker watches the bucket, so the commit holds a trace)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from simulator.server import start_in_thread
    from simulator.settings import Settings
    from tests.conftest import FIXTURE_BUCKETS
    from tests.helpers import server_call
    running = start_in_thread(Settings(port=0, obs_buckets=FIXTURE_BUCKETS))
    u = USERS["admin"]
    s3 = boto3.client("s3", endpoint_url=running.endpoint, region_name="us-east-1",
                      aws_access_key_id=u["ak"], aws_secret_access_key=u["sk"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    try:
        assert server_call(running, "POST", "/v3/{project_id}/tracker", WRITES[-1][2]
                           ).status_code == 201
        s3.put_object(Bucket="acme-data", Key="kept", Body=b"old")
        before, traces = _state(running.sim), running.sim.traces.count()
        with monkeypatch.context() as m:
            _break(m, running.sim, "store")
            for call in (lambda: s3.put_object(Bucket="acme-data", Key="kept", Body=b"new"),
                         lambda: s3.put_object(Bucket="acme-data", Key="other", Body=b"x"),
                         lambda: s3.delete_object(Bucket="acme-data", Key="kept")):
                with pytest.raises(ClientError) as err:
                    call()
                assert err.value.response["Error"]["Code"] == "InternalError"
                assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert _state(running.sim) == before and running.sim.traces.count() == traces
        assert s3.get_object(Bucket="acme-data", Key="kept")["Body"].read() == b"old"
        s3.put_object(Bucket="acme-data", Key="kept", Body=b"new")  # well again
        assert s3.get_object(Bucket="acme-data", Key="kept")["Body"].read() == b"new"
    finally:
        running.stop()


def test_temporary_keys_whose_commit_fails_are_not_issued(monkeypatch):
    """A temporary AK/SK is a change to the accounts (a whole row): undone, the key is not
    one the simulator knows."""
    from tests.test_auth import issue_token
    app, sim = _app()
    try:
        token = issue_token(app)
        before, keys = _state(sim), len(sim.directory._by_ak)
        with monkeypatch.context() as m:
            _break(m, sim, "store")
            resp = app.test_client().post(
                "/v3.0/OS-CREDENTIAL/securitytokens", headers={"X-Auth-Token": token},
                json={"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}})
        assert resp.status_code == 500 and resp.json["error_code"] == "IAM.0500"
        assert len(sim.directory._by_ak) == keys and _state(sim) == before
    finally:
        sim.close()


def test_objects_the_simulator_writes_by_name_are_put_back_when_their_commit_fails(
        monkeypatch):
    """sim.obs_files marks the object it writes, not its bucket, so that a commit compares only
    what it wrote: an overwrite, a new object and a delete, undone, leave every object and row
    as the last commit did."""
    app, sim = _app()
    try:
        sim.obs_files.write("/acme-data/gone", b"to delete")
        with sim.change():
            pass
        before = _state(sim)
        with monkeypatch.context() as m:
            _break(m, sim, "store")
            with pytest.raises(NotApplied):
                with sim.change():
                    sim.obs_files.write("/acme-data/in/1.jpg", b"overwritten")
                    sim.obs_files.write("/acme-data/new", b"new")
                    sim.obs_files.delete("/acme-data/gone")
        assert _state(sim) == before
        assert sim.obs_files.read("/acme-data/in/1.jpg", 100) == b"data"
        assert sim.obs_files.read("/acme-data/gone", 100) == b"to delete"
        assert not sim.obs_files.exists("/acme-data/new")
    finally:
        sim.close()


def test_the_rows_of_objects_written_by_name_are_the_whole_buckets_rows(tmp_path):
    """With a data dir, what the commits of named writes left equals the buckets compared whole
    (the image a snapshot takes)."""
    app = make_app(data_dir=str(tmp_path))
    sim = app.extensions["modelarts_sim"]
    try:
        for n in range(3):
            with sim.change():
                sim.obs_files.write("/acme-data/k%d" % n, b"v%d" % n)
        with sim.change():
            sim.obs_files.write("/acme-data/k0", b"again")
            sim.obs_files.delete("/acme-data/k1")
        stored = {n: v for n, v in sim.traces.state_rows().items() if n[0] in "bo"}
        with sim.lock:
            whole = {n: v for n, v in sim.obs_rows.rows()}
        assert stored == whole
        assert any("k0" in n for n in stored) and not any("k1" in n for n in stored)
    finally:
        sim.close()
