"""The pytest plugin, used the way a user uses it: test files run by a separate pytest process
(pytester's runpytest_subprocess) that finds the plugin through the package's pytest11 entry
point, and nothing else. Plus the assertion diff and matching rules, directly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.clock import Clock
from simulator.core import Simulator
from simulator.server import start_in_thread
from simulator.settings import Settings
from simulator.testing.client import _matches, diff_report
from tests.helpers import FROZEN_MS, PROJECT_ID, USERS, server_call

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "test_audit_collector.py"
TIMEOUT = 300

# the inner test files share these
PRELUDE = '''
import re, threading, time
import pytest

DS = "/v2/{project_id}/datasets"

def create(sim, name="flowers"):
    sim.put_object("/acme-data/in/rose.jpg", b"jpeg")
    resp = sim.post(DS, {"dataset_name": name, "work_path": "/acme-data/out/",
                         "work_path_type": 0, "data_sources": [{"data_path": "/acme-data/in/"}]})
    assert resp.status_code == 201, resp.text
    return resp.json()
'''


def run(pytester, source: str, *args, **files):
    pytester.makepyfile(test_inner=PRELUDE + source, **files)
    return pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider",
                                         *args, timeout=TIMEOUT)


def _endpoint_answers(path: str) -> bool:
    """Whether a simulator of this tree serves a /_sim control (the faults and snapshot
    controls are newer than the plugin's first version)."""
    from simulator.app import create_app
    app = create_app(Settings(port=0))
    try:
        return app.test_client().open(path, method="GET").status_code != 404 or \
            app.test_client().open(path, method="POST", data=b"").status_code != 404
    finally:
        app.extensions["modelarts_sim"].close()


HAS_FAULTS = _endpoint_answers("/_sim/faults")
HAS_SNAPSHOT = _endpoint_answers("/_sim/snapshot")


# -- loading ------------------------------------------------------------------------------------

def test_the_plugin_loads_from_the_entry_point_and_starts_nothing_unasked(pytester):
    result = run(pytester, '''
def test_nothing_started(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("modelarts_sim")
    assert not [t for t in threading.enumerate() if t.name.startswith("modelarts-sim")]
''')
    result.assert_outcomes(passed=1)
    listed = pytester.runpytest_subprocess("--fixtures", timeout=TIMEOUT)
    listed.stdout.fnmatch_lines(["*modelarts_sim*", "*modelarts_sim_env*",
                                 "*modelarts_client*", "*cts_client*", "*modelarts_sim_app*"])
    helped = pytester.runpytest_subprocess("--help", timeout=TIMEOUT)
    helped.stdout.fnmatch_lines(["*--modelarts-sim-auth*", "*--modelarts-sim-seed*",
                                 "*--modelarts-sim-lifecycle-mode*", "*--modelarts-sim-url*",
                                 "*modelarts_sim_auth*"])
    off = pytester.runpytest_subprocess("-p", "no:modelarts_sim", "-p", "no:cacheprovider",
                                        "test_inner.py", timeout=TIMEOUT)
    off.assert_outcomes(failed=1)  # has_plugin is False


def test_our_own_suite_has_the_plugin_too(pytestconfig):
    """Installed, the plugin loads in this suite as well: its fixtures have their own names
    and start nothing unless a test asks for them (the test above)."""
    assert pytestconfig.pluginmanager.has_plugin("modelarts_sim")


# -- fixtures and isolation ---------------------------------------------------------------------

def test_fixture_attributes_users_and_reset_between_tests(pytester):
    result = run(pytester, '''
SEEN = {}

def test_attributes(modelarts_sim):
    SEEN["endpoint"] = modelarts_sim.endpoint
    assert re.match(r"^http://127\\.0\\.0\\.1:[0-9]+$", modelarts_sim.endpoint)
    assert modelarts_sim.region == "cn-north-4"
    assert modelarts_sim.project_id == "%(project)s"
    assert modelarts_sim.domain_id == "f3c95789ace1a9542c5d6baed2eac902"
    assert modelarts_sim.user == "admin"
    assert modelarts_sim.credentials == ("%(admin_ak)s", "%(admin_sk)s")
    ak, sk = modelarts_sim.credentials
    assert modelarts_sim.credentials.ak == ak
    dev = modelarts_sim.as_user("developer")
    assert (dev.user, dev.credentials.ak, dev.endpoint) == (
        "developer", "%(dev_ak)s", modelarts_sim.endpoint)
    assert modelarts_sim.as_user("mallory").project_id == "9394235bbaccfd8a1328d49db94fdc5d"
    with pytest.raises(LookupError, match="no fixture user 'nobody'"):
        modelarts_sim.as_user("nobody")
    assert modelarts_sim.sim is not None and modelarts_sim.health()["status"] == "ok"

def test_makes_things(modelarts_sim):
    create(modelarts_sim)
    assert len(modelarts_sim.traces()) == 1
    modelarts_sim.advance(7200)
    modelarts_sim.lifecycle("manual")
    modelarts_sim.fault(operation="CreateDataset", status=500)

def test_finds_a_clean_simulator(modelarts_sim):
    assert modelarts_sim.endpoint == SEEN["endpoint"]  # one server for the session
    assert modelarts_sim.traces() == []
    assert modelarts_sim.get(DS).json()["datasets"] == []
    clock = modelarts_sim.clock()
    assert not clock["frozen"] and abs(clock["now"] - time.time() * 1000) < 5000
    assert {f["mode"] for f in modelarts_sim.lifecycle().values()} == {"time"}
    assert create(modelarts_sim)["dataset_id"]  # no fault left over
''' % {"project": PROJECT_ID, "admin_ak": USERS["admin"]["ak"],
       "admin_sk": USERS["admin"]["sk"], "dev_ak": USERS["developer"]["ak"]})
    result.assert_outcomes(passed=3)


def test_a_frozen_clock_is_frozen_again_at_the_same_instant(pytester):
    settings = Settings(port=0)
    running = start_in_thread(settings, Simulator(settings, clock=Clock(FROZEN_MS, frozen=True)))
    try:
        result = run(pytester, '''
def test_moves(modelarts_sim):
    assert modelarts_sim.clock() == {"now": %(at)d, "frozen": True}
    modelarts_sim.advance(60)
    modelarts_sim.resume()

def test_back(modelarts_sim):
    assert modelarts_sim.clock() == {"now": %(at)d, "frozen": True}
''' % {"at": FROZEN_MS}, "--modelarts-sim-url", running.endpoint)
        result.assert_outcomes(passed=2)
    finally:
        running.stop()


# -- traces, waiting, asserting -----------------------------------------------------------------

def test_traces_wait_for_trace_and_assert_traced(pytester):
    result = run(pytester, '''
def test_traces(modelarts_sim):
    ds = create(modelarts_sim)
    auditor = modelarts_sim.as_user("auditor")
    assert auditor.post(DS, {"dataset_name": "nope"}).status_code == 403
    all_ = modelarts_sim.traces()
    assert [t["trace_name"] for t in all_] == ["createDataset", "createDataset"]
    assert all_[0]["user"]["name"] == "auditor"  # newest first
    assert all_[0]["time"] >= all_[1]["time"]
    assert [t["user"]["name"] for t in modelarts_sim.traces(trace_rating="warning")] == ["auditor"]
    assert modelarts_sim.traces(rating="normal")[0]["resource_id"] == ds["dataset_id"]
    assert modelarts_sim.traces(user="admin", resource_name="flowers")[0]["code"] == "201"
    assert len(modelarts_sim.traces(limit=1)) == 1
    assert modelarts_sim.traces(trace_name="deleteDataset") == []
    assert modelarts_sim.traces(to=all_[1]["time"]) == []  # to is exclusive
    assert modelarts_sim.last_trace()["user"]["name"] == "auditor"
    with pytest.raises(TypeError, match="no filter 'colour'"):
        modelarts_sim.traces(colour="red")

def test_assert_traced_passes_and_returns_the_record(modelarts_sim):
    ds = create(modelarts_sim)
    rec = modelarts_sim.assert_traced(trace_name="createDataset", resource_name="flowers",
                                      rating="normal", user="admin", code=201,
                                      resource_id=ds["dataset_id"],
                                      request={"dataset_name": "flowers"},
                                      user__domain__name="acme",
                                      trace_id=re.compile(r"^[0-9a-f-]{36}$"),
                                      time=lambda t: t > 0)
    assert rec["resource_id"] == ds["dataset_id"]
    assert modelarts_sim.find_trace(trace_name="deleteDataset") is None

def test_wait_for_trace_returns_the_record(modelarts_sim):
    ds = create(modelarts_sim)
    rec = modelarts_sim.wait_for_trace("createDataset", timeout=2, resource_id=ds["dataset_id"])
    assert rec["resource_name"] == "flowers"

def test_assert_traced_fails_with_a_diff(modelarts_sim):
    create(modelarts_sim)
    create(modelarts_sim, "tulip")
    modelarts_sim.assert_traced(trace_name="createDataset", resource_name="tulips",
                                rating="normal", user="developer")

def test_assert_traced_with_no_traces(modelarts_sim):
    modelarts_sim.assert_traced(trace_name="createDataset")

def test_wait_for_trace_times_out(modelarts_sim):
    create(modelarts_sim)
    modelarts_sim.wait_for_trace(trace_name="deleteDataset", timeout=0.3)
''')
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    # the failure points at the test's own line, then says why, field by field
    result.stdout.fnmatch_lines([
        "*modelarts_sim.assert_traced(trace_name=\"createDataset\", resource_name=\"tulips\",*",
        "E*AssertionError: no trace matches trace_name='createDataset', resource_name="
        "'tulips', trace_rating='normal', user='developer' among 2 trace(s) "
        "(trace_type=system, project %s, read as admin); the nearest:" % PROJECT_ID,
        "E*#1 createDataset on dataset 'tulip' by admin at *, code 201 (trace_id *): "
        "2 of 4 field(s) match",
        "E*trace_name       == 'createDataset'",
        "E*! resource_name    expected 'tulips', got 'tulip'",
        "E*trace_rating     == 'normal'",
        "E*! user             expected 'developer', got 'admin'",
        "E*#2 createDataset on dataset 'flowers' by admin at *: 2 of 4 field(s) match",
    ])
    assert "client.py" not in re.sub(r".*short test summary.*", "", out, flags=re.S)
    result.stdout.fnmatch_lines([
        "E*AssertionError: no trace matches trace_name='createDataset': ListTraces "
        "(trace_type=system, project %s, read as admin) has no traces at all" % PROJECT_ID])
    result.stdout.fnmatch_lines([
        "E*AssertionError: waited 0.3 s: no trace matches trace_name='deleteDataset' among "
        "1 trace(s)*",
        "E*! trace_name       expected 'deleteDataset', got 'createDataset'"])


def test_wait_for_trace_sees_a_trace_recorded_later(pytester):
    """A trace recorded while the helper waits (here a call made from another thread)."""
    result = run(pytester, '''
def test_later(modelarts_sim):
    ds = create(modelarts_sim)
    timer = threading.Timer(0.3, lambda: modelarts_sim.delete(DS + "/" + ds["dataset_id"]))
    timer.start()
    rec = modelarts_sim.wait_for_trace("deleteDataset", timeout=10)
    assert rec["resource_id"] == ds["dataset_id"]
    timer.join()
''')
    result.assert_outcomes(passed=1)


def test_diff_report_and_matching_rules():
    rec = {"trace_id": "t1", "trace_name": "createDataset", "resource_type": "dataset",
           "resource_name": "flowers", "time": 0, "code": "201", "trace_rating": "normal",
           "user": {"name": "admin", "domain": {"name": "acme"}},
           "request": '{"dataset_name": "flowers", "work_path_type": 0}'}
    assert _matches("code", 201, "201", True) and not _matches("code", 200, "201", True)
    assert _matches("user", "admin", rec["user"], True)
    assert _matches("request", {"work_path_type": 0}, rec["request"], True)
    assert not _matches("request", {"work_path_type": 1}, rec["request"], True)
    assert not _matches("x", None, None, False)  # an absent field never matches
    assert _matches("t", re.compile("^create"), "createDataset", True)
    assert not _matches("t", lambda v: 1 / 0, "x", True)  # a predicate that raises: no match
    report = diff_report({"trace_name": "deleteDataset", "colour": "red"}, [rec], "here")
    assert report.splitlines() == [
        "no trace matches trace_name='deleteDataset', colour='red' among 1 trace(s) (here); "
        "the nearest:",
        "  #1 createDataset on dataset 'flowers' by admin at 1970-01-01T00:00:00.000Z, code 201"
        " (trace_id t1): 0 of 2 field(s) match",
        "     ! trace_name       expected 'deleteDataset', got 'createDataset'",
        "     ! colour           expected 'red', got (no such field)",
    ]
    many = diff_report({"trace_name": "x"}, [dict(rec, trace_id=str(n)) for n in range(5)], "s")
    assert "#3" in many and "#4" not in many and many.endswith("(and 2 more)")


# -- clock and lifecycles -----------------------------------------------------------------------

def test_advance_advance_resource_and_fail_resource(pytester):
    result = run(pytester, '''
from simulator.testing import SimulatorError

def test_clock(modelarts_sim):
    before = modelarts_sim.clock()["now"]
    after = modelarts_sim.advance(600)["now"]
    assert 600_000 <= after - before < 610_000
    assert modelarts_sim.freeze(1_800_000_000_000) == {"now": 1_800_000_000_000, "frozen": True}
    assert modelarts_sim.advance(1.5) == {"now": 1_800_000_001_500, "frozen": True}
    # calls are dated by the simulator's clock, so they still pass the signature check
    ds = create(modelarts_sim)
    assert modelarts_sim.last_trace()["time"] == 1_800_000_001_500

def test_time_mode_and_advance(modelarts_sim):
    ds = create(modelarts_sim)
    url = DS + "/" + ds["dataset_id"]
    assert modelarts_sim.get(url).json()["status"] == 0
    modelarts_sim.advance(60)
    assert modelarts_sim.get(url).json()["status"] == 1

def test_manual_steps(modelarts_sim):
    modelarts_sim.lifecycle("manual", family="datasets")
    assert modelarts_sim.lifecycle()["datasets"]["mode"] == "manual"
    ds = create(modelarts_sim)
    url = DS + "/" + ds["dataset_id"]
    modelarts_sim.advance(3600)
    assert modelarts_sim.get(url).json()["status"] == 0
    assert modelarts_sim.advance_resource("dataset", ds["dataset_id"]) == {
        "kind": "dataset", "id": ds["dataset_id"], "status": 1, "changed": True}
    out = modelarts_sim.fail_resource("dataset-import", ds["import_task_id"],
                                      reason="OBS path not readable")
    assert out["status"] == "FAILED"
    task = modelarts_sim.get(url + "/import-tasks/" + ds["import_task_id"]).json()
    assert (task["status"], task["error_msg"]) == ("FAILED", "OBS path not readable")
    modelarts_sim.fail_resource("dataset", ds["dataset_id"])
    assert modelarts_sim.get(url).json()["status"] == 4

def test_refusals_are_clear(modelarts_sim):
    with pytest.raises(SimulatorError, match=r"POST /_sim/lifecycle/advance refused \\(404\\): "
                       r"no dataset 'nope'"):
        modelarts_sim.advance_resource("dataset", "nope")
    with pytest.raises(SimulatorError, match="unknown kind 'spaceship'"):
        modelarts_sim.fail_resource("spaceship", "x")
    with pytest.raises(SimulatorError, match="seconds must be a number"):
        modelarts_sim.advance(-1)
''', "--modelarts-sim-bucket", "acme-data")
    result.assert_outcomes(passed=4)


# -- the SDK ------------------------------------------------------------------------------------

def test_sdk_clients_and_the_environment(pytester):
    result = run(pytester, '''
import os
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest
from huaweicloudsdkcts.v3.region.cts_region import CtsRegion
from huaweicloudsdkmodelarts.v1 import GetAuthorizationsRequest, ModelArtsClient
from huaweicloudsdkmodelarts.v1.region.modelarts_region import ModelArtsRegion

def test_clients(modelarts_sim, modelarts_client, cts_client):
    assert isinstance(modelarts_client, ModelArtsClient)
    assert modelarts_client.get_authorizations(GetAuthorizationsRequest()).total_count == 0
    create(modelarts_sim)
    page = cts_client.list_traces(ListTracesRequest(limit=10))
    assert [t.trace_name for t in page.traces] == ["createDataset"]

def test_env(modelarts_sim_env):
    assert os.environ["HUAWEICLOUD_SDK_AK"] == modelarts_sim_env.credentials.ak
    assert os.environ["HUAWEICLOUD_SDK_REGION_CTS_CN_NORTH_4"] == modelarts_sim_env.endpoint
    assert os.environ["HUAWEICLOUD_SDK_IAM_ENDPOINT"] == modelarts_sim_env.endpoint
    create(modelarts_sim_env)
    cred = BasicCredentials(os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"])
    cts = (CtsClient.new_builder().with_credentials(cred)
           .with_region(CtsRegion.value_of("cn-north-4")).build())
    assert [t.trace_name for t in cts.list_traces(ListTracesRequest()).traces] == [
        "createDataset"]
    ma = (ModelArtsClient.new_builder().with_credentials(cred)
          .with_region(ModelArtsRegion.value_of("cn-north-4")).build())
    assert ma.get_authorizations(GetAuthorizationsRequest()).total_count == 0

def test_the_sdk_dates_its_signatures_by_the_real_clock(modelarts_sim, cts_client):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    modelarts_sim.advance(1000)  # past the 900 s the strict signature check allows
    with pytest.raises(ClientRequestException) as refused:
        cts_client.list_traces(ListTracesRequest())
    assert refused.value.status_code == 401
    assert modelarts_sim.traces() == []  # the helper dates by the simulation clock

def test_env_is_gone_afterwards():
    assert "HUAWEICLOUD_SDK_AK" not in os.environ
''')
    result.assert_outcomes(passed=4)


def test_sdk_fixtures_skip_without_the_sdk(pytester):
    pytester.makeconftest('''
import sys
sys.modules["huaweicloudsdkmodelarts"] = None  # as if it were not installed
sys.modules["huaweicloudsdkcts"] = None
''')
    result = run(pytester, '''
def test_ma(modelarts_client):
    pass

def test_cts(cts_client):
    pass
''', "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([
        "*huaweicloudsdkmodelarts is not installed (pip install huaweicloudsdkmodelarts)*",
        "*huaweicloudsdkcts is not installed (pip install huaweicloudsdkcts)*"])


