"""`modelarts-sim generate`: synthetic CTS trace datasets in which every record is what the
simulator records for a real call (see engine.py), with labelled scenarios (scenarios.py)."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from simulator.generate import org as orgmod
from simulator.generate import writers
from simulator.generate.engine import DAY_MS, Run
from simulator.generate.plan import Plan
from simulator.generate.report import Progress, Summary
from simulator.generate.scenarios import SCENARIOS


@dataclass
class Options:
    days: float = 7
    teams: int = 3
    seed: int = 0
    start_ms: int = 0
    scenarios: list[str] = field(default_factory=lambda: list(SCENARIOS))
    out: Path | None = None
    fmt: str = "jsonl"
    traces: int | None = None  # about this many: the CI robots' pace is set to reach it
    into: str | None = None  # a running simulator's URL
    into_bucket: str | None = None  # with into: trace files into this bucket of its OBS
    region: str = "cn-north-4"
    progress: bool = False


@dataclass
class Result:
    summary: Summary
    files: list[Path]
    scenarios: list[dict]
    stored: int = 0  # into a running simulator
    expired: int = 0  # older than its retention: not stored
    trace_files: int = 0


def generate(opts: Options, stderr=sys.stderr) -> Result:
    if opts.out is None and opts.into is None:
        raise ValueError("say where the traces go: an output folder, or --into URL")
    unknown = [s for s in opts.scenarios if s not in SCENARIOS]
    if unknown:
        raise ValueError("unknown scenario(s): %s (known: %s)" % (
            ", ".join(unknown), ", ".join(SCENARIOS)))
    if opts.fmt not in writers.FORMATS:
        raise ValueError("format must be one of %s" % ", ".join(writers.FORMATS))
    organisation = orgmod.build(opts.seed, opts.teams, opts.region)
    end_ms = opts.start_ms + int(opts.days * DAY_MS)
    summary = Summary()
    outputs, labels, trace_files, remote = _outputs(opts)
    progress = Progress(stderr, opts.start_ms, end_ms) if opts.progress else None

    def emit(record: dict, label) -> None:
        summary.count(record, label)
        for out in outputs:
            out.write(record)
        if trace_files is not None:
            trace_files.write(record, opts.region)
        if remote is not None:
            remote.write(record)
        if label is not None and labels is not None:
            labels.write(record["trace_id"], label)
        if progress is not None and summary.total % 2048 == 0:
            progress.update(record["time"], summary.total)

    run = Run(organisation, seed=opts.seed, start_ms=opts.start_ms, end_ms=end_ms, emit=emit)
    plan = Plan(run, traces_wanted=opts.traces)
    plan.lay_out()
    rng = random.Random("scenarios-%d" % opts.seed)
    instances = [SCENARIOS[name].lay_out(plan, rng).describe() for name in opts.scenarios]
    if remote is not None:
        remote.add_accounts(organisation.accounts())
    try:
        run.run()
    finally:
        run.close()
    files: list[Path] = []
    for out in outputs:
        files += out.close()
    if trace_files is not None:
        trace_files.close()
    if remote is not None:
        remote.flush()
    if progress is not None:
        progress.update(end_ms, summary.total, final=True)
    if opts.out is not None:
        labels.close()
        files.append(labels.path)
        files.append(_write_lines(opts.out / "scenarios.jsonl", instances))
        files.append(_write_json(opts.out / "organisation.json", organisation.describe()))
        files.append(_write_json(opts.out / "summary.json", summary.as_dict()))
    return Result(summary, files, instances,
                  stored=remote.stored if remote else 0, expired=remote.expired if remote else 0,
                  trace_files=len(trace_files.files) if trace_files is not None else 0)


def _outputs(opts: Options):
    outputs, labels, trace_files, remote = [], None, None, None
    if opts.into is not None:
        from simulator.generate.remote import Remote
        remote = Remote(opts.into)
        remote.clock_ms()  # it answers, before any file is opened
    settings = _file_settings()
    if opts.out is not None:
        opts.out.mkdir(parents=True, exist_ok=True)
        labels = writers.Labels(opts.out)
        if opts.fmt == "obs":
            trace_files = writers.TraceFiles(writers.Folder(opts.out), settings, opts.seed,
                                             settings.transfer_period_s)
        else:
            outputs.append(writers.open_records(opts.fmt, opts.out))
    if opts.into_bucket is not None:
        if remote is None:
            raise ValueError("--into-bucket needs --into URL (the simulator that has the "
                             "bucket)")
        bucket_files = writers.TraceFiles(remote.bucket_writer(opts.into_bucket), settings,
                                          opts.seed, settings.transfer_period_s)
        if trace_files is None:
            trace_files = bucket_files
        else:
            trace_files = _Both(trace_files, bucket_files)
    return outputs, labels, trace_files, remote


class _Both:
    """Trace files to a folder and to a bucket (the same names: one seeded draw each)."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    @property
    def files(self):
        return self.first.files

    def write(self, record, region):
        self.first.write(record, region)
        self.second.write(record, region)

    def close(self):
        self.first.close()
        self.second.close()


def _file_settings():
    from simulator.settings import Settings
    return Settings.load({}, env={})


def _write_lines(path: Path, items: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return path


def _write_json(path: Path, value) -> Path:
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    return path
