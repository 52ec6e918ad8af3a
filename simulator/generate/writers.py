"""Where generated traces go: files in one of four formats, labels.jsonl beside them, and
optionally a running simulator (its trace store, or a bucket of its OBS).

Records are written as they come, in time order; nothing holds more than one trace-file
period of them, so memory stays flat however many are asked for.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import orjson

from simulator.cts import csvform
from simulator.cts.delivery import encode_file, file_key

FORMATS = ("jsonl", "json", "csv", "obs")
OBS_INFO = {"file_prefix_name": "", "is_sort_by_service": True, "compress_type": "gzip"}


class JsonLines:
    def __init__(self, folder: Path):
        self.path = folder / "traces.jsonl"
        self._fh = open(self.path, "wb", buffering=1 << 20)

    def write(self, record: dict) -> None:
        self._fh.write(orjson.dumps(record) + b"\n")

    def close(self) -> list[Path]:
        self._fh.close()
        return [self.path]


class JsonArray:
    def __init__(self, folder: Path):
        self.path = folder / "traces.json"
        self._fh = open(self.path, "wb", buffering=1 << 20)
        self._fh.write(b"[")
        self._first = True

    def write(self, record: dict) -> None:
        self._fh.write((b"\n" if self._first else b",\n") + orjson.dumps(record))
        self._first = False

    def close(self) -> list[Path]:
        self._fh.write(b"\n]\n")
        self._fh.close()
        return [self.path]


class Csv:
    def __init__(self, folder: Path):
        self.path = folder / "traces.csv"
        self._fh = open(self.path, "w", newline="", encoding="utf-8", buffering=1 << 20)
        self._csv = csv.writer(self._fh, lineterminator="\n")
        self._columns = csvform.header()
        self._csv.writerow(self._columns)

    def write(self, record: dict) -> None:
        self._csv.writerow(csvform.encode_row(record, self._columns))

    def close(self) -> list[Path]:
        self._fh.close()
        return [self.path]


class TraceFiles:
    """The files each project's `system` tracker would write: one per transfer period and
    service, gzipped, named and laid out as CTS names them (cts/delivery.py). `put(key,
    data)` receives each file (into a folder, or a running simulator's bucket)."""

    def __init__(self, put, settings, seed: int, period_s: float):
        self._put = put
        self._settings = settings
        self._period_ms = int(period_s * 1000)
        self._rng = random.Random("trace-files-%d" % seed)
        self._open: dict[str, tuple[int, dict]] = {}  # project -> (period, service -> records)
        self._region: dict[str, str] = {}
        self.files: list[str] = []

    def write(self, record: dict, region: str) -> None:
        project = record["project_id"]
        period = record["time"] // self._period_ms
        current = self._open.get(project)
        if current is not None and current[0] != period:
            self._flush(project)
            current = None
        if current is None:
            current = self._open[project] = (period, {})
            self._region[project] = region
        current[1].setdefault(record["service_type"], []).append(record)

    def _flush(self, project: str) -> None:
        period, groups = self._open.pop(project)
        stamp = (period + 1) * self._period_ms
        for service, records in sorted(groups.items()):
            key = file_key(self._region[project], "system", service, stamp, OBS_INFO,
                           "%016x" % self._rng.getrandbits(64))
            self._put(key, encode_file(records, self._settings, stamp))
            self.files.append(key)

    def close(self) -> None:
        for project in sorted(self._open, key=lambda p: self._open[p][0]):
            self._flush(project)


class Folder:
    """put(key, data) into a folder (the layout a collector reads from a synced bucket)."""

    def __init__(self, root: Path):
        self.root = root

    def __call__(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class Labels:
    def __init__(self, folder: Path):
        self.path = folder / "labels.jsonl"
        self._fh = open(self.path, "wb")

    def write(self, trace_id: str, label) -> None:
        self._fh.write(orjson.dumps({"trace_id": trace_id, "scenario": label.scenario,
                                     "step": label.step, "actor": label.actor,
                                     "is_malicious": label.is_malicious}) + b"\n")

    def close(self) -> None:
        self._fh.close()


def open_records(fmt: str, folder: Path):
    return {"jsonl": JsonLines, "json": JsonArray, "csv": Csv}[fmt](folder)