# -- options ------------------------------------------------------------------------------------

def test_reusing_a_simulator_started_elsewhere(pytester):
    running = start_in_thread(Settings(port=0, seed=3, obs_buckets=["acme-data"]))
    try:
        resp = server_call(running, "POST", "/v2/{project_id}/datasets", {
            "dataset_name": "before", "work_path": "/acme-data/out/", "work_path_type": 0,
            "data_sources": [{"data_path": "/acme-data/in/"}]})
        assert resp.status_code == 201
        result = run(pytester, '''
def test_reused(modelarts_sim):
    assert modelarts_sim.endpoint == "%s"
    assert modelarts_sim.sim is None  # not in this process
    assert modelarts_sim.traces() == []  # reset first
    assert {f["mode"] for f in modelarts_sim.lifecycle().values()} == {"manual"}
    create(modelarts_sim, "left-behind")
    assert not [t for t in threading.enumerate() if t.name == "modelarts-sim"]
''' % running.endpoint, "--modelarts-sim-url", running.endpoint,
                     "--modelarts-sim-lifecycle-mode", "manual", "--modelarts-sim-auth", "off")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*modelarts-sim: the auth setting(s) apply only to a "
                                     "simulator the plugin starts, not to the one at %s*"
                                     % running.endpoint])
        names = [r["resource_name"] for r in running.sim.traces.query(
            PROJECT_ID, category="system", tracker_name="system", after_ms=0,
            before_ms=running.sim.clock.now_ms() + 1, limit=10).records]
        assert names == ["left-behind"]
    finally:
        running.stop()


