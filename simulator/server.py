"""Serving the app with waitress: in the foreground (the CLI) or on a thread (tests, bench)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

from simulator import init_hooks
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
    _ticker: Ticker
    _stop: threading.Event

    def stop(self) -> None:
        """Ask the server's own thread to stop (waitress objects are not thread-safe): it stops
        accepting, lets in-flight requests answer, closes every connection. Then the workers
        end and the trace store closes."""
        self._ticker.stop()
        self._stop.set()
        self._thread.join(timeout=10)
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


TICK_S = 0.5
TICKER_STOP_S = 10.0  # a step of the ticker's work is short; this is far more than one


class Ticker:
    """Records what happens on its own (a cluster that finished deploying) close to when it
    happens, and writes trace files and digests when they are due, even while no request comes
    in. Each step of its work holds the simulator's lock on its own, and it looks at `stop`
    between steps, so a long catch-up neither keeps requests out nor outlives a shutdown."""

    def __init__(self, sim: Simulator):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(sim,),
                                        name="modelarts-sim-ticker", daemon=True)
        self._thread.start()

    def _tick(self, sim: Simulator) -> None:
        while not self._stop.wait(TICK_S):
            try:
                sim.housekeeping(self._stop)
            except Exception:  # never let the ticker die; the next request settles again
                logging.getLogger("modelarts_sim").exception("settle failed")

    def stop(self) -> None:
        """Stop, and wait for the step under way to end (the store is closed after this)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(TICKER_STOP_S)


def start_ticker(sim: Simulator) -> Ticker:
    return Ticker(sim)


class _Task(WSGITask):
    """waitress closes the connection after any HTTP/1.1 response without a Content-Length,
    even one that never has a body (1xx, 204, 304) and so needs no length to end (RFC 9112
    6.3). Every DELETE answering 204 would cost the client a new connection, which API Gateway
    does not make it pay. Such a response keeps the connection open unless the client asked to
    close it."""

    _bodyless_keep_alive = False

    def build_response_header(self):
        self._bodyless_keep_alive = (
            self.version == "1.1" and not self.has_body and not self.close_on_finish
            and self.request.headers.get("CONNECTION", "").lower() != "close")
        try:
            return super().build_response_header()
        finally:
            self._bodyless_keep_alive = False

    def set_close_on_finish(self) -> None:
        if not self._bodyless_keep_alive:
            super().set_close_on_finish()


class _Channel(HTTPChannel):
    task_class = _Task


def build_server(settings: Settings, sim: Simulator | None = None):
    """The simulator (made unless given) and its server, bound but not yet serving: the
    settings' snapshot is loaded and their init hooks have run (StartError if they fail)."""
    made = sim is None
    sim = sim or Simulator(settings)
    app = create_app(settings, sim)
    try:
        init_hooks.prepare(app, settings)
    except BaseException:
        if made:
            sim.close()
        raise
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # X-Forwarded-For reaches the app, which trusts it only with `trust_forwarded_for`
    server = create_server(app, host=settings.host, port=settings.port,
                           threads=settings.threads, ident="modelarts-sim",
                           clear_untrusted_proxy_headers=False)
    server.channel_class = _Channel
    return sim, server


LOOP_TIMEOUT_S = 0.1
DRAIN_S = 5.0


def _serve_until(server, stop: threading.Event) -> None:
    """waitress's loop, run here so that stopping happens on this same thread."""
    def loop_once():
        server.asyncore.loop(timeout=LOOP_TIMEOUT_S, map=server._map,
                             use_poll=server.adj.asyncore_use_poll, count=1)

    while not stop.is_set():
        loop_once()
    server.accepting = False
    server.del_channel()  # stop listening; the trigger stays so workers can wake the loop
    server.socket.close()
    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline and any(
            getattr(ch, "requests", None) or getattr(ch, "total_outbufs_len", 0)
            for ch in list(server._map.values())):
        loop_once()
    for channel in list(server._map.values()):
        if channel is not server.trigger:
            channel.close()
    server.trigger.close()


def start_in_thread(settings: Settings | None = None, sim: Simulator | None = None) -> RunningServer:
    settings = settings or Settings(port=0)
    sim, server = build_server(settings, sim)
    port = int(server.effective_port)
    stop = threading.Event()
    thread = threading.Thread(target=_serve_until, args=(server, stop), name="modelarts-sim",
                              daemon=True)
    thread.start()
    return RunningServer("http://%s:%d" % (settings.host, port), port, sim, server, thread,
                         start_ticker(sim), stop)
