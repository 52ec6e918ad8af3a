"""Labelled scenarios: sequences of real calls that a detection rule should (or, for noisy-ci,
should not) flag, mixed into the ordinary week. Each one's traces are labelled in labels.jsonl;
its instance (who, from where, with which key, when) goes to scenarios.jsonl.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from simulator.generate import plan as planmod
from simulator.generate.engine import DAY_MS, HOUR_MS, Actor, Label
from simulator.generate.org import CLI_AGENTS
from simulator.generate.work.common import MINUTE
from simulator.generate.work.notebooks import notebook_body
from simulator.generate.work.pools import pool_body
from simulator.identity.accounts import Credential

ATTACKER_AGENT = "python-requests/2.32.3"
GPU_POOL_FLAVOR = "modelarts.vm.gpu.t4u8"


@dataclass
class Instance:
    """One scenario as it was laid out: labels.jsonl's traces of it fall inside its window."""
    scenario: str
    actor: str
    user_id: str
    access_key_ids: list[str]  # the keys its calls are made with
    networks: list[str]  # the networks they come from
    start_ms: int
    end_ms: int
    is_malicious: bool
    team: str
    details: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scenario:
    name: str
    malicious: bool
    summary: str
    lay_out: object  # (plan, rng) -> Instance


def _day(plan, rng: random.Random, last: bool = False) -> int:
    """A day of the window (UTC midnight): not the first when there is more than one, so the
    ordinary week has made resources to find."""
    days = plan.days[1:] or plan.days
    return days[-1] if last else rng.choice(days)


def _at(persona, day_ms: int, local_hour: float) -> int:
    return planmod.local_day_start(persona, day_ms) + int(local_hour * HOUR_MS)


def _inside(plan, at_ms: int, duration_ms: int) -> int:
    """A start that keeps the scenario's window inside the run's: moved by whole days (the
    local hour stays) while it can be, else clamped to the run's start."""
    start, end = plan.run.start_ms, plan.run.end_ms
    while at_ms + duration_ms > end and at_ms - DAY_MS >= start:
        at_ms -= DAY_MS
    while at_ms < start and at_ms + DAY_MS + duration_ms <= end:
        at_ms += DAY_MS
    return max(start, min(at_ms, end - duration_ms))


def _label(name: str, persona, malicious: bool, step: str) -> Label:
    return Label(name, step, persona.name, malicious)


def _ids(reply, key: str, field_name: str = "id") -> list[str]:
    body = reply.body if isinstance(reply.body, dict) else {}
    items = body.get(key) or []
    return [item.get(field_name) for item in items if isinstance(item, dict)]


def _take_all(work, kind: str) -> list[dict]:
    taken = []
    for facts in list(work.assets.get(kind, {}).values()):
        if not facts.get("busy"):
            facts["busy"] = True
            taken.append(facts)
    return taken


# -- leaked-key ------------------------------------------------------------------------------

def _leaked_key(plan, rng) -> Instance:
    team = rng.choice(plan.org.teams)
    victim = rng.choice(team.with_role("ml-engineer"))
    network = rng.choice(plan.org.foreign_networks)
    day = _day(plan, rng)
    start = _inside(plan, _at(victim, day, rng.uniform(1.5, 3.5)), 4 * HOUR_MS)
    work = plan.work[team.name]

    def task():
        prep = Actor(plan.run, victim, address=victim.networks[0].address(rng), via="api")
        reply = prep.call("CreateNotebook", notebook_body(work.name("nb-exp"), "modelarts.vm.cpu.2u"))
        if reply.status == 200:
            work.add("notebook", reply.body["id"], name=reply.body["name"])
        yield max(1.0, (start - plan.run.now_ms()) / 1000.0)
        actor = Actor(plan.run, victim, address=network.address(rng), via="api",
                      user_agent=ATTACKER_AGENT,
                      label=_label("leaked-key", victim, True, "enumeration"))
        listed = actor.call("ListAllNotebooks")
        yield rng.uniform(2, 8)
        actor.call("ListNotebooks")
        yield rng.uniform(2, 8)
        pools = actor.call("ListPools")
        for pool in _ids_of_pools(pools)[:3]:
            yield rng.uniform(1, 4)
            actor.call("ShowPool", pool_name=pool)
        yield rng.uniform(30, 120)
        actor.step("mass-deletion")
        found = set(_ids(listed, "data"))
        for facts in _take_all(work, "notebook"):
            if facts["id"] in found:
                actor.call("DeleteNotebook", id=facts["id"])
                work.remove("notebook", facts["id"])
            else:
                work.release(facts)
            yield rng.uniform(1, 5)
        for kind, operation, key in _DELETIONS:
            for facts in _take_all(work, kind):
                actor.call(operation, **{key: facts["id"]})
                work.remove(kind, facts["id"])
                yield rng.uniform(1, 5)

    plan.run.spawn(min(_at(victim, day - DAY_MS, 15.0), start - HOUR_MS), task())
    return Instance("leaked-key", victim.name, victim.user.id, [victim.access_key],
                    [network.cidr], start, start + 4 * HOUR_MS, True, team.name,
                    {"country": network.country, "user_agent": ATTACKER_AGENT})


