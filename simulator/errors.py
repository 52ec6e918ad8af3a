"""API errors, and the dialects API families answer them in.

A dialect is everything that is said on a family's behalf when its handler is not the one
answering: the error body's shape, the service prefix of its codes, the code for a body that
cannot be read, the throttling code, and the refusals of the walk's own checks (a project that
is not the caller's, a read-only user writing). `catalog.FAMILIES` gives every family its
dialect; the walk, the fault injector and Flask's error handlers all read it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable


class ApiError(Exception):
    """A refusal the API answers in its family's dialect. Handlers raise it; the walk renders it.

    ``resource_id`` / ``resource_name`` say which resource the refused call was about, so that
    its warning trace names it.
    """

    def __init__(self, status: int, code: str, message: str, *, resource_id=None,
                 resource_name=None, solution: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.resource_id = resource_id
        self.resource_name = resource_name
        self.solution = solution


# API Gateway answers these before a request reaches any service
APIG_NOT_FOUND = ("APIGW.0101", "The API does not exist or has not been published in the "
                  "environment")
APIG_AUTH = "APIGW.0301"
APIG_TOO_LARGE = ("APIGW.0201", "Request entity too large")
APIG_INTERNAL = ("APIGW.0103", "The backend service is unavailable")
APIG_THROTTLED = ("APIGW.0308", "The throttling threshold has been reached")

_IAM_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               409: "Conflict"}

# the walk's scope check (the project in the path is not the caller's), in each service's words
_MODELARTS_SCOPE = ("ModelArts.0210", "The project id in the URL does not match the project of "
                    "the credentials")
_CTS_SCOPE = ("CTS.0002", "Authentication failed or no permission: the project id in the URL "
              "does not belong to the caller")
# a domain id in the path (CTS's and IAM's account-wide calls) that is not the caller's account
DOMAIN_REFUSED = ("CTS.0002", "Authentication failed or no permission: the domain id in the URL "
                  "is not the caller's account")


class NotApplied(Exception):
    """A change whose trace could not be built or stored: it was undone."""


@dataclass(frozen=True)
class Dialect:
    name: str
    render: Callable[[ApiError, str], dict]  # (error, request id) -> the answer's body
    prefix: str = "ModelArts"  # the service part of its error codes (an injected 500: .0500)
    bad_body: str | None = None  # the code for a body that is not JSON or names no operation
    throttled: tuple[str, str] = APIG_THROTTLED  # (code, message) of a 429
    scope_refused: tuple[str, str] = _MODELARTS_SCOPE
    # (code, message with %(operation)s and %(user)s) a read-only user's write is refused with;
    # None: the walk does not check the role for this family
    read_only_refused: tuple[str, str] | None = None

    def body(self, err: ApiError, request_id: str) -> dict:
        return self.render(err, request_id)

    def throttled_as(self, code: str) -> "Dialect":
        """The same dialect for a family that documents a throttling code of its own."""
        return replace(self, throttled=(code, APIG_THROTTLED[1]))


def _error_msg(err, _request_id):
    return {"error_code": err.code, "error_msg": err.message}


def _error_message(err, _request_id):
    return {"error_code": err.code, "error_message": err.message}


def _is_success(err, _request_id):
    return {"is_success": False, "error_code": err.code, "error_message": err.message}


def _with_solution(err, _request_id):
    return {"error_code": err.code, "error_msg": err.message, "error_solution": err.solution or ""}


def _iam(err, _request_id):
    return {"error": {"code": err.status, "message": err.message,
                      "title": _IAM_TITLES.get(err.status, "Error")},
            "error_code": err.code, "error_msg": err.message}


def _apig(err, request_id):
    return {"error_code": err.code, "error_msg": err.message, "request_id": request_id}


def _obs(err, _request_id):  # OBS answers XML from its gateway; no handler raises through here
    raise ValueError("OBS errors are answered by the OBS gateway")


_READ_ONLY = ("ModelArts.0108", "You are not authorized to perform operation %(operation)s: "
              "user %(user)s may only read")

# {"error_code", "error_msg"}: datasets, models, services, notebooks, pools, ...
MODELARTS = Dialect("modelarts", _error_msg, bad_body="ModelArts.0101",
                    read_only_refused=_READ_ONLY)
# the old development environment: {"error_code", "error_message"}
DEVENVIRON = Dialect("devenviron", _error_message, bad_body="ModelArts.0101",
                     read_only_refused=_READ_ONLY)
# the old training families: {"is_success": false, "error_code", "error_message"}
IS_SUCCESS = Dialect("is_success", _is_success, bad_body="ModelArts.0101",
                     read_only_refused=_READ_ONLY)
# training v2 adds error_solution
TRAINING_V2 = Dialect("training_v2", _with_solution, bad_body="ModelArts.2788",
                      read_only_refused=_READ_ONLY)
# CTS's error table: 403 CTS.0013 "no permission, check roles"
_CTS_READ_ONLY = ("CTS.0013", "No permission, check roles: user %(user)s may only read and "
                  "cannot perform operation %(operation)s")
CTS = Dialect("cts", _error_msg, prefix="CTS", bad_body="CTS.0003", scope_refused=_CTS_SCOPE,
              read_only_refused=_CTS_READ_ONLY)
# IAM's writes (a token, temporary keys) are any user's for itself: rows marked any_role, and
# no refusal of its own
IAM = Dialect("iam", _iam, prefix="IAM", bad_body="IAM.0003", scope_refused=_CTS_SCOPE)
APIG = Dialect("apig", _apig, prefix="APIGW")
OBS = Dialect("obs", _obs, prefix="OBS")
