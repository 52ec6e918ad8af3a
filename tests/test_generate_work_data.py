"""The data and serving workflows of the generator (simulator/generate/work/: datasets,
labelling, models, services, services_v2, authorizations and pools), run on a small
organisation against the real handlers: every operation these families cover is traced once
a window by the chores, calls meant to succeed are rated normal and slips are 4xx warnings,
no resource is used outside its life, runs repeat by seed, and what a team keeps stays
bounded however long the run."""

import random

import pytest

from simulator import catalog
from simulator.generate import engine, org
from simulator.generate.work import (authorizations, datasets, labelling, models, pools,
                                     services, services_v2, training_v2)
from tests.generate_work import START_MS, OneTeam, mistake_rate, tables_of

FAMILIES = (datasets, labelling, models, services, services_v2, authorizations, pools)
ROUTINES, CHORES = tables_of(FAMILIES)
COVERED = (
    "CreateDataset", "UpdateDataset", "DeleteDataset", "CreateDatasetVersion",
    "DeleteDatasetVersion", "SyncDataSource", "CreateExportTask", "CreateImportTask",
    "CreateLabels", "UpdateLabels", "UpdateLabel", "DeleteLabels", "DeleteLabelAndSamples",
    "UploadSamples", "DeleteSamples",
    "CreateModel", "UpdateModel", "DeleteModel",
    "CreateConversionTask", "UpdateConversionTask", "DeleteConversionTask",
    "CreateService", "UpdateService", "StartOrStopService", "DeleteService",
    "CreateInferService", "UpdateInferService", "StopInferService", "StartInferService",
    "BatchDeleteInferServices",
    "CreateAuthorization", "DeleteAuthorizations",
    "CreateCluster", "CreateClusterResult", "AddClusterNodes", "DeleteClusterNodes",
    "DeleteCluster", "CreatePool", "PatchPool", "DeletePool", "ListPools", "ShowPool",
)
EXPECTED_NAMES = {catalog.BY_ID[op].trace_name for op in COVERED}
# trace name -> "create" | "delete" for the resources whose life test_resource_lives follows
LIFE = {"createDataset": "create", "deleteDataset": "delete", "addModel": "create",
        "deleteModel": "delete", "addConvert": "create", "deleteConvert": "delete",
        "addService": "create", "deleteService": "delete", "CreateServiceV2": "create",
        "DeleteServiceV2": "delete", "addAkSk": "create", "deleteAkSk": "delete",
        "createCluster": "create", "deleteCluster": "delete", "CreatePool": "create",
        "DeletePool": "delete"}


@pytest.fixture
def careful(monkeypatch):
    mistake_rate(monkeypatch, FAMILIES, 0.0)


@pytest.fixture
def clumsy(monkeypatch):
    mistake_rate(monkeypatch, FAMILIES, 1.0)


class World(OneTeam):
    """One team of a small organisation, its bucket filled, on a run of `days` days."""

    def __init__(self, seed: int = 7, days: int = 2):
        super().__init__(seed, seed, days)
        self.seed = seed
        self._actors = {}

    def actor(self, role: str) -> engine.Actor:
        if role not in self._actors:
            people = {"admin": self.org.admins, "auditor": self.org.auditors}.get(role) or \
                self.team.with_role(role)
            self._actors[role] = engine.Actor(self.run, people[0], address="10.0.0.%d" % (
                len(self._actors) + 1))
        return self._actors[role]

    def spawn(self, role: str, workflow, at_ms: int, key) -> None:
        rng = random.Random("%s-%s" % (self.seed, key))
        self.run.spawn(at_ms, workflow(self.actor(role), self.work, rng))

    def chores(self, day: int = 0) -> None:
        """The chores of a window, each started on the morning of `day` (09:00 UTC)."""
        for i, (role, chore) in enumerate(CHORES):
            self.spawn(role, chore, START_MS + day * engine.DAY_MS + 9 * engine.HOUR_MS
                       + i * 60_000, ("chore", day, i))

    def routines(self, days: range, per_role_day: int = 6) -> None:
        """Routines drawn by weight, at working hours, for each role on each day."""
        draw = random.Random("routines-%d" % self.seed)
        for day in days:
            for role, choices in ROUTINES.items():
                weights = [w for w, _ in choices]
                for n in range(per_role_day):
                    workflow = draw.choices([f for _, f in choices], weights)[0]
                    at = START_MS + day * engine.DAY_MS + int(
                        (8 + draw.random() * 9) * engine.HOUR_MS)
                    self.spawn(role, workflow, at, ("routine", day, role, n))

    def go(self) -> list:
        self.run.run()
        return self.records


