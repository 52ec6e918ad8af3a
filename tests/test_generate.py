"""modelarts-sim generate: coverage of the seed list, labelled scenarios that hold together,
byte-identical output for a seed, every format valid, and loading into a running simulator."""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import requests

from simulator import catalog, validate_command
from simulator.cts import rules
from simulator.cts.record import user_info
from simulator.generate import Options, generate, org as orgmod
from simulator.generate.command import parse_start
from simulator.generate.scenarios import SCENARIOS
from simulator.identity import signing

START = parse_start("2026-11-02")  # a Monday
SEED_TRACE_NAMES = sorted({op.trace_name for op in catalog.OPERATIONS if op.seed_row})
CREATES = {"createNotebook", "CreatePool", "createDataset", "addModel", "CreateJobV2",
           "addService", "CreateServiceV2", "createCluster"}
DELETES = {"deleteNotebook", "DeletePool", "deleteDataset", "deleteModel", "DeleteJobV2",
           "deleteService", "DeleteServiceV2", "deleteCluster"}

JSON = {"Content-Type": "application/json"}


def run_week(tmp_path_factory, name, **kw) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp(name)
    opts = Options(days=kw.pop("days", 7), teams=kw.pop("teams", 3), seed=kw.pop("seed", 42),
                   start_ms=START, out=out, **kw)
    return out, generate(opts)


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    out, result = run_week(tmp_path_factory, "week")
    return out, result, read_jsonl(out / "traces.jsonl")


@pytest.fixture(scope="module")
def quiet_week(tmp_path_factory):
    out, result = run_week(tmp_path_factory, "quiet", scenarios=[], seed=5)
    return out, result, read_jsonl(out / "traces.jsonl")


# -- ordinary activity covers the seed list ------------------------------------------------

@pytest.mark.parametrize("which", ["week", "quiet_week"])
def test_every_seed_trace_name_appears_in_a_week_of_three_teams(which, request):
    _, _, records = request.getfixturevalue(which)
    seen = {r["trace_name"] for r in records}
    assert [n for n in SEED_TRACE_NAMES if n not in seen] == []


def test_records_are_in_time_order_and_valid(week):
    out, result, records = week
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)
    assert all(START <= r["time"] < START + 7 * 86_400_000 for r in records)
    assert result.summary.total == len(records)
    problems = [(r["trace_id"], p) for r in records for p in rules.check_record(r)]
    assert problems == []


def test_ordinary_week_has_mistakes_console_and_system_actions(quiet_week):
    _, _, records = quiet_week
    types = {r["trace_type"] for r in records}
    assert types == {"ApiCall", "ConsoleAction", "SystemAction"}
    warnings = [r for r in records if r["trace_rating"] == "warning"]
    assert warnings and len(warnings) < len(records) * 0.1


def test_a_record_is_its_persona_field_by_field(quiet_week):
    out, _, records = quiet_week
    organisation = orgmod.build(5, 3)
    people = {p.name: p for p in organisation.personas}
    api = next(r for r in records if r["trace_type"] == "ApiCall"
               and people[r["user"]["name"]].role == "ml-engineer")
    person = people[api["user"]["name"]]
    assert api["user"] == user_info(person.user, person.user.domain, person.access_key)
    assert api["user_agent"] == person.user_agent
    assert any(ipaddress.ip_address(api["source_ip"]) in ipaddress.ip_network(n.cidr)
               for n in person.networks)
    assert (api["project_id"], api["domain_id"]) == (person.project.id,
                                                     organisation.domain.id)
    console = next(r for r in records if r["trace_type"] == "ConsoleAction")
    person = people[console["user"]["name"]]
    assert console["user_agent"] == person.console_agent
    assert console["user"]["invoked_by"] == ["service.console"]
    assert console["user"]["access_key_id"] != person.access_key  # a session's key
    system = next(r for r in records if r["trace_type"] == "SystemAction")
    assert system["source_ip"] == "" and system["user_agent"] == ""


# -- scenarios -----------------------------------------------------------------------------

