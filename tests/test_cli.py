"""The command line: serve (start, health, SIGTERM, nothing lost across a restart), accounts,
coverage; and settings from file, environment and flags."""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from simulator import coverage
from simulator.cli import main
from simulator.core import Simulator
from simulator.identity import signing
from simulator.settings import Settings, SettingsError
from tests.helpers import PROJECT_ID, USERS

ROOT = Path(__file__).resolve().parents[1]


def _start(*args, env=None):
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0",
                             "--bucket", "acme-data", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=env)
    first = proc.stdout.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
    assert match, first + proc.stderr.read()
    proc.banner = first
    while "  project" not in proc.banner:  # the banner ends with the project line
        line = proc.stdout.readline()
        if not line:
            break
        proc.banner += line
    return proc, match.group(1)


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return proc.banner + out


def _create_label_dataset(endpoint, name):
    url = endpoint + "/v2/%s/datasets" % PROJECT_ID
    body = json.dumps({"dataset_name": name, "data_sources": [{"data_path": "/acme-data/in/"}],
                       "work_path": "/acme-data/out/", "work_path_type": 0}).encode()
    u = USERS["admin"]
    now = requests.get(endpoint + "/_sim/clock", timeout=5).json()["now"]
    headers = signing.sign("POST", url, {"Content-Type": "application/json"}, body, u["ak"],
                           u["sk"], now)
    return requests.post(url, data=body, headers=headers, timeout=5)


def test_serve_prints_endpoint_and_credentials_and_stops_cleanly():
    proc, endpoint = _start()
    try:
        health = requests.get(endpoint + "/_sim/health", timeout=5).json()
        assert health["status"] == "ok" and health["auth"] == "strict"
        assert _create_label_dataset(endpoint, "cli-set").status_code == 201
    finally:
        out = _stop(proc)
    assert USERS["admin"]["ak"] in out and USERS["admin"]["sk"] in out
    assert "traces committed" in out


def _obs(endpoint):
    import boto3
    from botocore.config import Config
    u = USERS["admin"]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=u["ak"], aws_secret_access_key=u["sk"],
                        config=Config(s3={"addressing_style": "path"}))


def test_traces_resources_and_obs_survive_a_restart_with_a_data_dir(tmp_path):
    proc, endpoint = _start("--data-dir", str(tmp_path))
    try:
        assert _create_label_dataset(endpoint, "kept").status_code == 201
        _obs(endpoint).create_bucket(Bucket="kept-bucket")
        _obs(endpoint).put_object(Bucket="kept-bucket", Key="in/1.jpg", Body=b"jpeg bytes")
    finally:
        _stop(proc)
    assert (tmp_path / "traces.sqlite3").exists()
    proc, endpoint = _start("--data-dir", str(tmp_path))
    try:
        assert requests.get(endpoint + "/_sim/health", timeout=5).json()["traces"] == 1
        # the dataset came back too: its name is taken
        again = _create_label_dataset(endpoint, "kept")
        assert again.status_code == 400 and again.json()["error_code"] == "ModelArts.4351"
        got = _obs(endpoint).get_object(Bucket="kept-bucket", Key="in/1.jpg")
        assert got["Body"].read() == b"jpeg bytes"
    finally:
        _stop(proc)


def test_environment_and_config_file(tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text('auth = "lenient"\nregion = "cn-north-4"\n[lifecycle]\ndataset_create = 0\n')
    env = dict(os.environ, MODELARTS_SIM_AUTH="off")
    proc, endpoint = _start("--config", str(config), env=env)
    try:
        assert requests.get(endpoint + "/_sim/health", timeout=5).json()["auth"] == "off"
    finally:
        _stop(proc)


def test_settings_precedence_and_errors(tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text('port = 1234\nauth = "lenient"\n[lifecycle]\ndataset_sync = 9\n')
    s = Settings.load({"auth": "off"}, env={"MODELARTS_SIM_PORT": "4321"}, config=str(config))
    assert (s.port, s.auth, s.lifecycle) == (4321, "off", {"dataset_sync": 9.0})
    sim = Simulator(s)
    assert (sim.lifecycles.dwell["dataset_sync"], sim.lifecycles.dwell["dataset_create"]) == (
        9.0, 1.0)
    sim.close()
    with pytest.raises(SettingsError, match="unknown lifecycle dwell"):
        Simulator(Settings(lifecycle={"dataset_teleport": 1}))
    for bad in ({"auth": "maybe"}, {"port": 70000}, {"colour": "red"}, {"tracing": "perhaps"},
                {"lifecycle": {"dataset_sync": -1}}, {"lifecycle_mode": "warp"}):
        with pytest.raises(SettingsError):
            Settings.load(bad, env={})
    with pytest.raises(SettingsError):
        Settings.load({}, env={}, config=str(tmp_path / "missing.toml"))


def test_bad_settings_exit_with_a_message(capsys):
    assert main(["serve", "--port", "0", "--accounts", "/nonexistent.toml"]) == 2
    assert "cannot read accounts file" in capsys.readouterr().err


def test_accounts_json(capsys):
    assert main(["accounts", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    acme = data["domains"][0]
    assert acme["domain"] == {"id": "f3c95789ace1a9542c5d6baed2eac902", "name": "acme"}
    assert [p["id"] for p in acme["projects"]][0] == PROJECT_ID
    assert [(u["name"], u["role"]) for u in acme["users"]] == [
        ("admin", "admin"), ("developer", "developer"), ("auditor", "auditor")]
    assert acme["users"][0]["credentials"] == [
        {"access_key": USERS["admin"]["ak"], "secret_key": USERS["admin"]["sk"]}]


def test_docs_coverage_is_generated_from_the_catalog(capsys):
    assert main(["coverage", "--markdown"]) == 0
    printed = capsys.readouterr().out
    assert printed == coverage.markdown()
    assert (ROOT / "docs" / "coverage.md").read_text() == printed, \
        "docs/coverage.md is stale: run `modelarts-sim coverage --markdown > docs/coverage.md`"
