"""The simulator's objects as JSON, and back: the one format its state is kept in.

Plain JSON values stay as they are. What JSON cannot say is tagged by an object whose only key
starts with `$`:

    {"$c": "module:Class", "f": {...}}   a dataclass of the simulator's data modules
    {"$t": [...]}, {"$s": [...]}        a tuple, a set (sorted, so equal sets are equal bytes)
    {"$d": [[key, value], ...]}         a dict whose keys are not all strings, or one of which
                                        starts with "$"
    {"$b": "base64"}                    bytes
    {"$p": "module:fn", "a": [...]}     functools.partial of a watched lifecycle's end
    {"$f": "module:fn"}                 such an end itself
    {"$i": "digits"}                    an int past 64 bits

Decoding builds only those classes and functions (the rule a snapshot's reader had), and sets
a dataclass's fields without running its __init__; a field the data lacks takes its default, so
rows written by an older simulator still load. Nothing in a row can make the reader call
anything else: a damaged or hostile file is a CodecError, never code run.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import importlib

import orjson

# the modules whose classes rows hold (resources, accounts, tokens, trackers)
DATA_MODULES = ("simulator.modelarts.", "simulator.identity.accounts",
                "simulator.identity.tokens", "simulator.cts.trackers",
                "simulator.cts.notifications")
_MAX_INT = 2 ** 63 - 1


class CodecError(ValueError):
    """Bytes that are not a row this simulator can read."""


# -- writing ------------------------------------------------------------------------------------

def dumps(value) -> bytes:
    return orjson.dumps(encode(value))


def encode(value):
    kind = type(value)
    if kind is str or kind is bool or value is None or kind is float:
        return value
    if kind is int:
        return value if -_MAX_INT <= value <= _MAX_INT else {"$i": str(value)}
    if kind is dict:
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is list:
        return [encode(v) for v in value]
    if kind is tuple:
        return {"$t": [encode(v) for v in value]}
    if kind is set or kind is frozenset:
        items = [encode(v) for v in value]
        try:
            items.sort(key=orjson.dumps)
        except TypeError:
            pass
        return {"$s": items} if kind is set else {"$fs": items}
    if kind is bytes or kind is bytearray:
        return {"$b": base64.b64encode(value).decode()}
    if dataclasses.is_dataclass(value):
        return {"$c": _name_of(kind),
                "f": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if kind is functools.partial:
        return {"$p": _name_of(value.func), "a": [encode(a) for a in value.args],
                "k": {k: encode(v) for k, v in value.keywords.items()}}
    if callable(value) and _is_end(value):
        return {"$f": _name_of(value)}
    if isinstance(value, dict):  # a tracked map (journal.py)
        return encode(dict(value))
    raise CodecError("%s cannot be kept: only plain data, the simulator's dataclasses and its "
                     "lifecycles' ends can" % kind.__qualname__)


def _name_of(thing) -> str:
    return "%s:%s" % (thing.__module__, thing.__qualname__)


def _is_end(fn) -> bool:
    from simulator.modelarts.lifecycle import WATCH_CALLBACKS
    return fn in WATCH_CALLBACKS


# -- reading ------------------------------------------------------------------------------------

def loads(data: bytes | str, seen: list | None = None):
    """The value a row holds. `seen`, when given, collects every dataclass built (a caller
    that relinks shared objects looks through them)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CodecError("not JSON (%s)" % exc) from None
    try:
        return decode(raw, seen)
    except RecursionError:
        raise CodecError("nested too deep") from None


def decode(raw, seen: list | None = None):
    kind = type(raw)
    if kind is list:
        return [decode(v, seen) for v in raw]
    if kind is not dict:
        return raw
    if len(raw) >= 1:
        tag = next(iter(raw))
        if tag.startswith("$"):
            return _tagged(tag, raw, seen)
    return {k: decode(v, seen) for k, v in raw.items()}


def _tagged(tag: str, raw: dict, seen):
    try:
        body = raw[tag]
        if tag == "$c":
            return _dataclass(body, raw.get("f"), seen)
        if tag == "$t":
            return tuple(decode(v, seen) for v in _list(body))
        if tag == "$s":
            return {decode(v, seen) for v in _list(body)}
        if tag == "$fs":
            return frozenset(decode(v, seen) for v in _list(body))
        if tag == "$d":
            return {decode(k, seen): decode(v, seen) for k, v in _list(body)}
        if tag == "$b":
            return base64.b64decode(body, validate=True)
        if tag == "$i":
            return int(body)
        if tag == "$p":
            return functools.partial(_end(body), *[decode(a, seen) for a in _list(raw["a"])],
                                     **{k: decode(v, seen) for k, v in raw["k"].items()})
        if tag == "$f":
            return _end(body)
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise CodecError("a damaged %s value: %s" % (tag, exc)) from None
    raise CodecError("unknown tag %r" % tag)


def _list(value) -> list:
    if type(value) is not list:
        raise CodecError("expected a list, found %s" % type(value).__name__)
    return value


def _find(name, private: bool = False) -> object:
    if type(name) is not str or ":" not in name:
        raise CodecError("a damaged name %r" % (name,))
    module, _, qualname = name.partition(":")
    if not module.startswith(DATA_MODULES) or "." in qualname or qualname.startswith("__") or (
            qualname.startswith("_") and not private):
        raise CodecError("rows may not hold %s: only the simulator's own data" % name)
    try:
        found = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        raise CodecError("%s is not in this simulator" % name) from None
    if getattr(found, "__module__", None) != module:
        raise CodecError("%s is not defined there" % name)
    return found


def _end(name):
    found = _find(name, private=True)  # a module's own end may be private to it
    if not _is_end(found):
        raise CodecError("%s is not a lifecycle's end" % name)
    return found


_FIELDS: dict[type, tuple] = {}


def _dataclass(name, raw_fields, seen):
    cls = _find(name)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise CodecError("%s is not a data class" % name)
    if type(raw_fields) is not dict:
        raise CodecError("%s without its fields" % name)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls))
    obj = object.__new__(cls)
    for f in fields:
        if f.name in raw_fields:
            value = decode(raw_fields[f.name], seen)
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            raise CodecError("%s lacks its field %s" % (name, f.name))
        object.__setattr__(obj, f.name, value)
    if seen is not None:
        seen.append(obj)
    return obj
