"""What a handler sees of one call."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.catalog import Operation
from simulator.identity.accounts import Project
from simulator.identity.auth import Caller


@dataclass
class Context:
    sim: object  # simulator.core.Simulator
    op: Operation
    caller: Caller | None
    project: Project | None  # the project named in the path, checked against the caller
    params: dict  # path parameters other than project_id / domain_id
    query: object  # werkzeug MultiDict of the query string
    body: object  # the parsed JSON body, or None
    headers: dict  # lower-case names
    now_ms: int  # when the request arrived, on the simulation clock
    request_id: str
    source_ip: str
    request: object  # the werkzeug request, for what the fields above do not say

    @property
    def host_url(self) -> str:
        """The address the caller used, as `http://host:port` (no trailing slash)."""
        return self.request.host_url.rstrip("/")

    @property
    def state(self):
        return self.sim.state(self.op.family, self.project.id)

    @property
    def settings(self):
        return self.sim.settings

    @property
    def ids(self):
        return self.sim.ids
