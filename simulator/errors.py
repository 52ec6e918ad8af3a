"""API errors and the body each API family answers them with (its error dialect)."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal the API answers in its family's dialect. Handlers raise it; the app renders it.

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


def error_body(dialect: str, err: ApiError, request_id: str) -> dict:
    if dialect == "modelarts":
        return {"error_code": err.code, "error_msg": err.message}
    if dialect == "devenviron":
        return {"error_code": err.code, "error_message": err.message}
    if dialect == "is_success":
        return {"is_success": False, "error_code": err.code, "error_message": err.message}
    if dialect == "training_v2":
        return {"error_code": err.code, "error_msg": err.message,
                "error_solution": err.solution or ""}
    if dialect == "cts":
        return {"error_code": err.code, "error_msg": err.message}
    if dialect == "iam":
        return {"error": {"code": err.status, "message": err.message,
                          "title": _IAM_TITLES.get(err.status, "Error")},
                "error_code": err.code, "error_msg": err.message}
    if dialect == "apig":
        return {"error_code": err.code, "error_msg": err.message, "request_id": request_id}
    raise ValueError(f"unknown error dialect {dialect}")


_IAM_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               409: "Conflict"}

# API Gateway answers these before a request reaches any service
APIG_NOT_FOUND = ("APIGW.0101", "The API does not exist or has not been published in the "
                  "environment")
APIG_METHOD = ("APIGW.0101", "The API does not exist or has not been published in the "
               "environment")
APIG_AUTH = "APIGW.0301"
APIG_TOO_LARGE = ("APIGW.0201", "Request entity too large")
APIG_INTERNAL = ("APIGW.0103", "The backend service is unavailable")
