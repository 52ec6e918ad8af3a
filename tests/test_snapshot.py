"""/_sim/snapshot and /_sim/restore, `serve --snapshot`, and --seed: a restored simulator answers
ListTraces and GET calls exactly as the one snapshotted did, and goes on exactly as it would
have (the same clock, the same lifecycles, the same ids); two simulators with one seed given the
same calls answer the same ids, request ids, trace ids and tokens."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os

import orjson
import pytest
import requests
from obs import ObsClient

from simulator import snapshot
from simulator.cts import trackers
from simulator.identity import signing
from simulator.obs import backend as obs
from simulator.server import start_in_thread
from simulator.settings import Settings, SettingsError
from tests.conftest import FIXTURE_BUCKETS, make_app
from tests.helpers import (FROZEN_MS, PROJECT_ID, USER_AGENT, USERS, SignedClient, obs_put,
                           server_call)
from tests.test_notebooks import CREATE as NOTEBOOK
from tests.test_training_v2 import CREATE

ADMIN = USERS["admin"]
NEWCOMER = {"domain": "5b8a4a0b2f3d4e6f8091a2b3c4d5e6f7",
            "project": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "user": "a0b1c2d3e4f5061728394a5b6c7d8e9f", "ak": "NEWCOMERAK0000000001",
            "sk": "newcomer-secret-key-0000000000000000000"}
DATASET = "/v2/{project_id}/datasets"
TJ = "/v2/{project_id}/training-jobs"


def _job_body(name="snap-job"):
    body = json.loads(json.dumps(CREATE).replace("acme-bkt", "acme-data"))
    body["metadata"]["name"] = name
    return body


def _dataset_body(name):
    return {"dataset_name": name, "data_sources": [{"data_path": "/acme-data/in/"}],
            "work_path": "/acme-data/out/", "work_path_type": 0}


# -- the whole state, through two real servers ------------------------------------------------

def _server(seed, data_dir=None):
    running = start_in_thread(Settings(port=0, seed=seed, obs_buckets=FIXTURE_BUCKETS,
                                       data_dir=str(data_dir) if data_dir else None))
    running._ticker.stop()  # trace files go out on /_sim/flush only: no thread racing the test
    return running


def _admin(server, path, body=None):
    resp = requests.post(server.endpoint + "/_sim" + path,
                         data=b"" if body is None else orjson.dumps(body), timeout=30,
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 200, resp.text
    return resp


def _esdk(server) -> ObsClient:
    return ObsClient(access_key_id=ADMIN["ak"], secret_access_key=ADMIN["sk"],
                     server=server.endpoint, max_retry_count=0, timeout=30)


def _signed_get(server, path, ak, sk, token=None, project_id=PROJECT_ID):
    url = server.endpoint + path.replace("{project_id}", project_id)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if token:
        headers["X-Security-Token"] = token
    headers = signing.sign("GET", url, headers, b"", ak, sk, server.sim.clock.now_ms())
    return requests.get(url, headers=headers, timeout=30)


def _traffic(server) -> dict:
    """Everything a snapshot must carry; returns what the answers need to know."""
    _admin(server, "/lifecycle", {"family": "training_v2", "dwell": {"training_v2_run": 600}})
    _admin(server, "/lifecycle", {"family": "datasets", "mode": "manual"})
    sim = server.sim
    obs_put(sim, "/acme-data/in/1.jpg", "/acme-data/code/train.py", "/acme-data/data/1.csv",
            "/cts-bucket/")
    client = _esdk(server)
    client.createBucket("tracked")
    client.createBucket("data-archive")
    resp = server_call(server, "POST", "/v3/{project_id}/tracker", {
        "tracker_type": "system", "tracker_name": "system",
        "obs_info": {"bucket_name": "cts-bucket", "file_prefix_name": "audit"}})
    assert resp.status_code == 201, resp.text
    resp = server_call(server, "POST", "/v3/{project_id}/tracker", {
        "tracker_type": "data", "tracker_name": "watch",
        "data_bucket": {"data_bucket_name": "tracked", "data_event": ["READ", "WRITE"]},
        "obs_info": {"bucket_name": "data-archive", "file_prefix_name": "obs"}})
    assert resp.status_code == 201, resp.text
    datasets = []
    for name in ("snap-a", "snap-b", "snap-c"):
        resp = server_call(server, "POST", DATASET, _dataset_body(name))
        assert resp.status_code == 201, resp.text
        datasets.append(resp.json()["dataset_id"])
    assert server_call(server, "DELETE", DATASET + "/" + datasets.pop()).status_code == 204
    resp = server_call(server, "POST", TJ, _job_body())
    assert resp.status_code == 201, resp.text
    job = resp.json()["metadata"]["id"]
    for _ in range(2):  # Creating -> Pending -> Running, where it stays 600 s
        _admin(server, "/lifecycle/advance", {"kind": "training-job-v2", "id": job})
    put = client.putContent("tracked", "in/a.txt", "hello", metadata={"owner": "snap"})
    assert put.status == 200
    client.getObject("tracked", "in/a.txt", loadStreamInMemory=True)
    token = requests.post(server.endpoint + "/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "admin", "password": ADMIN["password"], "domain": {"name": "acme"}}}},
        "scope": {"project": {"name": "cn-north-4"}}}}, timeout=30)
    assert token.status_code == 201, token.text
    token = token.headers["X-Subject-Token"]
    temporary = requests.post(server.endpoint + "/v3.0/OS-CREDENTIAL/securitytokens",
                              headers={"X-Auth-Token": token}, json={"auth": {"identity": {
                                  "methods": ["token"], "token": {"id": token}}}}, timeout=30)
    assert temporary.status_code == 201, temporary.text
    _admin(server, "/accounts", {"domains": [{
        "id": NEWCOMER["domain"], "name": "newcomer",
        "projects": [{"id": NEWCOMER["project"], "name": "cn-north-4"}],
        "users": [{"id": NEWCOMER["user"], "name": "nadia", "role": "admin",
                   "credentials": [{"access_key": NEWCOMER["ak"],
                                    "secret_key": NEWCOMER["sk"]}]}]}]})
    # the system tracker's files (ModelArts's, and CTS's own createTracker of both trackers)
    # and the data tracker's
    assert _admin(server, "/flush").json()["files_written"] == 3
    requests.get(server.endpoint + "/_sim/keys", timeout=30)  # the digest key made now
    _admin(server, "/clock", {"action": "freeze"})
    return {"datasets": datasets, "job": job, "token": token,
            "temporary": temporary.json()["credential"]}


def _pages(server, query: str) -> list:
    """Every page of a ListTraces, 3 traces a page, following the markers."""
    pages, marker = [], None
    while True:
        q = query + "&limit=3" + ("&next=" + marker if marker else "")
        resp = server_call(server, "GET", "/v3/{project_id}/traces", query=q.lstrip("&"))
        pages.append((resp.status_code, resp.json()))
        marker = resp.json().get("meta_data", {}).get("marker")
        if not marker:
            return pages


def _answer(resp) -> tuple:
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    return resp.status_code, resp.headers.get("X-Request-Id"), body


def _obs_answer(resp, times: bool) -> tuple:
    """An OBS answer; without `times`, less the modification times: moto stamps an object
    with the wall clock when it is written (restored objects keep theirs)."""
    dropped = ("date",) if times else ("date", "last-modified")
    header = {k: v for k, v in resp.header if k.lower() not in dropped}
    body = resp.body
    if hasattr(body, "buffer"):
        body = (body.buffer, body.contentType, body.etag, times and body.lastModified)
    elif hasattr(body, "contents"):
        body = [(c.key, times and c.lastModified, c.etag, c.size) for c in body.contents]
    return resp.status, sorted(header.items()), body


def _answers(server, known: dict, times: bool = True) -> dict:
    """What a client sees: ListTraces every page (and filtered), GET answers of every kind,
    the /_sim views, OBS through the gateway. Each is read the same way from either server,
    so the answers (request ids included) must be equal."""
    out = {"traces": _pages(server, ""),
           "data traces": _pages(server, "trace_type=data&tracker_name=watch"),
           "dataset traces": _pages(server, "resource_type=dataset"),
           "admin traces": _pages(server, "user=admin&trace_rating=normal")}
    get = lambda path, **kw: _answer(server_call(server, "GET", path, **kw))  # noqa: E731
    out["datasets"] = get(DATASET)
    for dataset in known["datasets"]:
        out["dataset " + dataset] = get(DATASET + "/" + dataset)
    out["job"] = get(TJ + "/" + known["job"])
    out["trackers"] = get("/v3/{project_id}/trackers")
    out["data trackers"] = get("/v3/{project_id}/trackers", query="tracker_type=data")
    out["quotas"] = get("/v3/{project_id}/quotas")
    token = requests.get(server.endpoint + "/v3/auth/tokens", headers={
        "X-Auth-Token": known["token"], "X-Subject-Token": known["token"]}, timeout=30)
    # its catalog names the server it was asked of: the one thing two servers must differ in
    out["token"] = orjson.loads(orjson.dumps(_answer(token)).replace(
        server.endpoint.encode(), b"http://server"))
    temp = known["temporary"]
    out["temporary"] = _answer(_signed_get(server, DATASET, temp["access"], temp["secret"],
                                           temp["securitytoken"]))
    out["newcomer"] = _answer(_signed_get(server, "/v3/{project_id}/traces", NEWCOMER["ak"],
                                          NEWCOMER["sk"], project_id=NEWCOMER["project"]))
    for control in ("clock", "lifecycle", "health", "keys", "notifications"):
        out[control] = _answer(requests.get(server.endpoint + "/_sim/" + control, timeout=30))
    client = _esdk(server)
    for bucket in ("acme-data", "cts-bucket", "tracked", "data-archive"):
        listed = client.listObjects(bucket)
        out["objects " + bucket] = _obs_answer(listed, times)
        for c in listed.body.contents:
            out["object %s/%s" % (bucket, c.key)] = _obs_answer(
                client.getObject(bucket, c.key, loadStreamInMemory=True), times)
    return out


def _store(sim, times: bool = True) -> dict:
    """Every bucket and object of a simulator's OBS, read from moto (`times`: see
    _obs_answer)."""
    store = obs.store(sim.obs_account)
    return {b.name: (b.region_name, times and b.creation_date, {
        k.name: (k.value, dict(k.metadata), k.etag, k.storage_class,
                 times and k.last_modified)
        for k in b.keys.values()}) for b in store.buckets.values()}


def _go_on(server, known):
    """The same steps after the snapshot: lifecycles end, files go out, new ids are drawn."""
    _admin(server, "/clock", {"action": "advance", "seconds": 700})
    created = _answer(server_call(server, "POST", DATASET, _dataset_body("after")))
    _admin(server, "/flush")
    return created


def test_a_restored_simulator_answers_and_goes_on_like_the_snapshotted_one(tmp_path):
    source, target = _server(21, tmp_path / "source"), _server(99, tmp_path / "target")
    try:
        known = _traffic(source)
        path = tmp_path / "source" / "snapshots" / "state.snapshot"
        saved = _admin(source, "/snapshot", {"path": "state.snapshot"}).json()
        assert saved == {**saved, "path": str(path), "bytes": path.stat().st_size,
                         "format": 2, "traces": source.sim.traces.count(), "buckets": 5}
        assert path.read_bytes().startswith(snapshot.MAGIC)
        assert path.stat().st_mode & 0o777 == 0o600  # it holds the accounts' secrets
        # the target had its own state: all of it goes
        assert server_call(target, "POST", DATASET, _dataset_body("doomed")).status_code == 201
        (tmp_path / "target" / "snapshots").mkdir()
        (tmp_path / "target" / "snapshots" / "copied").write_bytes(path.read_bytes())
        restored = _admin(target, "/restore", {"path": "copied"}).json()
        assert restored["restored"] is True and restored["traces"] == saved["traces"]
        assert _store(target.sim) == _store(source.sim)

        before = _answers(source, known)
        after = _answers(target, known)
        assert after == before
        job = before["job"][2]
        assert job["status"]["phase"] == "Running", job  # the snapshot caught it mid-run
        assert [b["dataset_name"] for b in before["datasets"][2]["datasets"]] == [
            "snap-b", "snap-a"]
        assert before["temporary"][0] == before["newcomer"][0] == 200
        assert len(before["traces"]) >= 2 and before["data traces"][0][1]["traces"]

        # the same clock, the same lifecycles, the same ids
        assert _go_on(target, known) == _go_on(source, known)
        assert _answers(target, known, times=False) == _answers(source, known, times=False)
        assert _store(target.sim, times=False) == _store(source.sim, times=False)
        finished = _answer(server_call(source, "GET", TJ + "/" + known["job"]))[2]
        assert finished["status"]["phase"] == "Completed"
    finally:
        source.stop()
        target.stop()


# -- in process -------------------------------------------------------------------------------

@pytest.fixture
def traffic_app():
    """An app with datasets, a training job mid-run, a tracker that delivered, a token."""
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    client = SignedClient(app)
    admin = app.test_client()
    admin.post("/_sim/lifecycle", json={"family": "training_v2",
                                         "dwell": {"training_v2_run": 600}})
    obs_put(sim, "/acme-data/in/1.jpg", "/acme-data/code/train.py", "/acme-data/data/1.csv",
            "/cts-bucket/")
    assert client.post("/v3/{project_id}/tracker", {
        "tracker_type": "system", "tracker_name": "system",
        "obs_info": {"bucket_name": "cts-bucket"}}).status_code == 201
    for name in ("one", "two"):
        assert client.post(DATASET, _dataset_body(name)).status_code == 201
    assert client.post(TJ, _job_body()).status_code == 201
    sim.clock.advance(30)
    # ModelArts's trace file, and CTS's holding the tracker's own createTracker
    assert admin.post("/_sim/flush", json={}).json["files_written"] == 2
    assert admin.post("/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "developer", "password": USERS["developer"]["password"],
            "domain": {"name": "acme"}}}}}}).status_code == 201
    yield app
    sim.close()


def _fresh(**settings):
    app = make_app(**settings)
    return app, app.extensions["modelarts_sim"]


def _view(app, times: bool = True) -> dict:
    client = SignedClient(app)
    sim = app.extensions["modelarts_sim"]
    return {"traces": client.get("/v3/{project_id}/traces", query={"limit": 200}).json,
            "datasets": client.get(DATASET).json,
            "jobs": client.post("/v2/{project_id}/training-job-searches", {}).json,
            "trackers": client.get("/v3/{project_id}/trackers").json,
            "clock": sim.clock.state(), "lifecycle": sim.lifecycles.describe(),
            "obs": _store(sim, times), "count": sim.traces.count()}


def test_snapshot_without_a_body_answers_the_file_and_restores_from_the_body(traffic_app):
    admin = traffic_app.test_client()
    resp = admin.post("/_sim/snapshot", content_type="application/json")
    assert resp.status_code == 200 and resp.content_type == "application/octet-stream"
    data = resp.get_data()
    header = snapshot.header_of(data)
    assert header["traces"] == traffic_app.extensions["modelarts_sim"].traces.count()
    target, sim = _fresh(seed=1)
    try:
        answer = target.test_client().post("/_sim/restore", data=data,
                                           content_type="application/octet-stream")
        assert answer.status_code == 200, answer.json
        assert answer.json == {"restored": True, **header}
        assert _view(target) == _view(traffic_app)
    finally:
        sim.close()


def test_ids_tokens_and_lifecycles_continue_after_a_restore(traffic_app, tmp_path):
    source = traffic_app.extensions["modelarts_sim"]
    path = tmp_path / "s.snap"
    snapshot.save(source, path)
    target, sim = _fresh(seed=12345)
    sim.clock.resume()  # a running clock, at another instant: the snapshot's replaces it
    try:
        snapshot.restore_file(sim, path)
        assert sim.clock.state() == source.clock.state() == {"now": FROZEN_MS + 30_000,
                                                            "frozen": True}
        for app in (traffic_app, target):
            app.extensions["modelarts_sim"].clock.advance(600)
        one, other = SignedClient(traffic_app), SignedClient(target)
        for make in (lambda c: c.post(DATASET, _dataset_body("three")),
                     lambda c: c.post(TJ, _job_body("second")),
                     lambda c: c.http.post("/v3/auth/tokens", json={"auth": {"identity": {
                         "methods": ["password"], "password": {"user": {
                             "name": "admin", "password": ADMIN["password"],
                             "domain": {"name": "acme"}}}}}})):
            a, b = make(one), make(other)
            assert (a.status_code, a.json, dict(a.headers)) == (
                b.status_code, b.json, dict(b.headers))
        assert _view(target, times=False) == _view(traffic_app, times=False)
        phases = [j["status"]["phase"] for j in _view(target)["jobs"]["items"]]
        assert "Completed" in phases  # the first job ended on the restored clock
    finally:
        sim.close()


def test_tracker_cursors_survive_purged_traces(traffic_app):
    """Store positions are renumbered on restore; a tracker's cursor moves with them, so what
    was delivered is not delivered again and what was not is."""
    source = traffic_app.extensions["modelarts_sim"]
    client = SignedClient(traffic_app)
    assert client.post(DATASET, _dataset_body("undelivered")).status_code == 201
    with source.traces._lock:  # positions with a gap, as a purge leaves them
        source.traces._db.execute("UPDATE traces SET seq = seq + 1000")
    [(_, state)] = source.states_of(trackers.FAMILY)
    tracker = next(iter(state.trackers.values()))
    tracker.cursor += 1000
    data, _ = snapshot.dump(source)
    target, sim = _fresh()
    try:
        snapshot.restore(sim, data)
        for app in (traffic_app, target):
            assert app.test_client().post("/_sim/flush", json={}).json["files_written"] == 1
        assert _store(sim, False)["cts-bucket"] == _store(source, False)["cts-bucket"]
    finally:
        sim.close()


def _bad_files(data: bytes) -> dict:
    head, _, payload = data.partition(b"\n")[2].partition(b"\n")
    header = orjson.loads(head)
    other = dict(header, format=99)
    evil = gzip.compress(b'S\t"r[\\"datasets\\",\\"p\\",\\"datasets\\",\\"x\\"]"\t'
                         b'{"$p":"os:system","a":["echo hi"],"k":{}}')
    evil_header = dict(header, sha256=hashlib.sha256(evil).hexdigest())
    return {
        "empty": (b"", "not a modelarts-sim snapshot"),
        "json": (b'{"path": "/x"}', "not a modelarts-sim snapshot"),
        "truncated": (data[:-100], "does not match its checksum"),
        "flipped": (data[:-50] + bytes([data[-50] ^ 1]) + data[-49:], "does not match"),
        "no header": (snapshot.MAGIC + b"garbage", "header is unreadable"),
        "other format": (snapshot.MAGIC + orjson.dumps(other) + b"\n" + payload,
                         "format 99"),
        "not gzip": (snapshot.MAGIC + orjson.dumps(dict(
            header, sha256=hashlib.sha256(b"plain").hexdigest())) + b"\nplain",
            "a damaged snapshot"),
        "foreign call": (snapshot.MAGIC + orjson.dumps(evil_header) + b"\n" + evil,
                         "may not hold os:system"),
    }


@pytest.mark.parametrize("case", ["empty", "json", "truncated", "flipped", "no header",
                                  "other format", "not gzip", "foreign call"])
def test_a_bad_file_is_a_400_and_changes_nothing(traffic_app, tmp_path, case):
    data, _ = snapshot.dump(traffic_app.extensions["modelarts_sim"])
    bad, message = _bad_files(data)[case]
    target, sim = _fresh(data_dir=str(tmp_path / "data"))
    try:
        assert SignedClient(target).post(DATASET, _dataset_body("mine")).status_code == 201
        before = _view(target)
        admin = target.test_client()
        (tmp_path / "data" / "snapshots").mkdir()
        (tmp_path / "data" / "snapshots" / "bad.snap").write_bytes(bad)
        as_body = admin.post("/_sim/restore", data=bad, content_type="application/octet-stream")
        as_file = admin.post("/_sim/restore", json={"path": "bad.snap"})
        if case in ("empty", "json"):  # a body that is no snapshot is read as {"path": ...}
            message_of_body = "and nowhere else, not '/x'" if case == "json" else \
                "the body must be"
        else:
            message_of_body = message
        for resp, expected in ((as_body, message_of_body), (as_file, message)):
            assert resp.status_code == 400, resp.get_data(as_text=True)
            assert set(resp.json) == {"error"} and expected in resp.json["error"], resp.json
        assert _view(target) == before
    finally:
        sim.close()


def test_bad_requests_are_400s(app, tmp_path):
    admin = app.test_client()
    for body, message in [({"path": 3}, "the body must be"), ([1], "the body must be"),
                          ({"path": "x.snap"}, "this simulator has no data dir")]:
        resp = admin.post("/_sim/restore", json=body)
        assert resp.status_code == 400 and message in resp.json["error"], resp.json
    resp = admin.post("/_sim/restore", data=b"not json", content_type="application/json")
    assert resp.status_code == 400 and "the body must be" in resp.json["error"]
    resp = admin.post("/_sim/snapshot", json={"path": "here.snap"})
    assert resp.status_code == 400 and "no data dir" in resp.json["error"]


def test_snapshot_paths_stay_in_the_data_dir(tmp_path):
    """A path outside <data-dir>/snapshots is refused before the file system is asked: the
    control can neither overwrite the live store nor tell whether a file exists."""
    data = tmp_path / "data"
    app = make_app(data_dir=str(data))
    admin = app.test_client()
    outside = tmp_path / "outside.snap"
    outside.write_bytes(b"not mine")
    (tmp_path / "secret").write_text("x")
    try:
        refusals = set()
        for path in (str(outside), "../outside.snap", "../traces.sqlite3", str(data / "x"),
                     "a/b.snap", ".hidden", "..", str(tmp_path / "secret"),
                     str(tmp_path / "no-such-file")):
            for route in ("/_sim/snapshot", "/_sim/restore"):
                resp = admin.post(route, json={"path": path})
                assert resp.status_code == 400, (route, path, resp.json)
                refusals.add(resp.json["error"].replace(repr(path), "P"))
        # the same words whether the file exists or not
        assert len(refusals) == 1 and "and nowhere else" in refusals.pop()
        assert outside.read_bytes() == b"not mine"
        (data / "snapshots").mkdir(exist_ok=True)
        (data / "snapshots" / "link.snap").symlink_to(tmp_path / "secret")
        for route in ("/_sim/snapshot", "/_sim/restore"):
            assert admin.post(route, json={"path": "link.snap"}).status_code == 400
        assert (tmp_path / "secret").read_text() == "x"
        saved = admin.post("/_sim/snapshot", json={"path": "mine.snap"})
        assert saved.status_code == 200 and saved.json["path"] == str(
            (data / "snapshots" / "mine.snap").resolve())
        restored = admin.post("/_sim/restore", json={"path": "mine.snap"})
        assert restored.status_code == 200 and restored.json["restored"] is True
        assert admin.post("/_sim/restore", json={"path": "none.snap"}).json == {
            "error": "cannot read snapshot %s: No such file or directory"
                     % (data / "snapshots" / "none.snap").resolve()}
    finally:
        app.extensions["modelarts_sim"].close()


def test_a_snapshot_is_written_atomically(traffic_app, tmp_path):
    path = tmp_path / "s.snap"
    path.write_bytes(b"the old one")
    sim = traffic_app.extensions["modelarts_sim"]
    saved = snapshot.save(sim, path)
    assert saved["bytes"] == path.stat().st_size and os.listdir(tmp_path) == ["s.snap"]
    rows, _traces = snapshot.decode(path.read_bytes())
    assert orjson.loads(rows["s:clock"]) == sim.clock.getstate()


def test_a_failed_restore_puts_everything_back(traffic_app, monkeypatch):
    data, _ = snapshot.dump(traffic_app.extensions["modelarts_sim"])
    target, sim = _fresh()
    try:
        SignedClient(target).post(DATASET, _dataset_body("mine"))
        before = _view(target)
        from simulator.durable.obs_rows import ObsRows
        real = ObsRows.load
        calls = []

        def broken(self, rows):
            calls.append(1)
            if len(calls) == 1:
                real(self, {})
                raise RuntimeError("disk on fire")
            return real(self, rows)

        monkeypatch.setattr(ObsRows, "load", broken)
        with pytest.raises(snapshot.SnapshotError, match="disk on fire"):
            snapshot.restore(sim, data)
        assert _view(target) == before
    finally:
        sim.close()


# -- serve --snapshot -------------------------------------------------------------------------

def test_serve_starts_from_a_snapshot(traffic_app, tmp_path):
    source = traffic_app.extensions["modelarts_sim"]
    path = tmp_path / "start.snap"
    snapshot.save(source, path)
    running = start_in_thread(Settings(port=0, snapshot=str(path)))
    try:
        assert running.sim.clock.state() == source.clock.state()
        got = server_call(running, "GET", "/v3/{project_id}/traces", query="limit=200")
        assert got.json() == SignedClient(traffic_app).get(
            "/v3/{project_id}/traces", query={"limit": 200}).json
        health = requests.get(running.endpoint + "/_sim/health", timeout=10).json()
        assert health["traces"] == source.traces.count()
    finally:
        running.stop()
    path.write_bytes(b"junk")
    with pytest.raises(SettingsError, match="--snapshot .*not a modelarts-sim snapshot"):
        start_in_thread(Settings(port=0, snapshot=str(path)))


def test_cli_refuses_a_bad_snapshot_with_exit_code_2(tmp_path, capsys):
    from simulator.cli import main
    path = tmp_path / "bad.snap"
    path.write_bytes(b"junk")
    assert main(["serve", "--port", "0", "--snapshot", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "modelarts-sim: --snapshot %s: not a modelarts-sim snapshot (the file does " \
        "not start with 'MODELARTS-SIM-SNAPSHOT')\n" % path
    assert main(["serve", "--port", "0", "--snapshot", str(tmp_path / "none.snap")]) == 2
    assert "cannot read snapshot" in capsys.readouterr().err


# -- --seed -----------------------------------------------------------------------------------

def _seeded_run(seed) -> dict:
    """The same calls, in process on a frozen clock: every answer and header, every trace,
    the tokens, the temporary credentials, the trace files' names and bytes."""
    app = make_app(seed=seed)
    sim = app.extensions["modelarts_sim"]
    try:
        client, admin = SignedClient(app), app.test_client()
        obs_put(sim, "/acme-data/in/1.jpg", "/acme-data/code/train.py",
                "/acme-data/data/1.csv", "/cts-bucket/")
        out = []

        def keep(resp):
            out.append((resp.status_code, resp.get_data(), sorted(resp.headers.items())))
            return resp

        keep(client.post("/v3/{project_id}/tracker", {
            "tracker_type": "system", "tracker_name": "system",
            "obs_info": {"bucket_name": "cts-bucket"}}))
        keep(client.post(DATASET, _dataset_body("seeded")))
        keep(client.post(TJ, _job_body()))
        keep(client.post("/v1/{project_id}/notebooks", NOTEBOOK))
        token = keep(admin.post("/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": "admin", "password": ADMIN["password"], "domain": {"name": "acme"}}}},
            "scope": {"project": {"name": "cn-north-4"}}}})).headers["X-Subject-Token"]
        keep(admin.post("/v3.0/OS-CREDENTIAL/securitytokens", headers={"X-Auth-Token": token},
                        json={"auth": {"identity": {"methods": ["token"],
                                                    "token": {"id": token}}}}))
        keep(client.get(DATASET))
        sim.clock.advance(900)
        keep(client.get("/v3/{project_id}/traces", query={"limit": 200}))
        keep(admin.post("/_sim/flush", json={}))
        return {"answers": out, "obs": _store(sim, times=False), "token": token}
    finally:
        sim.close()


