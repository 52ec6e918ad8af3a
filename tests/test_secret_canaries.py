"""Secrets never reach a trace, whatever shape carries them: by their key's name, by a word of
it, as the value of a name/value pair, or by value wherever the simulator knows them (issue 15
section 3). The canaries are real secrets of the fixture accounts and tokens the simulator
issued; each call's whole trace (request and response) is searched for them."""

from __future__ import annotations

import orjson
import pytest

from simulator.cts.record import MASK, mask, secret_name
from tests.helpers import GLOBEX_PROJECT_ID, USERS, SignedClient
from tests.test_auth import issue_temporary, issue_token

DS = "/v2/{project_id}/datasets"
ADMIN_SK = USERS["admin"]["sk"]
DEV_PASSWORD = USERS["developer"]["password"]


@pytest.mark.parametrize("name", ["OBS_SK", "API_KEY", "PWD", "DB_PASS", "Credential", "ak_sk",
                                  "dbPassword", "apiKey", "privateKey", "X-Auth-Token", "sk"])
def test_a_key_with_a_secrets_word_is_a_secrets_name(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", ["authKey", "signingKey", "master_key", "Authorization",
                                  "cookie", "obsSkValue", "db.sk.value", "authToken"])
def test_more_secrets_names(name):
    assert secret_name(name)
    assert orjson.loads(_text({name: "s3cr3t", "n": 1})) == {name: MASK, "n": 1}


@pytest.mark.parametrize("name", ["task", "disk", "mask", "passage", "bypass_cache", "key",
                                  "access_key_id", "name", "value", "skip", "desk_id",
                                  "max_tokens", "tokenizer", "token_count", "pass_rate",
                                  "credential_type", "dew_secret_name", "password_length"])
def test_ordinary_keys_are_not(name):
    """Nor are keys that only describe a secret: a DEW secret's name, a count of tokens."""
    assert not secret_name(name)
    assert orjson.loads(_text({name: 512})) == {name: 512}


def _text(body) -> str:
    from simulator.cts.record import _as_text
    return _as_text(body)


def test_v1_training_parameters_are_label_value_pairs():
    body = {"config": {"parameter": [{"label": "db_password", "value": "hunter2"},
                                     {"label": "OBS_SK", "value": "ZZZ"},
                                     {"label": "epochs", "value": "10"}]}}
    assert orjson.loads(_text(body)) == {"config": {"parameter": [
        {"label": "db_password", "value": MASK}, {"label": "OBS_SK", "value": MASK},
        {"label": "epochs", "value": "10"}]}}


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
        assert sim.secrets.found_in(text, "a" * 32)
        assert "pa" not in sim.secrets.hide(text, "a" * 32).replace('"note"', "")
    finally:
        sim.close()


def test_another_accounts_password_is_not_hidden_so_no_guess_is_confirmed(app, sim):
    """Hiding every account's passwords in anyone's traces would let mallory test guesses at
    acme's against her own log; an account's traces hide its own passwords only."""
    mallory = SignedClient(app, user="mallory", project_id=GLOBEX_PROJECT_ID)
    note = "guess=%s guess=%s" % (USERS["admin"]["password"], USERS["mallory"]["password"])
    mallory.post(DS, {"dataset_name": "guesses", "description": note, "work_path_type": 0,
                      "work_path": "/globex-data/out/",
                      "data_sources": [{"data_path": "/globex-data/in/"}]})
    text = orjson.dumps(mallory.traces(limit=1)[0]).decode()
    assert "guess=%s guess=%s" % (USERS["admin"]["password"], MASK) in text


def test_tokens_are_found_anywhere_in_a_run(app, sim):
    first, second = issue_token(app), issue_token(app)
    temporary = issue_temporary(app, first)
    text = "x".join([first + second, "MIIabc" + second,
                     temporary["securitytoken"] + first, "abcMII" + second])
    hidden = sim.secrets.hide(text, USERS["admin"].get("domain", {}).get("id", ""))
    for secret in (first, second, temporary["securitytoken"]):
        assert secret not in hidden