def test_a_url_that_does_not_answer(pytester):
    result = run(pytester, '''
def test_reused(modelarts_sim):
    pass
''', "--modelarts-sim-url", "http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--modelarts-sim-url: the simulator at http://127.0.0.1:9 "
                                 "does not answer*"])


def test_ini_settings_and_the_command_line_over_them(pytester):
    pytester.makeini('''
[pytest]
modelarts_sim_auth = off
modelarts_sim_seed = 5
modelarts_sim_lifecycle_mode = immediate
modelarts_sim_buckets =
    acme-data
    acme-models
''')
    source = '''
def test_settings(modelarts_sim):
    s = modelarts_sim.sim.settings
    assert (s.auth, s.seed, s.lifecycle_mode, s.obs_buckets) == (
        "%s", 5, "immediate", ["acme-data", "acme-models"])
    assert modelarts_sim.health()["auth"] == s.auth
    ds = modelarts_sim.post(DS, {"dataset_name": "d", "work_path": "/acme-models/out/",
                                 "work_path_type": 0,
                                 "data_sources": [{"data_path": "/acme-data/in/"}]},
                            signed=False)
    assert ds.status_code == (201 if s.auth == "off" else 401)
'''
    run(pytester, source % "off").assert_outcomes(passed=1)
    run(pytester, source % "strict", "--modelarts-sim-auth", "strict").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nmodelarts_sim_auth = loose\n")
    bad = run(pytester, "def test_x():\n    pass\n")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*modelarts_sim_auth must be one of strict, lenient, off, not "
                              "'loose'*"])


