"""Identifier shapes ModelArts and CTS use, drawn from one random source (seedable)."""

from __future__ import annotations

import random
import string
import threading
import uuid

_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _bits(self, n: int) -> int:
        with self._lock:
            return self._rng.getrandbits(n)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._bits(128), version=4))

    def hex(self, length: int = 32) -> str:
        return format(self._bits(length * 4), "0%dx" % length)

    def alnum(self, length: int = 19) -> str:
        with self._lock:
            return "".join(self._rng.choices(_ALNUM, k=length))

    def token(self, length: int = 160) -> str:
        # IAM tokens are long opaque strings that start with "MII"
        with self._lock:
            body = "".join(self._rng.choice(_ALNUM + "-_") for _ in range(length))
        return "MII" + body

    def request_id(self) -> str:
        return self.hex(32)