def _names(records) -> set:
    return {r["trace_name"] for r in records}


# -- the module's shape ---------------------------------------------------------------------------

def test_chores_and_routines_name_org_roles():
    assert all(role in org.ROLES and callable(fn) for role, fn in CHORES)
    for role, choices in ROUTINES.items():
        assert role in org.ROLES
        assert all(isinstance(w, int) and w > 0 and callable(fn) for w, fn in choices)
    assert "auditor" not in {role for role, _ in CHORES}  # auditors only read


# -- coverage and outcomes -----------------------------------------------------------------------

def test_chores_trace_every_covered_operation_within_a_working_day(careful):
    world = World(days=2)
    world.chores()
    records = world.go()
    assert EXPECTED_NAMES <= _names(records), EXPECTED_NAMES - _names(records)
    assert max(r["time"] for r in records) - (START_MS + 9 * engine.HOUR_MS) \
        < 9 * engine.HOUR_MS
    system = [r for r in records if r["trace_name"] == "createClusterResult"]
    assert system and all(r["trace_type"] == "SystemAction" for r in system)


def test_chores_cover_every_operation_whatever_the_seed(careful):
    for seed in (11, 12, 13):
        world = World(seed=seed, days=1)
        world.chores()
        names = _names(world.go())
        assert EXPECTED_NAMES <= names, (seed, EXPECTED_NAMES - names)


def test_calls_meant_to_succeed_are_rated_normal(careful):
    world = World(days=4)
    world.chores()
    world.routines(range(3), per_role_day=10)
    records = world.go()
    assert len(records) > 200
    refused = [(r["trace_name"], r["code"], r["response"]) for r in records
               if r["trace_rating"] != "normal"]
    assert refused == []
    assert EXPECTED_NAMES <= _names(records)


def test_slips_are_warnings_and_the_work_goes_on(clumsy):
    world = World(days=4)
    world.chores()
    world.routines(range(3), per_role_day=10)
    for i in range(6):  # services to reuse the name of
        world.spawn("ml-engineer", services.deploy_service,
                    START_MS + engine.DAY_MS + i * engine.HOUR_MS, ("deploy", i))
    records = world.go()
    slips = [r for r in records if r["trace_rating"] != "normal"]
    assert len(slips) > 10
    assert all(r["trace_rating"] == "warning" and 400 <= int(r["code"]) < 500
               for r in slips)
    assert {r["trace_name"] for r in slips} >= {
        "createDataset", "uploadSamples", "addModel", "addService", "startOrStopService",
        "CreateServiceV2", "addAkSk", "addClusterNode", "CreatePool"}
    assert EXPECTED_NAMES <= {r["trace_name"] for r in records
                              if r["trace_rating"] == "normal"}


def test_resource_lives(careful):
    """No resource is named by a trace before the trace that created it nor after the one
    that deleted it; a model delete really deletes."""
    world = World(days=5)
    world.chores()
    world.chores(day=2)
    world.routines(range(4))
    records = world.go()
    alive: dict[str, bool] = {}
    for r in records:
        rid, life = r["resource_id"], LIFE.get(r["trace_name"])
        if not rid:
            continue
        if life == "create":
            assert not alive.get(rid), ("created twice", r["trace_name"], rid)
            alive[rid] = True
        elif life == "delete":
            assert alive.get(rid), ("deleted while not alive", r["trace_name"], rid)
            alive[rid] = False
        elif r["trace_name"] in LIFE or rid in alive:
            assert alive.get(rid), ("used outside its life", r["trace_name"], rid)
        if r["trace_name"] == "deleteModel":
            assert '"delete_failed_list":[]' in r["response"]
    assert any(not v for v in alive.values()) and any(alive.values())


# -- determinism ---------------------------------------------------------------------------------

def _one_run(seed: int) -> list:
    world = World(seed=seed, days=3)
    world.chores()
    world.routines(range(2))
    return world.go()


def test_same_seed_same_records_other_seed_other_records():
    first, again, other = _one_run(7), _one_run(7), _one_run(8)
    assert first == again
    assert [r["trace_name"] for r in first] != [r["trace_name"] for r in other] or \
        first != other
    assert first != other


