"""SDK-HMAC-SHA256, the AK/SK signature of huaweicloudsdkcore, from both sides.

The canonical request is built the way the SDK's Signer builds it (shared/reference
cts-and-auth.md section 5.1): the server rebuilds it from the raw request and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_SDK_DATE = re.compile(r"\A[0-9]{8}T[0-9]{6}Z\Z")
_AUTH = re.compile(r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*"
                   r"Signature=([0-9a-fA-F]+)\s*$")


def _enc(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(raw_path: str) -> str:
    path = "/".join(_enc(part) for part in unquote(raw_path).split("/"))
    return path if path.endswith("/") else path + "/"


def canonical_query(raw_query: str, keep_value_order: bool = False) -> str:
    """Pairs sorted by key and value. With keep_value_order, the values of a repeated key stay
    in the order they arrived: the SDK sorts a list by its items' own type (9 before 10), which
    the server cannot know, and sends them in that order."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    pairs = sorted(pairs, key=lambda kv: kv[0]) if keep_value_order else sorted(pairs)
    return "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in pairs)


def repeats_a_key(raw_query: str) -> bool:
    """Whether a key appears more than once, as canonical_query reads keys (decoded), the only
    case in which keep_value_order can change the canonical query."""
    if "&" not in raw_query:
        return False
    keys = [k for k, _ in parse_qsl(raw_query, keep_blank_values=True)]
    return len(set(keys)) < len(keys)


CONTENT_HASH = "x-sdk-content-sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def payload_hash(body: bytes, headers: dict[str, str], signed_headers=None) -> str:
    """The canonical request's last line, as the SDK's signer writes it: the empty hash for no
    body; else X-Sdk-Content-Sha256 when the client gave one, else the body's SHA-256.

    The server (signed_headers given) takes the header only where the client signed it, and
    then only UNSIGNED-PAYLOAD (the SDK's value for a body that is not JSON, which API Gateway
    accepts without hashing) or the body's own hash: a declared hash that is unsigned or not
    the body's would let a captured signature carry another body."""
    if not body:
        return EMPTY_HASH
    declared = headers.get(CONTENT_HASH)
    if declared and (signed_headers is None  # the client's side: it signs what it declares
                     or (CONTENT_HASH in signed_headers and declared == UNSIGNED_PAYLOAD)):
        return declared
    actual = hashlib.sha256(body).hexdigest()
    if declared and CONTENT_HASH in signed_headers and declared.lower() == actual:
        return declared
    return actual


def canonical_request(method: str, raw_path: str, raw_query: str, headers: dict[str, str],
                      signed_headers: list[str], body: bytes,
                      keep_value_order: bool = False, *, verifying: bool = False) -> str:
    """headers: lower-case name -> value. `verifying`: the server's reading of the payload
    hash (payload_hash), which trusts only a signed X-Sdk-Content-Sha256 that fits the body."""
    canon_headers = "".join("%s:%s\n" % (h, headers.get(h, "").strip()) for h in signed_headers)
    return "\n".join([method.upper(), canonical_uri(raw_path),
                      canonical_query(raw_query, keep_value_order), canon_headers,
                      ";".join(signed_headers),
                      payload_hash(body, headers, signed_headers if verifying else None)])


def string_to_sign(sdk_date: str, canonical: str) -> str:
    return "%s\n%s\n%s" % (ALGORITHM, sdk_date, hashlib.sha256(canonical.encode()).hexdigest())


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    return hmac.new(secret_key.encode(), string_to_sign(sdk_date, canonical).encode(),
                    hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> tuple[str, list[str], str] | None:
    match = _AUTH.match(value or "")
    if not match:
        return None
    return match.group(1), match.group(2).split(";"), match.group(3).lower()


def parse_sdk_date(value: str) -> int | None:
    """X-Sdk-Date -> epoch ms, or None when it is not of the SDK's form."""
    # by hand: strptime costs a quarter of the signature check
    if not isinstance(value, str) or not _SDK_DATE.match(value):
        return None
    try:
        when = datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]),
                        int(value[11:13]), int(value[13:15]), tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(when.timestamp()) * 1000


def format_sdk_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc).strftime(DATE_FORMAT)


def sign(method: str, url: str, headers: dict[str, str], body: bytes, access_key: str,
         secret_key: str, epoch_ms: int, security_token: str | None = None) -> dict[str, str]:
    """Client side: the headers to send (as the SDK would), for tests, benchmarks and the CLI."""
    parts = urlsplit(url)
    out = dict(headers)
    out["X-Sdk-Date"] = format_sdk_date(epoch_ms)
    out["Host"] = parts.netloc
    if security_token:
        out["X-Security-Token"] = security_token
    lower = {k.lower(): v for k, v in out.items()}
    signed = sorted(k for k in lower if "_" not in k)
    canon = canonical_request(method, parts.path or "/", parts.query, lower, signed, body)
    sig = signature(secret_key, out["X-Sdk-Date"], canon)
    out["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, ";".join(signed), sig)
    return out
