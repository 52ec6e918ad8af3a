"""Shared pieces of the benchmarks: server processes, the load driver, signed calls, statistics
and the results files.

Servers run in a child process (``ServerProcess``) so that the client threads and the server do
not share one interpreter lock: on a two-core machine the client gets one core and the server
the other, and the server's own CPU time is read per measurement window.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import multiprocessing
import os
import platform
import sqlite3
import sys
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.helpers (the fixture accounts)

import orjson  # noqa: E402
import requests  # noqa: E402

from simulator.signed_client import SessionTransport, SignedClient  # noqa: E402
from tests.helpers import PROJECT_ID, USERS  # noqa: E402

RESULTS_DIR = REPO / "bench" / "results"
USER_AGENT = "modelarts-sim-bench/1.0"
UNIQUE = itertools.count()  # next(UNIQUE) is atomic under the GIL: unique names across threads


# -- servers in a child process --------------------------------------------------------------------

def _serve(conn, kind: str, options: dict) -> None:
    """Body of the child process: start one server, send its endpoint, answer commands."""
    if kind == "simulator":
        from simulator.server import start_in_thread
        from simulator.settings import Settings
        # the bucket dataset_body's datasets read from and write to
        running = start_in_thread(Settings(**{"obs_buckets": ["bench-bucket"], **options}))
        endpoint, stop = running.endpoint, running.stop
    elif kind == "moto":
        warnings.simplefilter("ignore")  # "install moto[server]": only flask-cors is needed
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        from moto.server import ThreadedMotoServer
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        endpoint, stop = "http://%s:%d" % (host, port), moto.stop
    else:
        raise ValueError(kind)
    conn.send(endpoint)
    while True:
        command = conn.recv()
        if command == "cpu":
            conn.send(time.process_time())
        elif command == "stop":
            stop()
            conn.send("stopped")
            return


class ServerProcess:
    """A server (``simulator`` or ``moto``) on 127.0.0.1, on a free port, in a child process.

    Use as a context manager: the server and the process are stopped on exit.
    """

    def __init__(self, kind: str, **options):
        self.kind = kind
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, kind, options), daemon=True,
                                 name="bench-%s" % kind)
        self.endpoint = ""

    def __enter__(self) -> "ServerProcess":
        self._proc.start()
        if not self._conn.poll(120):
            self._proc.kill()
            raise RuntimeError("the %s server did not start" % self.kind)
        self.endpoint = self._conn.recv()
        return self

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        self._conn.send("cpu")
        return self._conn.recv()

    def stop(self) -> None:
        if self._proc.is_alive():
            self._conn.send("stop")
            self._conn.poll(30) and self._conn.recv()
            self._proc.join(30)
        if self._proc.is_alive():  # did not stop in time: end our own child, by its handle
            self._proc.kill()
            self._proc.join()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- clients ---------------------------------------------------------------------------------------

class LeanResponse:
    def __init__(self, status: int, body: bytes):
        self.status_code = status
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return orjson.loads(self.content)


class LeanSession:
    """One keep-alive HTTP/1.1 connection through http.client: the same calls as a
    requests.Session at a fraction of its CPU cost, to see what a server does when the client
    is not what limits it. Reconnects when the server closes (moto closes after every answer).
    """

    def __init__(self):
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, url: str, data: bytes = b"", headers: dict | None = None):
        parts = urlsplit(url)
        if self._conn is None:
            self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        target = parts.path + ("?" + parts.query if parts.query else "")
        self._conn.request(method, target, body=data or None, headers=headers or {})
        resp = self._conn.getresponse()
        body = resp.read()
        if resp.will_close:
            self.close()
        return LeanResponse(resp.status, body)

    def put(self, url: str):
        return self.request("PUT", url)

    def delete(self, url: str):
        return self.request("DELETE", url)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


CLIENTS = {"requests": requests.Session, "lean": LeanSession}


# -- signed calls ----------------------------------------------------------------------------------

class SignedCaller(SignedClient):
    """Calls a simulator endpoint over one session, as a fixture user, signed as
    huaweicloudsdkcore signs and dated by the wall clock."""

    def __init__(self, endpoint: str, session, user: str = "admin",
                 project_id: str = PROJECT_ID):
        super().__init__(SessionTransport(endpoint, session), USERS[user]["ak"],
                         USERS[user]["sk"], project_id=project_id, user_agent=USER_AGENT,
                         clock=_wall_ms)

    def call(self, method: str, path: str, body=None, expect: int = 200):
        resp = self.request(method, path, body)
        if resp.status_code != expect:
            check(resp, expect, method, self.transport.endpoint + self.target(path))
        return resp


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def check(resp, expect: int, method: str, url: str):
    """resp, when its status is `expect`; else an error naming the call."""
    if resp.status_code != expect:
        raise RuntimeError("%s %s answered %d, not %d: %s" % (
            method, url, resp.status_code, expect, resp.text[:300]))
    return resp


def dataset_body(name: str) -> dict:
    return {"dataset_name": name, "dataset_type": 0, "description": "benchmark dataset",
            "data_sources": [{"data_type": 0, "data_path": "/bench-bucket/input/"}],
            "work_path": "/bench-bucket/output/%s/" % name, "work_path_type": 0}


def traces_stored(endpoint: str) -> int:
    return requests.get(endpoint + "/_sim/health", timeout=30).json()["traces"]


# -- the load driver -------------------------------------------------------------------------------

@dataclass
class Window:
    """One measurement window of one configuration."""
    label: str
    calls: int
    seconds: float
    server_cpu_s: float
    client_cpu_s: float
    other_cpu_s: float = 0.0  # CPU the rest of the machine used meanwhile (a shared machine)

    @property
    def disturbed(self) -> bool:
        """Something else used more than a tenth of a core during the window."""
        return disturbed(self.other_cpu_s, self.seconds)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def server_cpu_us_per_call(self) -> float:
        return self.server_cpu_s / self.calls * 1e6

    @property
    def client_cpu_us_per_call(self) -> float:
        return self.client_cpu_s / self.calls * 1e6

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(disturbed=self.disturbed, calls_per_s=round(self.rate, 1),
                   server_cpu_us_per_call=round(self.server_cpu_us_per_call, 1),
                   client_cpu_us_per_call=round(self.client_cpu_us_per_call, 1))
        return out


def measure(label: str, server: ServerProcess, make_step, *, connections: int,
            warmup_s: float, seconds: float, client: str = "requests") -> Window:
    """Run `connections` threads, each with its own keep-alive session (a requests.Session, or a
    LeanSession when client is "lean"), against one server; count the calls finished in a
    window of `seconds` after `warmup_s`.

    make_step(worker, session) does the per-connection set-up and returns step(), which makes
    one unit of work and returns how many calls it made.
    """
    counts = [0] * connections
    failures: list[BaseException] = []
    stop = threading.Event()
    ready = threading.Barrier(connections + 1)

    def worker(i: int) -> None:
        with CLIENTS[client]() as session:
            try:
                step = make_step(i, session)
            except BaseException as exc:  # set-up failed: let the others go, then report
                failures.append(exc)
                stop.set()
                ready.wait()
                return
            ready.wait()
            try:
                while not stop.is_set():
                    counts[i] += step()
            except BaseException as exc:
                failures.append(exc)
                stop.set()

    threads = [threading.Thread(target=worker, args=(i,), name="client-%d" % i)
               for i in range(connections)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(warmup_s)
    calls0, cpu0, own0, t0 = sum(counts), server.cpu_seconds(), time.process_time(), \
        time.perf_counter()
    busy0 = MachineWatch._stat()[0]
    stop.wait(seconds)
    calls1, cpu1, own1, t1 = sum(counts), server.cpu_seconds(), time.process_time(), \
        time.perf_counter()
    busy1 = MachineWatch._stat()[0]
    stop.set()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError("%s: a client failed: %r" % (label, failures[0])) from failures[0]
    other = max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - (own1 - own0))
    return Window(label, calls1 - calls0, t1 - t0, cpu1 - cpu0, own1 - own0, round(other, 2))


def measure_quietly(label: str, server: ServerProcess, make_step, *, retries: int,
                    **kwargs) -> Window:
    """measure(), again (up to `retries` times) while other work on the machine disturbed the
    window; the last window is kept either way (and says whether it was disturbed)."""
    for attempt in range(retries + 1):
        w = measure(label, server, make_step, **kwargs)
        if not w.disturbed:
            break
        print("    (%s window disturbed: %.1f CPU-s of other work%s)" % (
            label, w.other_cpu_s, ", again" if attempt < retries else ""), flush=True)
    return w


def alternating(configs: tuple[str, str], rounds: int) -> list[str]:
    """A B, B A, A B, ...: each pair swaps which goes first, so a slow drift of the machine
    (heating, a growing store) weighs on both configurations alike."""
    order: list[str] = []
    a, b = configs
    for r in range(rounds):
        order += [a, b] if r % 2 == 0 else [b, a]
    return order


def combine(windows: list[Window], label: str) -> dict:
    mine = [w for w in windows if w.label == label]
    calls = sum(w.calls for w in mine)
    seconds = sum(w.seconds for w in mine)
    server_cpu = sum(w.server_cpu_s for w in mine)
    client_cpu = sum(w.client_cpu_s for w in mine)
    return {"calls": calls, "seconds": round(seconds, 3),
            "calls_per_s": round(calls / seconds, 1),
            "server_cpu_us_per_call": round(server_cpu / calls * 1e6, 1),
            "client_cpu_us_per_call": round(client_cpu / calls * 1e6, 1),
            "rounds_calls_per_s": [round(w.rate, 1) for w in mine],
            "disturbed_windows": sum(w.disturbed for w in mine)}


# -- statistics and reporting ----------------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in 0..100."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {p: _version(p) for p in ("flask", "werkzeug", "waitress", "orjson",
                                               "requests", "moto")},
    }


def disturbed(other_cpu_s: float, seconds: float) -> bool:
    """Other work used more than a tenth of a core over `seconds` (and more than /proc/stat's
    tick rounding can explain)."""
    return other_cpu_s > max(0.1 * seconds, 0.15)


class MachineWatch:
    """How busy the machine was during a run, and how much of that was not this benchmark
    (the machine may be shared: other CPU use skews throughput and tail latency)."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.stat0 = self._stat()
        self.own0 = self._own()

    @staticmethod
    def _stat() -> tuple[float, float]:
        """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat: busy is
        time in processes (user, nice, system), which is where other work shows; interrupt
        time (the benchmark's own loopback traffic, mostly) is left out."""
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except OSError:
            return 0.0, 0.0
        tick = os.sysconf("SC_CLK_TCK")
        steal = fields[7] if len(fields) > 7 else 0
        return sum(fields[:3]) / tick, steal / tick

    @staticmethod
    def _own() -> float:
        """CPU seconds of this process and of its children that have ended (the servers)."""
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def report(self) -> dict:
        wall = time.perf_counter() - self.t0
        busy, steal = (b - a for a, b in zip(self.stat0, self._stat()))
        own = self._own() - self.own0
        other = max(0.0, busy - own)
        out = {"wall_s": round(wall, 1), "machine_busy_cpu_s": round(busy, 1),
               "own_cpu_s": round(own, 1), "other_cpu_s": round(other, 1),
               "steal_s": round(steal, 1), "loadavg": os.getloadavg()}
        out["quiet"] = other < 0.05 * wall  # others used less than 5% of one core
        if not out["quiet"]:
            print("NOTE: other processes used %.0f CPU-seconds during this %.0f s run: the "
                  "figures are less reliable" % (other, wall))
        return out


