"""What a handler sees of one call."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.catalog import Operation
    from simulator.identity.accounts import Project
    from simulator.pipeline import Call


def _call_field(name: str, doc: str) -> property:
    """A field of the call, read through (attrgetter: no Python frame per read)."""
    return property(attrgetter("call." + name), doc=doc)


class Context:
    """The call (`call`), the catalog row it is (`op`), its path parameters other than
    project_id / domain_id (`params`) and, once the scope check passed, the project the path
    names (`project`). The call's own fields read through."""

    __slots__ = ("sim", "op", "call", "params", "project")

    def __init__(self, sim, op: "Operation", call: "Call", params: dict,
                 project: "Project | None" = None):
        self.sim = sim  # simulator.core.Simulator
        self.op = op
        self.call = call
        self.params = params
        self.project = project

    caller = _call_field("caller", "The identity/auth.Caller, or None (an unauthenticated call).")
    query = _call_field("query", "A MultiDict of the query string (a dict in process).")
    body = _call_field("body", "The parsed JSON body, or None.")
    headers = _call_field("headers", "The request's headers by lower-case name.")
    now_ms = _call_field("arrival_ms", "When the call arrived, on the simulation clock.")
    request_id = _call_field("request_id", "The call's request id (its trace's).")
    source_ip = _call_field("source_ip", "The caller's address.")
    host_url = _call_field("host_url", "The address the caller used: `http://host:port`.")

    @property
    def state(self):
        """The family's state for the project the path names."""
        return self.sim.state(self.op.family, self.project.id)

    @property
    def settings(self):
        return self.sim.settings

    @property
    def ids(self):
        return self.sim.ids
