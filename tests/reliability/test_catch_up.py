"""A long catch-up (a year's digests, thousands of lifecycle ends at once) holds the simulator's
lock one step at a time: requests are answered while it runs, the ticker stops between two
steps, and everything is still written, in order, the digests' chain intact
(docs/reliability.md)."""

from __future__ import annotations

import functools
import threading

import pytest

from simulator.modelarts.lifecycle import Progress
from tests.conftest import make_app
from tests.helpers import PROJECT_ID


# -- thousands of lifecycle ends at once ------------------------------------------------------

class Ends:
    """Which ends ran, in order; `failing` ends raise, and the end of `stop_after` sets `stop`."""

    def __init__(self):
        self.ran: list[int] = []
        self.failing: set[int] = set()
        self.reached = threading.Event()
        self.stop = threading.Event()
        self.stop_after: int | None = None


@pytest.fixture
def ends(monkeypatch):
    """A cluster's end of creation, observed. A watcher's end must be one the rows may name (a
    test's own function is not), so the observer stands in for clusters._cluster_result under
    its name."""
    from simulator.modelarts import clusters, lifecycle
    seen = Ends()

    def observed(project_id, n, sim, at_ms, final):
        if n in seen.failing:
            raise RuntimeError("this end is broken")
        seen.ran.append(n)
        seen.reached.set()
        if n == seen.stop_after:
            seen.stop.set()

    observed.__module__, observed.__qualname__ = clusters.__name__, "_cluster_result"
    monkeypatch.setattr(clusters, "_cluster_result", observed)
    monkeypatch.setattr(lifecycle, "WATCH_CALLBACKS", lifecycle.WATCH_CALLBACKS | {observed})
    seen.end = observed
    return seen


def _watch(sim, ends: Ends, count: int) -> None:
    now = sim.clock.now_ms()
    with sim.change():
        for n in range(count):
            sim.watch(Progress(now - 10 * count + 10 * n, (("Running", 1), ("Done", 0))),
                      functools.partial(ends.end, PROJECT_ID, n))


def test_thousands_of_ends_due_at_once_leave_room_for_others(ends):
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        _watch(sim, ends, 3000)
        settling = threading.Thread(target=sim.settle)
        settling.start()
        assert ends.reached.wait(10)
        with sim.lock:  # what a request's change takes
            ended_meanwhile = len(ends.ran)
        settling.join(30)
        assert ended_meanwhile < 3000
        assert ends.ran == list(range(3000))  # each once, in the order they ended
        assert sim._watchers == []
    finally:
        sim.close()


def test_a_settle_stops_between_two_ends_and_a_broken_end_holds_up_no_other(ends):
    app = make_app()
    sim = app.extensions["modelarts_sim"]
    try:
        _watch(sim, ends, 50)
        ends.stop_after = 9
        sim.settle(ends.stop)
        assert ends.ran == list(range(10))  # the end under way finished; none began after it
        ends.failing.add(20)
        sim.settle()
        assert ends.ran == [n for n in range(50) if n != 20]  # tried once, undone, passed
        assert len(sim._watchers) == 1  # the broken one, back in the heap for the next settle
        ends.failing.clear()
        sim.settle()
        assert ends.ran[-1] == 20 and len(ends.ran) == 50 and sim._watchers == []
    finally:
        sim.close()