def test_a_settings_file_and_an_accounts_file(pytester):
    pytester.path.joinpath("sim.toml").write_text('trace_retention_days = 2\n'
                                                  '[lifecycle]\ndataset_create = 9.0\n')
    accounts = (ROOT / "simulator" / "data" / "accounts.toml").read_text()
    pytester.path.joinpath("acc.toml").write_text(accounts.replace('default = true', '') + '''
[[domains]]
id = "0123456789abcdef0123456789abcdef"
name = "initech"
  [[domains.projects]]
  id = "abcdef0123456789abcdef0123456789"
  name = "cn-north-4"
  [[domains.users]]
  id = "00000000000000000000000000000001"
  name = "peter"
  role = "admin"
  default = true
    [[domains.users.credentials]]
    access_key = "PETERPETERPETERPETER"
    secret_key = "peterpeterpeterpeterpeterpeterpeterpete"
''')
    pytester.makeini("[pytest]\nmodelarts_sim_config = sim.toml\nmodelarts_sim_accounts = "
                     "acc.toml\n")
    result = run(pytester, '''
def test_files(modelarts_sim):
    assert modelarts_sim.sim.settings.trace_retention_days == 2
    assert modelarts_sim.lifecycle()["datasets"]["dwell"]["dataset_create"] == 9.0
    assert (modelarts_sim.user, modelarts_sim.project_id) == (
        "peter", "abcdef0123456789abcdef0123456789")
    assert modelarts_sim.get("/v2/{project_id}/datasets").status_code == 200
''')
    result.assert_outcomes(passed=1)


