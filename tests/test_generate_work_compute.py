"""The compute workflows of the generator (simulator/generate/work/: devenviron, notebooks,
training_v1 and training_v2): every operation they cover is traced with its catalog trace
name, calls meant to succeed are rated normal, no resource is used before its create or after
its delete, runs are deterministic, and the live set stays bounded."""

import random

import pytest

from simulator import catalog
from simulator.generate import engine, org
from simulator.generate.work import devenviron, notebooks, training_v1, training_v2
from tests.generate_work import START_MS as START, OneTeam, mistake_rate, tables_of

FAMILIES = (devenviron, notebooks, training_v1, training_v2)
ROUTINES, CHORES = tables_of(FAMILIES)
HOUR_MS = engine.HOUR_MS
COVERED = (
    "CreateDevEnvInstance", "StartDevEnvInstance", "StopDevEnvInstance", "DeleteDevEnvInstance",
    "CreateNotebook", "StartNotebook", "StopNotebook", "UpdateNotebook", "DeleteNotebook",
    "ShowNotebook", "ListNotebooks",
    "CreateTrainingJob", "CreateTrainingJobVersion", "StopTrainingJobVersion",
    "UpdateTrainingJobDescription", "DeleteTrainingJobVersion", "DeleteTrainingJob",
    "CreateTrainingJobConfig", "UpdateTrainingJobConfig", "DeleteTrainingJobConfig",
    "CreateVisualizationJob", "UpdateVisualizationJobDescription", "StopVisualizationJob",
    "RestartVisualizationJob", "DeleteVisualizationJob",
    "CreateTrainingJobV2", "ChangeTrainingJobDescription", "StopTrainingJobV2",
    "CreateTrainingJobTags", "DeleteTrainingJobTags", "DeleteTrainingJobV2",
    "BatchDeleteTrainingJobs",
)
CREATES = {"CreateDevEnvInstance", "CreateNotebook", "CreateTrainingJob",
           "CreateTrainingJobConfig", "CreateVisualizationJob", "CreateTrainingJobV2"}
DELETES = {"DeleteDevEnvInstance", "DeleteNotebook", "DeleteTrainingJob",
           "DeleteTrainingJobConfig", "DeleteVisualizationJob", "DeleteTrainingJobV2",
           "BatchDeleteTrainingJobs"}


class Harness(OneTeam):
    def __init__(self, seed=7, days=2):
        super().__init__(7, seed, days)

    def actor(self, role="ml-engineer", i=0, via="api"):
        person = self.team.with_role(role)[i]
        return engine.Actor(self.run, person, address="10.0.0.%d" % (i + 1), via=via)

    def spawn(self, at_ms, workflow, seed, role="ml-engineer", i=0, via="api", **kw):
        self.run.spawn(at_ms, workflow(self.actor(role, i, via), self.work,
                                       random.Random(seed), **kw))

    def office_start(self, day, role="ml-engineer", i=0):
        """When the person's working day starts (UTC ms), on the window's day `day`."""
        person = self.team.with_role(role)[i]
        midnight = START - START % engine.DAY_MS + day * engine.DAY_MS
        at = midnight - person.utc_offset_h * HOUR_MS + int(person.work_start_h * HOUR_MS)
        return at if at >= START else at + engine.DAY_MS

    def by_operation(self):
        found = {}
        for rec in self.records:
            found.setdefault(rec["operation_id"], []).append(rec)
        return found


def everything(h, seed=1):
    """Every chore once, every routine on two days, and a few CI pipelines."""
    for n, (role, chore) in enumerate(CHORES):
        h.spawn(START + n * 60_000, chore, seed * 1000 + n, role)
    for day in range(2):
        at = START + day * engine.DAY_MS + HOUR_MS
        for role, table in ROUTINES.items():
            people = len(h.team.with_role(role))
            for n, (_, routine) in enumerate(table):
                h.spawn(at + n * 600_000, routine, seed * 1000 + 100 * day + n + 50, role,
                        n % people)
        for n in range(3):  # each engineer's day in their notebook, one of them on the console
            h.spawn(at, notebooks.notebook_workday, seed * 1000 + 10 * day + n + 500,
                    "ml-engineer", n, "console" if n == 2 else "api")
        for n in range(4):
            h.spawn(at + n * 1_200_000, training_v2.ci_pipeline,
                    seed * 1000 + 10 * day + n + 700, "ci-robot")
    h.run.run()
    return h.records


@pytest.fixture
def careful(monkeypatch):
    mistake_rate(monkeypatch, FAMILIES, 0.0)


