"""The pytest plugin (entry point ``pytest11: modelarts_sim``): installing modelarts-sim is all
a test suite needs to get a simulator. Nothing starts until a test asks for a fixture.

Fixtures
    modelarts_sim       a simulator started once per session on a free port (a thread), reset
                        before each test; a ModelArtsSim helper acting as the default user
    modelarts_sim_env   the same, with the HUAWEICLOUD_SDK_* variables set (modelarts-sim env)
    modelarts_client    huaweicloudsdkmodelarts' ModelArtsClient pointed at it
    cts_client          huaweicloudsdkcts' CtsClient pointed at it
    modelarts_sim_app   in process (the Flask test client, no sockets), reset before each test

Options (each also an ini key: modelarts_sim_auth, modelarts_sim_seed, ...)
    --modelarts-sim-auth strict|lenient|off    --modelarts-sim-seed N
    --modelarts-sim-lifecycle-mode time|immediate|manual
    --modelarts-sim-url URL       reuse a simulator started elsewhere (nothing is started)
    --modelarts-sim-bucket NAME   an OBS bucket to start with (repeat; ini: a list)
    --modelarts-sim-accounts FILE --modelarts-sim-config FILE (a settings TOML file)
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from simulator.settings import AUTH_MODES, LIFECYCLE_MODES

# name -> (help, choices, is a path)
OPTIONS = {
    "auth": ("signature checks of the simulator the plugin starts (default strict)",
             AUTH_MODES, False),
    "seed": ("seed for every id the simulator generates (default random)", None, False),
    "lifecycle_mode": ("how asynchronous steps move: time (default), immediate or manual",
                       LIFECYCLE_MODES, False),
    "url": ("reuse a simulator already running at this URL (for example a CI service "
            "container) instead of starting one; it is still reset before each test",
            None, False),
    "accounts": ("accounts TOML file (default: the packaged fixture accounts)", None, True),
    "config": ("settings TOML file for the simulator the plugin starts (any setting of "
               "modelarts-sim serve --config)", None, True),
}


def pytest_addoption(parser):
    group = parser.getgroup("modelarts-sim", "modelarts-sim (the ModelArts and CTS simulator)")
    for name, (help_text, choices, _) in OPTIONS.items():
        group.addoption("--modelarts-sim-" + name.replace("_", "-"), dest="modelarts_sim_" + name,
                        default=None, choices=choices, help=help_text)
        parser.addini("modelarts_sim_" + name, help_text, default=None)
    group.addoption("--modelarts-sim-bucket", dest="modelarts_sim_buckets", action="append",
                    default=None, metavar="NAME",
                    help="an OBS bucket the simulator starts with (repeat for more)")
    parser.addini("modelarts_sim_buckets", "OBS buckets the simulator starts with",
                  type="linelist", default=[])


def _option(config, name: str):
    """Command line, else ini, else None. An ini path is relative to the ini file."""
    value = config.getoption("modelarts_sim_" + name, default=None)
    if value not in (None, "", []):
        return value
    value = config.getini("modelarts_sim_" + name)
    if value in (None, "", []):
        return None
    if name in OPTIONS and OPTIONS[name][2]:
        base = config.inipath.parent if config.inipath else config.rootpath
        value = str(Path(base) / value)
    return value


def _check(config) -> dict:
    """Every option, checked: pytest.UsageError says what is wrong."""
    out = {}
    for name, (_, choices, _) in OPTIONS.items():
        value = _option(config, name)
        if value is not None and choices and value not in choices:
            raise pytest.UsageError("modelarts_sim_%s must be one of %s, not %r" % (
                name, ", ".join(choices), value))
        out[name] = value
    if out["seed"] is not None:
        try:
            out["seed"] = int(out["seed"])
        except ValueError:
            raise pytest.UsageError("modelarts_sim_seed must be an integer, not %r"
                                    % out["seed"]) from None
    out["buckets"] = _option(config, "buckets")
    return out


def pytest_configure(config):
    _check(config)


def _settings(options: dict):
    from simulator.settings import Settings, SettingsError

    overrides = {"host": "127.0.0.1", "port": 0, "auth": options["auth"],
                 "seed": options["seed"], "lifecycle_mode": options["lifecycle_mode"],
                 "accounts": options["accounts"], "obs_buckets": options["buckets"]}
    try:
        return Settings.load(overrides, env={}, config=options["config"])
    except SettingsError as exc:
        raise pytest.UsageError("modelarts-sim: %s" % exc) from None


@pytest.fixture(scope="session")
def modelarts_sim_session(pytestconfig):
    """The session's simulator (started on first use, stopped at the end; or the one at
    --modelarts-sim-url). Tests want modelarts_sim, which resets it first."""
    from simulator.identity.accounts import Directory
    from simulator.testing.client import HttpTransport, SimSession, SimulatorError

    options = _check(pytestconfig)
    if options["url"]:
        ignored = [n for n in ("auth", "seed", "config") if options[n] is not None]
        if options["buckets"]:
            ignored.append("buckets")
        if ignored:
            warnings.warn("modelarts-sim: the %s setting(s) apply only to a simulator the "
                          "plugin starts, not to the one at %s" % (", ".join(ignored),
                                                                   options["url"]),
                          stacklevel=1)
        transport = HttpTransport(options["url"])
        try:
            health = transport.send("GET", "/_sim/health")
        except SimulatorError as exc:
            pytest.fail("--modelarts-sim-url: %s" % exc, pytrace=False)
        if health.status_code != 200:
            pytest.fail("--modelarts-sim-url: %s/_sim/health answered %d: is it a modelarts-sim?"
                        % (transport.endpoint, health.status_code), pytrace=False)
        directory = Directory.load(options["accounts"])
        region = health.json()["region"]
        if options["lifecycle_mode"]:
            from simulator.testing.client import ModelArtsSim
            ModelArtsSim(transport, directory, region).lifecycle(options["lifecycle_mode"])
        session = SimSession(transport, directory, region)
    else:
        from simulator.server import start_in_thread

        settings = _settings(options)
        running = start_in_thread(settings)
        try:
            session = SimSession(HttpTransport(running.endpoint, sim=running.sim),
                                 running.sim.directory, settings.region, on_close=running.stop)
        except BaseException:
            running.stop()
            raise
    yield session
    session.close()


@pytest.fixture
def modelarts_sim(modelarts_sim_session):
    """A simulator on 127.0.0.1 (one per session), reset before this test: a ModelArtsSim
    acting as the default user. .endpoint, .region, .project_id, .domain_id, .credentials,
    .as_user(name); traces(), wait_for_trace(), assert_traced(), advance(),
    advance_resource(), fail_resource(), fault(), snapshot(), restore(). See docs/testing.md."""
    modelarts_sim_session.reset()
    return modelarts_sim_session.helper()


@pytest.fixture
def modelarts_sim_env(modelarts_sim, monkeypatch):
    """modelarts_sim, with the HUAWEICLOUD_SDK_* variables of `modelarts-sim env` set for this
    test (and the SDK's caches of project ids and region endpoints emptied), so code that
    builds its clients with with_region(...) talks to the simulator."""
    for name, value in modelarts_sim.env.items():
        monkeypatch.setenv(name, value)
    try:
        from huaweicloudsdkcore.auth.credentials import Credentials
        from huaweicloudsdkcore.region.cache import EnvRegionCache
    except ImportError:
        pass
    else:
        monkeypatch.setattr(Credentials, "_CACHE", {})
        monkeypatch.setattr(EnvRegionCache(), "_value", {})
    return modelarts_sim


def _sdk(package: str):
    pytest.importorskip("huaweicloudsdkcore", reason="huaweicloudsdkcore is not installed "
                        "(pip install huaweicloudsdkcore %s)" % package)
    pytest.importorskip(package, reason="%s is not installed (pip install %s)" % (
        package, package))


@pytest.fixture
def modelarts_client(modelarts_sim):
    """huaweicloudsdkmodelarts' ModelArtsClient (v1), endpoint and project id of the
    simulator, as the default user. Skipped when the SDK is not installed."""
    _sdk("huaweicloudsdkmodelarts")
    return modelarts_sim.modelarts_client()


@pytest.fixture
def cts_client(modelarts_sim):
    """huaweicloudsdkcts' CtsClient (v3) pointed at the simulator, as the default user.
    Skipped when the SDK is not installed."""
    _sdk("huaweicloudsdkcts")
    return modelarts_sim.cts_client()


@pytest.fixture(scope="session")
def modelarts_sim_app_session(pytestconfig):
    """The session's in-process simulator (no sockets). Tests want modelarts_sim_app."""
    from simulator.app import create_app
    from simulator.core import Simulator
    from simulator.testing.client import AppTransport, SimSession

    settings = _settings(_check(pytestconfig))
    sim = Simulator(settings)
    session = SimSession(AppTransport(create_app(settings, sim)), sim.directory,
                         settings.region, on_close=sim.close)
    yield session
    session.close()


@pytest.fixture
def modelarts_sim_app(modelarts_sim_app_session):
    """An in-process simulator (the Flask test client: no sockets, no threads), reset before
    this test: the same helper as modelarts_sim but for .endpoint (None) and the SDK clients;
    .app, .client (the Flask test client) and .sim (the Simulator) reach inside."""
    modelarts_sim_app_session.reset()
    return modelarts_sim_app_session.helper()