def test_the_same_seed_gives_the_same_ids_and_tokens():
    one, again, other = _seeded_run(5), _seeded_run(5), _seeded_run(6)
    assert one == again
    assert one["token"] != other["token"]
    traces = orjson.loads(one["answers"][-2][1])["traces"]
    assert len(traces) == 4 and len({t["trace_id"] for t in traces}) == len(traces)
    assert [(t["service_type"], t["trace_name"]) for t in traces][-1] == ("CTS", "createTracker")


def test_the_same_seed_gives_the_same_ids_through_a_server():
    """On real clocks the times differ; the ids, request ids, trace ids and tokens do not."""
    def run(seed):
        running = start_in_thread(Settings(port=0, seed=seed, obs_buckets=FIXTURE_BUCKETS))
        try:
            ids = []
            for name in ("x", "y"):
                resp = server_call(running, "POST", DATASET, _dataset_body(name))
                ids += [resp.json()["dataset_id"], resp.headers["X-Request-Id"]]
            resp = requests.post(running.endpoint + "/v3/auth/tokens", json={"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "admin", "password": ADMIN["password"],
                    "domain": {"name": "acme"}}}}}}, timeout=30)
            ids += [resp.headers["X-Subject-Token"], resp.headers["X-Request-Id"]]
            traces = server_call(running, "GET", "/v3/{project_id}/traces").json()["traces"]
            ids += [(t["trace_id"], t["request_id"], t["resource_id"]) for t in traces]
            return ids
        finally:
            running.stop()

    assert run(31) == run(31) != run(32)


