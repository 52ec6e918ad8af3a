"""The OBS side of the port: who may call, then moto's S3 application, then the data traces.

moto checks no signature, so the gateway does (in strict mode) before a request reaches it,
and answers a refusal the way OBS does: S3 XML with the error code, 403. Every answer carries
the request id headers OBS clients read (x-obs-request-id, x-amz-request-id). An object
operation on a bucket that a data tracker watches is recorded once moto has answered it
(obs/datatraces.py).
"""

from __future__ import annotations

import io
import logging
import re
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from simulator.dispatch import environ_headers, raw_target, source_ip
from simulator.obs import access, backend, datatraces
from simulator.obs.signature import ObsAuthError, access_key, verify


class ObsGateway:
    def __init__(self, sim):
        self.sim = sim
        self._moto = backend.wsgi_app()

    def __call__(self, environ, start_response):
        self.sim.settle()  # a training job that finished has written its output by now
        request_id = self.sim.ids.hex(16).upper()
        arrival = self.sim.clock.now_ms()
        raw_path, raw_query = raw_target(environ)
        headers = environ_headers(environ)

        def respond(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
            headers += [("x-obs-request-id", request_id), ("x-amz-request-id", request_id),
                        ("Server", "OBS")]
            return start_response(status, headers, exc_info)

        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.sim.obs_account  # this simulator's buckets
        mode = self.sim.settings.auth
        if mode == "strict":
            try:  # the key that signed the request, never one it merely names
                caller_key = verify(environ, self.sim.directory, arrival,
                                    self.sim.settings.signature_max_skew_s * 1000)
            except ObsAuthError as err:  # refused at the door: it never reached OBS, no trace
                return _error(respond, err, request_id)
        elif mode == "off" and not _signed(environ):
            # no credentials needed: the call is the default admin's, which moto must not take
            # for an anonymous one (it refuses anonymous reads of private objects)
            caller_key = self._default_key()
            environ["HTTP_AUTHORIZATION"] = "AWS %s:unchecked" % caller_key
        else:
            caller_key = access_key(environ)

        caller = self._caller(caller_key)

        def answer():
            with self.sim.obs_files.lock:  # see ObsFiles: moto's objects are not thread-safe
                return self._answer(environ, raw_path, raw_query, headers, caller, request_id)

        def trace(status: int) -> None:
            datatraces.record(self.sim, environ=environ, raw_path=raw_path, raw_query=raw_query,
                              headers=headers, status=status, arrival_ms=arrival,
                              request_id=request_id, access_key=caller_key,
                              source_ip=source_ip(environ, headers,
                                                  self.sim.settings.trust_forwarded_for))

        if environ.get("REQUEST_METHOD") in _READS:
            status_line, answer_headers, body = answer()
            try:
                trace(int(status_line.split(" ", 1)[0]))
            except Exception:  # a read changed nothing: its answer stands, the loss is logged
                logging.getLogger("modelarts_sim").exception("a data trace was not recorded")
            respond(status_line, answer_headers)
            return body
        # a write is applied with its trace, or not at all: the bucket it names is compared
        # with its rows at the commit (durable state), and put back if the commit fails
        bucket = datatraces.split_path(raw_path)[0]  # decoded, as moto reads it
        try:
            with self.sim.change():
                self.sim.obs_rows.touch(bucket)
                status_line, answer_headers, body = answer()
                trace(int(status_line.split(" ", 1)[0]))
        except Exception:
            logging.getLogger("modelarts_sim").exception(
                "an OBS write was undone: its trace could not be built or stored")
            return _error(respond, ObsAuthError(
                "InternalError", "We encountered an internal error. Please try again.", 500),
                request_id)
        respond(status_line, answer_headers)
        return body

    def _caller(self, caller_key: str | None):
        """The user whose key signed the request; None for an anonymous one (and, where
        signatures are not checked, for a key the accounts file does not hold)."""
        found = self.sim.directory.by_access_key(caller_key) if caller_key else None
        return found[0] if found is not None else None

    def _answer(self, environ, raw_path: str, raw_query: str, headers: dict, caller,
                request_id: str) -> tuple[str, list, object]:
        """OBS's answer: AccessDenied for what the caller may not do (obs/access.py), else
        moto's, with the bucket's owner where moto names its own account, and a listing of
        buckets cut to the caller's."""
        method = environ.get("REQUEST_METHOD", "GET")
        bucket, key = datatraces.split_path(raw_path)
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        body = _bucket_body(environ) if key is None and (
            method == "POST" or (method == "PUT" and "policy" in params)) else b""
        try:
            access.check(self.sim, caller, method, bucket, key, params, headers, body)
        except access.Denied as denied:
            return _error_answer(ObsAuthError(denied.code, denied.message, denied.status),
                                 request_id)
        existed = bucket in backend.store(self.sim.obs_account).buckets
        status_line, answer_headers, answer_body = self._moto_answer(environ, request_id)
        made = backend.store(self.sim.obs_account).buckets.get(bucket) if bucket else None
        if made is not None and not existed and caller is not None:
            access.set_owner(made, caller.domain.id)  # a bucket is its creator's account's
        if method == "GET" and (key is None or "acl" in params):
            owner = access.owner_of(self.sim, made) if made is not None else \
                caller.domain.id if caller is not None else None
            answer_body = _owned(answer_body, owner, None if bucket else
                                 access.own_buckets(self.sim, caller))
            answer_headers = [(k, v) for k, v in answer_headers if k.lower() != "content-length"]
            answer_headers.append(("Content-Length", str(len(answer_body[0]))))
        return status_line, answer_headers, answer_body

    def _moto_answer(self, environ, request_id: str) -> tuple[str, list, object]:
        """(status line, headers, body) of moto's answer, except that its bodiless 403 for an
        anonymous read of a private object becomes the AccessDenied error OBS sends."""
        answer = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None  # moto's Flask app returns its body, it never writes

        body = self._moto(environ, capture)
        status = int(answer["status"].split(" ", 1)[0])
        length = next((v for k, v in answer["headers"] if k.lower() == "content-length"), None)
        if status == 403 and length == "0" and environ.get("REQUEST_METHOD") != "HEAD":
            getattr(body, "close", lambda: None)()
            return _error_answer(ObsAuthError("AccessDenied", "Access Denied"), request_id)
        return answer["status"], answer["headers"], body

    def _default_key(self) -> str:
        user = self.sim.directory.default_user()
        return user.credentials[0].access_key if user.credentials else "anonymous"


def _bucket_body(environ) -> bytes:
    """The body of a bucket-level POST (a batch delete names its keys there) or policy, read
    once and handed on to moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _moto_ids() -> tuple[bytes, ...]:
    """The canonical ids moto names its account by: in ACLs and object listings, and (another
    constant) in its listing of buckets."""
    from moto.s3.models import OWNER
    return OWNER.encode(), b"bcaf1ffd86f41161ca5fb16fd081034f"


_BUCKET_ENTRY = re.compile(rb"<Bucket>\s*<Name>(.*?)</Name>.*?</Bucket>\s*", re.S)


def _owned(body, owner: str | None, listed: set[str] | None) -> list[bytes]:
    """moto's XML with its own account's canonical id replaced by the owning domain's (OBS
    names a domain id there), and, for a listing of buckets, only the listed ones."""
    data = b"".join(body)
    getattr(body, "close", lambda: None)()
    if owner:  # only where an element is an id: a key or a tag may hold the same text
        for moto_id in _moto_ids():
            data = data.replace(b"<ID>%s</ID>" % moto_id, b"<ID>%s</ID>" % owner.encode())
    if listed is not None:
        names = {escape(n).encode() for n in listed}
        data = _BUCKET_ENTRY.sub(lambda m: m.group(0) if m.group(1) in names else b"", data)
    return [data]


def _signed(environ) -> bool:
    query = environ.get("QUERY_STRING", "")
    return "HTTP_AUTHORIZATION" in environ or "Signature=" in query


_READS = ("GET", "HEAD", "OPTIONS")
_REPLACED = {"server", "x-amzn-requestid", "x-amz-request-id", "access-control-allow-origin"}


def _error(respond, err: "ObsAuthError", request_id: str):
    status_line, headers, body = _error_answer(err, request_id)
    respond(status_line, headers)
    return body


def _error_answer(err: "ObsAuthError", request_id: str) -> tuple[str, list, list]:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>%s</RequestId><HostId>%s</HostId></Error>' % (
                err.code, escape(err.message), request_id, request_id)).encode()
    return ("%d %s" % (err.status, _REASONS[err.status]),
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], [body])


_REASONS = {400: "Bad Request", 403: "Forbidden", 409: "Conflict",
            500: "Internal Server Error"}
