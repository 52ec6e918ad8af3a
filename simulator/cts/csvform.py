"""The flat CSV form of a trace record: one record a row, one field a column.

The header is ``FIELDS`` (the keys in the order ``record.build`` writes them) followed by any
extra keys the records carry (``TraceInput.extra``). A cell holds:

- a field of ``FIELDS``: ``""`` for null, ``true``/``false`` for a boolean, decimal digits for
  an integer, compact JSON for an object or array (``user``), the string itself otherwise;
  reading it back types it by field (``time``/``record_time`` integers, ``read_only`` a
  boolean, ``user`` an object, ``message``/``location_info``/``endpoint``/``resource_url`` null
  when empty, every other field, ``code`` included, a string);
- an extra key: the value's compact JSON, ``""`` when the record lacks the key.

So a record from ``build`` comes back from ``decode_row(columns, encode_row(record, columns))``
exactly. Write with ``csv.writer(fh, **DIALECT)`` and read with ``csv.reader(fh)`` on a file
opened with ``newline=""``.
"""

from __future__ import annotations

import csv
import re
from typing import Iterable, Sequence

import orjson

from simulator.cts.record import TraceInput, build


def _field_order() -> tuple[str, ...]:
    sample = TraceInput(
        trace_id="", trace_name="", resource_type="", operation_id="", api_version="",
        read_only=False, service_type="", project_id="", domain_id="", time_ms=0,
        record_time_ms=0, status=200, request_body=None, response_body=None, resource_id=None,
        resource_name=None, request_id="", source_ip="", user_agent="", user=None)
    return tuple(build(sample))


FIELDS: tuple[str, ...] = _field_order()
INTEGER_FIELDS = frozenset({"time", "record_time"})
BOOLEAN_FIELDS = frozenset({"read_only"})
JSON_FIELDS = frozenset({"user"})
NULLABLE_FIELDS = frozenset({"message", "location_info", "endpoint", "resource_url"})
DIALECT = {"lineterminator": "\n"}

_INTEGER = re.compile(r"-?[0-9]+")


def header(extra: Iterable[str] = ()) -> list[str]:
    """The columns: FIELDS, then the extra keys (in the order given, each once)."""
    columns = list(FIELDS)
    for key in extra:
        if key not in columns:
            columns.append(key)
    return columns


def extra_keys(records: Iterable[dict]) -> list[str]:
    """The keys of the records that are not FIELDS, in the order first met."""
    known = set(FIELDS)
    found: dict[str, None] = {}
    for record in records:
        for key in record:
            if key not in known:
                found.setdefault(key, None)
    return list(found)


def encode_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return orjson.dumps(value).decode()


def encode_row(record: dict, columns: Sequence[str] = FIELDS) -> list[str]:
    known = set(FIELDS)
    return [encode_cell(record.get(col)) if col in known else _encode_extra(record, col)
            for col in columns]


def _encode_extra(record: dict, key: str) -> str:
    if key not in record:
        return ""
    return orjson.dumps(record[key]).decode()


def decode_row(columns: Sequence[str], cells: Sequence[str]) -> dict:
    """The record a row holds. Cells that do not read as their field's type stay text (a
    validator then reports the type); never raises for any cells."""
    known = set(FIELDS)
    record = {}
    for col, cell in zip(columns, cells):
        if col in known:
            record[col] = decode_cell(col, cell)
        elif cell != "":
            record[col] = _json_or_text(cell)
    return record


def decode_cell(field: str, cell: str):
    if field in INTEGER_FIELDS:
        if cell == "":
            return None
        return _integer_or_text(cell)
    if field in BOOLEAN_FIELDS:
        return {"true": True, "false": False, "": None}.get(cell, cell)
    if field in JSON_FIELDS:
        return None if cell == "" else _json_or_text(cell)
    if field in NULLABLE_FIELDS and cell == "":
        return None
    return cell


def _integer_or_text(cell: str):
    if not _INTEGER.fullmatch(cell):
        return cell
    try:
        return int(cell)
    except ValueError:  # more digits than Python converts
        return cell


def _json_or_text(cell: str):
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        return cell


def dump(records: list[dict], fh) -> None:
    """Write records as CSV (a header row, then a row each) to a text file."""
    columns = header(extra_keys(records))
    writer = csv.writer(fh, **DIALECT)
    writer.writerow(columns)
    for record in records:
        writer.writerow(encode_row(record, columns))
