"""What a team's workflows share: its OBS bucket with the files they read, the resources they
have made and not yet deleted, names that do not collide, and the small steps of every family
(a call in the team's project, a slip, a wait with a person's slack).

A workflow is a generator function ``workflow(actor, work, rng)`` that makes calls through
``actor.call(...)`` and yields the seconds to wait before its next step (see engine.py). It
registers what it creates in ``work`` and forgets what it deletes, so other workflows and the
scenarios only ever use resources that exist. The planner draws them from the tables in
work/__init__.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.generate.engine import DAY_MS, DWELL, HOUR_MS

MINUTE = 60.0
HOUR = 3600.0

# the files every team's bucket starts with (small: memory stays flat however long the run)
IMAGES = tuple("raw/images/img_%03d.jpg" % i for i in range(24))
LABELS = ("cat", "dog", "bird")
TEXTS = tuple("raw/texts/doc_%02d.txt" % i for i in range(8))
CODE = ("code/train.py", "code/requirements.txt", "code/utils.py")
TRAIN_DATA = tuple("data/train/part-%05d.csv" % i for i in range(6))
MODEL_FILES = ("models/base/model/config.json", "models/base/model/model.pth",
               "models/base/model/customize_service.py")
OUTPUT_SLOTS = 6  # output folders are reused in turn: the objects in OBS stay bounded
# names and folders are reused in turn, so that what the team leaves in OBS stays bounded
WORK_SLOTS, NAME_CYCLE = 6, 100

# what engineers write in names and descriptions
MODELS = ("resnet50", "bert-base", "yolov5", "lstm-forecast", "xgb-ranker", "vit-small",
          "wav2vec", "deepfm")
NOTES = ("baseline", "tuned learning rate", "more epochs", "augmented data", "larger batch size",
         "fixed data loader", "mixed precision", "retrained on new labels", "warmup schedule")


@dataclass
class TeamWork:
    team: object  # org.Team
    bucket: str  # the team's bucket, with the files above
    # the CI robot's own bucket, with CODE and TRAIN_DATA only: a training job checks its
    # code folder by listing the bucket, and the CI creates one on every push
    ci_bucket: str | None = None
    assets: dict = field(default_factory=dict)  # kind -> {id: facts}
    _names: dict = field(default_factory=dict)
    _slot: int = 0

    # -- paths -------------------------------------------------------------------------------
    def path(self, key: str = "") -> str:
        """`/bucket/key` (a folder when key ends with /)."""
        return "/%s/%s" % (self.bucket, key)

    def ci_path(self, key: str = "") -> str:
        return "/%s/%s" % (self.ci_bucket or self.bucket, key)

    def output(self) -> str:
        """A training output folder (one of OUTPUT_SLOTS, taken in turn)."""
        self._slot = (self._slot + 1) % OUTPUT_SLOTS
        return self.path("output/run-%d/" % self._slot)

    # -- names -------------------------------------------------------------------------------
    def name(self, prefix: str, sep: str = "-") -> str:
        """A fresh name: prefix-1, prefix-2, ... (per team and prefix)."""
        n = self._names.get(prefix, 0) + 1
        self._names[prefix] = n
        return "%s%s%d" % (prefix, sep, n)

    # -- resources ---------------------------------------------------------------------------
    def add(self, kind: str, resource_id: str, **facts) -> dict:
        facts["id"] = resource_id
        self.assets.setdefault(kind, {})[resource_id] = facts
        return facts

    def remove(self, kind: str, resource_id: str) -> None:
        self.assets.get(kind, {}).pop(resource_id, None)

    def count(self, kind: str) -> int:
        return len(self.assets.get(kind, {}))

    def pick(self, kind: str, rng: random.Random, **match) -> dict | None:
        """One resource of a kind (whose facts match), or None; `take` it to own it."""
        found = [f for f in self.assets.get(kind, {}).values()
                 if not f.get("busy") and all(f.get(k) == v for k, v in match.items())]
        return rng.choice(found) if found else None

    def take(self, kind: str, rng: random.Random, **match) -> dict | None:
        """Like pick, and marks it busy until release: two workflows never work on one
        resource at once (one deleting what the other still uses)."""
        found = self.pick(kind, rng, **match)
        if found is not None:
            found["busy"] = True
        return found

    @staticmethod
    def release(facts: dict) -> None:
        facts["busy"] = False

    def using(self, kind: str, rng: random.Random, flow, **match):
        """Take one resource of a kind, run flow(facts) (a workflow's steps) on it, release it:
        a workflow step over whatever resource is free; nothing when none is."""
        facts = self.take(kind, rng, **match)
        if facts is None:
            return
        yield from flow(facts)
        self.release(facts)

    def oldest(self, kind: str) -> dict | None:
        """The first resource of a kind still registered and not busy (for clean-ups)."""
        return next((f for f in self.assets.get(kind, {}).values() if not f.get("busy")), None)


# -- the steps every family takes ------------------------------------------------------------

def call(actor, work, operation_id: str, body=None, **kw):
    """A call in the team's project, whoever makes it (an admin's own project is the
    region's main one)."""
    return actor.call(operation_id, body, project_id=work.team.project.id, **kw)


def counter(work, key: str) -> int:
    """1, 2, 3, ... per team and key."""
    return int(work.name("#" + key).rsplit("-", 1)[1])


def cycled_name(work, prefix: str, kind: str, field: str = "name",
                 cycle: int = NAME_CYCLE) -> str:
    """prefix-N with N cycling below `cycle` (OBS paths named after it stay bounded), never
    the name of a registered resource of the kind."""
    taken = {f.get(field) for f in work.assets.get(kind, {}).values()}
    while True:
        name = "%s-%d" % (prefix, counter(work, prefix) % cycle)
        if name not in taken:
            return name


def idle(work, kind: str, **match) -> list:
    """Registered resources of a kind that nobody works on, oldest first."""
    return [f for f in work.assets.get(kind, {}).values()
            if not f.get("busy") and all(f.get(k) == v for k, v in match.items())]


def taken_oldest(work, kind: str, **match) -> dict | None:
    found = idle(work, kind, **match)
    if found:
        found[0]["busy"] = True
        return found[0]
    return None


def reclaim(work, kind: str, facts: dict) -> bool:
    """Take back a resource released during a long wait, if it is still there and free."""
    if work.assets.get(kind, {}).get(facts["id"]) is not facts or facts.get("busy"):
        return False
    facts["busy"] = True
    return True


def reclaim_soon(work, kind: str, facts: dict, tries: int = 6):
    """Wait (a while each time) until a released resource is free to take back; False when
    it is gone or stays busy."""
    for _ in range(tries):
        if reclaim(work, kind, facts):
            return True
        if work.assets.get(kind, {}).get(facts["id"]) is not facts:
            return False
        yield 10 * MINUTE
    return False


def slipped(rng, rate: float) -> bool:
    """Whether the person makes a small mistake this time (at the family's MISTAKE_RATE;
    always draws: runs stay aligned)."""
    return rng.random() < rate


def now_ms(actor) -> int:
    return actor.run.now_ms()


def past(dwell: str, rng) -> float:
    """Seconds to wait for an asynchronous step to be over, with a person's slack."""
    return DWELL[dwell] + rng.uniform(20, 90)


def until(actor, at_ms: int, rng) -> float:
    """Seconds to wait until at_ms has passed, with a person's slack."""
    return max(0.0, (at_ms - now_ms(actor)) / 1000) + rng.uniform(30, 300)


def hours_left(actor, rng, most: float) -> float:
    """Hours until the person leaves today (their local work end, give or take), 1 to most."""
    p = actor.persona
    local_hour = (now_ms(actor) + p.utc_offset_h * HOUR_MS) % DAY_MS / HOUR_MS
    return min(most, max(1.0, p.work_end_h - local_hour + rng.uniform(-0.5, 0.75)))


def _live_name(work, kind: str, rng) -> str | None:
    """The name of a resource of this kind that exists (busy or not), for a duplicate-name slip."""
    names = [f["name"] for f in work.assets.get(kind, {}).values()
             if f.get("name") and not f.get("ci")]
    return rng.choice(names) if names else None


def try_duplicate(actor, work, rng, kind: str, operation: str, body: dict, key: tuple, *,
                  rate: float) -> None:
    """Now and then (at the family's mistake rate) the create is first sent with a name the
    team already uses: refused."""
    if not slipped(rng, rate):
        return
    taken = _live_name(work, kind, rng)
    if taken is None:
        return
    holder = body
    for k in key[:-1]:
        holder = holder[k]
    wanted = holder[key[-1]]
    holder[key[-1]] = taken
    actor.call(operation, body)
    holder[key[-1]] = wanted