def test_background_ids_do_not_move_the_requests_sequence():
    """Trace file names (the ticker's) and notification ids come from streams of their own."""
    one, other = _fresh(seed=3), _fresh(seed=3)
    try:
        one[1].ids.stream("delivery").hex(16)  # a file written on one only
        assert one[1].ids.uuid() == other[1].ids.uuid()
        copy_state = copy.deepcopy(one[1].ids.getstate())
        first = one[1].ids.stream("delivery").hex(16)
        one[1].ids.setstate(copy_state)
        assert one[1].ids.stream("delivery").hex(16) == first
    finally:
        one[1].close()
        other[1].close()


def test_snapshot_of_a_seedless_simulator_continues_its_sequence(tmp_path):
    app = make_app(seed=None)
    sim = app.extensions["modelarts_sim"]
    target, other = _fresh(seed=None)
    try:
        snapshot.restore(other, snapshot.dump(sim)[0])
        assert [sim.ids.uuid(), sim.ids.token()] == [other.ids.uuid(), other.ids.token()]
    finally:
        sim.close()
        other.close()


def test_the_file_format(traffic_app):
    data, header = snapshot.dump(traffic_app.extensions["modelarts_sim"])
    magic, head, payload = data.split(b"\n", 2)
    assert magic + b"\n" == snapshot.MAGIC
    assert orjson.loads(head) == header
    assert set(header) == {"format", "simulator", "created", "traces", "resources", "buckets",
                           "objects", "sha256"}
    lines = gzip.decompress(payload).split(b"\n")
    assert {line[:2] for line in lines} == {b"S\t", b"T\t"}  # state rows and traces, as text
    for line in lines:
        kind, *fields = line.split(b"\t")
        if kind == b"S":
            orjson.loads(fields[0]), orjson.loads(fields[1])
        else:
            assert int(fields[0]) and fields[1] in (b"system", b"data")
            assert orjson.loads(fields[2])["trace_id"]


