"""What the passes that catch up on their own share (Simulator.settle, Delivery.run): each step
holds the simulator's lock on its own, and between two steps the pass lets others in and looks
whether it should stop."""

from __future__ import annotations

import threading
import time


def go_on(stop: threading.Event | None) -> bool:
    """Before a pass's next step: whether it goes on (not once stop is set). The pause matters:
    a lock let go is otherwise taken again at once by the thread that let it go, before one
    waiting for it wakes (measured during a year's digests: a waiting thread got the lock after
    a median 70 ms, about 150 steps; with the pause after 0.2 ms, at most 0.7 ms). It costs
    about 75 us a step."""
    time.sleep(0)
    return stop is None or not stop.is_set()
