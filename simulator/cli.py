"""`modelarts-sim serve | accounts | env | generate | validate | coverage`"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys

import simulator
from simulator.admin import guard
from simulator.identity.accounts import AccountsError, Directory
from simulator.sdk_env import env_lines
from simulator.settings import (AUTH_MODES, DEFAULT_PORT, LIFECYCLE_MODES, Settings,
                                SettingsError)


def _serve_parser(sub):
    p = sub.add_parser("serve", help="start the simulator (ModelArts, CTS and IAM on one port)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default %d; 0 picks a free one)" % DEFAULT_PORT)
    p.add_argument("--data-dir", dest="data_dir",
                   help="keep everything here, committed with each call (default: in memory)")
    p.add_argument("--admin-token", dest="admin_token",
                   help="/_sim calls must send it as X-Sim-Admin-Token (made and printed when "
                        "--host is not loopback)")
    p.add_argument("--auth", choices=AUTH_MODES, help="signature checks (default strict)")
    p.add_argument("--region", help="region name (default cn-north-4)")
    p.add_argument("--accounts", help="accounts TOML file (default fixtures/accounts.toml)")
    p.add_argument("--config", help="settings TOML file")
    p.add_argument("--seed", type=int, help="seed for every generated id and token")
    p.add_argument("--snapshot", metavar="FILE",
                   help="start from this snapshot (made by POST /_sim/snapshot)")
    p.add_argument("--init", dest="init_dir", metavar="DIR",
                   help="run the request files (*.json, *.toml) and scripts (*.py) in DIR, "
                   "in name order, before serving")
    p.add_argument("--bucket", dest="obs_buckets", action="append", metavar="NAME",
                   help="an OBS bucket to start with (repeat for more)")
    p.add_argument("--lifecycle-mode", dest="lifecycle_mode",
                   choices=LIFECYCLE_MODES,
                   help="how asynchronous steps move at start (default time)")
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="modelarts-sim", description=simulator.__doc__)
    parser.add_argument("--version", action="version", version=simulator.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    acc = sub.add_parser("accounts", help="print the accounts the server accepts")
    acc.add_argument("--accounts", help="accounts TOML file")
    acc.add_argument("--config", help="settings TOML file")
    acc.add_argument("--json", action="store_true", help="as JSON")
    envp = sub.add_parser("env", help="print the HUAWEICLOUD_SDK_* exports that point "
                          "unmodified SDK code at a running simulator")
    envp.add_argument("--endpoint", default="http://127.0.0.1:%d" % DEFAULT_PORT,
                     help="the simulator's URL (default http://127.0.0.1:%d)" % DEFAULT_PORT)
    envp.add_argument("--user", default=None, help="whose AK/SK (default: the default user)")
    envp.add_argument("--accounts", help="accounts TOML file")
    envp.add_argument("--config", help="settings TOML file")
    from simulator import validate_command
    from simulator.generate import command as generate_command
    from simulator.testing import ctl
    generate_command.add_parser(sub)
    validate_command.add_parser(sub)
    ctl.add_parser(sub)
    cov = sub.add_parser("coverage", help="print the coverage table (from the catalog)")
    cov.add_argument("--markdown", action="store_true", help="as docs/coverage.md holds it")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "accounts":
            return accounts(args)
        if args.command == "env":
            return env(args)
        if args.command == "generate":
            from simulator.generate import command as generate_command
            return generate_command.command(args)
        if args.command == "ctl":
            from simulator.testing import ctl
            return ctl.command(args)
        if args.command == "validate":
            from simulator import validate_command
            return validate_command.command(args)
        if args.command == "coverage":
            from simulator import coverage
            sys.stdout.write(coverage.markdown() if args.markdown else coverage.text())
            return 0
    except (SettingsError, AccountsError) as exc:
        print("modelarts-sim: %s" % exc, file=sys.stderr)
        return 2
    return 1


def _settings(args) -> Settings:
    overrides = {k: v for k, v in vars(args).items()
                 if k not in ("command", "config", "json") and v is not None}
    return Settings.load(overrides, config=getattr(args, "config", None))


def accounts(args) -> int:
    settings = _settings(args)
    described = Directory.load(settings.accounts).describe()
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    for d in described["domains"]:
        print("domain %s  %s" % (d["domain"]["id"], d["domain"]["name"]))
        for p in d["projects"]:
            print("  project %s  %s (region %s)" % (p["id"], p["name"], p["region"]))
        for u in d["users"]:
            print("  user %s  %-10s role=%s" % (u["id"], u["name"], u["role"]))
            for c in u["credentials"]:
                print("    AK %s  SK %s" % (c["access_key"], c["secret_key"]))
    return 0


def env(args) -> int:
    import requests

    settings = _settings(argparse.Namespace(**{k: v for k, v in vars(args).items()
                                               if k not in ("endpoint", "user")}))
    region = settings.region
    try:  # the running simulator knows its region best
        region = requests.get(args.endpoint.rstrip("/") + "/_sim/health", timeout=2).json()[
            "region"]
    except (requests.RequestException, ValueError, KeyError):
        print("# %s did not answer: using region %s from the settings" % (args.endpoint, region))
    directory = Directory.load(settings.accounts)
    user = directory.user(args.user) if args.user else directory.default_user()
    if user is None or not user.credentials:
        print("modelarts-sim: no user %r with an AK/SK" % args.user, file=sys.stderr)
        return 2
    cred = user.credentials[0]
    project = directory.home_project(user.domain, region)
    print("# modelarts-sim at %s, region %s, user %s" % (args.endpoint, region, user.name))
    for line in env_lines(args.endpoint.rstrip("/"), region, cred.access_key, cred.secret_key):
        print(line)
    if project:
        print("# optional: skips the project id look-up the SDK makes with a region")
        print("# export HUAWEICLOUD_SDK_PROJECT_ID=%s" % project.id)
    return 0


def serve(args) -> int:
    from simulator.server import build_server, start_ticker

    settings = _settings(args)
    made_token = None
    if settings.admin_token is None and not guard.is_loopback(guard.host_name(settings.host)):
        # reachable from other machines: the controls answer only who holds this
        made_token = settings.admin_token = secrets.token_urlsafe(24)
    sim, server = build_server(settings)
    port = int(server.effective_port)
    endpoint = "http://%s:%d" % (settings.host, port)
    user = sim.directory.default_user()
    project = sim.directory.home_project(user.domain, settings.region)
    cred = user.credentials[0] if user.credentials else None
    print("modelarts-sim %s listening on %s" % (simulator.__version__, endpoint))
    print("  region %s, auth %s, data %s" % (settings.region, settings.auth,
                                             settings.data_dir or "in memory"))
    if cred:
        print("  default credentials: user %s  AK %s  SK %s" % (user.name, cred.access_key,
                                                                 cred.secret_key))
    if project:
        print("  project %s (%s), domain %s (%s)" % (project.id, project.name, user.domain.id,
                                                     user.domain.name))
    if made_token:
        print("  /_sim admin token (send it as %s; clients read %s): %s"
              % (guard.TOKEN_HEADER, guard.TOKEN_ENV, made_token))
    sys.stdout.flush()

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    ticker = start_ticker(sim)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        # a second SIGTERM (or ^C) while shutting down waits for the store to close
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ticker.stop()  # between two steps of its work: the store closes after it
        server.close()
        sim.close()
        print("modelarts-sim stopped; traces committed", flush=True)
    return 0