# -- in process ---------------------------------------------------------------------------------

def test_the_in_process_fixture(pytester):
    result = run(pytester, '''
from flask.testing import FlaskClient

def test_in_process(modelarts_sim_app):
    assert modelarts_sim_app.endpoint is None
    assert isinstance(modelarts_sim_app.client, FlaskClient)
    assert modelarts_sim_app.app.extensions["modelarts_sim"] is modelarts_sim_app.sim
    assert not [t for t in threading.enumerate() if t.name.startswith("modelarts-sim")]
    create(modelarts_sim_app)
    modelarts_sim_app.assert_traced(trace_name="createDataset", resource_name="flowers")
    auditor = modelarts_sim_app.as_user("auditor")
    for n in range(201):  # more than one page of ListTraces
        assert auditor.post(DS, {"dataset_name": "n%%d" %% n}).status_code == 403
    traces = modelarts_sim_app.traces()
    assert len(traces) == 202 and traces[-1]["resource_name"] == "flowers"
    assert len({t["trace_id"] for t in traces}) == 202
    assert len(modelarts_sim_app.traces(limit=201)) == 201
    modelarts_sim_app.advance(30)
    with pytest.raises(RuntimeError, match="no endpoint"):
        modelarts_sim_app.cts_client()

def test_reset_in_process_too(modelarts_sim_app):
    assert modelarts_sim_app.traces() == []
    assert abs(modelarts_sim_app.clock()["now"] - time.time() * 1000) < 5000
'''.replace("%%", "%"))
    result.assert_outcomes(passed=2)


