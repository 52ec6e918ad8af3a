"""What the tests of the generator's workflow families share: a group of families' routines and
chores, and their mistake rate."""

from __future__ import annotations

from simulator.generate import work


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
