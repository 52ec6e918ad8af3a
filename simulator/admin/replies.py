"""What every /_sim blueprint answers with: the app's simulator, JSON, and plain errors.

The /_sim controls are the simulator's own, not a Huawei API: their errors are
{"error": message}, never a cloud dialect."""

from __future__ import annotations

import orjson
from flask import Response, current_app

from simulator.core import simulator_of


def current_sim():
    """The Simulator of the app serving this request."""
    return simulator_of(current_app)


def json_reply(body, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json")


def error_reply(message: str, status: int = 400) -> Response:
    return json_reply({"error": message}, status)