# -- faults and snapshots (the controls other parts of the simulator serve) ---------------------

@pytest.mark.skipif(not HAS_FAULTS, reason="this simulator has no /_sim/faults yet")
def test_faults(pytester):
    result = run(pytester, '''
from simulator.testing import SimulatorError

def test_fault_helpers(modelarts_sim):
    fault = modelarts_sim.fault(operation="CreateDataset", status=503, count=2)
    assert fault.id and fault.rule["status"] == 503
    assert [f["id"] for f in modelarts_sim.faults()] == [fault.id]
    modelarts_sim.put_object("/acme-data/in/a.jpg", b"x")
    body = {"dataset_name": "d", "work_path": "/acme-data/out/", "work_path_type": 0,
            "data_sources": [{"data_path": "/acme-data/in/"}]}
    assert modelarts_sim.post(DS, body).status_code == 503
    modelarts_sim.assert_traced(trace_name="createDataset", code=503, rating="incident")
    assert fault.remove() is True
    assert fault.remove() is False  # gone already
    assert modelarts_sim.post(DS, body).status_code == 201
    with modelarts_sim.fault(operation="ListTraces", status=429):
        # the code under test is throttled; the helper's own reads are not
        assert modelarts_sim.get("/v3/{project_id}/traces").status_code == 429
        assert len(modelarts_sim.traces()) == 2
    assert modelarts_sim.get("/v3/{project_id}/traces").status_code == 200
    modelarts_sim.fault(operation="CreateDataset", status=500)
    modelarts_sim.fault(operation="DeleteDataset", status=500)
    modelarts_sim.clear_faults()
    assert modelarts_sim.faults() == []
    with pytest.raises(SimulatorError, match="POST /_sim/faults refused \\\\(400\\\\)"):
        modelarts_sim.fault(operation="CreateDataset", colour="red")
''')
    result.assert_outcomes(passed=1)


