"""What a handler sees of one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.catalog import Operation
    from simulator.identity.accounts import Project
    from simulator.pipeline import Call


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

    @property
    def caller(self):
        return self.call.caller

    @property
    def query(self):
        """A MultiDict of the query string (a dict in process)."""
        return self.call.query

    @property
    def body(self):
        """The parsed JSON body, or None."""
        return self.call.body

    @property
    def headers(self) -> dict:
        return self.call.headers

    @property
    def now_ms(self) -> int:
        """When the call arrived, on the simulation clock."""
        return self.call.arrival_ms

    @property
    def request_id(self) -> str:
        return self.call.request_id

    @property
    def source_ip(self) -> str:
        return self.call.source_ip

    @property
    def host_url(self) -> str:
        """The address the caller used, as `http://host:port` (no trailing slash)."""
        return self.call.host_url

    @property
    def state(self):
        return self.sim.state(self.op.family, self.project.id)

    @property
    def settings(self):
        return self.sim.settings

    @property
    def ids(self):
        return self.sim.ids