def test_the_same_seed_in_two_processes_answers_the_same():
    """`modelarts-sim serve --seed` twice, with different hash seeds (set and dict orders
    of strings differ between the processes): on a clock frozen at one instant, the same calls
    answer the same bodies, ids, request ids and tokens, and leave the same traces."""
    from tests.test_cli import _start, _stop

    def run(hash_seed):
        env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
        proc, endpoint = _start("--seed", "77", "--bucket", "acme-models", env=env)
        try:
            requests.post(endpoint + "/_sim/clock", json={"action": "freeze", "at": FROZEN_MS},
                          timeout=10)
            for key in ("in/1.jpg", "code/train.py", "data/1.csv"):
                requests.put(endpoint + "/_sim/objects/acme-data/" + key, data=b"x", timeout=10,
                             headers={"Content-Type": "application/octet-stream"})
            calls = [("POST", DATASET, _dataset_body("p1")), ("POST", DATASET, _dataset_body("p2")),
                     ("POST", TJ, _job_body()), ("GET", DATASET, None),
                     ("GET", "/v3/{project_id}/traces", None)]
            out = []
            for method, path, body in calls:
                url = endpoint + path.replace("{project_id}", PROJECT_ID)
                data = orjson.dumps(body) if body is not None else b""
                headers = signing.sign(method, url, {"Content-Type": "application/json"}, data,
                                       ADMIN["ak"], ADMIN["sk"], FROZEN_MS)
                resp = requests.request(method, url, data=data, headers=headers, timeout=10)
                out.append((resp.status_code, resp.headers["X-Request-Id"], resp.json()))
            token = requests.post(endpoint + "/v3/auth/tokens", json={"auth": {"identity": {
                "methods": ["password"], "password": {"user": {
                    "name": "admin", "password": ADMIN["password"],
                    "domain": {"name": "acme"}}}}}}, timeout=10)
            out.append((token.status_code, token.headers["X-Subject-Token"]))
            return out
        finally:
            _stop(proc)

    one, other = run(1), run(2)
    assert one == other
    assert [o[0] for o in one] == [201, 201, 201, 200, 200, 201]
    assert len(one[4][2]["traces"]) == 3


