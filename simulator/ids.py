"""Identifier shapes ModelArts and CTS use, drawn from one random source (seedable)."""

from __future__ import annotations

import random
import string
import threading
import uuid

_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | str | None = None):
        self._seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._streams: dict[str, IdFactory] = {}
        self._draws = 0

    @property
    def draws(self) -> int:
        """How many draws this source and its streams made: a change of it is a change of
        where the sequence is."""
        return self._draws + sum(s.draws for s in list(self._streams.values()))

    def stream(self, name: str) -> "IdFactory":
        """A source of its own, for the ids a background thread draws (trace file names on
        the ticker, notification message ids on the notifier's thread): drawing them never
        moves the sequence the requests see, so with a seed that sequence is the same however
        the threads interleave. Seeded from (seed, name); random without a seed."""
        with self._lock:
            found = self._streams.get(name)
            if found is None:
                found = self._streams[name] = IdFactory(
                    None if self._seed is None else "%s/%s" % (self._seed, name))
            return found

    def restart(self) -> None:
        """Back to the seed's first id (every stream too): after /_sim/reset a seeded
        simulator gives the same ids to the same calls, whatever ran before."""
        with self._lock:
            self._rng = random.Random(self._seed)
            self._streams = {}

    def getstate(self) -> dict:
        """Where the sequence is (a snapshot's): the next ids continue it after setstate."""
        with self._lock:
            streams = dict(self._streams)
            state = {"seed": self._seed, "random": self._rng.getstate()}
        state["streams"] = {name: s.getstate() for name, s in streams.items()}
        return state

    def setstate(self, state: dict) -> None:
        streams = {}
        for name, saved in state["streams"].items():
            streams[name] = IdFactory(saved["seed"])
            streams[name].setstate(saved)
        version, internal, gauss = state["random"]
        with self._lock:
            self._seed = state["seed"]
            self._rng.setstate((version, tuple(internal), gauss))
            self._streams = streams

    def _bits(self, n: int) -> int:
        with self._lock:
            self._draws += 1
            return self._rng.getrandbits(n)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._bits(128), version=4))

    def hex(self, length: int = 32) -> str:
        return format(self._bits(length * 4), "0%dx" % length)

    def alnum(self, length: int = 19) -> str:
        with self._lock:
            self._draws += 1
            return "".join(self._rng.choices(_ALNUM, k=length))

    def token(self, length: int = 160) -> str:
        # IAM tokens are long opaque strings that start with "MII"
        with self._lock:
            self._draws += 1
            body = "".join(self._rng.choice(_ALNUM + "-_") for _ in range(length))
        return "MII" + body

    def request_id(self) -> str:
        return self.hex(32)
