"""`modelarts-sim validate FILE|DIR ...`: checks CTS trace data against the record schema
(cts-and-auth.md section 1) and the operation catalog.

Inputs, found recursively in directories and taken in sorted order:

- ``*.jsonl``: a record a line (blank lines allowed), read line by line;
- ``*.json``: a JSON array of records or one record object (or a ListTraces answer,
  ``{"traces": [...]}``), read whole; ``*.json.gz``: the same gzipped (the CTS trace file);
- ``*.csv``: the flat form of simulator/cts/csvform.py, read row by row;
- ``labels.jsonl``: the labels of a generated data set, one ``{trace_id, scenario, step, actor,
  is_malicious}`` a line, each naming a trace checked in the same run;
- the other files of a generated data set (COMPANION_FILES) and files of other kinds are skipped.

Every violation is one line ``path:LINE: trace_id: field: message`` (``path:#N`` for the N-th
record of a JSON array, ``path`` alone for the whole file), then a summary. Exit status: 0 valid,
1 a violation, 2 an input that could not be read (it is reported, and the rest is checked).

docs/validate.md says which rules come from the reference and which are the simulator's.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import os
import sys
import uuid
import zlib
from dataclasses import dataclass, field

import orjson

from simulator.cts import csvform
from simulator.cts.rules import (UUID_PATTERN, Rules, article, check_record, json_type, rules_for,
                                  show)

LABELS_FILE = "labels.jsonl"
# what a generated data set (modelarts-sim generate --out) holds beside its traces and labels:
# not trace data, so skipped even when named
COMPANION_FILES = frozenset({"scenarios.jsonl", "organisation.json", "summary.json"})
LABEL_KEYS = {"trace_id": "string", "scenario": "string", "step": "string", "actor": "string",
              "is_malicious": "boolean"}
MAX_LINE_BYTES = 16 * 2**20  # a longer line is reported, not read
_BOM = b"\xef\xbb\xbf"


# -- a run over files ------------------------------------------------------------------------------

@dataclass
class _Source:
    path: str
    numbered: bool = False  # records are numbered (#N), not lines


@dataclass
class _Run:
    out: object
    rules: Rules
    quiet: bool = False
    max_errors: int | None = None
    records: int = 0
    files: int = 0
    violations: int = 0
    printed: int = 0
    unreadable: bool = False
    sources: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # trace id key -> where first (packed)
    labels: list = field(default_factory=list)  # (where, trace id key, trace id shown)

    # -- reporting ------------------------------------------------------------------------------
    def report(self, where: str, trace_id: str, name: str, message: str,
               unreadable: bool = False) -> None:
        self.violations += 1
        self.unreadable = self.unreadable or unreadable
        if self.quiet or (self.max_errors is not None and self.printed >= self.max_errors):
            return
        self.printed += 1
        self.out.write(_printable("%s: %s: %s: %s\n" % (where, trace_id, name, message)))

    def summary(self) -> None:
        result = "%d violation%s" % (self.violations, _s(self.violations)) \
            if self.violations else "valid"
        hidden = self.violations - self.printed
        if hidden and not self.quiet:
            result += " (%d not shown)" % hidden
        self.out.write("checked %d record%s in %d file%s: %s\n" % (
            self.records, _s(self.records), self.files, _s(self.files), result))

    def exit_code(self) -> int:
        return 2 if self.unreadable else 1 if self.violations else 0

    # -- places ---------------------------------------------------------------------------------
    def source(self, path: str, numbered: bool = False) -> int:
        self.sources.append(_Source(path, numbered))
        return len(self.sources) - 1

    def where(self, src: int, n: int | None = None) -> str:
        source = self.sources[src]
        if n is None:
            return source.path
        return "%s:%s%d" % (source.path, "#" if source.numbered else "", n)

    # -- records --------------------------------------------------------------------------------
    def entry(self, src: int, n: int, record, file_form: bool) -> None:
        self.records += 1
        shown = _trace_id_shown(record)
        where = self.where(src, n)
        for name, message in check_record(record, file_form=file_form, rules=self.rules):
            self.report(where, shown, name, message)
        trace_id = record.get("trace_id") if isinstance(record, dict) else None
        if isinstance(trace_id, str):
            key = _trace_key(trace_id)
            first = self.seen.get(key)
            if first is None:
                self.seen[key] = _pack(src, n)
            else:
                self.report(where, shown, "trace_id", "duplicate: first at %s"
                            % self.where(*_unpack(first)))

    def broken(self, src: int, n: int | None, name: str, message: str) -> None:
        """Something that could not be read."""
        self.report(self.where(src, n), "-", name, message, unreadable=True)

    def dangling_labels(self) -> None:
        for where, key, shown in self.labels:
            if key not in self.seen:
                self.report(where, shown, "trace_id", "no record with this trace_id was "
                            "checked")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _pack(src: int, n: int) -> int:
    return src << 40 | n  # one small int per trace id: the set of a big run stays small


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> 40, packed & (2**40 - 1)


def _trace_key(trace_id: str):
    if UUID_PATTERN.fullmatch(trace_id):
        return uuid.UUID(trace_id).bytes
    return trace_id


def _trace_id_shown(record) -> str:
    trace_id = record.get("trace_id") if isinstance(record, dict) else None
    if not isinstance(trace_id, str) or not trace_id:
        return "-"
    if len(trace_id) <= 64 and trace_id.isprintable() and " " not in trace_id:
        return trace_id
    return show(trace_id, 40)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- reading --------------------------------------------------------------------------------------

def _lines(fh):
    """(line number, bytes) of each line of a binary file; bytes is None for a line longer than
    MAX_LINE_BYTES, which is skipped without being held."""
    n = 0
    limit = MAX_LINE_BYTES
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        n += 1
        if n == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = fh.readline(limit + 1)
            yield n, None
        else:
            yield n, line


def _read_jsonl(run: _Run, path: str) -> None:
    src = run.source(path)
    with open(path, "rb") as fh:
        for n, line in _lines(fh):
            if line is None:
                run.records += 1
                run.broken(src, n, "record", "line longer than %d bytes: not read"
                           % MAX_LINE_BYTES)
            elif line.strip():
                record = _parse_line(run, src, n, line)
                if record is _UNREAD:
                    run.records += 1
                else:
                    run.entry(src, n, record, file_form=False)


_UNREAD = object()


def _parse_line(run: _Run, src: int, n: int, line: bytes, name: str = "record"):
    line = line.rstrip(b"\r\n")  # so that an error at the end is placed on this line
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        run.broken(src, n, name, "not JSON: %s (column %d)" % (exc.msg, exc.pos + 1))
        return _UNREAD


def _read_json(run: _Run, path: str, compressed: bool) -> None:
    src = run.source(path, numbered=True)
    with open(path, "rb") as fh:
        data = fh.read()
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            run.broken(src, None, "file", "not a gzip file: %s" % (str(exc) or type(exc).__name__))
            return
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:  # its place is a line, not a record
        run.report("%s:%d" % (path, exc.lineno), "-", "file", "not JSON: %s (column %d)"
                   % (exc.msg, exc.colno), unreadable=True)
        return
    records, file_form = _records_of(doc)
    if records is None:
        run.report(run.where(src), "-", "file", "holds a JSON array of records or one record "
                   "object, not %s" % json_type(doc))
        return
    for i, record in enumerate(records, 1):
        run.entry(src, i, record, file_form)


def _records_of(doc) -> tuple[list | None, bool]:
    """(the records a JSON document holds, whether in the file form)."""
    if isinstance(doc, list):
        return doc, True
    if isinstance(doc, dict):
        traces = doc.get("traces")
        if "trace_id" not in doc and isinstance(traces, list):
            return traces, False  # a ListTraces answer: the API form
        return [doc], True
    return None, False


class _TextLines:
    """The lines of a binary file as text for csv.reader, with what went wrong on the way
    (an undecodable or overlong line) kept for the caller to report."""

    def __init__(self, fh):
        self._lines = _lines(fh)
        self.problems: list[tuple[int, str]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        n, line = next(self._lines)
        if line is None:
            self.problems.append((n, "line longer than %d bytes: not read" % MAX_LINE_BYTES))
            return "\n"
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append((n, "not UTF-8: %s" % exc.reason))
            return line.decode("utf-8", "replace")


def _read_csv(run: _Run, path: str) -> None:
    src = run.source(path)
    previous_limit = csv.field_size_limit(MAX_LINE_BYTES)
    try:
        with open(path, "rb") as fh:
            _csv_rows(run, src, fh)
    finally:
        csv.field_size_limit(previous_limit)


def _csv_rows(run: _Run, src: int, fh) -> None:
    lines = _TextLines(fh)
    reader = csv.reader(lines)
    columns = None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            cells = None
            run.broken(src, start, "record", "not CSV: %s" % exc)
        for n, message in lines.problems:
            run.broken(src, n, "record", message)
        lines.problems.clear()
        if not cells:
            continue
        if columns is None:
            columns = _csv_header(run, src, cells)
            continue
        if len(cells) != len(columns):
            run.records += 1
            run.report(run.where(src, start), "-", "record", "%d cells for %d columns"
                       % (len(cells), len(columns)))
            continue
        run.entry(src, start, csvform.decode_row(columns, cells), file_form=False)
    if columns is None:
        run.report(run.where(src), "-", "file", "no header row")


def _csv_header(run: _Run, src: int, cells: list[str]) -> list[str]:
    seen = set()
    for cell in cells:
        if cell in seen:
            run.report(run.where(src, 1), "-", "header", "column %s twice" % show(cell))
        seen.add(cell)
    return cells


def _read_labels(run: _Run, path: str) -> None:
    src = run.source(path)
    with open(path, "rb") as fh:
        for n, line in _lines(fh):
            if line is None:
                run.broken(src, n, "label", "line longer than %d bytes: not read"
                           % MAX_LINE_BYTES)
            elif line.strip():
                label = _parse_line(run, src, n, line, "label")
                if label is not _UNREAD:
                    _check_label(run, src, n, label)


def _check_label(run: _Run, src: int, n: int, label) -> None:
    where = run.where(src, n)
    if not isinstance(label, dict):
        run.report(where, "-", "label", "a label is a JSON object, not %s" % json_type(label))
        return
    shown = _trace_id_shown(label)
    for key, kind in LABEL_KEYS.items():
        if key not in label:
            run.report(where, shown, key, "missing")
        elif json_type(label[key]) != kind:
            run.report(where, shown, key, "must be %s %s, not %s"
                       % (article(kind), kind, json_type(label[key])))
    for key in label:
        if key not in LABEL_KEYS:
            run.report(where, shown, _printable(str(key))[:64], "not a label key (%s)"
                       % ", ".join(LABEL_KEYS))
    trace_id = label.get("trace_id")
    if isinstance(trace_id, str):
        run.labels.append((where, _trace_key(trace_id), shown))


# -- files and directories ----------------------------------------------------------------------

def _reader_for(path: str):
    name = os.path.basename(path)
    lower = name.lower()
    if name == LABELS_FILE:
        return _read_labels
    if lower.endswith(".jsonl"):
        return _read_jsonl
    if lower.endswith(".json.gz"):
        return functools.partial(_read_json, compressed=True)
    if lower.endswith(".json"):
        return functools.partial(_read_json, compressed=False)
    if lower.endswith(".csv"):
        return _read_csv
    return None


def _inputs(paths) -> list[tuple[str, OSError | None]]:
    """The files to read, each once: each path given, or the trace files under it (sorted);
    with the error of a folder that could not be listed."""
    found, seen = [], set()
    for path in map(os.fspath, paths):
        for one, error in _walk(path) if os.path.isdir(path) else [(path, None)]:
            real = os.path.realpath(one)
            if os.path.basename(one) in COMPANION_FILES:
                continue
            if real not in seen:
                seen.add(real)
                found.append((one, error))
    return found


def _walk(root: str) -> list[tuple[str, OSError | None]]:
    files, errors = [], []
    for folder, dirs, names in os.walk(root, onerror=errors.append):
        files += [os.path.join(folder, n) for n in names
                  if _reader_for(os.path.join(folder, n)) is not None]
    found = [(path, None) for path in files] + [(exc.filename or root, exc) for exc in errors]
    return sorted(found, key=lambda item: os.path.relpath(item[0], root).split(os.sep))


def _read(run: _Run, path: str, error: OSError | None = None) -> None:
    """One file named on the command line or found in a directory."""
    run.files += 1
    reader = _reader_for(path)
    try:
        if error is not None:
            raise error
        if reader is None:
            os.stat(path)  # a missing path is unreadable before it is of the wrong kind
            run.broken(run.source(path), None, "file", "not a trace file (.jsonl, .json, "
                       ".json.gz, .csv or labels.jsonl)")
        else:
            reader(run, path)
    except OSError as exc:
        run.broken(run.source(path), None, "file", "cannot read: %s" % (exc.strerror or exc))


def validate_paths(paths, out=None, *, quiet: bool = False, max_errors: int | None = None,
                   trace_names: dict | None = None, warning_min_status: int = 400,
                   incident_min_status: int = 500) -> int:
    """Check every trace file under paths, print the violations and a summary to out (default
    stdout), and return the exit status: 0 valid, 1 a violation, 2 an input not read."""
    run = _Run(out if out is not None else sys.stdout,
               rules_for(trace_names, warning_min_status, incident_min_status),
               quiet=quiet, max_errors=max_errors)
    for path, error in _inputs(paths):
        _read(run, path, error)
    run.dangling_labels()
    run.summary()
    return run.exit_code()


# -- command line -------------------------------------------------------------------------------

def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_parser(subparsers):
    p = subparsers.add_parser(
        "validate", help="check CTS trace data against the record schema and the catalog",
        description="Check trace records (.jsonl, .json, .json.gz trace files, .csv) and "
        "labels.jsonl files; directories are searched recursively. Exit status 0 valid, "
        "1 violations, 2 an input could not be read.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="trace files or directories")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument("--max-errors", dest="max_errors", type=_count, metavar="N",
                   help="print at most N violations (all are still counted)")
    p.add_argument("--config", help="settings TOML file: its [trace_names] overrides and "
                   "rating thresholds apply")
    return p


def command(args) -> int:
    from simulator.settings import Settings, SettingsError
    try:
        settings = Settings.load({}, config=args.config)
        rules_for(settings.trace_names)  # an override the catalog rejects: say so up front
    except (SettingsError, ValueError) as exc:
        print("modelarts-sim validate: %s" % exc, file=sys.stderr)
        return 2
    return validate_paths(args.paths, quiet=args.quiet, max_errors=args.max_errors,
                          trace_names=settings.trace_names,
                          warning_min_status=settings.warning_min_status,
                          incident_min_status=settings.incident_min_status)
