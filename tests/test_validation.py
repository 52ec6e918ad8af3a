"""`modelarts-sim validate` (simulator/validate_command.py; its record rules are
simulator/cts/rules.py) and the CSV form of a trace (simulator/cts/csvform.py): what the
simulator records is valid in every file form, and each hand-broken record, line or file is
reported with the field named."""

from __future__ import annotations

import argparse
import copy
import csv
import gzip
import io
import random

import orjson
import pytest

from simulator import validate_command
from simulator.cts import csvform, rules
from simulator.cts.delivery import file_form
from simulator.cts.record import build, user_info
from simulator.settings import Settings
from tests.conftest import make_app
from tests.helpers import FROZEN_MS, PROJECT_ID, USERS, SignedClient
from tests.test_cts_record import trace_input

DS = "/v2/{project_id}/datasets"
CLUSTERS = "/v1/{project_id}/clusters"
DATASET = {"dataset_name": "flowers", "data_sources": [{"data_path": "/acme-data/in/"}],
           "work_path": "/acme-data/out/", "work_path_type": 0}
CLUSTER = {"cluster_name": "pool-1", "description": "inference pool",
           "nodes": {"specification": "modelarts.vm.cpu.8ud", "count": 2}}
OTHER_DOMAIN = "33ad2150460f661f900f5390875004e9"


def make_traffic(client, sim) -> None:
    """A created dataset (201), a refused create (400), a cluster, and the createClusterResult
    the service records itself (SystemAction) when the cluster leaves deploying."""
    assert client.post(DS, DATASET).status_code == 201
    assert client.post(DS, {"dataset_name": "bad name!"}).status_code == 400
    assert client.post(CLUSTERS, CLUSTER).status_code == 200
    sim.clock.advance(5)
    sim.settle()  # the cluster's end is recorded when the simulator next looks


def console_record(sim) -> dict:
    """A ConsoleAction as build() writes it (the live server records none: no console)."""
    user, _ = sim.directory.by_access_key(USERS["admin"]["ak"])
    return build(trace_input(
        trace_id="7d4c1b0e-2f3a-4e5d-8c6b-9a0f1e2d3c4b", trace_type="ConsoleAction",
        time_ms=FROZEN_MS, record_time_ms=FROZEN_MS,
        user=user_info(user, user.domain, "CONSOLEAK00000000001", console=True,
                       session_created_ms=FROZEN_MS - 60_000)))


@pytest.fixture
def records(client, sim) -> list[dict]:
    make_traffic(client, sim)
    traced = client.traces()
    assert [(t["trace_name"], t["trace_type"], t["code"], t["trace_rating"]) for t in traced] == [
        ("createClusterResult", "SystemAction", "200", "normal"),
        ("createCluster", "ApiCall", "200", "normal"),
        ("createDataset", "ApiCall", "400", "warning"),
        ("createDataset", "ApiCall", "201", "normal")]
    return traced + [console_record(sim)]


# -- writing the four file forms ------------------------------------------------------------------

def write_jsonl(path, records) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def write_json(path, records) -> None:
    path.write_bytes(orjson.dumps(records))


def write_gz(path, records, **settings) -> None:
    """A trace file as a tracker writes it (delivery._write), in the file form settings say."""
    chosen = Settings(**settings)
    path.write_bytes(gzip.compress(orjson.dumps([file_form(r, chosen) for r in records],
                                                option=orjson.OPT_SORT_KEYS)))


def write_csv(path, records) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csvform.dump(records, fh)


FORMS = {
    "traces.jsonl": write_jsonl,
    "traces.json": write_json,
    "traces.json.gz": write_gz,
    "code-int-user-string.json.gz": lambda p, r: write_gz(p, r, trace_file_code="int",
                                                          trace_file_user="string"),
    "traces.csv": write_csv,
}


def run(*paths, **options) -> tuple[int, str]:
    out = io.StringIO()
    code = validate_command.validate_paths([str(p) for p in paths], out, **options)
    return code, out.getvalue()


# -- what the simulator records is valid ----------------------------------------------------------

