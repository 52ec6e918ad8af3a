"""What a generate run tells its user: a progress bar while it runs (on a terminal only) and
a summary table at the end."""

from __future__ import annotations

import time
from collections import Counter


class Summary:
    def __init__(self):
        self.total = 0
        self.by_name: Counter = Counter()
        self.by_rating: Counter = Counter()
        self.by_actor: Counter = Counter()
        self.by_scenario: Counter = Counter()

    def count(self, record: dict, label) -> None:
        self.total += 1
        self.by_name[record["trace_name"]] += 1
        self.by_rating[record["trace_rating"]] += 1
        user = record.get("user")
        self.by_actor[user["name"] if isinstance(user, dict) else "(service)"] += 1
        self.by_scenario[label.scenario if label else "(ordinary)"] += 1

    def as_dict(self) -> dict:
        return {"traces": self.total, "trace_name": dict(sorted(self.by_name.items())),
                "trace_rating": dict(sorted(self.by_rating.items())),
                "actor": dict(sorted(self.by_actor.items())),
                "scenario": dict(sorted(self.by_scenario.items()))}

    def table(self, top: int = 15) -> str:
        out = ["%d traces" % self.total]
        for title, counts, limit in (("trace rating", self.by_rating, None),
                                     ("scenario", self.by_scenario, None),
                                     ("trace name", self.by_name, top),
                                     ("actor", self.by_actor, top)):
            out.append("")
            out.append("%-34s %10s %7s" % (title, "traces", "share"))
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            for key, n in ranked[:limit]:
                out.append("%-34s %10d %6.2f%%" % (key[:34], n, 100.0 * n / max(self.total, 1)))
            if limit is not None and len(ranked) > limit:
                rest = sum(n for _, n in ranked[limit:])
                out.append("%-34s %10d %6.2f%%" % ("(%d more)" % (len(ranked) - limit), rest,
                                                   100.0 * rest / max(self.total, 1)))
        return "\n".join(out) + "\n"


class Progress:
    """A one-line bar on stderr, redrawn at most five times a second: simulated time done,
    traces so far, traces per second."""

    WIDTH = 30

    def __init__(self, stream, start_ms: int, end_ms: int):
        self.stream = stream
        self.start_ms, self.end_ms = start_ms, end_ms
        self.began = time.perf_counter()
        self._next = 0.0

    def update(self, now_ms: int, traces: int, final: bool = False) -> None:
        wall = time.perf_counter()
        if wall < self._next and not final:
            return
        self._next = wall + 0.2
        done = 1.0 if final else min(1.0, max(0.0, (now_ms - self.start_ms) /
                                              max(self.end_ms - self.start_ms, 1)))
        filled = int(done * self.WIDTH)
        rate = traces / max(wall - self.began, 1e-9)
        self.stream.write("\r[%s%s] %3d%%  %d traces  %.0f/s" % (
            "#" * filled, "." * (self.WIDTH - filled), done * 100, traces, rate))
        if final:
            self.stream.write("\n")
        self.stream.flush()
