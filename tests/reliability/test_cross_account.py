"""Another account against every family (issue 15 §4): globex's user mallory walks the whole
catalog against an acme holding a resource of every family, a tracker, a notification and
traces. Named by acme's project or account, every operation is refused in its service's words
and changes nothing; named by globex's own project with acme's resource ids, no operation
changes acme's state or answers with anything of acme's. (OBS between accounts is
tests/test_obs_access.py.)"""

from __future__ import annotations

import re

import pytest

from simulator import catalog, registry
from simulator.durable import image
from simulator.errors import DOMAIN_REFUSED, ApiError
from tests.helpers import DOMAIN, GLOBEX_PROJECT_ID, PROJECT_ID, USERS, SignedClient
from tests.reliability.test_not_applied import WRITES, _app

GLOBEX = USERS["mallory"]["domain"]["id"]
TOPIC = "urn:smn:cn-north-4:%s:audit-alerts" % PROJECT_ID


def everything(sim) -> dict:
    """Every state row but the id streams' and the clock's (which move on every call)."""
    with sim.lock:
        return {n: v for n, v in image.rows(sim)
                if n not in (image.IDS, image.CLOCK, image.WATCHED)}


@pytest.fixture(scope="module")
def acme():
    """An acme with one created resource of every family that creates, a system tracker and
    a notification; the ids and names it holds."""
    app, sim = _app()
    client = SignedClient(app)
    for operation_id, path, body in WRITES:
        resp = client.post(path, body)
        assert resp.status_code < 300, (operation_id, resp.get_data(as_text=True))
    assert client.post("/v3/{project_id}/tracker", {
        "tracker_type": "system", "tracker_name": "system",
        "obs_info": {"bucket_name": "acme-data", "file_prefix_name": "audit"}}).status_code == 201
    assert client.post("/v3/{project_id}/notifications", {
        "notification_name": "watch-everything", "operation_type": "complete",
        "topic_id": TOPIC}).status_code == 201
    client.post("/v2/{project_id}/datasets", {})  # a traced call the notification matches
    assert sim.notifier.wait_idle(timeout=30) is not False  # its attempt is in the state now
    ids = set()
    for (family, project_id), state in list(sim._states.items()):
        assert project_id == PROJECT_ID
        for mapping in vars(state).values():
            if isinstance(mapping, dict):
                # generated ids (words such as the tracker name "system" are in any answer)
                ids.update(k for k in mapping if isinstance(k, str) and len(k) >= 8
                           and re.search(r"\d", k))
    assert len(ids) >= 10
    yield app, sim, sorted(ids)
    sim.close()


def handled() -> list[catalog.Operation]:
    return [op for op in catalog.OPERATIONS if op.operation_id in registry.HANDLERS]


def body_of(op):
    if op.when is not None:
        key, value = op.when
        return {key: value if value is not None else "running"}
    return None if op.method in ("GET", "DELETE") else {}


def fill(op, project_id: str, domain_id: str, value: str) -> str:
    path = op.path.replace("{project_id}", project_id).replace("{domain_id}", domain_id)
    return re.sub(r"\{(\w+)\}", lambda m: value, path)


def test_named_by_acmes_project_or_account_every_operation_is_refused(acme):
    app, sim, ids = acme
    mallory = SignedClient(app, user="mallory", project_id=GLOBEX_PROJECT_ID)
    before, traces = everything(sim), acme_traces(app)
    walked = 0
    for op in handled():
        scoped = "{project_id}" in op.path or "{domain_id}" in op.path
        if not scoped:
            continue
        resp = mallory.call(op.method, fill(op, PROJECT_ID, DOMAIN["id"], ids[0]), body_of(op))
        code = op.dialect.scope_refused if "{project_id}" in op.path else DOMAIN_REFUSED
        expected = op.dialect.body(ApiError(403, *code), resp.json.get("request_id", "")
                                   if isinstance(resp.json, dict) else "")
        assert (resp.status_code, resp.json) == (403, expected), op.operation_id
        walked += 1
    assert walked > 50
    assert everything(sim) == before
    # the refused calls are not acme's to read: none of them is in acme's trace list
    assert acme_traces(app) == traces


def acme_traces(app) -> list[dict]:
    listed = SignedClient(app).get("/v3/{project_id}/traces", query={"limit": 200})
    assert listed.status_code == 200
    return listed.json["traces"]


def test_named_by_its_own_project_with_acmes_ids_nothing_of_acmes_is_reached(acme):
    app, sim, ids = acme
    mallory = SignedClient(app, user="mallory", project_id=GLOBEX_PROJECT_ID)
    before = everything(sim)
    walked, calls = set(), 0
    for op in handled():
        values = ids if re.search(r"\{(?!project_id\}|domain_id\})\w+\}", op.path) else ids[:1]
        for value in values:
            calls += 1
            resp = mallory.call(op.method, fill(op, GLOBEX_PROJECT_ID, GLOBEX, value),
                                body_of(op))
            assert resp.status_code < 500 or _documented_500(resp), (
                op.operation_id, value, resp.get_data())
            text = resp.get_data(as_text=True)
            if op.path.endswith("/traces"):
                continue  # mallory's own traces hold the ids it sent: checked by domain below
            leaked = [i for i in ids if i in text and i != value]
            assert not leaked, (op.operation_id, value, leaked)
            if resp.status_code < 300 and value in text:
                # an answer may echo the id it was asked for, but never as a resource it found
                assert value not in _found_ids(resp.json), (op.operation_id, value)
            walked.add(op.family)
    assert everything(sim) == before
    assert walked == {op.family for op in handled()}
    assert calls > 500
    # globex's trace list holds globex's calls only
    listed = mallory.get("/v3/{project_id}/traces", query={"limit": 200})
    assert listed.status_code == 200
    assert {t["domain_id"] for t in listed.json["traces"]} <= {GLOBEX}


def _documented_500(resp) -> bool:
    """A 500 the API reference documents (docs/api/*.md lists them: model conversion's)."""
    import pathlib
    docs = pathlib.Path(__file__).parents[2] / "docs" / "api"
    documented = {m.group(1) for page in docs.glob("*.md")
                  for m in re.finditer(r"^\| 500 \| ([\w.]+) \|", page.read_text(), re.M)}
    return isinstance(resp.json, dict) and resp.json.get("error_code") in documented


def _found_ids(answer) -> set:
    """The values of id fields anywhere in an answer."""
    found = set()
    if isinstance(answer, dict):
        for key, value in answer.items():
            if isinstance(value, str) and key.endswith("id"):
                found.add(value)
            else:
                found |= _found_ids(value)
    elif isinstance(answer, list):
        for item in answer:
            found |= _found_ids(item)
    return found