@pytest.mark.parametrize("name", FORMS)
def test_simulator_records_are_valid_in_every_file_form(tmp_path, records, name):
    FORMS[name](tmp_path / name, records)
    assert run(tmp_path / name) == (0, "checked 5 records in 1 file: valid\n")


def test_each_record_alone_has_no_violation(records):
    for record in records:
        assert rules.check_record(record) == []
        assert rules.check_record(file_form(record, Settings(
            trace_file_code="int", trace_file_user="string")), file_form=True) == []


@pytest.mark.parametrize("code, user", [("string", "object"), ("int", "string")])
def test_trace_files_a_tracker_delivers_are_valid(tmp_path, code, user):
    app = make_app(trace_file_code=code, trace_file_user=user)
    try:
        sim = app.extensions["modelarts_sim"]
        client = SignedClient(app)
        sim.obs_files.make_bucket("cts-bucket")
        assert client.post("/v3/{project_id}/tracker", {
            "tracker_type": "system", "tracker_name": "system",
            "obs_info": {"bucket_name": "cts-bucket", "file_prefix_name": "audit"}}
        ).status_code == 201
        make_traffic(client, sim)
        # one file per service: ModelArts's traffic, and CTS's own createTracker
        assert app.test_client().post("/_sim/flush", json={}).json["files_written"] == 2
        files = {obj.key: sim.obs_files.read(obj.path, 1 << 20)
                 for obj in sim.obs_files.objects("/cts-bucket/CloudTraces/")}
    finally:
        sim.close()
    assert sorted(key.split("/")[-2] for key in files) == ["CTS", "ModelArts"]
    held = [r for data in files.values() for r in orjson.loads(gzip.decompress(data))]
    assert sorted(r["trace_name"] for r in held if r["service_type"] == "CTS") == [
        "createTracker"]
    assert {type(r["code"]) for r in held} == {int if code == "int" else str}
    assert {type(r["user"]) for r in held} == {str if user == "string" else dict}
    for key, data in files.items():
        target = tmp_path / key
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
    assert run(tmp_path) == (0, "checked 5 records in 2 files: valid\n")


def test_data_traces_are_valid(server, tmp_path):
    from tests.test_data_traces import data_tracker, data_traces
    client = data_tracker(server, archive=None)
    assert client.putContent("tracked", "in/a.txt", "hello").status == 200
    assert client.getObject("tracked", "in/a.txt", loadStreamInMemory=True).status == 200
    assert client.getObject("tracked", "nope.txt", loadStreamInMemory=True).status == 404
    traced = data_traces(server)
    assert [(t["trace_name"], t["trace_type"], t["code"], t["event_type"]) for t in traced] == [
        ("getObject", "ObsSDK", "404", "data"), ("getObject", "ObsSDK", "200", "data"),
        ("putObject", "ObsSDK", "200", "data")]
    write_jsonl(tmp_path / "data.jsonl", traced)
    assert run(tmp_path) == (0, "checked 3 records in 1 file: valid\n")


def test_a_data_trace_of_another_accounts_read_is_valid(tmp_path):
    """Data traces are kept in the bucket owner's account (domain_id) whoever called."""
    record = build(trace_input(trace_name="getObject", operation_id="ObsGetObject",
                               resource_type="object", service_type="OBS", read_only=True,
                               trace_type="ObsSDK", event_type="data", tracker_name="t1"))
    record["domain_id"] = "0" * 32  # the owner; user.domain is the caller's
    assert rules.check_record(record) == []
    management = dict(record, event_type="system", tracker_name="system", trace_type="ApiCall")
    assert ("user.domain.id" in dict(rules.check_record(management)))


def test_renamed_traces_are_valid_with_the_same_overrides(tmp_path):
    app = make_app(trace_names={"CreateDataset": "createDatasetV2"})
    try:
        client = SignedClient(app)
        assert client.post(DS, DATASET).status_code == 201
        write_jsonl(tmp_path / "t.jsonl", client.traces())
        trace_id = client.last_trace()["trace_id"]
    finally:
        app.extensions["modelarts_sim"].close()
    assert run(tmp_path, trace_names={"CreateDataset": "createDatasetV2"}) == (
        0, "checked 1 record in 1 file: valid\n")
    assert run(tmp_path) == (1, "%s:1: %s: trace_name: ModelArts records no trace named "
                                "'createDatasetV2' (not in the catalog)\n"
                                "checked 1 record in 1 file: 1 violation\n"
                             % (tmp_path / "t.jsonl", trace_id))