# -- what the scenarios use ------------------------------------------------------------------------

def test_sensitive_dataset_is_registered_for_the_scenarios(careful):
    world = World(days=1)
    found = []

    def scenario(actor, work, rng):
        found.append((yield from datasets.sensitive_dataset(actor, work, rng)))

    world.run.spawn(START_MS, scenario(world.actor("ml-engineer"), world.work,
                                       random.Random(3)))
    records = world.go()
    ds = found[0]
    assert ds["sensitive"] and not ds["busy"]
    assert ds["name"].startswith(("customer-", "patient-"))
    assert world.work.pick("dataset", random.Random(1), sensitive=True) is ds
    created = [r for r in records if r["trace_name"] == "createDataset"]
    assert [(r["resource_id"], r["resource_name"], r["trace_rating"]) for r in created] == [
        (ds["id"], ds["name"], "normal")]


def test_models_come_from_completed_training_output(careful):
    world = World(days=1)
    output = world.work.output()
    for name in ("model/config.json", "model/model.pth"):
        world.run.sim.obs_files.write(output + name, b"{}")
    world.work.add(training_v2.TRAINING_V2, "job-1", output=output, outcome="completed",
                   ends_ms=START_MS - 1)
    for i in range(6):
        world.spawn("ml-engineer", models.import_model, START_MS + i * engine.HOUR_MS, i)
    records = world.go()
    sources = [r["request"] for r in records if r["trace_name"] == "addModel"]
    assert any(output + "model/" in s and '"source_job_id":"job-1"' in s for s in sources)
    assert all(r["trace_rating"] == "normal" for r in records)


def test_admin_works_in_the_team_project(careful):
    world = World(days=1)
    world.spawn("admin", authorizations.access_keys_week, START_MS, "keys")
    records = world.go()
    assert [r["trace_name"] for r in records] == ["addAkSk", "deleteAkSk", "addAkSk"]
    assert {r["project_id"] for r in records} == {world.team.project.id}
    assert all(r["user"]["name"] == world.org.admins[0].name for r in records)


# -- bounded -------------------------------------------------------------------------------------

def _state(world, family: str):
    return world.run.sim.state(family, world.team.project.id)


def test_what_a_team_keeps_stays_bounded(careful):
    world = World(days=16)
    for week in (0, 7, 14):
        world.chores(day=week)
    world.routines(range(14), per_role_day=8)
    records = world.go()
    work = world.work
    caps = {"dataset": datasets.MAX_DATASETS, "model": models.MAX_MODELS,
            "conversion": models.MAX_CONVERSIONS, "service": services.MAX_SERVICES,
            "service_v2": services_v2.MAX_INFER_SERVICES, "cluster": pools.MAX_CLUSTERS + 1,
            "pool": pools.MAX_POOLS + 1,
            "authorization": len(authorizations._key_holders(work))}
    for kind, cap in caps.items():
        assert work.count(kind) <= cap, (kind, work.count(kind))
    # the simulator holds what the team's registry says, nothing left behind
    now = world.run.now_ms()
    assert set(_state(world, "datasets").datasets) == set(work.assets.get("dataset", {}))
    assert set(_state(world, "models").models) == set(work.assets.get("model", {}))
    assert set(_state(world, "conversions").tasks) == set(work.assets.get("conversion", {}))
    assert set(_state(world, "services").services) == set(work.assets.get("service", {}))
    assert set(_state(world, "services_v2").services) == set(work.assets.get("service_v2", {}))
    assert set(_state(world, "clusters").clusters) == set(work.assets.get("cluster", {}))
    assert set(_state(world, "pools").live(now)) == set(work.assets.get("pool", {}))
    assert set(_state(world, "authorizations").authorizations) == set(
        work.assets.get("authorization", {}))
    for ds in _state(world, "datasets").datasets.values():
        assert len(ds.versions) <= datasets.MAX_VERSIONS + 1 and len(ds.samples) < 100
    for facts in work.assets.get("dataset", {}).values():
        assert len(facts["uploads"]) <= labelling.MAX_UPLOADS
        assert len(facts["extra"]) <= labelling.MAX_EXTRA_LABELS + 2
    objects = len(world.run.sim.obs_files.objects(work.path("")))
    assert objects < 800, objects
    assert len(records) > 1000
