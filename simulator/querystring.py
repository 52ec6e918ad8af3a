"""Integers from a request's query string (and path), read the same way by every family.

Each family keeps its own wording and error: ``fail(message)`` raises it (a Checker's fail, or
CTS's "Query failed" refusal), and the messages are ``str.format`` templates that may name
``{key}``, ``{raw}``, ``{lo}`` and ``{hi}``. What counts as an integer is Python's ``int()``
unless ``digits`` (a compiled pattern the raw text must match) says otherwise.
"""

from __future__ import annotations

import re

NOT_INTEGER = "Parameter {key} must be an integer."
OUT_OF_RANGE = "Parameter {key} must be between {lo} and {hi}."
ASCII_DIGITS = re.compile(r"[0-9]+\Z")  # str.isascii() and str.isdigit()


def query_int(query, key: str, default, fail, *, lo=None, hi=None, digits=None,
              not_integer=NOT_INTEGER, out_of_range=OUT_OF_RANGE):
    """query[key] as an integer from lo to hi (either may be None); default when the parameter
    is absent or empty."""
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    return to_int(raw, key, fail, lo=lo, hi=hi, digits=digits, not_integer=not_integer,
                  out_of_range=out_of_range)


def to_int(raw: str, key: str, fail, *, lo=None, hi=None, digits=None,
           not_integer=NOT_INTEGER, out_of_range=OUT_OF_RANGE) -> int:
    """raw (the text of parameter key) as an integer from lo to hi."""
    if digits is None:
        try:
            value = int(raw)
        except ValueError:
            fail(not_integer.format(key=key, raw=raw, lo=lo, hi=hi))
    elif digits.match(raw):
        value = int(raw)
    else:
        fail(not_integer.format(key=key, raw=raw, lo=lo, hi=hi))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        fail(out_of_range.format(key=key, raw=raw, lo=lo, hi=hi))
    return value
