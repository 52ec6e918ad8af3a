"""What the tests of the generator's workflow families share: one team on a run, a group of
families' routines and chores, and their mistake rate."""

from __future__ import annotations

from simulator.generate import engine, org, work
from simulator.generate.plan import stock_bucket
from simulator.generate.work.common import TeamWork

START_MS = 1_793_232_000_000  # a Monday, 00:00 UTC


class OneTeam:
    """The one team of a small organisation (drawn from org_seed), its bucket filled, on a run
    of `days` days from START_MS; the records it makes go to `records`."""

    def __init__(self, org_seed: int, seed: int, days: int):
        self.org = org.build(org_seed, 1)
        self.records = []
        self.run = engine.Run(self.org, seed=seed, start_ms=START_MS,
                              end_ms=START_MS + days * engine.DAY_MS,
                              emit=lambda rec, label: self.records.append(rec))
        self.team = self.org.teams[0]
        bucket = "t-" + self.team.name + "-data"
        stock_bucket(self.run.sim, bucket)  # the files the planner gives every team
        self.work = TeamWork(self.team, bucket)


def tables_of(families) -> tuple[dict, list]:
    """(ROUTINES, CHORES) of these family modules only, in the planner's order."""
    names = {family.__name__ for family in families}
    routines = {role: [(w, fn) for w, fn in table if fn.__module__ in names]
                for role, table in work.ROUTINES.items()}
    chores = [(role, fn) for role, fn in work.CHORES if fn.__module__ in names]
    return {role: table for role, table in routines.items() if table}, chores


def mistake_rate(monkeypatch, families, rate: float) -> None:
    """How often people slip in these families, for the test."""
    for family in families:
        monkeypatch.setattr(family, "MISTAKE_RATE", rate)
