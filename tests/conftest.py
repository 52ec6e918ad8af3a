"""Shared fixtures: an in-process app on a frozen clock, signed clients, a real server."""

from __future__ import annotations

import pytest

from simulator.app import create_app
from simulator.clock import Clock
from simulator.core import Simulator
from simulator.server import start_in_thread
from simulator.settings import Settings
from tests.helpers import FROZEN_MS, SignedClient
from tests.sdk import sdk  # noqa: F401  the official SDK clients, both ways (tests/sdk.py)


# the buckets of the fixture account acme that tests' datasets, jobs and models use
FIXTURE_BUCKETS = ["acme-data", "acme-models"]


def make_app(**settings):
    settings.setdefault("auth", "strict")
    settings.setdefault("seed", 7)
    settings.setdefault("obs_buckets", FIXTURE_BUCKETS)
    s = Settings(**settings)
    sim = Simulator(s, clock=Clock(start_ms=FROZEN_MS, frozen=True))
    return create_app(s, sim)


@pytest.fixture
def app():
    app = make_app()
    yield app
    app.extensions["modelarts_sim"].close()


@pytest.fixture
def sim(app):
    return app.extensions["modelarts_sim"]


@pytest.fixture
def client(app):
    """Signed as the fixture admin of acme, in its cn-north-4 project."""
    return SignedClient(app)


@pytest.fixture
def server():
    """A real waitress server on a free port (real clock), stopped after the test."""
    running = start_in_thread(Settings(port=0, seed=11, obs_buckets=FIXTURE_BUCKETS))
    yield running
    running.stop()
