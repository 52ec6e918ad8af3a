"""The dispatcher's routes match exactly what werkzeug's rules for the catalog would match."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from simulator import catalog
from simulator.dispatch import Routes, host_url

ROUTES = list(catalog.routes())
WERKZEUG = Map([Rule(catalog.flask_rule(path), endpoint=(method, path), methods=[method],
                     strict_slashes=False) for method, path in ROUTES]).bind("sim")
OURS = Routes(ROUTES)
METHODS = sorted({method for method, _ in ROUTES} | {"PATCH", "HEAD"})


def werkzeug_match(path: str, method: str):
    try:
        return WERKZEUG.match(path, method)
    except HTTPException:  # 404, 405, or a redirect (merged slashes): none is a match
        return None


def _sample_paths():
    """Every catalog path filled with plain, unicode and literal-looking values, with and
    without a trailing slash, and broken in the ways clients break paths."""
    fills = ["abc123", "ünïcode label", "datasets", "export", "1"]
    for _, path in ROUTES:
        for fill in fills:
            concrete = catalog._PARAM.sub(fill, path)
            yield concrete
            yield concrete + "/"
            yield concrete + "//"
            yield concrete.replace("/", "//", 1)
            yield concrete + "/extra"
            yield concrete.rsplit("/", 1)[0]
    yield from ["/", "", "v2", "/v2", "/v2/", "/_sim/health", "/v2//datasets", "/v3/p/traces?"]


@pytest.mark.parametrize("method", METHODS)
def test_every_path_matches_as_werkzeug_would_match_it(method):
    mismatches = []
    for path in sorted(set(_sample_paths())):
        if OURS.match(path, method) != werkzeug_match(path, method):
            mismatches.append((path, OURS.match(path, method), werkzeug_match(path, method)))
    assert mismatches == []


def test_a_literal_segment_wins_over_a_parameter_but_falls_back_to_it():
    routes = Routes([("GET", "/v1/{p}/items/{id}"), ("GET", "/v1/{p}/items/latest"),
                     ("POST", "/v1/{p}/items/{id}")])
    assert routes.match("/v1/x/items/latest", "GET") == (("GET", "/v1/{p}/items/latest"),
                                                         {"p": "x"})
    assert routes.match("/v1/x/items/latest", "POST") == (("POST", "/v1/{p}/items/{id}"),
                                                          {"p": "x", "id": "latest"})
    assert routes.match("/v1/x/items/", "GET") is None  # a parameter is never empty
    assert routes.match("//v1/x/items/7/", "HEAD") == (("GET", "/v1/{p}/items/{id}"),
                                                       {"p": "x", "id": "7"})


@pytest.mark.parametrize("base_url, host", [
    ("http://127.0.0.1:9550", "127.0.0.1:9550"), ("http://127.0.0.1:9550", "example.com:80"),
    ("http://127.0.0.1:9550", None), ("http://127.0.0.1:80", None),
    ("https://h.example:443", None), ("https://h.example:8443", "h.example:443"),
    ("http://127.0.0.1:9550", "LocalHost:9550"), ("http://127.0.0.1:9550", "my_host:9550"),
    ("http://127.0.0.1:9550", "xn--n3h.example:9550"), ("http://127.0.0.1:9550", "[::1]:9550"),
    ("http://127.0.0.1:9550", "bad host"), ("http://127.0.0.1:9550", ""),
])
def test_host_url_is_werkzeugs_without_its_trailing_slash(base_url, host):
    environ = EnvironBuilder(path="/v3/projects", base_url=base_url,
                             headers={"Host": host} if host is not None else {}).get_environ()
    if host is None:
        environ.pop("HTTP_HOST", None)
    expected = Request(environ).host_url.rstrip("/")
    assert host_url(environ) == expected
    assert host_url(dict(environ)) == expected  # remembered


@pytest.mark.parametrize("changes", [{"SERVER_NAME": "::1"}, {"SERVER_PORT": "080"},
                                     {"SERVER_PORT": None}, {"wsgi.url_scheme": "https"}])
def test_host_url_without_a_host_header_follows_the_server_entries(changes):
    environ = EnvironBuilder(path="/v3/projects", base_url="http://127.0.0.1:9550").get_environ()
    environ.pop("HTTP_HOST", None)
    for key, value in changes.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    assert host_url(environ) == Request(environ).host_url.rstrip("/")


def test_host_urls_remembered_stay_few_whatever_the_host_headers():
    from simulator import dispatch
    base = EnvironBuilder(path="/v3/projects", base_url="http://127.0.0.1:9550").get_environ()
    for i in range(3 * dispatch._HOST_URLS_KEPT):
        assert host_url(dict(base, HTTP_HOST="h%d.example" % i)) == "http://h%d.example" % i
    assert len(dispatch._HOST_URLS) <= dispatch._HOST_URLS_KEPT