@pytest.mark.skipif(not HAS_SNAPSHOT, reason="this simulator has no /_sim/snapshot yet")
def test_snapshot_and_restore(pytester):
    result = run(pytester, '''
def test_round_trip(modelarts_sim, tmp_path):
    ds = create(modelarts_sim)
    saved = modelarts_sim.snapshot()
    assert isinstance(saved, bytes) and saved
    path = modelarts_sim.snapshot(tmp_path / "state.snap")
    assert path.read_bytes()[:20] == saved[:20]
    before = modelarts_sim.traces()
    modelarts_sim.reset()
    assert modelarts_sim.traces() == []
    modelarts_sim.restore(path)
    assert modelarts_sim.traces() == before
    assert modelarts_sim.get(DS + "/" + ds["dataset_id"]).status_code == 200
    modelarts_sim.reset()
    modelarts_sim.restore(saved)
    assert modelarts_sim.traces() == before
''')
    result.assert_outcomes(passed=1)


def test_helper_requests_against_the_contract(monkeypatch):
    """What fault(), snapshot() and restore() send, whatever the simulator answers."""
    from simulator.identity.accounts import Directory
    from simulator.testing.client import ModelArtsSim, SimResponse

    sent = []

    class Recorder:
        endpoint, sim = "http://sim", None

        def send(self, method, target, body=b"", headers=None):
            sent.append((method, target, body, (headers or {}).get("Content-Type")))
            if target == "/_sim/faults" and method == "POST":
                return SimResponse(201, {}, b'{"faults": [{"id": "fault-7", "status": 429}]}')
            if target == "/_sim/snapshot":
                return SimResponse(200, {}, b"SNAP")
            return SimResponse(200, {}, b"{}")

    helper = ModelArtsSim(Recorder(), Directory.load(), "cn-north-4")
    fault = helper.fault(operation="ListTraces", status=429, count=1)
    assert (fault.id, fault.rule) == ("fault-7", {"id": "fault-7", "status": 429})
    fault.remove()
    helper.clear_faults()
    assert helper.snapshot() == b"SNAP"
    helper.restore(b"SNAP")
    assert sent == [
        ("POST", "/_sim/faults", b'{"operation":"ListTraces","status":429,"count":1}',
         "application/json"),
        ("DELETE", "/_sim/faults/fault-7", b"", "application/json"),
        ("DELETE", "/_sim/faults", b"", "application/json"),
        ("POST", "/_sim/snapshot", b"", "application/json"),
        ("POST", "/_sim/restore", b"SNAP", "application/octet-stream"),
    ]


