"""IAM tokens and temporary AK/SK issued by the simulator, valid on the simulation clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from simulator.identity.accounts import Credential, Directory, Domain, Project, User


@dataclass(frozen=True)
class Token:
    value: str
    user: User
    project: Project | None  # project scope, or None for domain scope
    domain: Domain
    issued_ms: int
    expires_ms: int
    methods: tuple[str, ...] = ("password",)


class TokenStore:
    def __init__(self, directory: Directory, ids, clock, ttl_s: int, journal=None):
        """With a journal (durable/journal.py), every token issued is a row of the state."""
        self._directory = directory
        self._ids = ids
        self._clock = clock
        self._ttl_ms = ttl_s * 1000
        self._tokens: dict[str, Token] = (
            journal.track(("", "", "tokens"), {}) if journal is not None else {})
        self._lock = threading.Lock()

    def issue(self, user: User, project: Project | None, methods=("password",)) -> Token:
        now = self._clock.now_ms()
        token = Token(self._ids.token(), user, project, user.domain, now, now + self._ttl_ms,
                      tuple(methods))
        with self._lock:
            self._tokens[token.value] = token
        return token

    def find(self, value) -> Token | None:
        """The token, or None when unknown. Expiry is the caller's to judge (its message differs)."""
        if not isinstance(value, str):
            return None
        with self._lock:
            return self._tokens.get(value)

    def expired(self, token: Token) -> bool:
        return self._clock.now_ms() >= token.expires_ms

    def issue_temporary_credential(self, user: User, duration_s: int) -> Credential:
        now = self._clock.now_ms()
        cred = Credential(access_key=self._ids.alnum(20).upper(), secret_key=self._ids.alnum(40),
                          security_token=self._ids.token(240), expires_at_ms=now + duration_s * 1000,
                          created_at_ms=now)
        self._directory.add_key(user, cred)
        return cred