def test_every_scenario_is_labelled_and_holds_together(week):
    out, _, records = week
    check_scenarios(out, records, sorted(SCENARIOS))


@pytest.mark.parametrize("seed,teams,days,start", [
    (2, 2, 1, "2026-11-02"),           # one day: scenarios placed inside it
    (5, 1, 1, "2026-11-04T12:00"),     # a window that starts at noon
    (13, 2, 0.5, "2026-11-03T06:00"),  # half a day
    (7, 5, 2, "2026-11-07"),           # a weekend
])
def test_scenarios_hold_together_in_short_and_odd_windows(tmp_path, seed, teams, days, start):
    generate(Options(days=days, teams=teams, seed=seed, start_ms=parse_start(start),
                     out=tmp_path))
    check_scenarios(tmp_path, read_jsonl(tmp_path / "traces.jsonl"), sorted(SCENARIOS))


def check_scenarios(out: Path, records: list[dict], names: list[str]) -> None:
    """Each scenario has labelled traces, in order, inside its window, made with its
    identity, one of its keys and from one of its networks, touching no resource outside
    its life."""
    by_id = {r["trace_id"]: (i, r) for i, r in enumerate(records)}
    labels = read_jsonl(out / "labels.jsonl")
    instances = {s["scenario"]: s for s in read_jsonl(out / "scenarios.jsonl")}
    assert sorted(instances) == names
    assert all(l["trace_id"] in by_id for l in labels)
    for name, instance in instances.items():
        mine = [by_id[l["trace_id"]] for l in labels if l["scenario"] == name]
        assert mine, name
        assert [i for i, _ in mine] == sorted(i for i, _ in mine)
        for l in (l for l in labels if l["scenario"] == name):
            assert (l["actor"], l["is_malicious"]) == (instance["actor"],
                                                       instance["is_malicious"])
        for _, r in mine:
            assert instance["start_ms"] <= r["time"] <= instance["end_ms"], name
            assert r["trace_type"] == "ApiCall", name
            assert r["user"]["name"] == instance["actor"], name
            assert r["user"]["access_key_id"] in instance["access_key_ids"], name
            assert any(ipaddress.ip_address(r["source_ip"]) in ipaddress.ip_network(c)
                       for c in instance["networks"]), name
        _resources_in_order(records, name, [r for _, r in mine])


def _resources_in_order(records, name, mine):
    """No labelled trace touches a resource before the trace that created it or after the
    one that deleted it (in the whole stream)."""
    created, deleted = {}, {}
    for i, r in enumerate(records):
        if r["code"].startswith("2") and r["resource_id"]:
            if r["trace_name"] in CREATES:
                created.setdefault(r["resource_id"], i)
            if r["trace_name"] in DELETES:
                deleted.setdefault(r["resource_id"], i)
    position = {r["trace_id"]: i for i, r in enumerate(records)}
    for r in mine:
        rid, i = r["resource_id"], position[r["trace_id"]]
        if rid in created:
            assert created[rid] <= i, (name, r["trace_name"])
        if rid in deleted:
            assert i <= deleted[rid], (name, r["trace_name"])


def test_scenario_signatures(week):
    out, _, records = week
    by_id = {r["trace_id"]: r for r in records}
    labelled = {}
    for l in read_jsonl(out / "labels.jsonl"):
        labelled.setdefault(l["scenario"], []).append(by_id[l["trace_id"]])
    probes = labelled["privilege-probing"]
    refused = [r for r in probes if r["code"] == "403"]
    assert len(refused) >= 15 and all(r["trace_rating"] == "warning" for r in refused)
    assert {orjson.loads(r["response"])["error_code"] for r in refused} == {"ModelArts.0108"}
    assert any(r["trace_name"] == "addAkSk" for r in labelled["persistence"])
    assert any(r["trace_name"] == "exportDataFromDataset" for r in labelled["exfiltration"])
    assert any(r["trace_name"] == "CreatePool" for r in labelled["cryptomining"])
    assert any(r["trace_name"].lower().startswith("delete") for r in labelled["leaked-key"])
    assert all(r["trace_rating"] == "normal" for r in labelled["noisy-ci"])
    persisted = [(r["trace_name"], r["code"]) for r in labelled["persistence"]]
    assert persisted[0] == ("addAkSk", "200")
    assert ("createNotebook", "200") in persisted and ("deleteNotebook", "200") in persisted
    deleted = [r for r in labelled["leaked-key"] if r["trace_name"].lower().startswith("delete")]
    assert deleted and all(r["code"].startswith("2") for r in deleted)