# -- the example in docs/testing.md -------------------------------------------------------------

def test_the_docs_example_runs(pytester):
    pytester.makepyfile(test_audit_collector=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider",
                                           "-v", timeout=TIMEOUT)
    result.assert_outcomes(passed=7)


def test_the_docs_page_shows_the_example_whole():
    page = (ROOT / "docs" / "testing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert EXAMPLE.read_text() in blocks


@pytest.mark.skipif(not HAS_FAULTS, reason="this simulator has no /_sim/faults yet")
def test_the_docs_fault_examples_are_rules_the_simulator_takes():
    from simulator.app import create_app
    page = (ROOT / "docs" / "testing.md").read_text()
    calls = re.findall(r"modelarts_sim\.fault\((.+?)\)(?:\s*#.*)?:?$", page, re.M)
    assert len(calls) >= 8
    app = create_app(Settings(port=0))
    try:
        http = app.test_client()
        for args in calls:
            rule = eval("dict(%s)" % args)  # noqa: S307  the page's own text
            resp = http.post("/_sim/faults", json=rule)
            assert resp.status_code == 201, (args, resp.json)
    finally:
        app.extensions["modelarts_sim"].close()


def test_a_dropped_call_in_process_is_a_simulator_error(pytester):
    result = run(pytester, '''
import pytest
from simulator.testing import SimulatorError

def test_drop(modelarts_sim_app):
    modelarts_sim_app.fault(operation="ListTraces", drop=True, count=1)
    with pytest.raises(SimulatorError, match="dropped by an injected fault"):
        modelarts_sim_app.get("/v3/{project_id}/traces")
    assert modelarts_sim_app.get("/v3/{project_id}/traces").status_code == 200
''')
    result.assert_outcomes(passed=1)