def _ids_of_pools(reply) -> list[str]:
    body = reply.body if isinstance(reply.body, dict) else {}
    return [item["metadata"]["name"] for item in body.get("items") or []
            if isinstance(item, dict) and isinstance(item.get("metadata"), dict)]


# (registry kind, delete operation, its id parameter): what a destructive caller removes
_DELETIONS = (("training_v2", "DeleteTrainingJobV2", "training_job_id"),
              ("model", "DeleteModel", "model_id"),
              ("dataset", "DeleteDataset", "dataset_id"))


# -- persistence -----------------------------------------------------------------------------

def _persistence(plan, rng) -> Instance:
    team = rng.choice(plan.org.teams)
    insider = rng.choice(team.with_role("data-labeller") or team.with_role("ml-engineer"))
    home = insider.networks[-1]
    day = _day(plan, rng)
    start = _inside(plan, _at(insider, day, rng.uniform(21.0, 23.0)), 9 * HOUR_MS)
    draw = random.Random(rng.getrandbits(64))
    new_key = "".join(draw.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=20))
    new_secret = "".join(draw.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789", k=40))
    foreign = rng.choice(plan.org.foreign_networks)
    work = plan.work[team.name]

    def task():
        # the key was made in IAM a moment before (IAM's own trace, not ModelArts')
        plan.run.sim.directory.add_key(insider.user, Credential(new_key, new_secret))
        actor = Actor(plan.run, insider, address=home.address(rng), via="api",
                      user_agent=rng.choice(CLI_AGENTS),
                      label=_label("persistence", insider, True, "add-key"))
        actor.call("CreateAuthorization", {"user_id": insider.user.id, "type": "credential",
                                           "content": new_key, "secret_key": new_secret})
        yield rng.uniform(2, 6) * HOUR_MS / 1000.0
        user = Actor(plan.run, insider, address=foreign.address(rng), via="api",
                     access_key=new_key, user_agent=ATTACKER_AGENT,
                     label=_label("persistence", insider, True, "use-key"))
        user.call("ListAllNotebooks")
        yield rng.uniform(5, 30)
        reply = user.call("CreateNotebook", notebook_body(work.name("nb-tmp"),
                                                         "modelarts.vm.gpu.tnt004"))
        yield 10 * MINUTE
        if reply.status == 200:
            user.call("StopNotebook", id=reply.body["id"])
            yield 5 * MINUTE
            user.call("DeleteNotebook", id=reply.body["id"])

    plan.run.spawn(start, task())
    return Instance("persistence", insider.name, insider.user.id,
                    [insider.access_key, new_key], [home.cidr, foreign.cidr], start,
                    start + 9 * HOUR_MS, True, team.name, {"new_access_key_id": new_key})


# -- exfiltration ----------------------------------------------------------------------------

def _exfiltration(plan, rng) -> Instance:
    from simulator.generate.work import datasets
    team = rng.choice(plan.org.teams)
    engineers = team.with_role("ml-engineer")
    insider, owner = engineers[0], engineers[-1]
    day = _day(plan, rng)
    start = _inside(plan, _at(insider, day, rng.uniform(19.0, 21.0)), 2 * HOUR_MS)
    outside = "bkp-%s" % random.Random(rng.getrandbits(64)).getrandbits(64).to_bytes(8, "big").hex()
    plan.run.sim.obs_files.make_bucket(outside)  # another account's bucket
    work = plan.work[team.name]
    home = insider.networks[-1]

    def task():
        prep = Actor(plan.run, owner, address=owner.networks[0].address(rng))
        for _ in range(2):
            yield from datasets.sensitive_dataset(prep, work, rng)
        yield max(1.0, (start - plan.run.now_ms()) / 1000.0)
        actor = Actor(plan.run, insider, address=home.address(rng), via="api",
                      label=_label("exfiltration", insider, True, "export"))
        for i, facts in enumerate(_take_all(work, "dataset")):
            if not facts.get("sensitive"):
                work.release(facts)
                continue
            actor.call("CreateExportTask", {"path": "/%s/dump-%d/" % (outside, i),
                                            "export_type": 0}, dataset_id=facts["id"])
            work.release(facts)
            yield rng.uniform(20, 90)

    plan.run.spawn(min(_at(owner, day, 9.5), start - 2 * HOUR_MS), task())
    return Instance("exfiltration", insider.name, insider.user.id, [insider.access_key],
                    [home.cidr], start, start + 2 * HOUR_MS, True, team.name,
                    {"target_bucket": outside})


# -- cryptomining ----------------------------------------------------------------------------

def _cryptomining(plan, rng) -> Instance:
    from simulator.generate.work import training_v2
    team = rng.choice(plan.org.teams)
    actor_p = rng.choice(team.with_role("ml-engineer"))
    day = _day(plan, rng)
    start = _inside(plan, _at(actor_p, day, rng.uniform(0.5, 1.5)), 6 * HOUR_MS)
    network = rng.choice(plan.org.foreign_networks)
    work = plan.work[team.name]
    pool_display = "train-gpu-%d" % rng.randint(10, 99)

    def task():
        actor = Actor(plan.run, actor_p, address=network.address(rng), via="api",
                      user_agent=ATTACKER_AGENT,
                      label=_label("cryptomining", actor_p, True, "provision"))
        reply = actor.call("CreatePool", pool_body(work, pool_display, GPU_POOL_FLAVOR,
                                                   rng.choice((16, 24, 32))))
        if reply.status != 200:
            return
        pool = reply.body["metadata"]["name"]
        yield 20 * MINUTE
        actor.step("mining")
        for _ in range(rng.randint(2, 4)):
            yield from training_v2.night_training(actor, work, rng, pool_id=pool)
            yield rng.uniform(1, 5) * MINUTE
        actor.step("teardown")
        yield 2 * MINUTE
        actor.call("DeletePool", pool_name=pool)

    plan.run.spawn(start, task())
    return Instance("cryptomining", actor_p.name, actor_p.user.id, [actor_p.access_key],
                    [network.cidr], start, start + 6 * HOUR_MS, True, team.name,
                    {"pool": pool_display, "flavor": GPU_POOL_FLAVOR})


# -- privilege-probing -----------------------------------------------------------------------

_PROBES = (
    ("CreateNotebook", lambda w, r: notebook_body(w.name("nb-probe"), "modelarts.vm.cpu.2u"),
     {}),
    ("CreatePool", lambda w, r: pool_body(w, "probe-%d" % r.randint(1, 99), GPU_POOL_FLAVOR,
                                          1), {}),
    ("CreateDataset", lambda w, r: {"dataset_name": w.name("probe"), "dataset_type": 0,
                                    "data_sources": [{"data_type": 0,
                                                      "data_path": w.path("raw/images/")}],
                                    "work_path": w.path("work/probe/"), "work_path_type": 0},
     {}),
    ("DeleteAuthorizations", None, {"query": {"user_id": "all"}}),
    ("DeleteNotebook", None, {"id": "5f0a1e7c-90d8-4b8e-9c47-1c4b9b2e0d11"}),
    ("CreateAuthorization", lambda w, r: {"user_id": "all", "type": "agency",
                                          "content": "modelarts_agency"}, {}),
)


def _privilege_probing(plan, rng) -> Instance:
    auditor = rng.choice(plan.org.auditors)
    team = rng.choice(plan.org.teams)
    day = _day(plan, rng)
    start = _inside(plan, _at(auditor, day, rng.uniform(10.0, 15.0)), HOUR_MS)
    work = plan.work[team.name]
    address = auditor.networks[0].address(rng)

    def task():
        actor = Actor(plan.run, auditor, address=address, via="api",
                      user_agent=rng.choice(CLI_AGENTS),
                      label=_label("privilege-probing", auditor, True, "probe"))
        actor.call("ListAllNotebooks", project_id=team.project.id)
        for _ in range(rng.randint(15, 30)):
            yield rng.uniform(3, 25)
            operation, body, extra = rng.choice(_PROBES)
            extra = dict(extra)
            actor.call(operation, body(work, rng) if body else None,
                       project_id=team.project.id, **extra)

    plan.run.spawn(start, task())
    return Instance("privilege-probing", auditor.name, auditor.user.id, [auditor.access_key],
                    [auditor.networks[0].cidr], start, start + HOUR_MS, True, team.name)


# -- insider-cleanup -------------------------------------------------------------------------

def _insider_cleanup(plan, rng) -> Instance:
    team = rng.choice(plan.org.teams)
    leaver = rng.choice(team.with_role("ml-engineer"))
    day = _day(plan, rng, last=True)
    start = _inside(plan, _at(leaver, day, rng.uniform(16.0, 17.5)), 4 * HOUR_MS)
    work = plan.work[team.name]
    address = leaver.networks[0].address(rng)

    def task():
        actor = Actor(plan.run, leaver, address=address, via="api",
                      label=_label("insider-cleanup", leaver, True, "delete-services"))
        for facts in _take_all(work, "service_v2"):
            actor.call("BatchDeleteInferServices", {"service_ids": [facts["id"]]})
            work.remove("service_v2", facts["id"])
            yield rng.uniform(5, 40)
        for facts in _take_all(work, "service"):
            actor.call("DeleteService", service_id=facts["id"])
            work.remove("service", facts["id"])
            yield rng.uniform(5, 40)
        yield 3 * MINUTE
        actor.step("delete-models")
        for facts in _take_all(work, "model"):
            actor.call("DeleteModel", model_id=facts["id"])
            work.remove("model", facts["id"])
            yield rng.uniform(5, 40)
        actor.step("delete-dataset-versions")
        for facts in _take_all(work, "dataset"):
            for version_id in list(facts.get("versions", ())):
                actor.call("DeleteDatasetVersion", dataset_id=facts["id"], version_id=version_id)
                facts["versions"].remove(version_id)
                yield rng.uniform(5, 30)
            work.release(facts)

    def morning():
        """The leaver's last ordinary work (unlabelled): so there is something to delete
        even in a window too short for the week to have made it."""
        from simulator.generate.work import datasets, models
        prep = Actor(plan.run, leaver, address=address, via="api")
        yield from datasets.curate_dataset(prep, work, rng)
        yield from models.import_model(prep, work, rng)

    plan.run.spawn(min(_at(leaver, day, 9.5), start - 3 * HOUR_MS), morning())
    plan.run.spawn(start, task())
    return Instance("insider-cleanup", leaver.name, leaver.user.id, [leaver.access_key],
                    [leaver.networks[0].cidr], start, start + 4 * HOUR_MS, True, team.name)


# -- noisy-ci --------------------------------------------------------------------------------

def _noisy_ci(plan, rng) -> Instance:
    from simulator.generate.work import training_v2
    team = rng.choice(plan.org.teams)
    robot = team.with_role("ci-robot")[0]
    day = _day(plan, rng)
    start = _inside(plan, _at(robot, day, rng.uniform(10.0, 16.0)), 3 * HOUR_MS)
    work = plan.work[team.name]
    address = robot.networks[0].address(rng)
    pushes = rng.randint(30, 80)

    def burst():
        for _ in range(pushes):
            actor = Actor(plan.run, robot, address=address,
                          label=_label("noisy-ci", robot, False, "burst"))
            plan.run.spawn(plan.run.now_ms(), training_v2.ci_pipeline(
                actor, work, random.Random(rng.getrandbits(64))))
            yield rng.uniform(2, 20)

    plan.run.spawn(start, burst())
    return Instance("noisy-ci", robot.name, robot.user.id, [robot.access_key],
                    [robot.networks[0].cidr], start, start + 3 * HOUR_MS, False, team.name,
                    {"pushes": pushes})


SCENARIOS = {s.name: s for s in (
    Scenario("leaked-key", True, "An ML engineer's permanent AK used from a new country at "
             "night: traced reads to enumerate notebooks and pools, then mass deletion of "
             "notebooks, training jobs, models and datasets.", _leaked_key),
    Scenario("persistence", True, "A data labeller, from home late in the evening, registers a "
             "new access key with addAkSk, which is then used from abroad to run GPU "
             "notebooks.", _persistence),
    Scenario("exfiltration", True, "An ML engineer exports the team's sensitive datasets "
             "(customer data) to a bucket of another account in the evening.", _exfiltration),
    Scenario("cryptomining", True, "A large dedicated GPU pool created at night from an "
             "unusual network, GPU training jobs run on it until dawn, then the pool deleted.",
             _cryptomining),
    Scenario("privilege-probing", True, "A read-only auditor tries writes across the "
             "families: a burst of 403 ModelArts.0108 warnings among a few reads.",
             _privilege_probing),
    Scenario("insider-cleanup", True, "An ML engineer's last afternoon: inference services, "
             "models and dataset versions deleted one after another.", _insider_cleanup),
    Scenario("noisy-ci", False, "Benign: a CI robot's burst of pushes, each creating and "
             "deleting resources within minutes (for false-positive tests).", _noisy_ci),
)}


def describe() -> str:
    lines = []
    for s in SCENARIOS.values():
        lines.append("%-18s %s  %s" % (s.name, "malicious" if s.malicious else "benign   ",
                                       s.summary))
    return "\n".join(lines) + "\n"
