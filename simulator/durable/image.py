"""The simulator's whole state as rows: what the data dir keeps (each change committing the
rows it touched, with its trace) and what a snapshot file carries. One format for both.

    r[family, project_id, map, key]   a resource: an entry of a project's state's map; also
                                      ["", "", "tokens", value] (an IAM token) and
                                      ["", "", "watchers", n] (a lifecycle whose end runs code)
    b<bucket>, o[bucket, key]         OBS (obs_rows.py)
    s:clock                           the clock's offset from real time, or its frozen instant
    s:ids                             where the id streams are (a seeded simulator's ids continue
                                      after a restart)
    s:accounts                        the accounts, with the keys issued at run time
    s:lifecycles                      each family's lifecycle mode and dwell times
    s:attempts                        the key event delivery log
    s:signing_key                     the digest signing key, in a snapshot; in the data dir
                                      after a restore, committed with the restored state (its
                                      file, written from this row, is what a data dir keeps
                                      otherwise)

Not kept: the settings (the starting simulator's apply), injected faults, and what
obs_rows.py leaves out.
"""

from __future__ import annotations

import orjson

from simulator.durable import codec, journal as journal_mod
from simulator.durable.obs_rows import BUCKET, OBJECT
from simulator.identity.accounts import Directory

CLOCK, IDS, ACCOUNTS, LIFECYCLES, ATTEMPTS, SIGNING_KEY, WATCHED = (
    "s:clock", "s:ids", "s:accounts", "s:lifecycles", "s:attempts", "s:signing_key",
    "s:watched")
TOKENS = ("", "", "tokens")
WATCHERS = ("", "", "watchers")


class ImageError(ValueError):
    """Rows that do not make a state this simulator can hold."""


def register(sim) -> None:
    """The whole rows, each written at a commit when what it holds moved on."""
    j = sim.journal
    j.whole(CLOCK, sim.clock.getstate, sim.clock.getstate)
    # only a seeded data dir reads its ids back: elsewhere the stream is written when a
    # snapshot is taken, not encoded again at every commit
    durable_ids = sim.settings.seed is not None and sim.settings.data_path is not None
    j.whole(IDS, (lambda: sim.ids.draws) if durable_ids else (lambda: 0), sim.ids.getstate)
    j.whole(WATCHED, lambda: sim._watched, lambda: sim._watched)
    j.whole(ACCOUNTS, lambda: (id(sim.directory), sim.directory.changes),
            lambda: sim.directory.export())
    j.whole(LIFECYCLES, lambda: (tuple(sim.lifecycles.modes.values()),
                                 tuple(sim.lifecycles.dwell.values())),
            lambda: {"modes": dict(sim.lifecycles.modes), "dwell": dict(sim.lifecycles.dwell)})
    j.whole(ATTEMPTS, lambda: (len(sim.notifier.attempts), id(sim.notifier.attempts[-1])
                               if sim.notifier.attempts else None),
            lambda: list(sim.notifier.attempts))


def rows(sim, signing_key: bytes | None = None) -> list[tuple[str, bytes]]:
    """Every row of the simulator's state (its lock held by the caller)."""
    out = []
    for (family, project_id), state in list(sim._states.items()):
        scalars = journal_mod.scalars_of(state)
        if scalars and scalars != journal_mod.scalars_of(sim._state_factories[family]()):
            out.append((journal_mod.scalars_row(family, project_id), codec.dumps(scalars)))
        for attr, mapping in vars(state).items():
            if not isinstance(mapping, dict):
                continue
            for key, value in dict.items(mapping):
                out.append((journal_mod.row_name((family, project_id, attr), key),
                            codec.dumps(value)))
    for where, mapping in ((TOKENS, sim.tokens._tokens), (WATCHERS, sim._watch_rows)):
        for key, value in dict.items(mapping):
            out.append((journal_mod.row_name(where, key), codec.dumps(value)))
    for name, (_version_of, value_of) in sim.journal._values.items():
        out.append((name, codec.dumps(value_of())))
    if signing_key is not None:
        out.append((SIGNING_KEY, codec.dumps(signing_key)))
    out += sim.obs_rows.rows()
    return out


def put_back(sim, name: str, value) -> None:
    """A whole row's last committed value in place again (an undone change)."""
    if name == ACCOUNTS:
        sim.use_accounts(Directory.from_export(value), keep_tokens=True)
    elif name == LIFECYCLES:
        sim.lifecycles.modes.update(value["modes"])
        sim.lifecycles.dwell.update(value["dwell"])


