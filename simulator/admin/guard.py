"""Who may use the /_sim controls, which answer without credentials: a caller on this machine,
not a web page it happens to have open.

- The Host header must name this machine's loopback (localhost, 127.0.0.0/8, ::1), the
  address the simulator binds, or one of `allowed_hosts`: a page that rebinds its own DNS name
  to 127.0.0.1 still sends its name, and is refused.
- A request that carries an Origin (a browser's) must come from the simulator's own origin or
  one of `allowed_origins`: a drive-by request from any other page is refused, whatever its
  content type.

- A request that changes something (any method but GET, HEAD and OPTIONS) must say its body is
  JSON (`Content-Type: application/json`), or, where the control takes bytes (a snapshot to
  restore, an object to put), `application/octet-stream`: a web page can send text/plain, a form
  or no body at all without asking the browser first, but not these.

As LocalStack refuses browser requests from origins it does not allow. Both lists are settings
(docs/reliability.md)."""

from __future__ import annotations

import hmac
import ipaddress
import os

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def host_name(host: str) -> str:
    """The name of a Host header, without its port: [::1]:9550 -> ::1, a:80 -> a."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


READS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON = "application/json"
BYTES = "application/octet-stream"
TAKE_BYTES = ("/_sim/restore", "/_sim/objects/")  # the controls whose body may be bytes


def unfit_body(method: str, path: str, mimetype: str) -> str | None:
    """Why a /_sim request's content type is refused (415), or None."""
    if method in READS or mimetype == JSON or (
            mimetype == BYTES and path.startswith(TAKE_BYTES)):
        return None
    return ("a /_sim control that changes something takes Content-Type: %s%s, not %r"
            % (JSON, " or " + BYTES if path.startswith(TAKE_BYTES) else "", mimetype or ""))


TOKEN_HEADER = "X-Sim-Admin-Token"
TOKEN_ENV = "MODELARTS_SIM_ADMIN_TOKEN"  # where the plugin, ctl and generate --into find it


def token_headers() -> dict:
    """The header a client of /_sim sends when the environment holds the admin token."""
    token = os.environ.get(TOKEN_ENV)
    return {TOKEN_HEADER: token} if token else {}


def lacks_token(given: str | None, settings) -> str | None:
    """Why a /_sim request is refused for its admin token (401), or None."""
    wanted = settings.admin_token
    if not wanted or (given is not None and hmac.compare_digest(given.encode(), wanted.encode())):
        return None
    return ("this simulator's controls need its admin token in %s (it was printed at start; "
            "clients read %s)" % (TOKEN_HEADER, TOKEN_ENV))


def refusal(host: str | None, origin: str | None, scheme: str, settings) -> str | None:
    """Why a /_sim request is refused, or None."""
    name = host_name(host or "")
    allowed = {host_name(h) for h in settings.allowed_hosts} | {host_name(settings.host)}
    if not (is_loopback(name) or name in allowed):
        return ("the Host %r is not this machine's loopback nor an allowed host "
                "(allowed_hosts): /_sim answers only its own machine" % (host or ""))
    if origin is not None:
        own = "%s://%s" % (scheme, (host or "").strip().lower())
        if origin.strip().lower().rstrip("/") not in {own} | {
                o.lower().rstrip("/") for o in settings.allowed_origins}:
            return ("the Origin %r is not the simulator's own nor an allowed origin "
                    "(allowed_origins): /_sim refuses other web pages" % origin)
    return None
