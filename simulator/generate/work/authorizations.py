"""The access keys an admin stores for ModelArts (authorizations), so that it can reach OBS
for a team member: stored, and removed again at the weekly key review.

The ``authorization`` kind in TeamWork (id = the IAM user id): access_key, user_name.
"""

from __future__ import annotations

from simulator.generate.work.common import MINUTE, call, slipped

MISTAKE_RATE = 0.03  # how often a person slips (a duplicate name, a wrong key): a 4xx warning


def _key_holders(work) -> list:
    """The team members whose keys ModelArts may be given: the CI robot and the engineers."""
    return [p for p in work.team.members if p.role in ("ci-robot", "ml-engineer")]


def _authorize(actor, work, rng) -> dict | None:
    stored = work.assets.get("authorization", {})
    candidates = [p for p in _key_holders(work) if p.user.id not in stored]
    if not candidates:
        return None
    person = rng.choice(candidates)
    credential = person.user.credentials[0]
    body = {"user_id": person.user.id, "user_name": person.name, "type": "credential",
            "content": credential.access_key, "secret_key": credential.secret_key}
    if slipped(rng, MISTAKE_RATE):  # pastes the wrong secret key: refused
        call(actor, work, "CreateAuthorization",
             dict(body, secret_key=credential.secret_key[::-1]))
    if call(actor, work, "CreateAuthorization", body).status != 200:
        return None
    return work.add("authorization", person.user.id, access_key=credential.access_key,
                    user_name=person.name)


def _revoke(actor, work, auth: dict) -> None:
    call(actor, work, "DeleteAuthorizations", query={"user_id": auth["id"]})
    work.remove("authorization", auth["id"])


def authorize_access_key(actor, work, rng):
    """The admin stores a team member's access key so ModelArts can reach OBS for them."""
    _authorize(actor, work, rng)
    yield 0.0


def revoke_access_key(actor, work, rng):
    """The admin removes a stored access key (a person left the project, a key rotation)."""
    auth = work.take("authorization", rng)
    if auth is not None:
        _revoke(actor, work, auth)
    yield 0.0


def access_keys_week(actor, work, rng):
    """CHORE (admin): the weekly key review: one stored key is removed (stored first when
    none is) and a member's key is stored again."""
    auth = work.take("authorization", rng)
    if auth is None:
        auth = _authorize(actor, work, rng)
        if auth is None:
            return
        auth["busy"] = True
        yield rng.uniform(20, 60) * MINUTE
    _revoke(actor, work, auth)
    yield rng.uniform(5, 30) * MINUTE
    _authorize(actor, work, rng)