def check(sim, saved: dict[str, bytes]) -> None:
    """Refuse (ImageError), before anything changes, rows naming families, maps or counters
    this simulator does not have."""
    for name in saved:
        try:
            if name.startswith(journal_mod.RESOURCE):
                (family, _project, attr), _key = journal_mod.parse_row_name(name)
                if (family, attr) in (TOKENS[::2], WATCHERS[::2]):
                    continue
            elif name.startswith(journal_mod.SCALARS):
                family, _project = orjson.loads(name[1:])
                attr = None
            elif name.startswith((BUCKET, OBJECT, "s:")):
                continue
            else:
                raise ImageError("a row this simulator does not know: %r" % name[:80])
        except (ValueError, TypeError) as exc:
            raise ImageError("a damaged row name %r: %s" % (name[:80], exc)) from None
        factory = sim._state_factories.get(family)
        if factory is None:
            raise ImageError("resources of a family this simulator does not have: %s"
                             % family)
        if attr is not None and not isinstance(getattr(factory(), attr, None), dict):
            raise ImageError("%s has no map %s" % (family, attr))


def load(sim, saved: dict[str, bytes], ids: bool = True) -> None:
    """Put the rows' state in place of the simulator's (its lock held, its resources and OBS
    empty). Raises ImageError (or codec.CodecError) for rows it cannot hold. `ids` False: the
    id streams stay as they are (an unseeded simulator starting again draws fresh random ids;
    its saved stream was written once and would replay)."""
    states: dict[tuple, dict] = {}
    scalars: dict[tuple, dict] = {}
    seen: list = []
    whole = {}
    obs = {}
    for name, data in saved.items():
        if name.startswith(journal_mod.RESOURCE):
            try:
                where, key = journal_mod.parse_row_name(name)
            except (ValueError, TypeError) as exc:
                raise ImageError("a damaged row name %r: %s" % (name[:80], exc)) from None
            states.setdefault(where, {})[key] = codec.loads(data, seen)
        elif name.startswith(journal_mod.SCALARS):
            try:
                family, project_id = orjson.loads(name[1:])
            except (ValueError, TypeError) as exc:
                raise ImageError("a damaged row name %r: %s" % (name[:80], exc)) from None
            scalars[(family, project_id)] = codec.loads(data)
        elif name.startswith((BUCKET, OBJECT)):
            obs[name] = data
        elif name.startswith("s:"):
            whole[name] = codec.loads(data)
        else:
            raise ImageError("a row this simulator does not know: %r" % name[:80])

    sim.use_accounts(Directory.from_export(whole[ACCOUNTS]) if ACCOUNTS in whole
                     else sim.directory)
    if CLOCK in whole:
        sim.clock.setstate(whole[CLOCK])
    if IDS in whole and ids:
        sim.ids.setstate(whole[IDS])
    if WATCHED in whole:
        if not isinstance(whole[WATCHED], int):
            raise ImageError("a damaged watcher count")
        sim._watched = whole[WATCHED]
    if LIFECYCLES in whole:
        saved_lc = whole[LIFECYCLES]
        for family, mode in saved_lc["modes"].items():
            if family in sim.lifecycles.modes:
                sim.lifecycles.modes[family] = mode
        for name, seconds in saved_lc["dwell"].items():
            if name in sim.lifecycles.dwell:
                sim.lifecycles.dwell[name] = float(seconds)
    if ATTEMPTS in whole:
        sim.notifier.attempts.clear()
        sim.notifier.attempts.extend(whole[ATTEMPTS])
    if SIGNING_KEY in whole:
        sim.signer.put(whole[SIGNING_KEY])

    watchers = {}
    for where, entries in states.items():
        if where == TOKENS:
            dict.update(sim.tokens._tokens, entries)
        elif where == WATCHERS:
            watchers = entries
        else:
            family, project_id, attr = where
            if family not in sim._state_factories:
                raise ImageError("resources of a family this simulator does not have: %s"
                                 % family)
            state = sim.state(family, project_id)
            mapping = getattr(state, attr, None)
            if not isinstance(mapping, dict):
                raise ImageError("%s has no map %s" % (family, attr))
            dict.update(mapping, entries)
    for (family, project_id), values in scalars.items():
        if family not in sim._state_factories or not isinstance(values, dict):
            raise ImageError("counters of a family this simulator does not have: %s" % family)
        state = sim.state(family, project_id)
        for attr, value in values.items():
            if not hasattr(state, attr) or isinstance(getattr(state, attr), dict):
                raise ImageError("%s has no counter %s" % (family, attr))
            setattr(state, attr, value)
    sim.put_watchers(watchers, seen)
    sim.obs_rows.load(obs)
    sim.notifier.changed()
