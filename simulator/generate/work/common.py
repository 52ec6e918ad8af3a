"""What a team's workflows share: its OBS bucket with the files they read, the resources they
have made and not yet deleted, and names that do not collide.

A workflow is a generator function ``workflow(actor, work, rng)`` that makes calls through
``actor.call(...)`` and yields the seconds to wait before its next step (see engine.py). It
registers what it creates in ``work`` and forgets what it deletes, so other workflows and the
scenarios only ever use resources that exist. Modules of workflows (work_*.py) declare:

- ``ROUTINES``: {persona role: [(weight, workflow), ...]}: a person's day is a few of these,
  drawn by weight;
- ``CHORES``: workflows each team runs once in every generated window (on one of its working
  days): together with the routines they make sure every operation the module covers is
  traced at least once a week.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

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
