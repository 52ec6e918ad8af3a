"""Init hooks (`serve --init DIR`): request files (JSON, TOML) and Python scripts run in name
order against the fresh simulator before it serves; the first that fails stops the start with
a message naming the file and the request, and `modelarts-sim serve` exits 2 without a
traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import orjson
import pytest
import requests

import simulator
from simulator import init_hooks, snapshot
from simulator.cli import main
from simulator.server import start_in_thread
from simulator.settings import Settings, SettingsError
from tests.conftest import make_app
from tests.helpers import OTHER_PROJECT_ID, PROJECT_ID, server_call
from tests.test_cli import ROOT, _start, _stop

DATASET = {"dataset_name": "from-json", "data_sources": [{"data_path": "/acme-data/in/"}],
           "work_path": "/acme-data/out/", "work_path_type": 0}


def _hooks(tmp_path, files: dict) -> str:
    folder = tmp_path / "init"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text) if isinstance(text, str)
                                   else orjson.dumps(text).decode())
    return str(folder)


GOOD = {
    # a list of requests; a string body goes as it is (here, an object's bytes)
    "10-objects.json": [
        {"method": "PUT", "path": "/_sim/objects/acme-data/in/1.jpg", "body": "jpeg bytes"},
        {"method": "PUT", "path": "/_sim/objects/acme-data/in/2.jpg", "body": "more bytes"}],
    # one request, signed as the default user (admin), in the region's project
    "20-dataset.json": {"method": "POST", "path": "/v2/{project_id}/datasets", "body": DATASET},
    "30-more.toml": """
        [[requests]]
        method = "POST"
        path = "/v2/{project_id}/datasets"
        user = "developer"
        [requests.body]
        dataset_name = "from-toml"
        data_sources = [{ data_path = "/acme-data/in/" }]
        work_path = "/acme-data/out/"
        work_path_type = 0

        [[requests]]
        method = "GET"
        path = "/v2/{project_id}/datasets"
        query = { limit = 5, with_labels = true }

        [[requests]]
        method = "GET"
        path = "/v3/{project_id}/traces"
        project = "ap-southeast-1"
        """,
    "40-script.py": """
        SEEN = []

        def init(sim, client):
            listed = client.get("/v2/{project_id}/datasets").json["datasets"]
            names = sorted(d["dataset_name"] for d in listed)
            assert names == ["from-json", "from-toml"], names
            sim.obs_files.write("/acme-data/made-by-script.txt", ",".join(names).encode())
            client.as_user("developer").post("/v2/{project_id}/datasets", {
                "dataset_name": "from-script", "data_sources": [{"data_path": "/acme-data/in/"}],
                "work_path": "/acme-data/out/", "work_path_type": 0})
            refused = client.get("/v2/{project_id}/datasets/nope", check=False)
            assert refused.status_code == 400
        """,
    "README.md": "not a hook: left alone",
}


def test_hooks_run_in_name_order_before_the_server_answers(tmp_path):
    folder = _hooks(tmp_path, GOOD)
    running = start_in_thread(Settings(port=0, seed=4, obs_buckets=["acme-data"],
                                       init_dir=folder))
    try:
        resp = server_call(running, "GET", "/v2/{project_id}/datasets")
        names = [d["dataset_name"] for d in resp.json()["datasets"]]
        assert names == ["from-script", "from-toml", "from-json"]
        assert running.sim.obs_files.read("/acme-data/made-by-script.txt", 100) == \
            b"from-json,from-toml"
        traces = server_call(running, "GET", "/v3/{project_id}/traces",
                             query="limit=50").json()["traces"]
        assert [(t["trace_name"], t["user"]["name"], t["user_agent"], t["code"])
                for t in reversed(traces)] == [
            ("createDataset", "admin", init_hooks.USER_AGENT, "201"),
            ("createDataset", "developer", init_hooks.USER_AGENT, "201"),
            ("createDataset", "developer", init_hooks.USER_AGENT, "201")]
    finally:
        running.stop()


def test_hooks_in_process(tmp_path):
    app = make_app()
    try:
        names = init_hooks.run(app, _hooks(tmp_path, GOOD))
        assert names == ["10-objects.json", "20-dataset.json", "30-more.toml", "40-script.py"]
    finally:
        app.extensions["modelarts_sim"].close()


def test_a_query_and_another_project(tmp_path):
    app = make_app()
    seen, served = [], app.wsgi_app

    def recorded(environ, start_response):
        seen.append(environ["PATH_INFO"] + "?" + environ["QUERY_STRING"])
        return served(environ, start_response)

    app.wsgi_app = recorded
    try:
        init_hooks.run(app, _hooks(tmp_path, {"a.json": [
            {"method": "GET", "path": "/v3/{project_id}/traces", "project": "ap-southeast-1",
             "query": {"limit": 3, "trace_type": "system"}},
            {"method": "GET", "path": "/v3/{project_id}/traces", "project": OTHER_PROJECT_ID},
            {"method": "GET", "path": "/v3/{project_id}/traces", "user": "auditor"},
            {"method": "GET", "path": "/_sim/health"}]}))
        assert seen == ["/v3/%s/traces?limit=3&trace_type=system" % OTHER_PROJECT_ID,
                        "/v3/%s/traces?" % OTHER_PROJECT_ID, "/v3/%s/traces?" % PROJECT_ID,
                        "/_sim/health?"]
    finally:
        app.extensions["modelarts_sim"].close()


FAILING = [
    ({"10-a.json": {"method": "GET", "path": "/_sim/health"},
      "20-b.json": [{"method": "GET", "path": "/_sim/health"},
                    {"method": "POST", "path": "/v2/{project_id}/datasets",
                     "body": {"dataset_name": "x"}}]},
     "init hook 20-b.json, request 2 (POST /v2/%s/datasets as admin) answered 400: "
     '{"error_code":"ModelArts.' % PROJECT_ID),
    ({"a.toml": 'method = "GET"\npath = "/v2/{project_id}/datasets/nope"\n'},
     "init hook a.toml, request 1 (GET /v2/%s/datasets/nope as admin) answered 400"
     % PROJECT_ID),
    ({"a.json": {"method": "GET", "path": "/_sim/health", "user": "nobody"}},
     "init hook a.json, request 1: no user 'nobody' in the accounts"),
    ({"a.json": {"method": "GET", "path": "/_sim/health", "project": "mars-1"}},
     "init hook a.json, request 1: user admin's account has no project 'mars-1'"),
    ({"a.json": {"method": "GET", "path": "/_sim/health", "bogy": {}}},
     "init hook a.json, request 1: unknown field(s) bogy"),
    ({"a.json": [{"path": "/_sim/health"}]}, "init hook a.json, request 1: method is required"),
    ({"a.json": {"method": "GET", "path": "_sim/health"}},
     "init hook a.json, request 1: path is required and starts with /"),
    ({"a.json": "{not json"}, "init hook a.json: not valid JSON: "),
    ({"a.toml": "method = \n"}, "init hook a.toml: not valid TOML: "),
    ({"a.json": [1]}, "init hook a.json, request 1: a request is an object"),
    ({"a.py": "def init(sim, client):\n    x = 1\n    raise ValueError('no data here')\n"},
     "init hook a.py line 3: ValueError: no data here"),
    ({"a.py": "import no_such_module\n"},
     "init hook a.py line 1: ModuleNotFoundError: No module named 'no_such_module'"),
    ({"a.py": "def start(sim, client):\n    pass\n"},
     "init hook a.py: defines no function init(sim, client)"),
    ({"a.py": "def init(sim, client):\n    client.post('/v2/{project_id}/datasets', {})\n"},
     "init hook a.py, POST /v2/{project_id}/datasets (POST /v2/%s/datasets as admin) "
     "answered 400" % PROJECT_ID),
    ({"a.py": "import sys\ndef init(sim, client):\n    sys.exit(3)\n"},
     "init hook a.py line 3: SystemExit: 3"),
]


@pytest.mark.parametrize("files, message", FAILING)
def test_a_failing_hook_stops_the_start(tmp_path, files, message):
    folder = _hooks(tmp_path, files)
    with pytest.raises(SettingsError) as caught:
        start_in_thread(Settings(port=0, obs_buckets=["acme-data"], init_dir=folder))
    assert str(caught.value).startswith(message), str(caught.value)
    assert isinstance(caught.value, init_hooks.StartError)


def test_no_such_directory(tmp_path):
    with pytest.raises(SettingsError, match="--init .*missing: not a directory"):
        start_in_thread(Settings(port=0, init_dir=str(tmp_path / "missing")))


def test_the_cli_exits_2_with_one_line_and_no_traceback(tmp_path):
    folder = _hooks(tmp_path, {"a.py": "def init(sim, client):\n    {}['missing']\n"})
    proc = subprocess.run([sys.executable, "-m", "simulator", "serve", "--port", "0",
                           "--init", folder], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "modelarts-sim: init hook a.py line 2: KeyError: 'missing'\n"
    assert "listening" not in proc.stdout


def test_the_cli_serves_what_the_hooks_made(tmp_path):
    folder = _hooks(tmp_path, {"10-dataset.json": GOOD["20-dataset.json"]})
    proc, endpoint = _start("--init", folder, "--seed", "8")
    try:
        assert requests.get(endpoint + "/_sim/health", timeout=5).json()["traces"] == 1
    finally:
        _stop(proc)


def test_a_snapshot_then_the_hooks(tmp_path):
    first = start_in_thread(Settings(port=0, obs_buckets=["acme-data"]))
    try:
        assert server_call(first, "POST", "/v2/{project_id}/datasets",
                           dict(DATASET, dataset_name="from-snapshot")).status_code == 201
        snapshot.save(first.sim, tmp_path / "s.snap")
    finally:
        first.stop()
    folder = _hooks(tmp_path, {"a.json": {"method": "POST", "path": "/v2/{project_id}/datasets",
                                          "body": DATASET}})
    running = start_in_thread(Settings(port=0, snapshot=str(tmp_path / "s.snap"),
                                       init_dir=folder))
    try:
        listed = server_call(running, "GET", "/v2/{project_id}/datasets").json()["datasets"]
        assert [d["dataset_name"] for d in listed] == ["from-json", "from-snapshot"]
    finally:
        running.stop()


def test_serve_help_names_the_flags(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--snapshot FILE" in out and "--init DIR" in out
    assert init_hooks.USER_AGENT == "modelarts-sim-init/" + simulator.__version__


def test_the_examples_in_docs_state_md(tmp_path):
    """The hook files docs/state.md shows, run as `serve --bucket acme-data --init` runs them."""
    text = (ROOT / "docs" / "state.md").read_text()
    files = dict(re.findall(r"File `sim-init/([^`]+)`:\n\n```\w*\n(.*?)```", text, re.S))
    assert sorted(files) == ["10-objects.json", "20-datasets.toml", "30-jobs.py"]
    folder = tmp_path / "sim-init"
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(body)
    running = start_in_thread(Settings(port=0, obs_buckets=["acme-data"],
                                       init_dir=str(folder)))
    try:
        listed = server_call(running, "GET", "/v2/{project_id}/datasets").json()["datasets"]
        assert sorted(d["dataset_name"] for d in listed) == ["flowers", "flowers-dev"]
        jobs = server_call(running, "POST", "/v2/{project_id}/training-job-searches", {})
        assert [j["metadata"]["name"] for j in jobs.json()["items"]] == ["flowers-train"]
    finally:
        running.stop()
    # the failure the page shows: the same dataset name twice
    (folder / "25-again.toml").write_text(files["20-datasets.toml"])
    with pytest.raises(SettingsError, match=r"^init hook 25-again\.toml, request 1 \(POST "
                       r"/v2/\w+/datasets as admin\) answered 400: \{\"error_code\":"
                       r"\"ModelArts\.4351\""):
        start_in_thread(Settings(port=0, obs_buckets=["acme-data"], init_dir=str(folder)))