# -- the CSV form ---------------------------------------------------------------------------------

def test_fields_are_the_keys_build_writes_in_its_order():
    assert list(csvform.FIELDS) == list(build(trace_input()))
    assert csvform.header(["trace_status", "time", "x"]) == [*csvform.FIELDS, "trace_status",
                                                             "x"]


def test_cells_of_each_type():
    record = build(trace_input())
    row = dict(zip(csvform.FIELDS, csvform.encode_row(record)))
    assert row["time"] == "1795000000000" and row["read_only"] == "false"
    assert row["message"] == "" and row["code"] == "201"
    assert row["user"] == orjson.dumps(record["user"]).decode()
    assert row["request"] == '{"dataset_name":"flowers","work_path":"/bucket/out/"}'
    assert [csvform.encode_cell(v) for v in (None, True, 7, "x", [1], {"a": None})] == [
        "", "true", "7", "x", "[1]", '{"a":null}']


def test_round_trip_is_exact(records):
    extra = build(trace_input(user=None, extra={"trace_status": "normal", "total_time": 12,
                                                "tags": {"k": [1, None]}}))
    extra["location_info"] = "ModelArts.4352"
    every = records + [extra]
    columns = csvform.header(csvform.extra_keys(every))
    for record in every:
        assert csvform.decode_row(columns, csvform.encode_row(record, columns)) == record
    buffer = io.StringIO()
    csvform.dump(every, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0] == columns
    assert [csvform.decode_row(rows[0], r) for r in rows[1:]] == every
    # a record lacking an extra key does not gain it
    assert "tags" not in csvform.decode_row(rows[0], rows[1])


def test_cells_that_do_not_read_as_their_type_stay_text():
    assert csvform.decode_cell("time", "soon") == "soon"
    assert csvform.decode_cell("time", "9" * 5000) == "9" * 5000  # beyond int()'s digits
    assert csvform.decode_cell("time", "") is None
    assert csvform.decode_cell("read_only", "yes") == "yes"
    assert csvform.decode_cell("user", "{not json") == "{not json"
    assert csvform.decode_cell("code", "200") == "200"
    assert csvform.decode_cell("request", "") == ""
    assert csvform.decode_cell("endpoint", "") is None
    assert csvform.decode_row(["a", "time"], ["{", "1"]) == {"a": "{", "time": 1}


# -- one broken record, one exact violation ------------------------------------------------------

def _record() -> dict:
    return build(trace_input())


def _console() -> dict:
    record = build(trace_input(trace_type="ConsoleAction"))
    record["user"]["session_context"] = {"attributes": {"created_at": "1", "mfa_authenticated":
                                                        "false"}}
    return record


def _without(record, *path):
    target = record
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return record


def _with(record, **changes):
    record.update(changes)
    return record


def _with_user(record, **changes):
    record["user"].update(changes)
    return record


