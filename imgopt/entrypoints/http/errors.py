"""One error shape for every failure: domain errors and Litestar's own mapped to problem details."""

import logging
from http import HTTPStatus

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.ports import UnsafeUrl
from imgopt.domain.errors import DomainError, IllegalTransition, InvalidOptions
from imgopt.domain.limits import RateLimited, TooManyWaitingImages
from imgopt.domain.product_csv import CsvRejected, CsvTooLarge
from imgopt.domain.tenancy import InvalidName, KeyNotFound, Unauthenticated
from imgopt.domain.webhooks import DeliveryNotFound, InvalidWebhook, WebhookNotFound
from imgopt.entrypoints.http.schemas import Problem

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    CsvRejected: 422,
    CsvTooLarge: 413,
    InvalidOptions: 422,
    InvalidWebhook: 422,
    UnsafeUrl: 422,
    RequestNotFound: 404,
    WebhookNotFound: 404,
    DeliveryNotFound: 404,
    KeyNotFound: 404,
    RequestNotFinished: 409,
    IllegalTransition: 409,
    Unauthenticated: 401,
    RateLimited: 429,
    TooManyWaitingImages: 429,
    InvalidName: 422,
}

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ApiError(HTTPException):
    """An error raised by the HTTP layer itself, with its code."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: object
) -> Response[Problem]:
    body = Problem(status=status, code=code, title=HTTPStatus(status).phrase, detail=detail, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_error(_: Request, exc: DomainError) -> Response[Problem]:
    status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), 422)
    if isinstance(exc, CsvRejected):
        errors = [msgspec.structs.asdict(_Line(e.line, e.column, e.message)) for e in exc.errors]
        return problem(status, exc.code, exc.message, errors=errors, error_count=exc.error_count)
    if isinstance(exc, Unauthenticated):
        return problem(status, exc.code, exc.message, headers={"WWW-Authenticate": 'Bearer realm="imgopt"'})
    if isinstance(exc, RateLimited):
        return problem(status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)})
    return problem(status, exc.code, exc.message)


def http_error(_: Request, exc: HTTPException) -> Response[Problem]:
    code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    if isinstance(exc, ValidationException):
        code = "invalid_request"
        messages = [f"{e.get('key') or e.get('source') or 'body'}: {e.get('message')}" for e in exc.extra or []]
        detail = "; ".join(messages) or detail
    if exc.status_code == 413:
        detail = "the upload is larger than the limit (IMGOPT_MAX_UPLOAD_BYTES)"
    return problem(exc.status_code, code, detail)


def unexpected_error(request: Request, exc: Exception) -> Response[Problem]:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


class _Line(msgspec.Struct):
    line: int
    column: str | None
    message: str


EXCEPTION_HANDLERS = {DomainError: domain_error, HTTPException: http_error, Exception: unexpected_error}