def test_a_seeded_simulator_after_reset_gives_the_same_ids_again():
    """What lets a plugin user's test see the same ids whichever tests ran before it."""
    app = make_app(seed=9)
    client = SignedClient(app)
    try:
        def one_call():
            created = client.post(DATASET, _dataset_body("again"))
            return created.json, created.headers["X-Request-Id"], client.last_trace()
        first = one_call()
        client.post(DATASET, _dataset_body("more"))  # the sequence moves on
        app.test_client().post("/_sim/reset", json={})
        assert one_call() == first
    finally:
        app.extensions["modelarts_sim"].close()


def _crafted(lines: list[bytes]) -> bytes:
    payload = gzip.compress(b"\n".join(lines), mtime=0)
    header = {"format": 2, "simulator": "0.1.0", "sha256": hashlib.sha256(payload).hexdigest()}
    return snapshot.MAGIC + orjson.dumps(header) + b"\n" + payload


def _row(name: str, value) -> bytes:
    return b"S\t" + orjson.dumps(name) + b"\t" + orjson.dumps(value)


DS_ROW = 'r["datasets","%s","datasets","x"]' % PROJECT_ID


def test_a_crafted_snapshot_cannot_call_the_simulators_functions(tmp_path):
    from simulator import init_hooks
    (tmp_path / "evil.py").write_text("open(%r, 'w').write('ran')\n" % str(tmp_path / "ran"))
    app = make_app()
    try:
        for value in ({"$p": "simulator.init_hooks:run", "a": [None, str(tmp_path)], "k": {}},
                      {"$f": "simulator.snapshot:read"},
                      {"$c": "simulator.init_hooks:StartError", "f": {}},
                      {"$c": "subprocess:Popen", "f": {"args": "id"}},
                      {"$p": "simulator.modelarts.datasets:find", "a": [], "k": {}},
                      {"$c": "simulator.modelarts.datasets:State", "f": {}}):
            resp = app.test_client().post("/_sim/restore", data=_crafted([_row(DS_ROW, value)]),
                                          content_type="application/octet-stream")
            assert resp.status_code == 400 and "a damaged snapshot" in resp.json["error"], \
                (value, resp.json)
        assert not (tmp_path / "ran").exists()
        assert init_hooks.run  # (named above only)
    finally:
        app.extensions["modelarts_sim"].close()


@pytest.mark.parametrize("lines", [
    [_row('r["no-such-family","p","things","x"]', 1)],
    [_row('r["datasets","p","no_such_map","x"]', 1)],
    [_row("s:clock", {})],
    [_row("z:what", 1)],
    [b"T\t1\tx\t{}"],
    [b"T\t1\tsystem\t{"],
])
def test_a_snapshot_of_the_wrong_shape_is_refused_and_changes_nothing(lines):
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        SignedClient(app).post(DATASET, _dataset_body("kept"))
        before = _view(app)
        resp = app.test_client().post("/_sim/restore", data=_crafted(lines),
                                      content_type="application/octet-stream")
        assert resp.status_code == 400 and set(resp.json) == {"error"}, resp.json
        assert _view(app) == before
    finally:
        sim.close()