def wait_until_quiet(max_wait_s: float, sample_s: float = 3.0, busy_cores: float = 0.1) -> bool:
    """Wait (up to max_wait_s) for a sample_s stretch in which the machine is nearly idle (less
    than busy_cores of CPU in use): on a shared machine, start a benchmark when nothing else
    runs. True when it found one."""
    deadline = time.monotonic() + max_wait_s
    while True:
        before = MachineWatch._stat()[0]
        time.sleep(sample_s)
        busy = (MachineWatch._stat()[0] - before) / sample_s
        if busy < busy_cores:
            return True
        if time.monotonic() >= deadline:
            print("the machine is still busy (%.1f cores in use); going on" % busy, flush=True)
            return False


def write_results(name: str, payload: dict) -> Path:
    """bench/results/NAME.json (the latest run) and a timestamped copy."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {"benchmark": name, "finished_at": stamp, "machine": machine(), **payload}
    text = json.dumps(payload, indent=2, sort_keys=False)
    (RESULTS_DIR / ("%s-%s.json" % (name, stamp))).write_text(text)
    latest = RESULTS_DIR / ("%s.json" % name)
    latest.write_text(text)
    return latest


# A server process whose CPU over its windows is at least this many cores is saturated: the
# servers measured here are Python, held to about one core by the interpreter lock, so then the
# server sets the rate. Below it, the client's own CPU did.
SATURATED_CORES = 0.9


def server_cores(row: dict) -> float:
    """Cores of CPU a server used on average while it served a configuration's calls."""
    return round(row["calls_per_s"] * row["server_cpu_us_per_call"] / 1e6, 2)


