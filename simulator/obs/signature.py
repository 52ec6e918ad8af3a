"""OBS request signatures, checked against the accounts file (moto checks none).

Accepted, as esdk-obs-python and boto3 send them:
- V2 in the header, `Authorization: OBS AK:sig` (x-obs-* headers) or `AWS AK:sig` (x-amz-*):
  base64 HMAC-SHA1 over the method, Content-MD5, Content-Type, the date, the provider's own
  headers and the resource (path, and the sub-resources of the query);
- V2 in the query (a signed URL): `AccessKeyId` or `AWSAccessKeyId`, `Expires`, `Signature`;
- V4 in the header, `AWS4-HMAC-SHA256 Credential=AK/date/region/s3/aws4_request, ...`, with the
  date from `x-amz-date` or, as esdk-obs-python sends it, from `Date`;
- V4 in the query: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, ...

The body is not hashed: the payload hash a V4 client declares is part of what it signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote

from simulator.dispatch import environ_headers, raw_target


class ObsAuthError(Exception):
    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# query keys that are part of a V2 resource (compared lower-case), besides x-amz-* / x-obs-*
SUB_RESOURCES = frozenset("""
acl append backtosource bucketstatus cors delete deletebucket directcoldaccess dispolicy
encryption fileinterface inventory length lifecycle location logging metadata modify name
notification object-lock obscompresspolicy partnumber policy policystatus position
publicaccessblock quota rename replication requestpayment response-cache-control
response-content-disposition response-content-encoding response-content-language
response-content-type response-expires restore retention storageclass storageinfo
storagepolicy tagging torrent truncate uploadid uploads versionid versioning versions website
x-image-process x-image-save-bucket x-image-save-object x-oss-process
""".split())

_V2 = re.compile(r"^(OBS|AWS) ([^:\s]+):(\S+)$")
_V4 = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*"
                 r"Signature=([0-9a-fA-F]+)\s*$")
_ISO = "%Y%m%dT%H%M%SZ"


def verify(environ: dict, directory, now_ms: int, max_skew_ms: int) -> str:
    """The access key the request is signed with; ObsAuthError unless it is signed with a key
    of the accounts file."""
    req = _Request(environ)
    auth = req.headers.get("authorization", "").strip()
    try:
        if auth.startswith("AWS4-HMAC-SHA256"):
            return _v4_header(req, auth, directory, now_ms, max_skew_ms)
        if auth.startswith(("OBS ", "AWS ")):
            return _v2_header(req, auth, directory, now_ms, max_skew_ms)
        if auth:
            raise ObsAuthError("InvalidArgument", "Unsupported Authorization Type", 400)
        if req.param("X-Amz-Algorithm") is not None:
            return _v4_query(req, directory, now_ms)
        if req.param("Signature") is not None:
            return _v2_query(req, directory, now_ms)
    except (ValueError, TypeError, OverflowError) as exc:  # a value nothing could read
        raise ObsAuthError("AccessDenied", "The request's authentication could not be read.") \
            from exc
    raise ObsAuthError("AccessDenied", "Access Denied: the request carries no signature")


def access_key(environ: dict) -> str | None:
    """The access key a request names (header or signed URL), checked or not; None if none."""
    req = _Request(environ)
    auth = req.headers.get("authorization", "").strip()
    v4, v2 = _V4.match(auth), _V2.match(auth)
    if v4:
        return v4.group(1).split("/")[0]
    if v2:
        return v2.group(2)
    credential = req.param("X-Amz-Credential")
    if credential:
        return credential.split("/")[0]
    return req.param("AccessKeyId") or req.param("AWSAccessKeyId")


class _Request:
    def __init__(self, environ: dict):
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.raw_path, self.raw_query = raw_target(environ)
        self.headers = environ_headers(environ)
        self.params = parse_qsl(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    def param_ci(self, name: str) -> str | None:
        """A query parameter whatever its case (X-Amz-Security-Token, x-amz-security-token)."""
        name = name.lower()
        return next((v for k, v in self.params if k.lower() == name), None)


def _credential(directory, ak: str, given_token: str | None, now_ms: int) -> str:
    """The secret key of an access key, after the checks a temporary one needs."""
    found = directory.by_access_key(ak)
    if found is None:
        raise ObsAuthError("InvalidAccessKeyId",
                           "The access key Id you provided does not exist in our records.")
    _, cred = found
    if cred.temporary:
        if not given_token or not _same(given_token, cred.security_token):
            raise ObsAuthError("InvalidToken", "The provided security token is malformed or "
                               "otherwise invalid.", 400)
        if now_ms >= cred.expires_at_ms:
            raise ObsAuthError("ExpiredToken", "The provided token has expired.", 400)
    return cred.secret_key


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _match(candidates, given: str) -> None:
    """The given signature must be one of the candidates: the forms a correctly signing client
    may have computed (clients differ where the specification is loose)."""
    if not any(_same(expected, given) for expected in candidates):
        raise ObsAuthError("SignatureDoesNotMatch", "The request signature we calculated does "
                           "not match the signature you provided. Check your key and signing "
                           "method.")


def _digits(value: str | None, most: int = 12) -> bool:
    return bool(value) and value.isascii() and value.isdigit() and len(value) <= most


def _check_skew(when_ms: int, now_ms: int, max_skew_ms: int) -> None:
    if abs(now_ms - when_ms) > max_skew_ms:
        raise ObsAuthError("RequestTimeTooSkewed", "The difference between the request time "
                           "and the server's time is too large.")


def _http_date_ms(value: str | None) -> int:
    try:
        return int(parsedate_to_datetime(value).timestamp() * 1000)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise ObsAuthError("AccessDenied", "The request carries no valid date.") from None


# -- V2 ------------------------------------------------------------------------------------------

def _v2_header(req: _Request, auth: str, directory, now_ms: int, max_skew_ms: int) -> None:
    m = _V2.match(auth)
    if not m:
        raise ObsAuthError("InvalidArgument", "The Authorization header is not OBS/AWS AK:sig",
                           400)
    provider, ak, sig = m.groups()
    prefix = "x-obs-" if provider == "OBS" else "x-amz-"
    secret = _credential(directory, ak, req.headers.get(prefix + "security-token"), now_ms)
    dated = req.headers.get(prefix + "date")
    _check_skew(_http_date_ms(dated or req.headers.get("date")), now_ms, max_skew_ms)
    date_line = "" if dated is not None else req.headers.get("date", "")
    _match((_v2_signature(secret, text) for text in _v2_strings(
        req, prefix, date_line, req.params, dict(req.headers))), sig)
    return ak


def _v2_query(req: _Request, directory, now_ms: int) -> None:
    ak = req.param("AccessKeyId") or req.param("AWSAccessKeyId")
    expires, sig = req.param("Expires"), req.param("Signature")
    if not ak or not _digits(expires) or not sig:
        raise ObsAuthError("AccessDenied", "A signed URL needs AccessKeyId, Expires and "
                           "Signature.")
    prefix = "x-obs-" if req.param("AccessKeyId") else "x-amz-"
    token = req.param_ci(prefix + "security-token")
    secret = _credential(directory, ak, token, now_ms)
    if int(expires) * 1000 < now_ms:
        raise ObsAuthError("AccessDenied", "Request has expired")
    signed = [(k, v) for k, v in req.params
              if k not in ("AccessKeyId", "AWSAccessKeyId", "Expires", "Signature")]
    headers = dict(req.headers)
    candidates = list(_v2_strings(req, prefix, expires, signed, headers))
    if token is not None:  # botocore signs the token as a header line, not in the resource
        unsigned = [(k, v) for k, v in signed if k.lower() != prefix + "security-token"]
        candidates += _v2_strings(req, prefix, expires, unsigned,
                                  {**headers, prefix + "security-token": token})
    _match((_v2_signature(secret, text) for text in candidates), sig)
    return ak


def _v2_strings(req: _Request, prefix: str, date_line: str, params, headers: dict):
    """The string to sign, for the resource as sent and, for a bucket, with a trailing slash
    (boto3 signs /bucket/ where esdk-obs-python signs /bucket)."""
    lines = [req.method, headers.get("content-md5", ""), headers.get("content-type", ""),
             date_line]
    own = sorted((k, v) for k, v in headers.items() if k.startswith(prefix))
    lines += ["%s:%s" % (k, v.strip() if k.startswith(prefix + "meta-") else v) for k, v in own]
    head = "\n".join(lines) + "\n"
    paths = [req.raw_path]
    if req.raw_path.strip("/") and "/" not in req.raw_path.strip("/"):
        paths.append(req.raw_path.rstrip("/") + "/")
        paths.append(req.raw_path.rstrip("/"))
    for path in dict.fromkeys(paths):
        yield head + _v2_resource(path, prefix, params)


def _v2_resource(raw_path: str, prefix: str, params) -> str:
    kept = sorted((k, v) for k, v in params
                  if k.lower() in SUB_RESOURCES or k.lower().startswith(prefix))
    if not kept:
        return raw_path
    return raw_path + "?" + "&".join(k if v == "" else "%s=%s" % (k, v) for k, v in kept)


def _v2_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# -- V4 ------------------------------------------------------------------------------------------

def _v4_header(req: _Request, auth: str, directory, now_ms: int, max_skew_ms: int) -> None:
    m = _V4.match(auth)
    if not m:
        raise ObsAuthError("AuthorizationHeaderMalformed", "The authorization header is "
                           "malformed.", 400)
    credential, signed_headers, sig = m.groups()
    ak, scope = _scope(credential)
    secret = _credential(directory, ak, req.headers.get("x-amz-security-token"), now_ms)
    amz_date = req.headers.get("x-amz-date")
    if amz_date:
        when_ms = _iso_ms(amz_date)
    else:  # esdk-obs-python signs the Date header's time
        when_ms = _http_date_ms(req.headers.get("date"))
        amz_date = datetime.fromtimestamp(when_ms / 1000, timezone.utc).strftime(_ISO)
    _check_skew(when_ms, now_ms, max_skew_ms)
    payload = req.headers.get("x-amz-content-sha256") or hashlib.sha256(b"").hexdigest()
    names = signed_headers.split(";")
    _match((_v4_signature(secret, scope, amz_date, canonical) for canonical in _v4_canonicals(
        req, req.params, names, payload)), sig.lower())
    return ak


def _v4_query(req: _Request, directory, now_ms: int) -> None:
    algorithm, credential = req.param("X-Amz-Algorithm"), req.param("X-Amz-Credential") or ""
    amz_date, expires = req.param("X-Amz-Date") or "", req.param("X-Amz-Expires") or ""
    signed_headers, sig = req.param("X-Amz-SignedHeaders") or "", req.param("X-Amz-Signature")
    if algorithm != "AWS4-HMAC-SHA256" or not sig or not _digits(expires, 7):
        raise ObsAuthError("AuthorizationQueryParametersError", "A signed URL needs "
                           "X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, "
                           "X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.", 400)
    ak, scope = _scope(credential)
    secret = _credential(directory, ak, req.param_ci("x-amz-security-token"), now_ms)
    if _iso_ms(amz_date) + int(expires) * 1000 < now_ms:
        raise ObsAuthError("AccessDenied", "Request has expired")
    params = [(k, v) for k, v in req.params if k != "X-Amz-Signature"]
    _match((_v4_signature(secret, scope, amz_date, canonical) for canonical in _v4_canonicals(
        req, params, signed_headers.split(";"), "UNSIGNED-PAYLOAD")), sig.lower())
    return ak


def _scope(credential: str) -> tuple[str, list[str]]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise ObsAuthError("AuthorizationHeaderMalformed", "The credential is not "
                           "AK/yyyymmdd/region/service/aws4_request.", 400)
    return parts[0], parts[1:]


def _iso_ms(value: str) -> int:
    try:
        return int(datetime.strptime(value, _ISO).replace(tzinfo=timezone.utc).timestamp() * 1000)
    except ValueError:
        raise ObsAuthError("AccessDenied", "The request date is not yyyymmddTHHMMSSZ.") from None


def _v4_canonicals(req: _Request, params, names: list[str], payload: str):
    """The canonical request with header values trimmed and their inner spaces collapsed (the
    specification, boto3) and, if that differs, as sent (esdk-obs-python trims nothing)."""
    missing = [n for n in names if n not in req.headers]
    if missing:
        raise ObsAuthError("SignatureDoesNotMatch", "Signed header %s is missing." % missing[0])
    query = "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in sorted(params))
    head = [req.method, req.raw_path or "/", query]
    tail = [";".join(names), payload]
    forms = ["".join("%s:%s\n" % (n, " ".join(req.headers[n].split())) for n in names),
             "".join("%s:%s\n" % (n, req.headers[n]) for n in names)]
    for headers in dict.fromkeys(forms):
        yield "\n".join(head + [headers] + tail)


def _enc(value: str) -> str:
    return quote(value, safe="-_.~")


def _v4_signature(secret: str, scope: list[str], amz_date: str, canonical: str) -> str:
    key = ("AWS4" + secret).encode()
    for part in scope:  # date, region, service, "aws4_request"
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(scope),
                         hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