# -- determinism -----------------------------------------------------------------------------

def _cli(out: Path, seed: int, fmt: str, hash_seed: str) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    subprocess.run([sys.executable, "-m", "simulator", "generate", "--days", "2",
                    "--teams", "2", "--seed", str(seed), "--start", "2026-11-03",
                    "--format", fmt, "--out", str(out), "--quiet"], check=True, env=env,
                   cwd=Path(__file__).resolve().parents[1])
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("fmt", ["jsonl", "obs"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, fmt):
    first = _cli(tmp_path / "a", 3, fmt, "1")
    again = _cli(tmp_path / "b", 3, fmt, "2")
    other = _cli(tmp_path / "c", 4, fmt, "1")
    assert first == again
    assert first != other and len(first) > 3


# -- formats and validate --------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "obs"])
def test_every_format_validates_and_holds_the_same_records(tmp_path_factory, fmt, week):
    out, result = run_week(tmp_path_factory, fmt, days=1, teams=1, seed=9, fmt=fmt,
                           scenarios=["privilege-probing"])
    assert validate_command.validate_paths([str(out)], out=io.StringIO()) == 0
    jsonl_out, _ = run_week(tmp_path_factory, fmt + "-ref", days=1, teams=1, seed=9,
                            scenarios=["privilege-probing"])
    reference = read_jsonl(jsonl_out / "traces.jsonl")
    if fmt == "json":
        got = json.loads((out / "traces.json").read_text())
    elif fmt == "obs":
        got = []
        for path in sorted(out.rglob("*.json.gz")):
            assert path.relative_to(out).parts[:2] == ("CloudTraces", "cn-north-4")
            got += json.loads(gzip.decompress(path.read_bytes()))
        got.sort(key=lambda r: (r["time"], [x["trace_id"] for x in reference].index(
            r["trace_id"])))
    elif fmt == "csv":
        from simulator.cts import csvform
        import csv
        rows = list(csv.reader((out / "traces.csv").open(newline="")))
        got = [csvform.decode_row(rows[0], row) for row in rows[1:]]
    else:
        got = read_jsonl(out / "traces.jsonl")
    assert [dict(sorted(r.items())) for r in got] == [dict(sorted(r.items()))
                                                      for r in reference]


def test_validate_catches_a_hand_broken_generated_record(week, tmp_path):
    _, _, records = week
    broken = dict(records[10], trace_rating="loud")
    (tmp_path / "t.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n"
                                                for r in records[:10] + [broken]))
    out = io.StringIO()
    assert validate_command.validate_paths([str(tmp_path)], out=out) == 1
    assert "t.jsonl:11:" in out.getvalue() and "trace_rating" in out.getvalue()


# -- into a running simulator ----------------------------------------------------------------