def test_chores_alone_trace_every_covered_operation_with_its_trace_name(careful):
    h = Harness()
    for n, (role, chore) in enumerate(CHORES):
        assert role in org.ROLES
        h.spawn(START + n * 60_000, chore, n, role)
    h.run.run()
    found = h.by_operation()
    missing = [op for op in COVERED if op not in found]
    assert not missing
    for op in COVERED:
        assert {r["trace_name"] for r in found[op]} == {catalog.BY_ID[op].trace_name}
    assert {r["trace_name"] for r in h.records} >= {
        "create_instance", "change_instance_status", "delete_instance", "createNotebook",
        "startNotebook", "stopNotebook", "updateNotebook", "deleteNotebook", "getNotebook",
        "listNotebook", "createModelArtsTrainJob", "createModelArtsTrainVersion",
        "stopModelArtsTrainVersion", "updateModelArtsTrainDesc", "deleteModelArtsTrainVersion",
        "deleteModelArtsTrainJob", "createModelArtsTrainConfig", "updateModelArtsTrainConfig",
        "deleteModelArtsTrainConfig", "createModelArtsTensorboardJob",
        "updateModelArtsTensorboardDesc", "stopModelArtsTensorboardJob",
        "restartModelArtsgTensorboardJob", "deleteModelArtsTensorboardJob", "CreateJobV2",
        "UpdateJobV2", "StopJobV2", "CreateJobTags", "DeleteJobTags", "DeleteJobV2"}


def test_chores_fit_in_a_working_day(careful):
    h = Harness()
    for n, (role, chore) in enumerate(CHORES):
        h.spawn(START, chore, n + 10, role)
    h.run.run()
    assert max(r["time"] for r in h.records) - START < 10 * HOUR_MS


def test_every_call_meant_to_succeed_is_normal(careful):
    h = Harness()
    records = everything(h)
    assert len(records) > 100
    bad = [(r["operation_id"], r["code"], r["response"]) for r in records
           if r["trace_rating"] != "normal"]
    assert not bad
    assert {r["operation_id"] for r in records} >= set(COVERED)


def test_no_resource_is_used_before_its_create_or_after_its_delete():
    h = Harness(seed=11)
    records = everything(h, seed=3)
    born, gone = {}, {}
    for i, rec in enumerate(records):
        key = (rec["resource_type"], rec["resource_id"])
        if rec["trace_rating"] == "normal" and rec["operation_id"] in CREATES:
            assert key not in born, key  # ids are never reused
            born[key] = i
        if rec["trace_rating"] == "normal" and rec["operation_id"] in DELETES:
            gone[key] = i
    assert gone
    for i, rec in enumerate(records):
        key = (rec["resource_type"], rec["resource_id"])
        if not rec["resource_id"]:
            continue
        assert key in born and born[key] <= i, (rec["operation_id"], key)
        assert gone.get(key, i) >= i, (rec["operation_id"], key)


def test_same_seed_same_records_other_seed_other_records():
    first = everything(Harness(seed=5), seed=2)
    again = everything(Harness(seed=5), seed=2)
    other = everything(Harness(seed=5), seed=9)
    assert first == again
    assert [(r["operation_id"], r["time"]) for r in first] != [
        (r["operation_id"], r["time"]) for r in other]


def test_mistakes_are_refused_as_warnings_and_the_work_goes_on(monkeypatch):
    mistake_rate(monkeypatch, FAMILIES, 1.0)
    h = Harness()
    everything(h, seed=4)
    warnings = [r for r in h.records if r["trace_rating"] == "warning"]
    assert {r["operation_id"] for r in warnings} >= {
        "CreateDevEnvInstance", "CreateTrainingJob", "CreateTrainingJobConfig",
        "CreateVisualizationJob", "StartNotebook"}
    assert all(r["code"].startswith("4") for r in warnings)
    assert all(r["trace_rating"] != "incident" for r in h.records)
    found = h.by_operation()
    assert all(op in found for op in COVERED)


def test_ci_pipeline_has_a_fixed_number_of_normal_traces_and_no_reads():
    h = Harness(days=1)
    runs = 12
    for n in range(runs):
        h.spawn(START + n * 300_000, training_v2.ci_pipeline, n, "ci-robot")
    h.run.run()
    assert len(h.records) == runs * training_v2.CI_PIPELINE_TRACES
    assert all(r["trace_rating"] == "normal" for r in h.records)
    assert not any(r["read_only"] for r in h.records)
    assert [r["operation_id"] for r in h.records if r["operation_id"] != "CreateTrainingJobV2"]
    assert h.work.count(training_v2.TRAINING_V2) == 0


