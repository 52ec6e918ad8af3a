"""Which rows a change touched, so that a call commits exactly what it changed, with its trace,
and puts back what it changed when that commit fails.

Every map of resources in a project's state is a `TrackedDict`. While a change is under way
(`Journal.writing`), looking up a key, setting it, deleting it or walking the map marks the
entries it reached: a handler reaches a resource through its map before it changes it, so the
marked entries hold every resource it may have changed. Outside a change only setting and
deleting mark (a read that tidies a map, such as a finished delete, is kept by the next change).

At the end of a change, each marked entry is encoded (codec.py) and compared with the bytes
last committed for its row: only rows that differ are written. The committed bytes stay in
memory, so a change whose commit fails is undone by decoding them again.
"""

from __future__ import annotations

import orjson

from simulator.durable import codec

RESOURCE = "r"  # row names: "r" + JSON [family, project_id, map, key]
SCALARS = "m"  # "m" + JSON [family, project_id]: what a project's state holds besides maps


class TrackedDict(dict):
    __slots__ = ("_journal", "_where")

    def __init__(self, journal: "Journal", where: tuple, items=()):
        dict.__init__(self, items)
        self._journal = journal
        self._where = where

    def _mark(self, key) -> None:
        self._journal.touched[(self._where, key)] = self

    def _mark_all(self) -> None:
        touched = self._journal.touched
        for key in dict.keys(self):
            touched[(self._where, key)] = self

    # reads mark while a change is under way
    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if self._journal.writing:
            self._mark(key)
        return value

    def get(self, key, default=None):
        if self._journal.writing and key in self:
            self._mark(key)
        return dict.get(self, key, default)

    def values(self):
        if self._journal.writing:
            self._mark_all()
        return dict.values(self)

    def items(self):
        if self._journal.writing:
            self._mark_all()
        return dict.items(self)

    def __iter__(self):
        if self._journal.writing:
            self._mark_all()
        return dict.__iter__(self)

    # writes always mark
    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        self._mark(key)

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._mark(key)

    def pop(self, key, *default):
        self._mark(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        self._mark(key)
        return dict.setdefault(self, key, default)

    def popitem(self):
        key, value = dict.popitem(self)
        self._mark(key)
        return key, value

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self):
        self._mark_all()
        dict.clear(self)

    def __reduce__(self):  # a copy (copy.deepcopy, pickle) is a plain dict
        return (dict, (dict(self),))


def row_name(where: tuple, key) -> str:
    return RESOURCE + orjson.dumps([*where, codec.encode(key)]).decode()


def parse_row_name(name: str) -> tuple[tuple, object]:
    family, project_id, attr, key = orjson.loads(name[len(RESOURCE):])
    return (family, project_id, attr), codec.decode(key)


def scalars_row(family: str, project_id: str) -> str:
    return SCALARS + orjson.dumps([family, project_id]).decode()


def scalars_of(state) -> dict:
    """A project state's attributes that are not maps of resources (counters)."""
    return {k: v for k, v in vars(state).items() if not isinstance(v, dict)}


class Journal:
    """The rows touched since the last commit, and the bytes each row last committed."""

    def __init__(self):
        self.writing = False
        self.touched: dict[tuple, TrackedDict] = {}
        # project states with counters, reached during the change (their "m" rows)
        self.reached: dict[tuple[str, str], object] = {}
        self.committed: dict[str, bytes] = {}
        self._values: dict[str, tuple] = {}  # name -> (version of, value of) for whole rows
        self._versions: dict[str, object] = {}

    def track(self, where: tuple, mapping: dict) -> TrackedDict:
        return TrackedDict(self, where, mapping)

    def whole(self, name: str, version_of, value_of) -> None:
        """A row kept whole (the clock, the accounts, ...): written when version_of() differs
        from what it was at the last commit."""
        self._values[name] = (version_of, value_of)

    def pending(self) -> list[tuple[str, bytes | None]]:
        """(row name, bytes, or None for a row to delete) of every touched row whose bytes
        differ from the committed ones. Clears the marks; `settle` or `undo` must follow."""
        rows = []
        touched, self.touched = self.touched, {}
        committed = self.committed
        for (where, key), container in touched.items():
            name = row_name(where, key)
            if dict.__contains__(container, key):
                data = codec.dumps(dict.__getitem__(container, key))
            else:
                data = None
            if committed.get(name) != data:
                rows.append((name, data))
        reached, self.reached = self.reached, {}
        for (family, project_id), state in reached.items():
            name = scalars_row(family, project_id)
            data = codec.dumps(scalars_of(state))
            if committed.get(name) != data:
                rows.append((name, data))
        for name, (version_of, value_of) in self._values.items():
            version = version_of()
            if self._versions.get(name, _NEVER) != version:
                data = codec.dumps(value_of())
                if committed.get(name) != data:
                    rows.append((name, data))
                self._versions[name] = version
        return rows

    def settle(self, rows: list[tuple[str, bytes | None]]) -> None:
        """The rows are committed."""
        committed = self.committed
        for name, data in rows:
            if data is None:
                committed.pop(name, None)
            else:
                committed[name] = data

    def forget_versions(self) -> None:
        """Whole rows are compared again at the next commit (after an undo)."""
        self._versions.clear()

    def reset(self, committed: dict[str, bytes]) -> None:
        self.touched = {}
        self.reached = {}
        self.committed = dict(committed)
        self._versions.clear()
        for name, (version_of, _value_of) in self._values.items():
            if name in committed:
                self._versions[name] = version_of()


_NEVER = object()
