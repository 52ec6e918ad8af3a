"""Every Python snippet of docs/obs.md runs, unchanged but for the endpoint, against a server
in strict mode, with the credentials the page shows (the fixture admin's)."""

import re
from pathlib import Path

import pytest

from tests.helpers import USERS

DOC = Path(__file__).resolve().parents[1] / "docs" / "obs.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_its_snippets_and_the_fixture_credentials():
    assert len(SNIPPETS) == 4
    for snippet in SNIPPETS:
        assert USERS["admin"]["ak"] in snippet and USERS["admin"]["sk"] in snippet


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_snippet_runs(number, server, capsys):
    code = SNIPPETS[number].replace("http://127.0.0.1:9550", server.endpoint)
    exec(compile(code, "docs/obs.md snippet %d" % (number + 1), "exec"),
         {"__file__": __file__})
    out = capsys.readouterr().out
    assert out.strip() and "Error" not in out
    assert "403" not in out.split() and "404" not in out.split()


def test_the_dataset_snippet_prints_what_it_says(server, capsys):
    """The page's comment under the dataset snippet's print is its real output."""
    snippet = next(s for s in SNIPPETS if "datasets" in s)
    expected = re.search(r"^# (\[.*\])$", snippet, re.M).group(1)
    exec(compile(snippet.replace("http://127.0.0.1:9550", server.endpoint), "snippet", "exec"),
         {"__file__": __file__})
    assert capsys.readouterr().out.strip().splitlines()[-1] == expected
