"""The IAM endpoints clients call before a service: tokens, projects, temporary AK/SK.

Tokens last 24 hours on the simulation clock (settings.token_ttl_s).
"""

from __future__ import annotations

from datetime import datetime, timezone


from simulator.errors import ApiError
from simulator.registry import Reply, handler


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _unauthorized(message="The username or password is wrong."):
    return ApiError(401, "IAM.0001", message)


def _bad(message):
    return ApiError(400, "IAM.0003", message)


def _token_id(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad("a token id must be a string")
    return value


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _bad("%s must be an object" % where)
    return value


@handler("KeystoneCreateUserTokenByPassword")
def create_token(ctx):
    auth = _table(_table(ctx.body, "the body").get("auth"), "auth")
    identity = _table(auth.get("identity"), "auth.identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods:
        raise _bad("auth.identity.methods must be a non-empty list")
    directory = ctx.sim.directory
    if "password" in methods:
        user_t = _table(_table(identity.get("password"), "auth.identity.password").get("user"),
                        "auth.identity.password.user")
        dom = _table(user_t.get("domain") or {}, "auth.identity.password.user.domain")
        user = directory.user(user_t.get("name"), domain_name=dom.get("name"),
                              domain_id=dom.get("id")) if user_t.get("name") else None
        if user is None or user.password is None or user.password != user_t.get("password"):
            raise _unauthorized()
    elif "token" in methods:
        given = _table(identity.get("token"), "auth.identity.token").get("id") or \
            ctx.headers.get("x-auth-token")
        old = ctx.sim.tokens.find(_token_id(given))
        if old is None or ctx.sim.tokens.expired(old):
            raise _unauthorized("The token is invalid or has expired.")
        user = old.user
    else:
        raise _bad("unsupported identity method(s): %s" % ", ".join(map(str, methods)))

    project = None
    scope = auth.get("scope") or {}
    if not isinstance(scope, dict):
        raise _bad("auth.scope must be an object")
    if "project" in scope:
        p = _table(scope["project"], "auth.scope.project")
        candidates = directory.projects_of(user.domain)
        if p.get("id"):
            candidates = [c for c in candidates if c.id == p["id"]]
        elif p.get("name"):
            candidates = [c for c in candidates if c.name == p["name"]]
        else:
            raise _bad("auth.scope.project needs an id or a name")
        if not candidates:
            raise _unauthorized("The project in the scope does not exist in the user's account.")
        project = candidates[0]
    elif "domain" in scope:
        d = _table(scope["domain"], "auth.scope.domain")
        if (d.get("id") and d["id"] != user.domain.id) or (
                d.get("name") and d["name"] != user.domain.name):
            raise _unauthorized("The domain in the scope is not the user's account.")
    token = ctx.sim.tokens.issue(user, project, methods)
    return Reply(201, {"token": _token_body(ctx, token)},
                 headers={"X-Subject-Token": token.value})


def _token_body(ctx, token) -> dict:
    body = {
        "methods": list(token.methods),
        "expires_at": _iso(token.expires_ms),
        "issued_at": _iso(token.issued_ms),
        "user": {"id": token.user.id, "name": token.user.name, "password_expires_at": "",
                 "domain": {"id": token.domain.id, "name": token.domain.name}},
        "roles": [{"id": "0", "name": "te_admin" if token.user.can_write else "readonly"}],
    }
    if token.project:
        body["project"] = {"id": token.project.id, "name": token.project.name,
                           "domain": {"id": token.domain.id, "name": token.domain.name}}
        endpoint = ctx.host_url
        region = token.project.region
        body["catalog"] = [
            {"type": kind, "id": kind, "name": kind, "endpoints": [
                {"id": kind + "-" + region, "interface": "public", "region": region,
                 "region_id": region, "url": endpoint}]}
            for kind in ("modelarts", "cts", "iam")]
    else:
        body["domain"] = {"id": token.domain.id, "name": token.domain.name}
    return body


@handler("KeystoneValidateToken")
def validate_token(ctx):
    subject = ctx.headers.get("x-subject-token") or ""
    token = ctx.sim.tokens.find(subject)
    if token is None or ctx.sim.tokens.expired(token):
        raise ApiError(404, "IAM.0004", "The token could not be found or has expired.")
    return Reply(200, {"token": _token_body(ctx, token)}, headers={"X-Subject-Token": token.value})


@handler("KeystoneListProjects")
def list_projects(ctx):
    domain = ctx.caller.user.domain
    name = ctx.query.get("name")
    wanted_domain = ctx.query.get("domain_id")
    projects = ctx.sim.directory.projects_of(domain, name)
    if wanted_domain and wanted_domain != domain.id:
        projects = []
    base = ctx.host_url + "/v3/projects"
    return Reply(200, {
        "projects": [{"id": p.id, "name": p.name, "domain_id": domain.id, "enabled": True,
                      "is_domain": False, "parent_id": domain.id, "description": "",
                      "links": {"self": base + "/" + p.id}} for p in projects],
        "links": {"self": base, "previous": None, "next": None},
    })


@handler("KeystoneListAuthDomains")
def list_auth_domains(ctx):
    d = ctx.caller.user.domain
    base = ctx.host_url + "/v3/auth/domains"
    return Reply(200, {"domains": [{"id": d.id, "name": d.name, "enabled": True,
                                    "description": "", "links": {"self": base + "/" + d.id}}],
                       "links": {"self": base, "previous": None, "next": None}})


@handler("CreateTemporaryAccessKeyByToken")
def create_temporary_key(ctx):
    auth = _table(_table(ctx.body, "the body").get("auth"), "auth")
    identity = _table(auth.get("identity"), "auth.identity")
    if identity.get("methods") != ["token"]:
        raise _bad("auth.identity.methods must be [\"token\"]")
    spec = _table(identity.get("token") or {}, "auth.identity.token")
    duration = spec.get("duration_seconds", 900)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 900 <= duration <= 86400:
        raise _bad("duration_seconds must be an integer from 900 to 86400")
    # X-Auth-Token wins over the body's token id, as IAM documents; a request signed with a
    # permanent AK/SK needs no token at all
    body_token = _token_id(spec.get("id"))
    value = ctx.headers.get("x-auth-token") or body_token
    if value:
        token = ctx.sim.tokens.find(value)
        if token is None or ctx.sim.tokens.expired(token):
            raise _unauthorized("The token is invalid or has expired.")
        user = token.user
    elif ctx.caller is not None and ctx.caller.via == "aksk":
        user = ctx.caller.user
    else:
        raise _unauthorized("A token or an AK/SK signature is required.")
    cred = ctx.sim.tokens.issue_temporary_credential(user, duration)
    return Reply(201, {"credential": {"access": cred.access_key, "secret": cred.secret_key,
                                      "securitytoken": cred.security_token,
                                      "expires_at": _iso(cred.expires_at_ms)}})
