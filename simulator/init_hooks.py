"""What a simulator does before it answers anyone: load `--snapshot FILE`, then run the init
hooks of `--init DIR` (docs/state.md).

The files of DIR run in name order (sort them with a number: 10-datasets.json, 20-jobs.py):

- `*.json`: a request, a list of requests, or {"requests": [...]}; `*.toml`: a request at the
  top level, or an array of tables `[[requests]]`. A request is
  {method, path, body?, query?, headers?, user?, project?}: `path` may hold {project_id},
  {domain_id} and {region}; `user` names an account's user (the default user when absent)
  whose AK/SK signs the call; `project` (an id, or a name such as cn-north-4) picks another of
  that user's projects than the one of the simulator's region. Each runs through the app in
  process, signed like the SDK signs, and must answer below 400.
- `*.py`: a module that defines `init(sim, client)`, called with the Simulator and a
  HookClient (calls signed as the default user, or as `user=`).

Other files (a README) are left alone. The first hook that fails stops the start with a
message naming the file and the request (exit code 2 from `modelarts-sim serve`).
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
import traceback
from pathlib import Path

import orjson

import simulator
from simulator import snapshot
from simulator.core import simulator_of
from simulator.settings import SettingsError
from simulator.signed_client import InProcessTransport, SignedClient

USER_AGENT = "modelarts-sim-init/%s" % simulator.__version__
SUFFIXES = (".json", ".toml", ".py")
_FIELDS = {"method", "path", "body", "query", "headers", "user", "project"}


class StartError(SettingsError):
    """The simulator cannot start as asked: its snapshot or an init hook failed."""


def prepare(app, settings) -> None:
    """Restore settings.snapshot, then run the hooks of settings.init_dir."""
    sim = simulator_of(app)
    if settings.snapshot:
        try:
            snapshot.restore_file(sim, settings.snapshot)
        except snapshot.SnapshotError as exc:
            raise StartError("--snapshot %s: %s" % (settings.snapshot, exc)) from None
    if settings.init_dir:
        run(app, settings.init_dir)


def hook_files(directory) -> list[Path]:
    folder = Path(directory)
    if not folder.is_dir():
        raise StartError("--init %s: not a directory" % directory)
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES
                   and not p.name.startswith(".")), key=lambda p: p.name)


def run(app, directory) -> list[str]:
    """Run every hook of directory, in name order. Returns the names run."""
    names = []
    for path in hook_files(directory):
        if path.suffix == ".py":
            _run_script(app, path)
        else:
            client = HookClient(app, origin=path.name)
            for n, spec in enumerate(_requests(path), 1):
                client.run(spec, "request %d" % n)
        names.append(path.name)
    return names


# -- request files ------------------------------------------------------------------------------

def _requests(path: Path) -> list[dict]:
    try:
        if path.suffix == ".json":
            given = orjson.loads(path.read_bytes())
        else:
            with open(path, "rb") as fh:
                given = tomllib.load(fh)
    except OSError as exc:
        raise StartError("init hook %s: cannot read it: %s" % (path.name, exc.strerror)) \
            from None
    except (orjson.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StartError("init hook %s: not valid %s: %s" % (
            path.name, path.suffix[1:].upper(), exc)) from None
    if isinstance(given, dict) and set(given) == {"requests"}:
        given = given["requests"]
    found = given if isinstance(given, list) else [given]
    for n, spec in enumerate(found, 1):
        problem = _problem(spec)
        if problem:
            raise StartError("init hook %s, request %d: %s" % (path.name, n, problem))
    return found


def _problem(spec) -> str | None:
    if not isinstance(spec, dict):
        return "a request is an object {method, path, body?, query?, headers?, user?, project?}"
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        return "unknown field(s) %s (a request has %s)" % (", ".join(unknown),
                                                          ", ".join(sorted(_FIELDS)))
    if not isinstance(spec.get("method"), str) or not spec["method"].strip():
        return "method is required"
    if not isinstance(spec.get("path"), str) or not spec["path"].startswith("/"):
        return "path is required and starts with /"
    for name in ("query", "headers"):
        if not isinstance(spec.get(name, {}), dict):
            return "%s must be an object" % name
    for name in ("user", "project"):
        if not isinstance(spec.get(name, ""), str):
            return "%s must be a string" % name
    return None


class HookClient:
    """Calls the app in process, AK/SK-signed as an account's user (the way the SDK signs).

    call(method, path, body=None, *, query=None, headers=None, user=None, project=None,
    check=True) -> the response (werkzeug: status_code, json, headers, get_data()). With
    check, an answer of 400 or more raises StartError naming the call."""

    def __init__(self, app, user: str | None = None, origin: str = "init"):
        self.app = app
        self.sim = simulator_of(app)
        self.user = user
        self.origin = origin
        self._transport = InProcessTransport(app)

    def _identity(self, user_name: str | None, project: str | None):
        directory = self.sim.directory
        user = directory.user(user_name) if user_name else directory.default_user()
        if user is None:
            raise StartError("no user %r in the accounts" % user_name)
        cred = next((c for c in user.credentials if not c.temporary), None)
        if cred is None:
            raise StartError("user %s has no access key to sign with" % user.name)
        if project:
            found = directory.project(project) or next(iter(
                directory.projects_of(user.domain, project)), None)
            if found is None or found.domain.id != user.domain.id:
                raise StartError("user %s's account has no project %r" % (user.name, project))
        else:
            found = directory.home_project(user.domain, self.sim.settings.region)
        return user, cred, found

    def call(self, method: str, path: str, body=None, *, query: dict | None = None,
             headers: dict | None = None, user: str | None = None,
             project: str | None = None, check: bool = True, where: str = ""):
        where = where or "%s %s" % (method.upper(), path)
        try:
            account_user, cred, home = self._identity(user or self.user, project)
        except StartError as exc:
            raise StartError("init hook %s, %s: %s" % (self.origin, where, exc)) from None
        method = method.upper()
        path = path.replace("{project_id}", home.id if home else "").replace(
            "{domain_id}", account_user.domain.id).replace(
            "{region}", home.region if home else self.sim.settings.region)
        query = {k: _text(v) for k, v in (query or {}).items()}
        data = b"" if body is None else (body.encode() if isinstance(body, str)
                                         else orjson.dumps(body))
        client = SignedClient(self._transport, cred.access_key, cred.secret_key,
                              project_id=home.id if home else None, user_agent=USER_AGENT,
                              clock=self.sim.clock.now_ms)
        resp = client.request(method, path, query=query, raw=data,
                              headers={str(k): str(v) for k, v in (headers or {}).items()})
        if check and resp.status_code >= 400:
            text = resp.get_data(as_text=True)
            raise StartError("init hook %s, %s (%s %s as %s) answered %d: %s" % (
                self.origin, where, method, client.target(path, query), account_user.name,
                resp.status_code, text if len(text) <= 500 else text[:500] + "..."))
        return resp

    def run(self, spec: dict, where: str):
        return self.call(spec["method"], spec["path"], spec.get("body"),
                         query=spec.get("query"), headers=spec.get("headers"),
                         user=spec.get("user"), project=spec.get("project"), where=where)

    def as_user(self, name: str) -> "HookClient":
        return HookClient(self.app, name, self.origin)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return str(value)


# -- scripts ------------------------------------------------------------------------------------

def _run_script(app, path: Path) -> None:
    name = "modelarts_sim_init_%d_%s" % (id(app), "".join(
        c if c.isalnum() else "_" for c in path.stem))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look their module up
        try:
            spec.loader.exec_module(module)
            init = getattr(module, "init", None)
            if not callable(init):
                raise StartError("init hook %s: defines no function init(sim, client)"
                                 % path.name)
            init(simulator_of(app), HookClient(app, origin=path.name))
        finally:
            sys.modules.pop(name, None)
    except StartError:
        raise
    except (Exception, SystemExit) as exc:
        line = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                if Path(f.filename) == path]
        raise StartError("init hook %s%s: %s: %s" % (
            path.name, " line %d" % line[-1] if line else "", type(exc).__name__, exc)) \
            from None
