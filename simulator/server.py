"""Serving the app with waitress: in the foreground (the CLI) or on a thread (tests, bench)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from waitress.server import create_server

from simulator.app import create_app
from simulator.core import Simulator
from simulator.settings import Settings


@dataclass
class RunningServer:
    endpoint: str
    port: int
    sim: Simulator
    _server: object
    _thread: threading.Thread
    _ticker: threading.Event

    def stop(self) -> None:
        """Close every connection and the listener from the server's own loop (waitress is
        not thread-safe), let in-flight requests finish, then close the trace store."""
        server = self._server

        def close_all():
            for channel in list(server._map.values()):
                if channel is not server and channel is not server.trigger:
                    channel.close()
            server.close()

        self._ticker.set()
        server.trigger.pull_trigger(close_all)
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


TICK_S = 0.5


def start_ticker(sim: Simulator) -> threading.Event:
    """Record what happens on its own (a cluster that finished deploying) close to when it
    happens, even while no request comes in. Set the returned event to stop."""
    stop = threading.Event()

    def tick():
        while not stop.wait(TICK_S):
            try:
                sim.settle()
            except Exception:  # never let the ticker die; the next request settles again
                logging.getLogger("modelarts_sim").exception("settle failed")

    threading.Thread(target=tick, name="modelarts-sim-ticker", daemon=True).start()
    return stop


def build_server(settings: Settings, sim: Simulator | None = None):
    sim = sim or Simulator(settings)
    app = create_app(settings, sim)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host=settings.host, port=settings.port,
                           threads=settings.threads, ident="modelarts-sim",
                           clear_untrusted_proxy_headers=True)
    return sim, server


def start_in_thread(settings: Settings | None = None, sim: Simulator | None = None) -> RunningServer:
    settings = settings or Settings(port=0)
    sim, server = build_server(settings, sim)
    port = int(server.effective_port)
    thread = threading.Thread(target=server.run, name="modelarts-sim", daemon=True)
    thread.start()
    return RunningServer("http://%s:%d" % (settings.host, port), port, sim, server, thread,
                         start_ticker(sim))