BROKEN = {
    "missing field": (lambda: _without(_record(), "trace_rating"),
                      [("trace_rating", "missing")]),
    "missing user key": (lambda: _without(_record(), "user", "access_key_id"),
                         [("user.access_key_id", "missing")]),
    "bad rating": (lambda: _with(_record(), trace_rating="critical"),
                   [("trace_rating", "must be one of normal, warning, incident, not 'critical'")]),
    "normal with code 500": (lambda: _with(_record(), code="500"),
                             [("trace_rating", "a call answered 500 is not rated normal "
                                               "(not from 400 on)")]),
    "warning with code 200": (lambda: _with(_record(), code="200", trace_rating="warning"),
                              [("trace_rating", "a call answered 200 is rated normal "
                                                "(below 400), not warning")]),
    "bad uuid": (lambda: _with(_record(), trace_id="0f8a3c52-6d1e-4b7a-9c3f"),
                 [("trace_id", "not a UUID: '0f8a3c52-6d1e-4b7a-9c3f'")]),
    "bad trace name": (lambda: _with(_record(), trace_name="1create"),
                       [("trace_name", "must be 1-64 of [0-9a-zA-Z._-] starting with a letter, "
                                       "not '1create'"),
                        ("trace_name", "ModelArts records no trace named '1create' (not in the "
                                       "catalog)")]),
    "record_time before time": (lambda: _with(_record(), record_time=FROZEN_MS - 1),
                                [("record_time", "is before time (1794999999999 < "
                                                 "1795000000000)")]),
    "seconds, not milliseconds": (lambda: _with(_record(), time=1_795_000_000),
                                  [("time", "must be milliseconds since the epoch (13 digits), "
                                            "not 1795000000")]),
    "code as a number in the API form": (lambda: _with(_record(), code=201),
                                         [("code", "must be a string (a number only in trace "
                                                   "files), not 201")]),
    "code of 4 digits": (lambda: _with(_record(), code="2010"),
                         [("code", "must be a string of 3 digits, not '2010'")]),
    "unknown trace name for ModelArts": (
        lambda: _with(_record(), trace_name="createDatasets"),
        [("trace_name", "ModelArts records no trace named 'createDatasets' (not in the "
                        "catalog)")]),
    "operation_id and trace_name disagree": (
        lambda: _with(_record(), trace_name="deleteDataset"),
        [("operation_id", "CreateDataset records the trace createDataset, not "
                          "'deleteDataset'")]),
    "unknown operation_id": (lambda: _with(_record(), operation_id="MakeDataset"),
                             [("operation_id", "not an operation of the catalog: "
                                               "'MakeDataset'")]),
    "operation that is not audited": (lambda: _with(_record(), operation_id="ListDatasets"),
                                      [("operation_id", "ListDatasets is not audited: it "
                                                        "records no trace")]),
    "wrong resource_type": (lambda: _with(_record(), resource_type="Dataset"),
                            [("resource_type", "CreateDataset has resource type dataset, not "
                                               "'Dataset'")]),
    "wrong resource_type without operation_id": (
        lambda: _with(_without(_record(), "operation_id"), resource_type="Dataset"),
        [("resource_type", "CreateDataset has resource type dataset, not 'Dataset'")]),
    "wrong read_only": (lambda: _with(_record(), read_only=True),
                        [("read_only", "CreateDataset has read_only false, not true")]),
    "read_only as text": (lambda: _with(_record(), read_only="false"),
                          [("read_only", "must be a boolean, not string")]),
    "ConsoleAction without invoked_by": (lambda: _console(),
                                         [("user.invoked_by", "a ConsoleAction is invoked by "
                                                              "[\"service.console\"]")]),
    "ConsoleAction without session_context": (
        lambda: _with_user(_without(_console(), "user", "session_context"),
                           invoked_by=["service.console"]),
        [("user.session_context", "missing: a console session has one")]),
    "SystemAction with a source_ip": (lambda: _with(_record(), trace_type="SystemAction"),
                                      [("source_ip", "a SystemAction has no source IP, not "
                                                     "'203.0.113.10'")]),
    "ApiCall without a source_ip": (lambda: _with(_record(), source_ip=""),
                                    [("source_ip", "not an IPv4 or IPv6 address: ''")]),
    "ApiCall without a user": (lambda: _with(_record(), user=None),
                               [("user", "must be an object, not null")]),
    "data trace type on a management trace": (
        lambda: _with(_record(), trace_type="ObsSDK"),
        [("trace_type", "must be one of ApiCall, ConsoleAction, SystemAction for a management "
                        "trace, not 'ObsSDK'")]),
    "bad project_id": (lambda: _with(_record(), project_id=PROJECT_ID.upper()),
                       [("project_id", "must be 32 lower-case hex digits, not '%s'"
                                       % PROJECT_ID.upper())]),
    "user domain mismatch": (lambda: _with(_record(), domain_id=OTHER_DOMAIN),
                             [("user.domain.id", "is 'f3c95789ace1a9542c5d6baed2eac902' but "
                                                 "domain_id is '%s'" % OTHER_DOMAIN)]),
    "principal_urn of another user": (
        lambda: _with_user(_record(), principal_urn="iam::f3c95789ace1a9542c5d6baed2eac902:"
                                                    "user:root"),
        [("user.principal_urn", "must be 'iam::f3c95789ace1a9542c5d6baed2eac902:user:admin' "
                                "for this IAM user, not 'iam::f3c95789ace1a9542c5d6baed2eac902:"
                                "user:root'")]),
    "root flag as a boolean": (lambda: _with_user(_record(), principal_is_root_user=False),
                               [("user.principal_is_root_user", "must be the string \"true\" "
                                                                "or \"false\", not false")]),
    "unknown user type": (lambda: _with_user(_record(), type="Robot"),
                          [("user.type", "must be one of User, AssumedAgency, ExternalUser, "
                                         "not 'Robot'")]),
    "request that starts like JSON": (lambda: _with(_record(), request="{'a': 1}"),
                                      [("request", "starts like JSON but does not parse: "
                                                   "unexpected character, expected a string "
                                                   "key")]),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_record_is_caught_with_its_field(case):
    make, expected = BROKEN[case]
    assert rules.check_record(make()) == expected


def test_plain_text_bodies_and_other_services_are_fine():
    assert rules.check_record(_with(_record(), request="name=flowers",
                                         response="OK")) == []
    other = _with(_record(), service_type="ECS", trace_name="createServer",
                  resource_type="ecs", operation_id="NovaCreateServers")
    assert rules.check_record(other) == []  # no catalog for ECS: schema checks only


def test_the_file_form_takes_a_numeric_code_and_user_text():
    record = _with(_record(), code=201, user=orjson.dumps(_record()["user"]).decode())
    assert rules.check_record(record, file_form=True) == []
    assert rules.check_record(record) == [
        ("code", "must be a string (a number only in trace files), not 201"),
        ("user", "must be an object, not string")]
    assert rules.check_record(_with(_record(), user="{nope"), file_form=True) == [
        ("user", "must be an object or its JSON text, not text that does not parse")]


def test_a_system_action_has_any_rating_and_maybe_no_user():
    record = _with(_record(), trace_type="SystemAction", source_ip="", trace_rating="warning",
                   code="200", user=None)
    assert rules.check_record(record) == []


def test_rating_thresholds_are_parameters():
    record = _with(_record(), code="404", trace_rating="normal")
    assert rules.check_record(record, warning_min_status=450) == []
    assert rules.check_record(record, warning_min_status=450, incident_min_status=404) == [
        ("trace_rating", "a call answered 404 is not rated normal (not from 404 on)")]


def test_every_violation_of_a_record_is_reported():
    record = _with(_without(_record(), "trace_name"), trace_rating="bad", time="now",
                   source_ip="localhost", project_id="x")
    assert rules.check_record(record) == [
        ("trace_name", "missing"),
        ("time", "must be an integer, not string"),
        ("trace_rating", "must be one of normal, warning, incident, not 'bad'"),
        ("source_ip", "not an IPv4 or IPv6 address: 'localhost'"),
        ("project_id", "must be 32 lower-case hex digits, not 'x'")]


# -- files: output, line numbers, exit codes ------------------------------------------------------

def test_duplicate_trace_ids_across_files(tmp_path, records):
    write_jsonl(tmp_path / "a.jsonl", records[:2])
    write_json(tmp_path / "b.json", records[1:3])
    assert run(tmp_path) == (1, "%s:#1: %s: trace_id: duplicate: first at %s:2\n"
                                "checked 4 records in 2 files: 1 violation\n"
                             % (tmp_path / "b.json", records[1]["trace_id"],
                                tmp_path / "a.jsonl"))


def test_lines_that_are_not_records(tmp_path, records):
    path = tmp_path / "t.jsonl"
    path.write_bytes(orjson.dumps(records[0]) + b"\n\n  \n[1, 2]\n{\"trace_id\": \n"
                     + orjson.dumps(records[1]) + b"\n")
    assert run(path) == (2, "%s:4: -: record: a trace record is a JSON object, not array\n"
                            "%s:5: -: record: not JSON: unexpected end of data (column 14)\n"
                            "checked 4 records in 1 file: 2 violations\n" % (path, path))


def test_a_json_file_that_does_not_parse_names_its_line(tmp_path, records):
    path = tmp_path / "t.json"
    path.write_bytes(b"[\n" + orjson.dumps(records[0]) + b",\n{oops}\n]")
    assert run(path) == (2, "%s:3: -: file: not JSON: unexpected character, expected a string "
                            "key (column 2)\n"
                            "checked 0 records in 1 file: 1 violation\n" % path)


def test_a_json_file_holds_records(tmp_path, records):
    (tmp_path / "one.json").write_bytes(orjson.dumps(records[0]))
    (tmp_path / "page.json").write_bytes(orjson.dumps({"traces": records[1:3],
                                                       "meta_data": {"count": 2}}))
    (tmp_path / "number.json").write_bytes(b"42")
    assert run(tmp_path) == (1, "%s: -: file: holds a JSON array of records or one record "
                                "object, not integer\n"
                                "checked 3 records in 3 files: 1 violation\n"
                             % (tmp_path / "number.json"))


def test_broken_gzip(tmp_path, records):
    write_gz(tmp_path / "a.json.gz", records)
    (tmp_path / "b.json.gz").write_bytes(b"plain text")
    (tmp_path / "c.json.gz").write_bytes(gzip.compress(orjson.dumps(records))[:-9])
    (tmp_path / "d.json.gz").write_bytes(gzip.compress(b"[{]"))
    assert run(tmp_path) == (2, (
        "{d}/b.json.gz: -: file: not a gzip file: Not a gzipped file (b'pl')\n"
        "{d}/c.json.gz: -: file: not a gzip file: Compressed file ended before the "
        "end-of-stream marker was reached\n"
        "{d}/d.json.gz:1: -: file: not JSON: unexpected character, expected a string key "
        "(column 3)\n"
        "checked 5 records in 4 files: 3 violations\n").format(d=tmp_path))


def test_csv_rows_are_numbered_by_line(tmp_path, records):
    """A row's place is its first line: a blank line, a short row and a cell of two lines
    count."""
    two_lines = _with(copy.deepcopy(records[1]), trace_rating="fine", message="two\nlines")
    after = _with(copy.deepcopy(records[2]), record_time=1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, **csvform.DIALECT)
    writer.writerows([csvform.FIELDS, csvform.encode_row(records[0])])
    buffer.write("\n")
    writer.writerows([["a", "b"], csvform.encode_row(two_lines), csvform.encode_row(after)])
    path = tmp_path / "t.csv"
    path.write_text(buffer.getvalue())
    assert run(path) == (1, (
        "{p}:4: -: record: 2 cells for {n} columns\n"
        "{p}:5: {a}: trace_rating: must be one of normal, warning, incident, not 'fine'\n"
        "{p}:7: {b}: record_time: must be milliseconds since the epoch (13 digits), not 1\n"
        "{p}:7: {b}: record_time: is before time (1 < {t})\n"
        "checked 4 records in 1 file: 4 violations\n").format(
            p=path, n=len(csvform.FIELDS), a=two_lines["trace_id"], b=after["trace_id"],
            t=after["time"]))


def test_labels(tmp_path, records):
    write_jsonl(tmp_path / "traces.jsonl", records)
    good = {"trace_id": records[0]["trace_id"], "scenario": "s1", "step": "1",
            "actor": "admin", "is_malicious": False}
    dangling = {**good, "trace_id": "00000000-0000-4000-8000-000000000000"}
    wrong_key = {**good, "malicious": True}
    del wrong_key["is_malicious"]
    wrong_type = {**good, "is_malicious": "no"}
    lines = [good, dangling, wrong_key, wrong_type, [good]]
    (tmp_path / "labels.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    labels, tid = tmp_path / "labels.jsonl", good["trace_id"]
    assert run(tmp_path) == (1, (
        "{labels}:3: {tid}: is_malicious: missing\n"
        "{labels}:3: {tid}: malicious: not a label key (trace_id, scenario, step, actor, "
        "is_malicious)\n"
        "{labels}:4: {tid}: is_malicious: must be a boolean, not string\n"
        "{labels}:5: -: label: a label is a JSON object, not array\n"
        "{labels}:2: 00000000-0000-4000-8000-000000000000: trace_id: no record with this "
        "trace_id was checked\n"
        "checked 5 records in 2 files: 5 violations\n").format(labels=labels, tid=tid))


def test_directories_are_walked_in_sorted_order_and_other_files_skipped(tmp_path):
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    folders = ("b/deep", "a", "b", "")
    for n, folder in enumerate(folders):
        write_jsonl(tmp_path / folder / "t.jsonl", [_with(
            _record(), trace_id="00000000-0000-4000-8000-00000000000%d" % n, trace_rating="?")])
    (tmp_path / "README.txt").write_text("not traces")
    (tmp_path / "a" / "data.bin").write_bytes(b"\x00")
    for name in ("scenarios.jsonl", "organisation.json", "summary.json"):  # generate --out's
        (tmp_path / name).write_text('{"not": "a trace"}\n')
    code, out = run(tmp_path)
    assert code == 1
    assert [line.split(": ")[0] for line in out.splitlines()] == [
        "%s/a/t.jsonl:1" % tmp_path, "%s/b/deep/t.jsonl:1" % tmp_path,
        "%s/b/t.jsonl:1" % tmp_path, "%s/t.jsonl:1" % tmp_path,
        "checked 4 records in 4 files"]
    assert run(tmp_path / "summary.json") == (0, "checked 0 records in 0 files: valid\n")


def test_exit_codes(tmp_path, records):
    write_jsonl(tmp_path / "good.jsonl", records)
    write_jsonl(tmp_path / "bad.jsonl", [_with(_record(), trace_rating="?")])
    (tmp_path / "notes.txt").write_text("hello")
    assert run(tmp_path / "good.jsonl")[0] == 0
    assert run(tmp_path / "bad.jsonl")[0] == 1
    missing = tmp_path / "missing.jsonl"
    assert run(missing, tmp_path / "good.jsonl") == (
        2, "%s: -: file: cannot read: No such file or directory\n"
           "checked 5 records in 2 files: 1 violation\n" % missing)
    assert run(tmp_path / "notes.txt") == (
        2, "%s: -: file: not a trace file (.jsonl, .json, .json.gz, .csv or labels.jsonl)\n"
           "checked 0 records in 1 file: 1 violation\n" % (tmp_path / "notes.txt"))
    assert run(tmp_path / "bad.jsonl", missing)[0] == 2  # unreadable wins
    assert run(tmp_path / "good.jsonl", tmp_path / "good.jsonl")[0] == 0  # each file once


# -- hostile input --------------------------------------------------------------------------------

def test_huge_lines_are_reported_not_read(tmp_path, records, monkeypatch):
    monkeypatch.setattr(validate_command, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"trace_id": "' + b"x" * 50_000 + b'"}\n' + orjson.dumps(records[0])
                     + b"\n" + b"y" * 9000)
    assert run(path) == (2, "%s:1: -: record: line longer than 4096 bytes: not read\n"
                            "%s:3: -: record: line longer than 4096 bytes: not read\n"
                            "checked 3 records in 1 file: 2 violations\n" % (path, path))
    csv_path = tmp_path / "t.csv"
    write_csv(csv_path, records[:1])
    with open(csv_path, "a") as fh:
        fh.write("z" * 10_000 + "\n")
    code, out = run(csv_path)
    assert (code, out) == (2, "%s:3: -: record: line longer than 4096 bytes: not read\n"
                              "checked 1 record in 1 file: 1 violation\n" % csv_path)


def test_hostile_lines_produce_violations_never_a_traceback(tmp_path):
    lines = [b"null", b"42", b'"text"', b"[]", b"{}", b"\xff\xfe", b"{" * 5000,
             b'{"trace_id": "\\ud800"}', b'{"time": 1e400}', b'{"time": 99999999999999999999}',
             b'{"trace_id": "a\\nb", "user": "x", "code": null, "trace_type": "ConsoleAction"}',
             b'{"user": {"domain": [], "type": 1, "invoked_by": {}, "session_context": 3},'
             b' "trace_type": "ConsoleAction", "source_ip": 7}',
             b'{"service_type": "ModelArts", "trace_name": {}, "operation_id": []}',
             b'{"service_type": "OBS", "trace_name": "putObject", "operation_id": "CreateDataset"}',
             b'{"event_type": "data", "tracker_name": "system", "trace_type": "ApiCall"}']
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, out = run(path)
    assert code == 2
    reported = {int(line.split(":")[1]) for line in out.splitlines()[:-1]}
    assert reported == set(range(1, len(lines) + 1))
    assert out.endswith("checked 15 records in 1 file: %d violations\n"
                        % (len(out.splitlines()) - 1))
    for line in out.splitlines():
        assert line.isprintable()


def test_random_values_in_every_field_never_raise():
    rng = random.Random(7)
    values = [None, True, 0, -1, 10**30, 1.5, "", "x" * 300, "\u0000", [], [1, "a"], {},
              {"id": 1}, {"domain": {"id": None}}, "200", "ConsoleAction", "SystemAction"]
    base = _record()
    for _ in range(3000):
        record = copy.deepcopy(base)
        for key in rng.sample(sorted(base), rng.randint(1, 6)):
            record[key] = rng.choice(values)
        for key in rng.sample(sorted(base["user"]), rng.randint(0, 3)):
            if isinstance(record.get("user"), dict):
                record["user"][key] = rng.choice(values)
        found = rules.check_record(record, file_form=rng.random() < 0.5)
        assert all(isinstance(f, str) and isinstance(m, str) for f, m in found)


def test_hostile_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"trace_id,trace_id,user\n\"x,\xff\n1,2,{bad\n")
    assert run(path) == (2, (
        "{p}:1: -: header: column 'trace_id' twice\n"
        "{p}:2: -: record: not UTF-8: invalid start byte\n"
        "{p}:2: -: record: 1 cells for 3 columns\n"  # the quoted cell runs to the end
        "checked 1 record in 1 file: 3 violations\n").format(p=path))
    (tmp_path / "t.csv").write_bytes(b"")
    assert run(path) == (1, "%s: -: file: no header row\n"
                            "checked 0 records in 1 file: 1 violation\n" % path)


