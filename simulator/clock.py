"""The simulation clock: the only place that reads the wall clock.

Three ways to run: real time (``offset`` 0), real time shifted by an offset (after ``advance``
on a running clock), or frozen at an instant (after ``freeze``; ``advance`` moves it by hand).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


# the latest instant the clock may show: a year short of the last one a date can hold
# (9999-12-31), so that what is reckoned from it (a token's expiry, a step's end, a trace file's
# hour) still has a date. Past it every dated answer would fail
LATEST_MS = 253_370_764_800_000  # 9998-12-31T00:00:00Z


class ClockError(ValueError):
    pass


class Clock:
    def __init__(self, start_ms: int | None = None, frozen: bool = False):
        self._lock = threading.Lock()
        self._offset_ms = 0
        self._frozen_at: int | None = None
        if start_ms is not None:
            self._offset_ms = start_ms - self._wall_ms()
        if frozen:
            self._frozen_at = self.now_ms() if start_ms is None else int(start_ms)

    @staticmethod
    def _wall_ms() -> int:
        return time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return self._wall_ms() + self._offset_ms

    def now_s(self) -> float:
        return self.now_ms() / 1000.0

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at_ms: int | None = None) -> int:
        if at_ms is not None and not 0 <= at_ms <= LATEST_MS:
            raise ClockError("the clock can show 0 to %d ms (9998-12-31), not %s"
                             % (LATEST_MS, at_ms))
        with self._lock:
            self._frozen_at = self.now_ms() if at_ms is None else int(at_ms)
            return self._frozen_at

    def resume(self) -> int:
        """Run again from the frozen instant, in real time."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset_ms = self._frozen_at - self._wall_ms()
                self._frozen_at = None
            return self.now_ms()

    def advance(self, seconds: float) -> int:
        if not seconds >= 0:  # NaN too
            raise ClockError("the clock only moves forward")
        if seconds * 1000 > LATEST_MS - self.now_ms():
            raise ClockError("advancing %gs would take the clock past 9998-12-31 (it can move "
                             "%ds more)" % (seconds, (LATEST_MS - self.now_ms()) // 1000))
        delta = int(round(seconds * 1000))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset_ms += delta
            return self.now_ms()

    def state(self) -> dict:
        return {"now": self.now_ms(), "frozen": self.frozen}

    def getstate(self) -> dict:
        """What a restart keeps: the offset from real time, or the instant it is frozen at."""
        return {"offset": self._offset_ms, "frozen_at": self._frozen_at}

    def setstate(self, state: dict) -> None:
        offset, frozen_at = state["offset"], state["frozen_at"]
        if not isinstance(offset, int) or not (frozen_at is None or isinstance(frozen_at, int)):
            raise ClockError("a damaged clock state")
        with self._lock:
            self._offset_ms, self._frozen_at = offset, frozen_at


def iso_utc(ms) -> str:
    """An instant in epoch ms as 2026-11-18T11:06:40.000Z; what is not one, as its text."""
    try:
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)
    except (TypeError, ValueError, OverflowError):
        return str(ms)