def judge(runs: dict, configs: tuple[str, str], figure: str, passes) -> tuple[dict, bool | None]:
    """Per client: the run's figure, both servers' cores, whether both were saturated and, if
    so, whether the figure passes. Then the verdict over the judged runs (None: none judged)."""
    by_client = {}
    for client, run_ in runs.items():
        cores = {name: server_cores(run_[name]) for name in configs}
        saturated = min(cores.values()) >= SATURATED_CORES
        by_client[client] = {figure: run_[figure], "server_cores": cores,
                             "servers_saturated": saturated,
                             "met": passes(run_[figure]) if saturated else None}
    verdicts = [v["met"] for v in by_client.values() if v["met"] is not None]
    return by_client, (all(verdicts) if verdicts else None)


def print_rows(runs: dict, configs: tuple[str, str], describe) -> None:
    """The table of a throughput benchmark; `describe(client, run)` gives each run's last line."""
    print()
    print("%-9s %-10s %10s %15s %15s %13s" % ("client", "config", "calls/s", "server us/call",
                                              "client us/call", "server cores"))
    for client, run_ in runs.items():
        for name in configs:
            row = run_[name]
            print("%-9s %-10s %10.1f %15.1f %15.1f %13.2f" % (
                client, name, row["calls_per_s"], row["server_cpu_us_per_call"],
                row["client_cpu_us_per_call"], server_cores(row)))
        print(describe(client, run_))


def print_verdict(goal: dict, what: str, figure: str, form: str) -> None:
    """TARGET line: the verdict over the runs judged, each run's figure in `form`."""
    if goal["met"] is None:
        print("TARGET %s: NOT MEASURED (no run saturated both servers)" % what)
        return
    print("TARGET %s: %s (%s)" % (what, verdict(goal["met"]), ", ".join(
        "%s %s" % (client, form % v[figure]) for client, v in goal["by_client"].items()
        if v["met"] is not None)))


def not_judged(judged: dict) -> str:
    return "" if judged["servers_saturated"] else (
        "  [not judged: a server below %.1f cores, so the client set the rate]" % SATURATED_CORES)


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"
