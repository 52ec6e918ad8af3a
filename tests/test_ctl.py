"""`modelarts-sim ctl` against a real server (start_in_thread)."""

from __future__ import annotations

import json

import pytest
import requests

from simulator.clock import Clock
from simulator.core import Simulator
from simulator.server import start_in_thread
from simulator.settings import Settings
from simulator.testing import ctl
from tests.helpers import FROZEN_MS, PROJECT_ID, server_call
from tests.test_plugin import HAS_FAULTS, HAS_SNAPSHOT

DS = "/v2/{project_id}/datasets"
CREATE = {"dataset_name": "flowers", "data_sources": [{"data_path": "/acme-data/in/"}],
          "work_path": "/acme-data/out/", "work_path_type": 0}


@pytest.fixture
def running():
    """A server on a frozen clock (so that what ctl prints is known)."""
    settings = Settings(port=0, seed=5, obs_buckets=["acme-data"])
    server = start_in_thread(settings, Simulator(settings, clock=Clock(FROZEN_MS, frozen=True)))
    yield server
    server.stop()


def ctl_run(capsys, server, *argv):
    """(exit status, stdout, stderr) of `modelarts-sim ctl --url URL argv...`."""
    url = ["--url", server if isinstance(server, str) else server.endpoint]
    status = ctl.main(["ctl", *url, *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _traces(server) -> list[dict]:
    return server.sim.traces.query(PROJECT_ID, category="system", tracker_name="system",
                                   after_ms=0, before_ms=server.sim.clock.now_ms() + 1,
                                   limit=100).records


def test_clock_and_advance(running, capsys):
    assert ctl_run(capsys, running, "clock") == (
        0, "2026-11-18T11:06:40.000Z  (%d ms)  frozen\n" % FROZEN_MS, "")
    status, out, _ = ctl_run(capsys, running, "clock", "--json")
    assert (status, json.loads(out)) == (0, {"now": FROZEN_MS, "frozen": True})
    assert ctl_run(capsys, running, "advance", "300") == (
        0, "clock advanced 300s: now 2026-11-18T11:11:40.000Z (frozen)\n", "")
    assert running.sim.clock.now_ms() == FROZEN_MS + 300_000
    assert ctl_run(capsys, running, "advance", "0.5")[0] == 0
    assert running.sim.clock.now_ms() == FROZEN_MS + 300_500
    status, out, err = ctl_run(capsys, running, "advance", "-5")
    assert (status, out) == (2, "") and "only moves forward" in err


def test_advance_resource_and_fail(running, capsys):
    running.sim.lifecycles.configure("datasets", "manual")
    ds = server_call(running, "POST", DS, CREATE).json()
    assert ctl_run(capsys, running, "advance-resource", "dataset", ds["dataset_id"]) == (
        0, "dataset %s: 1\n" % ds["dataset_id"], "")
    assert ctl_run(capsys, running, "fail", "dataset-import", ds["import_task_id"], "--reason",
                   "OBS path not readable") == (
        0, "dataset-import %s: FAILED\n" % ds["import_task_id"], "")
    task = server_call(running, "GET", DS + "/%s/import-tasks/%s" % (
        ds["dataset_id"], ds["import_task_id"])).json()
    assert (task["status"], task["error_msg"]) == ("FAILED", "OBS path not readable")
    status, out, _ = ctl_run(capsys, running, "fail", "dataset", ds["dataset_id"])
    assert (status, out) == (0, "dataset %s: 4\n" % ds["dataset_id"])
    status, out, _ = ctl_run(capsys, running, "fail", "dataset", ds["dataset_id"])
    assert (status, out) == (0, "dataset %s: 4 (unchanged)\n" % ds["dataset_id"])


def test_refusals_exit_2_with_the_reason(running, capsys):
    assert ctl_run(capsys, running, "fail", "dataset", "nope") == (
        2, "", "modelarts-sim ctl: POST /_sim/lifecycle/fail refused (404): no dataset "
        "'nope'\n")
    status, _, err = ctl_run(capsys, running, "advance-resource", "spaceship", "x")
    assert status == 2 and "refused (400): unknown kind 'spaceship' (known: " in err


def test_a_simulator_that_does_not_answer(capsys):
    status, out, err = ctl_run(capsys, "http://127.0.0.1:9", "clock")
    assert (status, out) == (2, "")
    assert err.startswith("modelarts-sim ctl: the simulator at http://127.0.0.1:9 does not "
                          "answer (GET /_sim/clock: ")


def test_the_url_from_the_environment(running, capsys, monkeypatch):
    monkeypatch.setenv("MODELARTS_SIM_URL", running.endpoint)
    assert ctl.main(["ctl", "clock", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["now"] == FROZEN_MS


def test_reset(running, capsys):
    server_call(running, "POST", DS, CREATE)
    assert len(_traces(running)) == 1
    assert ctl_run(capsys, running, "reset") == (0, "reset: fixtures only\n", "")
    assert _traces(running) == []


@pytest.mark.skipif(not HAS_SNAPSHOT, reason="this simulator has no /_sim/snapshot yet")
def test_snapshot_and_restore(running, capsys, tmp_path):
    ds = server_call(running, "POST", DS, CREATE).json()
    before = _traces(running)
    path = tmp_path / "state.snap"
    status, out, err = ctl_run(capsys, running, "snapshot", str(path))
    assert (status, err) == (0, "")
    assert out == "saved %d bytes to %s\n" % (path.stat().st_size, path)
    ctl_run(capsys, running, "reset")
    assert ctl_run(capsys, running, "restore", str(path)) == (0, "restored %s\n" % path, "")
    assert _traces(running) == before
    assert server_call(running, "GET", DS + "/" + ds["dataset_id"]).status_code == 200
    path.write_bytes(b"not a snapshot")
    status, _, err = ctl_run(capsys, running, "restore", str(path))
    assert status == 2 and "POST /_sim/restore refused (400)" in err


def test_restore_a_file_that_is_not_there(running, capsys, tmp_path):
    status, out, err = ctl_run(capsys, running, "restore", str(tmp_path / "missing.snap"))
    assert (status, out) == (2, "") and "missing.snap" in err and "No such file" in err


@pytest.mark.skipif(not HAS_FAULTS, reason="this simulator has no /_sim/faults yet")
def test_faults(running, capsys):
    assert ctl_run(capsys, running, "faults") == (0, "no fault rules\n", "")
    requests.post(running.endpoint + "/_sim/faults", json={
        "operation": "ListTraces", "status": 429, "count": 1}, timeout=10)
    status, out, _ = ctl_run(capsys, running, "faults")
    assert status == 0 and out.startswith("fault-1  ") and "operation=ListTraces" in out \
        and "status=429" in out and "count=1" in out
    status, out, _ = ctl_run(capsys, running, "faults", "--json")
    assert [(r["id"], r["operation"]) for r in json.loads(out)] == [("fault-1", "ListTraces")]


def test_the_parser_plugs_into_a_cli(capsys):
    """What simulator.cli wires in: add_parser(subparsers) and command(args)."""
    import argparse
    parser = argparse.ArgumentParser(prog="modelarts-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    assert ctl.add_parser(sub).prog == "modelarts-sim ctl"
    args = parser.parse_args(["ctl", "--url", "http://127.0.0.1:9", "fail", "dataset", "d1",
                              "--reason", "why"])
    assert (args.command, args.ctl_command, args.kind, args.id, args.reason) == (
        "ctl", "fail", "dataset", "d1", "why")
    assert ctl.command(args) == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["ctl", "advance"])  # SECONDS is required
    capsys.readouterr()


def test_modelarts_sim_ctl_from_the_command_line(running, capsys):
    import inspect

    from simulator import cli
    if "ctl" not in inspect.getsource(cli):
        pytest.skip("simulator.cli does not wire `ctl` in yet")
    assert cli.main(["ctl", "--url", running.endpoint, "clock", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["now"] == FROZEN_MS