def test_notebook_workday_starts_in_the_morning_and_stops_in_the_evening(careful, monkeypatch):
    monkeypatch.setattr(notebooks, "FORGET_RATE", 0.0)
    h = Harness(days=4)
    for day in range(3):
        h.spawn(h.office_start(day), notebooks.notebook_workday, day, via="console")
    h.run.run()
    ops = [(r["operation_id"], r["time"]) for r in h.records
           if r["operation_id"] in ("CreateNotebook", "StartNotebook", "StopNotebook")]
    names = [op for op, _ in ops]
    assert names[:2] == ["CreateNotebook", "StopNotebook"]
    assert names[2:] == ["StartNotebook", "StopNotebook"] * 2
    person = h.team.with_role("ml-engineer")[0]
    day_ms = (person.work_end_h - person.work_start_h) * HOUR_MS
    for (_, morning), (_, evening) in zip(ops[::2], ops[1::2]):
        assert day_ms - HOUR_MS < evening - morning < day_ms + HOUR_MS
    assert {"ListNotebooks", "ShowNotebook"} <= {r["operation_id"] for r in h.records}
    assert all(r["trace_rating"] == "normal" for r in h.records)
    assert h.work.count(notebooks.NOTEBOOK) <= 1


def test_a_forgotten_notebook_is_stopped_by_its_lease_and_started_next_morning(careful,
                                                                               monkeypatch):
    monkeypatch.setattr(notebooks, "FORGET_RATE", 1.0)
    h = Harness(days=2)
    for day in range(2):
        h.spawn(START + day * engine.DAY_MS, notebooks.notebook_workday, day)
    h.run.run()
    names = [r["operation_id"] for r in h.records if r["operation_id"] != "ShowNotebook"]
    assert names == ["CreateNotebook", "StartNotebook"]
    assert all(r["trace_rating"] == "normal" for r in h.records)


def test_training_jobs_stay_bounded_and_are_deleted_in_batches(careful):
    h = Harness(days=6)
    for n in range(60):
        h.spawn(START + n * 2 * HOUR_MS, training_v2.train_model, n, i=n % 3)
    h.run.run()
    found = h.by_operation()
    assert "BatchDeleteTrainingJobs" in found
    assert h.work.count(training_v2.TRAINING_V2) <= training_v2.V2_KEEP + 2
    assert all(r["trace_rating"] == "normal" for r in h.records)
    outcomes = {f["outcome"] for f in h.work.assets[training_v2.TRAINING_V2].values()}
    assert outcomes <= {"completed", "stopped"}


def test_a_failing_training_job_is_created_normally_and_deleted(careful, monkeypatch):
    monkeypatch.setattr(training_v2, "BROKEN_DATA_RATE", 1.0)
    h = Harness(days=1)
    h.spawn(START, training_v2.train_model, 3)
    h.run.run()
    created = h.by_operation()["CreateTrainingJobV2"][0]
    assert created["code"] == "201" and "data/trian/" in created["request"]
    job_id = created["resource_id"]
    job = h.run.sim.state("training_v2", h.team.project.id).jobs.get(job_id)
    if job is not None:  # stopped early and kept: it never reached its end
        assert job.progress.final == "Terminated"
    else:
        assert h.by_operation()["DeleteTrainingJobV2"][0]["resource_id"] == job_id


def test_night_training_runs_a_large_gpu_job_on_a_pool():
    h = Harness(days=1)
    result = {}

    def scenario(actor, work, rng):
        result["job"] = yield from training_v2.night_training(actor, work, rng,
                                                              pool_id="pool-gpu-a1")

    h.spawn(START + 22 * HOUR_MS, scenario, 1)
    h.run.run()
    (rec,) = h.records
    assert rec["operation_id"] == "CreateTrainingJobV2" and rec["trace_rating"] == "normal"
    assert '"pool_id":"pool-gpu-a1"' in rec["request"]
    assert '"flavor_id":"%s"' % training_v2.GPU_FLAVOR in rec["request"]
    job = result["job"]
    assert job["id"] == rec["resource_id"] and not job["busy"]
    assert job["ends_ms"] <= h.run.now_ms()
    assert h.work.pick(training_v2.TRAINING_V2, random.Random(1), outcome="completed") is job


def test_a_completed_job_leaves_a_model_under_its_registered_output(careful):
    h = Harness(days=1)
    h.spawn(START, training_v2.night_training, 2)
    h.run.run()
    (job,) = h.work.assets[training_v2.TRAINING_V2].values()
    assert h.run.sim.obs_files.exists(job["output"] + "model/config.json")


def test_a_notebook_started_after_lunch_is_stopped_when_its_owner_leaves(careful, monkeypatch):
    monkeypatch.setattr(notebooks, "FORGET_RATE", 0.0)
    h = Harness(days=3)
    h.spawn(h.office_start(0) + 5 * HOUR_MS, notebooks.notebook_workday, 4)
    h.run.run()
    person = h.team.with_role("ml-engineer")[0]
    leaves = h.office_start(0) + int((person.work_end_h - person.work_start_h) * HOUR_MS)
    (stop,) = [r for r in h.records if r["operation_id"] == "StopNotebook"]
    assert abs(stop["time"] - leaves) < HOUR_MS