# -- the command ----------------------------------------------------------------------------------

def _command(argv) -> int:
    parser = argparse.ArgumentParser(prog="modelarts-sim")
    validate_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return validate_command.command(parser.parse_args(["validate", *argv]))


def test_command_quiet_and_max_errors(tmp_path, capsys):
    bad = [_with(_record(), trace_id=f"00000000-0000-4000-8000-00000000000{i}",
                 trace_rating="?") for i in range(3)]
    write_jsonl(tmp_path / "t.jsonl", bad)
    assert _command([str(tmp_path), "--quiet"]) == 1
    assert capsys.readouterr().out == "checked 3 records in 1 file: 3 violations\n"
    assert _command([str(tmp_path), "--max-errors", "1"]) == 1
    assert capsys.readouterr().out == (
        "%s:1: 00000000-0000-4000-8000-000000000000: trace_rating: must be one of normal, "
        "warning, incident, not '?'\n"
        "checked 3 records in 1 file: 3 violations (2 not shown)\n" % (tmp_path / "t.jsonl"))
    with pytest.raises(SystemExit):
        _command([str(tmp_path), "--max-errors", "-1"])


def test_command_takes_trace_name_overrides_from_config(tmp_path, capsys):
    write_jsonl(tmp_path / "t.jsonl", [_with(_record(), trace_name="createDatasetV2")])
    config = tmp_path / "sim.toml"
    config.write_text('[trace_names]\nCreateDataset = "createDatasetV2"\n')
    assert _command([str(tmp_path), "--config", str(config)]) == 0
    assert capsys.readouterr().out == "checked 1 record in 1 file: valid\n"
    assert _command([str(tmp_path)]) == 1
    capsys.readouterr()
    config.write_text('[trace_names]\nNoSuchOperation = "x"\n')
    assert _command([str(tmp_path), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelarts-sim validate: trace_names: 'NoSuchOperation'")


def test_the_earlier_import_path_still_validates_with_a_warning(tmp_path):
    import importlib
    import sys
    sys.modules.pop("simulator.cts.validation", None)
    with pytest.warns(DeprecationWarning, match="simulator.cts.rules"):
        validation = importlib.import_module("simulator.cts.validation")
    assert validation.check_record is rules.check_record
    assert validation.validate_paths is validate_command.validate_paths
    assert validation.check_record({}) == rules.check_record({})