def test_into_a_running_simulator_and_its_bucket(server, tmp_path):
    from simulator.generate.remote import Remote
    now = Remote(server.endpoint).clock_ms()
    opts = Options(days=1, teams=1, seed=2, start_ms=now - 86_400_000, out=tmp_path,
                   scenarios=["privilege-probing"], into=server.endpoint,
                   into_bucket="collector-in")
    result = generate(opts)
    records = read_jsonl(tmp_path / "traces.jsonl")
    assert result.stored == len(records) > 0 and result.expired == 0
    organisation = orgmod.build(2, 1)
    auditor = organisation.auditors[0]
    project = organisation.teams[0].project.id
    url = server.endpoint + "/v3/%s/traces?trace_type=system&limit=200&from=%d&to=%d" % (
        project, opts.start_ms - 1, now + 1)  # the window excludes both ends
    signed = signing.sign("GET", url, {"Content-Type": "application/json"}, b"",
                          auditor.access_key, auditor.user.credentials[0].secret_key,
                          server.sim.clock.now_ms())
    page = requests.get(url, headers=signed, timeout=30)
    assert page.status_code == 200, page.text
    listed = page.json()["traces"]
    mine = [r for _, r in sorted(((r["time"], i), r) for i, r in enumerate(records)
                                 if r["project_id"] == project)][::-1]  # newest first
    assert [t["trace_id"] for t in listed] == [r["trace_id"] for r in mine][:200]
    assert listed[0] == mine[0]
    keys = [k for k in server.sim.obs_files.sizes("collector-in")]
    assert keys and all(k.startswith("CloudTraces/cn-north-4/") and k.endswith(".json.gz")
                        for k in keys)
    again = requests.post(server.endpoint + "/_sim/traces", json=records[:3])
    assert again.status_code == 409


# -- bad arguments -------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["--days", "inf"], "--days must be between"),
    (["--days", "0"], "--days must be between"),
    (["--teams", "0"], "--teams must be between"),
    (["--region", "../../x"], "not a region name"),
    (["--into-bucket", "b1"], "--into-bucket needs --into"),
    (["--into", "http://127.0.0.1:9", "--into-bucket", "Bad_Bucket"], "not a bucket name"),
    (["--into", "http://127.0.0.1:9"], "did not tell its clock"),
    (["--scenario", "leaked-key,nope"], "unknown scenario(s): nope"),
    (["--start", "1999-06-01"], "before 2001-09-09"),
    (["--start", "tomorrow"], "is not a date"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, capsys, args,
                                                              message):
    from simulator.cli import main
    out = tmp_path / "out"
    code = main(["generate", "--out", str(out), "--quiet"] + args)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


# -- the loading endpoints refuse what they cannot keep whole ------------------------------------

def test_loading_endpoints_refuse_without_half_writing(server):
    base = server.endpoint + "/_sim"
    record = read_jsonl_one(server)
    missing = dict(record)
    missing.pop("project_id")
    resp = requests.post(base + "/traces", data=orjson.dumps([record, missing]), headers=JSON)
    assert resp.status_code == 400 and "project_id" in resp.json()["error"]
    assert requests.get(base + "/health").json()["traces"] == 0
    assert requests.post(base + "/traces", data=b"{", headers=JSON).status_code == 400
    assert requests.post(base + "/traces", data=b"{}", headers=JSON).status_code == 400
    before = len(server.sim.directory.domains), len(server.sim.directory.projects)
    clash = {"domains": [{"id": "a" * 32, "name": "newco",
                          "projects": [{"id": "b" * 32, "name": "cn-north-4"}],
                          "users": [{"id": "c" * 32, "name": "eve", "credentials": [
                              {"access_key": "EA9DJ2SB8WQEE7QK29UO", "secret_key": "x"}]}]}]}
    resp = requests.post(base + "/accounts", data=orjson.dumps(clash), headers=JSON)
    assert resp.status_code == 409
    assert (len(server.sim.directory.domains), len(server.sim.directory.projects)) == before
    assert requests.put(base + "/objects/Bad_Bucket/k", data=b"x",
                        headers={"Content-Type": "application/octet-stream"}).status_code == 400
    old = dict(record, time=record["time"] - 8 * 86_400_000,
               record_time=record["record_time"] - 8 * 86_400_000)
    resp = requests.post(base + "/traces", data=orjson.dumps([old]), headers=JSON)
    assert (resp.status_code, resp.json()) == (200, {"stored": 0, "expired": 1})


def read_jsonl_one(server) -> dict:
    """One valid generated record for the fixture server's own project."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        generate(Options(days=0.5, teams=1, seed=1, start_ms=START, out=Path(tmp),
                         scenarios=[]))
        record = read_jsonl(Path(tmp) / "traces.jsonl")[0]
    now = server.sim.clock.now_ms()
    return dict(record, time=now - 1000, record_time=now - 1000)
