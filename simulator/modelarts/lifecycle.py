"""Asynchronous progress on the simulation clock.

A Progress is a list of statuses with how long each lasts; its status at any instant is read
off the clock, so nothing has to run in the background for resources to move on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Progress:
    started_ms: int
    steps: tuple[tuple[str, int], ...]  # (status, dwell ms); the last status is where it rests

    @classmethod
    def through(cls, started_ms: int, statuses: tuple, total_s: float) -> "Progress":
        """Spread total_s seconds evenly over every status but the last."""
        moving = max(len(statuses) - 1, 1)
        dwell = int(round(total_s * 1000 / moving))
        return cls(started_ms, tuple((s, dwell) for s in statuses[:-1]) + ((statuses[-1], 0),))

    @property
    def done_ms(self) -> int:
        return self.started_ms + sum(d for _, d in self.steps[:-1])

    def status(self, now_ms: int):
        at = self.started_ms
        for status, dwell in self.steps[:-1]:
            at += dwell
            if now_ms < at:
                return status
        return self.steps[-1][0]

    def done(self, now_ms: int) -> bool:
        return now_ms >= self.done_ms

    def fraction(self, now_ms: int) -> float:
        total = self.done_ms - self.started_ms
        if total <= 0:
            return 1.0
        return max(0.0, min(1.0, (now_ms - self.started_ms) / total))

    def finish_at(self, now_ms: int, status) -> None:
        """End here and now in `status` (a refusal or a stop)."""
        self.steps = ((status, 0),)
        self.started_ms = now_ms
