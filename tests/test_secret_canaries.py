"""Secrets never reach a trace, whatever shape carries them: by their key's name, by a word of
it, as the value of a name/value pair, or by value wherever the simulator knows them (issue 15
section 3). The canaries are real secrets of the fixture accounts and tokens the simulator
issued; each call's whole trace (request and response) is searched for them."""

from __future__ import annotations

import orjson
import pytest

from simulator.cts.record import MASK, mask, secret_name
from tests.helpers import USERS, SignedClient
from tests.test_auth import issue_temporary, issue_token

DS = "/v2/{project_id}/datasets"
ADMIN_SK = USERS["admin"]["sk"]
DEV_PASSWORD = USERS["developer"]["password"]


@pytest.mark.parametrize("name", ["OBS_SK", "API_KEY", "PWD", "DB_PASS", "Credential", "ak_sk",
                                  "dbPassword", "apiKey", "privateKey", "X-Auth-Token", "sk"])
def test_a_key_with_a_secrets_word_is_a_secrets_name(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", ["task", "disk", "mask", "passage", "bypass_cache", "key",
                                  "access_key_id", "name", "value", "skip", "desk_id"])
def test_ordinary_keys_are_not(name):
    assert not secret_name(name)


def test_every_shape_is_masked():
    body = {
        "env": {"OBS_SK": "s1", "API_KEY": "s2", "PWD": "s3", "DB_PASS": "s4", "LANG": "C"},
        "envs": [{"name": "password", "value": "s5"}, {"key": "ak_sk", "value": "s6"},
                 {"name": "PATH", "value": "/bin"}],
        "Credential": "s7",
        "credential": {"access": "AKVISIBLE", "secret": "s8", "expires_at": "2026-11-18"},
        "credentials": [{"ak": "AKVISIBLE", "sk": "s9"}, "s10"],
    }
    assert mask(body) == {
        "env": {"OBS_SK": MASK, "API_KEY": MASK, "PWD": MASK, "DB_PASS": MASK, "LANG": "C"},
        "envs": [{"name": "password", "value": MASK}, {"key": "ak_sk", "value": MASK},
                 {"name": "PATH", "value": "/bin"}],
        "Credential": MASK,
        "credential": {"access": "AKVISIBLE", "secret": MASK, "expires_at": "2026-11-18"},
        "credentials": [{"ak": "AKVISIBLE", "sk": MASK}, MASK],
    }
    assert MASK == "********"


def _whole_trace_text(client) -> str:
    return orjson.dumps(client.traces(limit=1)[0]).decode()


def test_known_secrets_are_masked_by_value_wherever_they_stand(app, sim):
    client = SignedClient(app)
    token = issue_token(app)
    temporary = issue_temporary(app, token)
    canaries = [ADMIN_SK, DEV_PASSWORD, token, temporary["secret"], temporary["securitytoken"]]
    description = "keys %s:%s and %s" % (USERS["admin"]["ak"], ADMIN_SK, DEV_PASSWORD)
    resp = client.post(DS, {
        "dataset_name": "canary", "work_path_type": 0, "work_path": "/acme-data/out/",
        "description": description,
        "data_sources": [{"data_path": "/acme-data/in/", "content": ADMIN_SK,
                          "source_info": {"url": "https://x.example/?t=" + token,
                                          "note": temporary["secret"] + temporary["secret"],
                                          "blob": "x" + temporary["securitytoken"]}}]})
    assert resp.status_code in (201, 400), resp.json
    text = _whole_trace_text(client)
    for canary in canaries:
        assert canary not in text, canary[:12]
    assert USERS["admin"]["ak"] in text  # an access key id is no secret
    assert text.count(MASK) >= 5


def test_an_sk_sent_as_content_is_masked(app, sim):
    """addAkSk-style: the AK/SK file's content is the caller's own secret key."""
    client = SignedClient(app)
    resp = client.post("/v2/{project_id}/authorizations", {
        "user_id": USERS["admin"]["id"], "type": "credential", "content": ADMIN_SK,
        "secret_key": ADMIN_SK})
    assert resp.status_code == 400, resp.json  # content must be an access key
    trace = client.traces(limit=1)[0]
    assert trace["trace_name"] == "addAkSk" and trace["code"] == "400"
    assert ADMIN_SK not in orjson.dumps(trace).decode()


def test_a_password_json_must_escape_is_masked_as_json_writes_it():
    from simulator.core import Simulator
    from simulator.identity.accounts import Directory
    from simulator.settings import Settings
    data = {"domains": [{"id": "a" * 32, "name": "quoted", "projects": [
        {"id": "b" * 32, "name": "cn-north-4"}], "users": [
        {"id": "c" * 32, "name": "q", "role": "admin", "password": 'pa"ss\\word!',
         "keys": [{"ak": "QUOTEDAK000000000000", "sk": "s" * 40}]}]}]}
    directory = Directory.from_mapping(data)
    sim = Simulator(Settings(), directory=directory)
    try:
        text = orjson.dumps({"note": 'pa"ss\\word!'}).decode()
        assert 'pa\\"ss' in text
        assert sim.secrets.found_in(text)
        assert "pa" not in sim.secrets.hide(text).replace('"note"', "")
    finally:
        sim.close()
