"""Test helpers: fixture accounts, a signing client for the in-process app, expected records."""

from __future__ import annotations

import re

import orjson

from simulator import signed_client
from simulator.identity import signing
from simulator.obs.files import split

DOMAIN = {"id": "f3c95789ace1a9542c5d6baed2eac902", "name": "acme"}
PROJECT_ID = "cbf27734ac1035250b66402800e03d2c"
OTHER_PROJECT_ID = "e0a3a91f2346cc13fc27ed12b10877a9"  # acme's ap-southeast-1 project
GLOBEX_PROJECT_ID = "9394235bbaccfd8a1328d49db94fdc5d"
USERS = {
    "admin": {"id": "f1260ebc7d56ab567714dc919b27dbdf", "ak": "EA9DJ2SB8WQEE7QK29UO",
              "sk": "kw3GC3fNjXfKqJvdzrUCQ2ZYW8goUlFAFI1jRPrw", "password": "Admin@12345"},
    "developer": {"id": "6caf76a5703598aec280ad3729a6f2e7", "ak": "QQRXI6VBTCJBS73Z4Z61",
                  "sk": "bjg9ENCc4DAVdSreYMzZOu8Ndx7RNX5XRBW0ArfV",
                  "password": "Developer@12345"},
    "auditor": {"id": "3f0c9931918c40bfd670c342c6cce996", "ak": "NUMLHM5ZME0K1Y5G3C40",
                "sk": "kYqqBv4IoMsPNxjZJDo9kNuCoWCobeXm3TNy4wFT", "password": "Auditor@12345"},
    "mallory": {"id": "b14fe2f9cf6a43ec5250cf7c262ca905", "ak": "IBYO1C2CT8I6RZ17OL7A",
                "sk": "13IL3c31u0LvVWVh70052lqMSPjlC0dtfUVevvIV", "password": "Mallory@12345",
                "domain": {"id": "33ad2150460f661f900f5390875004e9", "name": "globex"}},
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
FROZEN_MS = 1_795_000_000_000  # 2026-11-18T11:06:40Z: tests run on a frozen clock
USER_AGENT = "modelarts-sim-tests/1.0"


class SignedClient(signed_client.SignedClient):
    """Calls the in-process app the way huaweicloudsdkcore would: AK/SK-signed JSON, dated by
    the app's (frozen) clock; werkzeug's responses (.json, .status_code)."""

    def __init__(self, app, user="admin", project_id=PROJECT_ID):
        self.app = app
        self.user = user
        self.sim = app.extensions["modelarts_sim"]
        u = USERS[user]
        super().__init__(signed_client.InProcessTransport(app), u["ak"], u["sk"],
                         project_id=project_id, user_agent=USER_AGENT,
                         clock=lambda: self.sim.clock.now_ms())
        self.http = self.transport.client

    def as_user(self, user: str) -> "SignedClient":
        return SignedClient(self.app, user, self.project_id)

    def call(self, method: str, path: str, body=None, query: dict | None = None,
             headers: dict | None = None, raw: bytes | None = None):
        return self.request(method, path, body, query=query, headers=headers, raw=raw)

    def traces(self, **query) -> list[dict]:
        query.setdefault("limit", 200)
        resp = self.get("/v3/{project_id}/traces", query=query)
        assert resp.status_code == 200, resp.json
        return resp.json["traces"]

    def last_trace(self) -> dict:
        found = self.traces(limit=1)
        assert found, "no trace was recorded"
        return found[0]


def user_object(name: str) -> dict:
    u = USERS[name]
    domain = u.get("domain", DOMAIN)
    return {
        "id": u["id"], "name": name, "user_name": name, "type": "User",
        "account_id": domain["id"], "domain": dict(domain), "access_key_id": u["ak"],
        "principal_id": u["id"], "principal_urn": "iam::%s:user:%s" % (domain["id"], name),
        "principal_is_root_user": "false",
    }


def expected_record(actual: dict, *, trace_name, operation_id, resource_id, resource_name,
                    code, request, response, user="admin", rating=None, read_only=False,
                    resource_type="dataset", api_version="v2", time=FROZEN_MS,
                    project_id=PROJECT_ID, error_code=None, request_id=None,
                    service_type="ModelArts", record_time=None) -> dict:
    """The whole record a call must leave. trace_id is the one thing a test cannot know ahead:
    it is checked for shape and taken from the actual record."""
    assert UUID.match(actual.get("trace_id", "")), actual.get("trace_id")
    status = int(code)
    domain = USERS[user].get("domain", DOMAIN)
    return {
        "trace_id": actual["trace_id"],
        "trace_name": trace_name,
        "trace_rating": rating or ("normal" if status < 400 else
                                   "warning" if status < 500 else "incident"),
        "trace_type": "ApiCall",
        "service_type": service_type,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "resource_name": resource_name,
        "time": time,
        "record_time": time if record_time is None else record_time,
        "request": "" if request is None else orjson.dumps(request).decode(),
        "response": "" if response is None else orjson.dumps(response).decode(),
        "code": str(code),
        "api_version": api_version,
        "message": None,
        "source_ip": "127.0.0.1",
        "request_id": request_id or actual.get("request_id"),
        "location_info": error_code,
        "endpoint": None,
        "resource_url": None,
        "user": user_object(user),
        "enterprise_project_id": "0",
        "read_only": read_only,
        "operation_id": operation_id,
        "tracker_name": "system",
        "project_id": project_id,
        "domain_id": domain["id"],
        "event_type": "system",
        "user_agent": USER_AGENT,
    }


# -- assertions every family's tests share ------------------------------------------------------

ERROR_KEYS = {
    "modelarts": {"error_code", "error_msg"},
    "devenviron": {"error_code", "error_message"},
    "is_success": {"is_success", "error_code", "error_message"},
}


def ok(resp, status=200):
    """The body of a successful answer."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    return resp.json


def ok_is_success(resp):
    """A success of the old training families: 200 with is_success true."""
    body = ok(resp)
    assert body["is_success"] is True, body
    return body


def check_trace(client, resp, **kw):
    """The last trace equals, field by field, the record the call must leave (its request_id
    is the answer's X-Request-Id). kw as for expected_record; time defaults to now."""
    actual = client.last_trace()
    kw.setdefault("time", client.sim.clock.now_ms())
    assert actual["request_id"] == resp.headers["X-Request-Id"]
    assert actual == expected_record(actual, **kw)
    return actual


def check_refusal(client, resp, status, code, dialect="modelarts", **kw):
    """A refusal: the family's error body with this code, and a whole warning (or, from 500,
    incident) trace naming the resource. Returns the error body."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    body = resp.json
    assert set(body) == ERROR_KEYS[dialect] and body["error_code"] == code, body
    if dialect == "is_success":
        assert body["is_success"] is False, body
    actual = check_trace(client, resp, code=status, response=body, error_code=code, **kw)
    assert actual["trace_rating"] == ("incident" if status >= 500 else "warning")
    return body


def cts_record(actual: dict, *, trace_name, operation_id, resource_id, resource_name, code,
               request, response, resource_type="tracker", **more) -> dict:
    """The whole record of one of CTS's own operations (a tracker or notification write),
    which CTS records with service type CTS (user guide, Auditing)."""
    return expected_record(actual, trace_name=trace_name, operation_id=operation_id,
                           resource_id=resource_id, resource_name=resource_name, code=code,
                           request=request, response=response, resource_type=resource_type,
                           api_version="v3", service_type="CTS", **more)


def server_call(server, method: str, path: str, body=None, *, query: str = "",
                user: str = "admin", headers: dict | None = None):
    """An AK/SK-signed JSON call to a running server (simulator.server.start_in_thread), dated
    by its clock. `{project_id}` in the path is the fixture project."""
    import requests
    url = server.endpoint + path.replace("{project_id}", PROJECT_ID) + (
        "?" + query if query else "")
    data = orjson.dumps(body) if body is not None else b""
    u = USERS[user]
    signed = signing.sign(method, url, {"Content-Type": "application/json",
                                        "User-Agent": USER_AGENT, **(headers or {})},
                          data, u["ak"], u["sk"], server.sim.clock.now_ms())
    return requests.request(method, url, data=data, headers=signed, timeout=30)


def obs_put(sim, *paths: str, data: bytes = b"data") -> None:
    """Objects in the simulator's OBS (/bucket/key), their buckets made as needed: the files a
    test's datasets and jobs read. A path ending in / makes only its bucket."""
    for path in paths:
        bucket, key = split(path)
        sim.obs_files.make_bucket(bucket)
        if key and not key.endswith("/"):
            sim.obs_files.write(path, data)


def obs_keys(sim, folder: str) -> list[str]:
    """The keys under a folder, read straight from the store once what is due has run (in a
    server the ticker, or any request, runs it on its own)."""
    sim.settle()
    return [o.key for o in sim.obs_files.objects(folder)]


def obs_read(sim, path: str) -> bytes:
    sim.settle()
    data = sim.obs_files.read(path, 1 << 20)
    assert data is not None, "%s was not written" % path
    return data

