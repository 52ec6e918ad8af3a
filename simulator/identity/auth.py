"""Who is calling: check the AK/SK signature or the X-Auth-Token of a request.

Failures raise AuthError, which the app answers as API Gateway does (401 APIGW.0301) without a
trace: such a request never reaches the service.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from simulator.identity import signing
from simulator.identity.accounts import Directory, User

_PREFIX = "Incorrect IAM authentication information: "


class AuthError(Exception):
    def __init__(self, reason: str):
        super().__init__(_PREFIX + reason)
        self.reason = reason


@dataclass(frozen=True)
class RawRequest:
    """What authentication needs of a request, taken from the WSGI environ untouched."""
    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Caller:
    user: User
    access_key_id: str | None
    via: str  # "aksk" | "token" | "anonymous"
    project_id: str | None  # the project the credentials were scoped to, when they say
    temporary: bool = False
    session_created_ms: int | None = None


class Authenticator:
    def __init__(self, mode: str, directory: Directory, tokens, clock, max_skew_s: int):
        self.mode = mode
        self.directory = directory
        self.tokens = tokens
        self.clock = clock
        self.max_skew_ms = max_skew_s * 1000

    def authenticate(self, req: RawRequest) -> Caller:
        if self.mode == "off":
            return Caller(self.directory.default_user(), None, "anonymous",
                          req.headers.get("x-project-id"))
        token = req.headers.get("x-auth-token")
        if token:
            return self._by_token(token)
        auth = req.headers.get("authorization")
        if auth:
            if self.mode == "lenient":
                return self._by_access_key_only(auth, req)
            return self._by_signature(auth, req)
        if self.mode == "lenient":
            return Caller(self.directory.default_user(), None, "anonymous",
                          req.headers.get("x-project-id"))
        raise AuthError("x-auth-token not found")

    # -- tokens --------------------------------------------------------------------------------
    def _by_token(self, value: str) -> Caller:
        token = self.tokens.find(value)
        if token is None:
            if self.mode == "lenient":
                return Caller(self.directory.default_user(), None, "token", None)
            raise AuthError("decrypt token fail")
        if self.tokens.expired(token):
            raise AuthError("token expires")
        return Caller(token.user, None, "token", token.project.id if token.project else None)

    # -- AK/SK ---------------------------------------------------------------------------------
    def _by_access_key_only(self, auth: str, req: RawRequest) -> Caller:
        parsed = signing.parse_authorization(auth)
        if parsed is None:
            return Caller(self.directory.default_user(), None, "anonymous",
                          req.headers.get("x-project-id"))
        ak = parsed[0]
        found = self.directory.by_access_key(ak)
        if found:
            user, cred = found
            return Caller(user, ak, "aksk", req.headers.get("x-project-id"), cred.temporary,
                          cred.created_at_ms)
        base = self.directory.default_user()
        stranger = User(id=hashlib.md5(ak.encode()).hexdigest(), name=ak, role="developer",
                        domain=base.domain)
        return Caller(stranger, ak, "aksk", req.headers.get("x-project-id"))

    def _by_signature(self, auth: str, req: RawRequest) -> Caller:
        parsed = signing.parse_authorization(auth)
        if parsed is None:
            raise AuthError("verify aksk signature fail, the Authorization header is not "
                            "SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...")
        ak, signed_headers, sig = parsed
        found = self.directory.by_access_key(ak)
        if found is None:
            raise AuthError("verify aksk signature fail, access key %s does not exist" % ak)
        user, cred = found
        if "host" not in signed_headers:
            raise AuthError("verify aksk signature fail, the host header must be signed")
        missing = [h for h in signed_headers if h not in req.headers]
        if missing:
            raise AuthError("verify aksk signature fail, signed header %s is missing"
                            % missing[0])
        sdk_date = req.headers.get("x-sdk-date")
        if not sdk_date:
            raise AuthError("verify aksk signature fail, x-sdk-date not found")
        when = signing.parse_sdk_date(sdk_date)
        if when is None:
            raise AuthError("verify aksk signature fail, x-sdk-date is not YYYYMMDDTHHMMSSZ")
        if abs(self.clock.now_ms() - when) > self.max_skew_ms:
            raise AuthError("verify aksk signature fail, signature expired")
        if cred.temporary:
            given = req.headers.get("x-security-token")
            if not given:
                raise AuthError("verify aksk signature fail, a temporary access key needs "
                                "x-security-token")
            if not hmac.compare_digest(given, cred.security_token):
                raise AuthError("verify aksk signature fail, security token is invalid")
            if "x-security-token" not in signed_headers:  # the SDK signs it, as every header
                raise AuthError("verify aksk signature fail, x-security-token must be signed")
            if self.clock.now_ms() >= cred.expires_at_ms:
                raise AuthError("verify aksk signature fail, security token expires")
        # the value order of a repeated query key is ambiguous (see canonical_query); only then
        # is the second reading worth computing
        readings = (False, True) if signing.repeats_a_key(req.raw_query) else (False,)
        if not any(hmac.compare_digest(self._expected(req, signed_headers, cred, sdk_date, keep),
                                       sig) for keep in readings):
            raise AuthError("verify aksk signature fail")
        return Caller(user, ak, "aksk", req.headers.get("x-project-id"), cred.temporary,
                      cred.created_at_ms)

    @staticmethod
    def _expected(req: RawRequest, signed_headers, cred, sdk_date: str, keep_order: bool) -> str:
        canon = signing.canonical_request(req.method, req.raw_path, req.raw_query, req.headers,
                                          signed_headers, req.body, keep_order, verifying=True)
        return signing.signature(cred.secret_key, sdk_date, canon)
