"""A call to the simulator's APIs signed as huaweicloudsdkcore signs (SDK-HMAC-SHA256), over a
transport: in process through the Flask app's test client, or over HTTP.

The tests' client, the init hooks' client, the pytest plugin's ModelArtsSim and the benchmarks
all call through SignedClient; each adds its own answers, errors and identity on top.

A transport has `endpoint` (the URL the signature names: scheme://host[:port]) and
`send(method, target, body, headers)` -> its response; target is the path and query string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from urllib.parse import urlencode

import orjson

from simulator.identity import signing


@dataclass(eq=False)
class SignedClient:
    """Calls as one access key: `{project_id}` in a path and X-Project-Id are project_id's
    (none when it is None), signatures dated by clock() (epoch ms). request() returns the
    transport's response."""

    transport: object
    access_key: str
    secret_key: str = field(repr=False)
    _: KW_ONLY
    project_id: str | None = None
    user_agent: str
    clock: Callable[[], int]
    security_token: str | None = field(default=None, repr=False)

    def target(self, path: str, query: dict | None = None) -> str:
        """The path (its {project_id} filled in) and the query string, as sent."""
        path = path.replace("{project_id}", self.project_id or "")
        qs = urlencode(query, doseq=True) if query else ""
        return path + ("?" + qs if qs else "")

    def request(self, method: str, path: str, body=None, *, query: dict | None = None,
                headers: dict | None = None, raw: bytes | None = None, signed: bool = True):
        """A JSON body (or raw bytes); headers are added to (and override) the SDK's."""
        method = method.upper()
        target = self.target(path, query)
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else b"")
        out = {"Content-Type": "application/json", "User-Agent": self.user_agent}
        if self.project_id is not None:
            out["X-Project-Id"] = self.project_id
        if headers:
            out.update(headers)
        if signed:
            out = signing.sign(method, self.transport.endpoint + target, out, data,
                               self.access_key, self.secret_key, self.clock(),
                               self.security_token)
        return self.transport.send(method, target, data, out)

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw):
        return self.request("DELETE", path, **kw)


class InProcessTransport:
    """The app in this process, through Flask's test client: werkzeug's responses."""

    endpoint = "http://localhost"

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def send(self, method: str, target: str, body: bytes = b"", headers: dict | None = None):
        return self.client.open(target, method=method, data=body, headers=headers or {})


class SessionTransport:
    """A simulator at a URL, through a session with requests.Session's request(method, url,
    data=, headers=): its responses."""

    def __init__(self, endpoint: str, session):
        self.endpoint = endpoint
        self.session = session

    def send(self, method: str, target: str, body: bytes = b"", headers: dict | None = None):
        return self.session.request(method, self.endpoint + target, data=body,
                                    headers=headers or {})
