"""Every Python snippet of docs/sdk.md runs, unchanged but for the endpoint, against a server."""

import re
from pathlib import Path

import pytest
from huaweicloudsdkcore.auth.credentials import Credentials
from huaweicloudsdkcore.region.cache import EnvRegionCache

from simulator.sdk_env import env_lines
from tests.helpers import USERS

DOC = Path(__file__).resolve().parents[1] / "docs" / "sdk.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_its_snippets():
    assert len(SNIPPETS) == 4


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_snippet_runs(number, server, monkeypatch, capsys):
    code = SNIPPETS[number].replace("http://127.0.0.1:9550", server.endpoint)
    for line in env_lines(server.endpoint, "cn-north-4", USERS["admin"]["ak"],
                          USERS["admin"]["sk"]):
        name, _, value = line[len("export "):].partition("=")
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Credentials, "_CACHE", {})
    monkeypatch.setattr(EnvRegionCache(), "_value", {})
    exec(compile(code, "docs/sdk.md snippet %d" % (number + 1), "exec"), {})
    out = capsys.readouterr().out
    assert out.strip() and "error_code" not in out  # no call the page shows is refused
