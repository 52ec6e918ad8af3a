"""A running simulator as the destination of a generate run (--into, --into-bucket)."""

from __future__ import annotations

import orjson
import requests

from simulator.admin.guard import token_headers

BATCH = 5000


class RemoteError(RuntimeError):
    pass


class Remote:
    def __init__(self, url: str, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(token_headers())  # a simulator bound beyond loopback's
        self._batch: list[bytes] = []
        self.stored = 0
        self.expired = 0

    def _send(self, method: str, path: str, data: bytes) -> dict:
        try:
            resp = self.session.request(method, self.url + path, data=data,
                                        timeout=self.timeout,
                                        headers={"content-type": "application/json"})
        except requests.RequestException as exc:
            raise RemoteError("%s did not answer: %s" % (self.url, exc)) from exc
        if resp.status_code != 200:
            raise RemoteError("%s %s answered %d: %s" % (method, path, resp.status_code,
                                                         resp.text[:500]))
        return resp.json()

    def add_accounts(self, accounts: dict) -> dict:
        return self._send("POST", "/_sim/accounts", orjson.dumps(accounts))

    def clock_ms(self) -> int:
        try:
            return int(self.session.get(self.url + "/_sim/clock", timeout=self.timeout)
                       .json()["now"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise RemoteError("%s did not tell its clock: %s" % (self.url, exc)) from exc

    # -- traces ----------------------------------------------------------------------------
    def write(self, record: dict) -> None:
        self._batch.append(orjson.dumps(record))
        if len(self._batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        answer = self._send("POST", "/_sim/traces", b"[" + b",".join(self._batch) + b"]")
        self._batch.clear()
        self.stored += answer.get("stored", 0)
        self.expired += answer.get("expired", 0)

    # -- OBS -------------------------------------------------------------------------------
    def bucket_writer(self, bucket: str):
        def put(key: str, data: bytes) -> None:
            self._send("PUT", "/_sim/objects/%s/%s" % (bucket, key), data)
        return put
