"""Authorizations: /v2/{project_id}/authorizations (modelarts-api.md section 5.4).

An IAM user of the account (or ``all`` users) lets ModelArts act for them, either through an
agency or by storing an access key (``type: credential``: the AK in ``content``, the SK in
``secret_key``). The CTS traces addAkSk / deleteAkSk are mapped to the credential kind by
inference; agency authorizations are served but not audited. resource_id is the AK,
resource_name the user's name.

The SK is checked against the account's keys and then forgotten: it is never stored, listed,
answered or traced (the trace masks ``secret_key`` in the request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.modelarts.listing import sorted_page
from simulator.modelarts.validate import Checker
from simulator.registry import Reply, handler

FAMILY = "authorizations"
DWELL: dict = {}  # nothing here is asynchronous

AGENCY, CREDENTIAL = "agency", "credential"
ALL_USERS = "all"
ACCESS_KEY = re.compile(r"^[A-Z0-9]{20}$")
AGENCY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RESULT = {"result": "true"}

INVALID = "ModelArts.0101"
EXISTS = "ModelArts.0424"
NO_CREDENTIAL = "ModelArts.3801"


# -- state -----------------------------------------------------------------------------------

@dataclass
class Authorization:
    user_id: str  # an IAM user id, or "all"
    user_name: str
    type: str  # agency | credential
    content: str  # the agency name, or the AK
    created_ms: int


class State:
    def __init__(self):
        self.authorizations: dict[str, Authorization] = {}  # user_id -> its authorization


# -- helpers ---------------------------------------------------------------------------------

def _named(value) -> str | None:
    return value if isinstance(value, str) else None


def _grantee(ctx, chk: Checker, body: dict) -> tuple[str, str]:
    """(user id, user name) of whom the authorization is for: a user of the caller's account,
    or all of them."""
    user_id = chk.string(body, "user_id", required=True, min_len=1, max_len=64)
    name = chk.string(body, "user_name", min_len=1, max_len=64)
    if user_id == ALL_USERS:
        return user_id, name or ALL_USERS
    user = ctx.sim.directory.user_by_id(user_id)
    if user is None or user.domain.id != ctx.project.domain.id:
        chk.fail("User %s is not an IAM user of this account." % user_id)
    if name is not None and name != user.name:
        chk.fail("Parameter user_name %r is not the name of user %s." % (name, user_id))
    return user.id, user.name


def _add(ctx, chk: Checker, auth: Authorization) -> None:
    state = ctx.state
    if auth.user_id in state.authorizations:
        chk.fail("An authorization for %s already exists." % auth.user_name, EXISTS)
    state.authorizations[auth.user_id] = auth


def _view(a: Authorization) -> dict:
    return {"user_id": a.user_id, "user_name": a.user_name, "type": a.type,
            "content": a.content, "create_time": a.created_ms}


def _grant(ctx) -> tuple[Checker, dict, str, str]:
    """A create call's checker (its refusals name the key or agency and the user asked for) and
    body, and the id and name of whom it grants."""
    chk = Checker(INVALID)
    body = chk.body(ctx.body)
    chk.resource_id, chk.resource_name = _named(body.get("content")), _named(body.get("user_name"))
    user_id, user_name = _grantee(ctx, chk, body)
    chk.resource_name = user_name
    return chk, body, user_id, user_name


# -- authorizations --------------------------------------------------------------------------

@handler("CreateAuthorization")
def add_access_key(ctx):
    chk, body, user_id, user_name = _grant(ctx)
    access_key = chk.string(body, "content", required=True, min_len=1, max_len=64)
    secret_key = body.get("secret_key")
    if not isinstance(secret_key, str) or not secret_key:
        chk.fail("Parameter secret_key is required: the SK of access key %s." % access_key)
    if not ACCESS_KEY.match(access_key):
        chk.fail("Parameter content must be an access key (20 upper-case letters and digits).")
    known = ctx.sim.directory.by_access_key(access_key)
    if (known is None or known[0].domain.id != ctx.project.domain.id or known[1].temporary
            or known[1].secret_key != secret_key):
        chk.fail("User credential (AK and SK) does not exist.", NO_CREDENTIAL, 401)
    _add(ctx, chk, Authorization(user_id, user_name, CREDENTIAL, access_key, ctx.now_ms))
    return Reply(200, dict(RESULT), access_key, user_name)


@handler("CreateAgencyAuthorization")
def authorize_agency(ctx):
    chk, body, user_id, user_name = _grant(ctx)
    agency = chk.string(body, "content", required=True, min_len=1, max_len=64,
                        pattern=AGENCY_NAME)
    if body.get("secret_key") is not None:
        chk.fail("Parameter secret_key belongs to credential authorizations only.")
    _add(ctx, chk, Authorization(user_id, user_name, AGENCY, agency, ctx.now_ms))
    return Reply(200, dict(RESULT), agency, user_name)


@handler("DeleteAuthorizations")
def delete_authorizations(ctx):
    """?user_id=<id> removes that user's authorization; ?user_id=all removes every one. Only
    removed access keys are audited (one trace each); an agency alone leaves none."""
    chk = Checker(INVALID)
    user_id = ctx.query.get("user_id", "")
    if not user_id:
        chk.fail("Parameter user_id is required.")
    state = ctx.state
    removed = list(state.authorizations.values()) if user_id == ALL_USERS else [
        a for a in (state.authorizations.get(user_id),) if a is not None]
    if not removed:
        user = ctx.sim.directory.user_by_id(user_id)
        chk.resource_name = user.name if user and user.domain.id == ctx.project.domain.id \
            else None
        chk.fail("User credential (AK and SK) does not exist.", NO_CREDENTIAL, 401)
    for auth in removed:
        del state.authorizations[auth.user_id]
    keys = [(a.content, a.user_name) for a in removed if a.type == CREDENTIAL]
    return Reply(200, dict(RESULT), resources=keys or None, audited=bool(keys))


@handler("ListAuthorizations")
def list_authorizations(ctx):
    chk = Checker(INVALID)
    items = list(ctx.state.authorizations.values())
    total, shown = sorted_page(ctx.query, chk, items, {
        "create_time": lambda a: a.created_ms,
        "user_name": lambda a: a.user_name,
        "user_id": lambda a: a.user_id,
    }, "create_time", default_limit=100, offset_is_page=False)
    return Reply(200, {"total_count": total, "auth": [_view(a) for a in shown]})
