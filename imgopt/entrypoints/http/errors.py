"""One error shape for every failure: domain errors and Litestar's own mapped to problem details."""

import logging
from collections.abc import Mapping
from http import HTTPStatus

from litestar import Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from multipart import ParserLimitReached

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.ports import Unavailable, UnsafeUrl
from imgopt.domain.errors import DomainError, IllegalTransition, InvalidOptions
from imgopt.domain.limits import RateLimited, TooManyWaitingImages
from imgopt.domain.product_csv import CsvRejected, CsvTooLarge
from imgopt.domain.tenancy import InvalidName, KeyNotFound, Unauthenticated
from imgopt.domain.webhooks import DeliveryNotFound, InvalidWebhook, WebhookNotFound
from imgopt.entrypoints.http.schemas import CsvProblem, Problem

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"
# A restart of PostgreSQL takes seconds; clients that wait this long before trying again rarely wait twice.
RETRY_AFTER_SECONDS = 5
# A route's `opt` names the setting behind its body limit, so that a 413 can say which limit applied.
BODY_LIMIT_SETTING = "body_limit_setting"

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

# The multipart parser's limits, in its own words, and what they mean to someone sending a form.
_FORM_LIMITS = {
    "Maximum segment count exceeded": "the form has more than {parts} fields; an upload needs 'file' and a few options",
    "Maximum segment header length exceeded": "a form field's header (its name or filename) is longer than 4 KiB",
    "Maximum segment header count exceeded": "a form field has more than 8 header lines",
}


class ApiError(HTTPException):
    """An error raised by the HTTP layer itself, with its code."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code


def problem(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: object
) -> Response[Problem]:
    body = Problem(status=status, code=code, title=HTTPStatus(status).phrase, detail=detail, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def unavailable(detail: str, code: str = "unavailable") -> Response[Problem]:
    """503 with Retry-After: the request was fine, a dependency is away for now; nothing was half-done."""
    return problem(503, code, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def domain_error(_: Request, exc: DomainError) -> Response[Problem]:
    status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), 422)
    if isinstance(exc, CsvRejected):
        errors = [CsvProblem(line=e.line, column=e.column, message=e.message) for e in exc.errors]
        return problem(status, exc.code, exc.message, errors=errors, error_count=exc.error_count)
    if isinstance(exc, Unauthenticated):
        return problem(status, exc.code, exc.message, headers={"WWW-Authenticate": 'Bearer realm="imgopt"'})
    if isinstance(exc, RateLimited):
        return problem(status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)})
    return problem(status, exc.code, exc.message)


def http_error(request: Request, exc: HTTPException) -> Response[Problem]:
    if isinstance(exc.__context__, ParserLimitReached):
        # Litestar answers 400 "Request Entity Too Large" and drops the reason; the parser's exception keeps it.
        reason = _FORM_LIMITS.get(str(exc.__context__), str(exc.__context__))
        return problem(413, "form_too_large", reason.format(parts=request.app.multipart_form_part_limit))
    code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    if isinstance(exc, ValidationException):
        code = "invalid_request"
        detail = "; ".join(_invalid_value(error) for error in exc.extra or []) or detail
    if isinstance(exc, MethodNotAllowedException) and "allow" in (exc.headers or {}):
        detail = f"{request.method} is not allowed on {request.url.path}; it takes {exc.headers['allow']}"
    return problem(exc.status_code, code, detail, headers=exc.headers)


def body_too_large(request: Request, _: RequestEntityTooLarge) -> Response[Problem]:
    limit = request.route_handler.resolve_request_max_body_size()
    setting = request.route_handler.opt.get(BODY_LIMIT_SETTING)
    where = f" ({setting})" if setting else "; only /upload takes larger ones"
    detail = f"the body is larger than {_size(limit)}, the most {request.url.path} accepts{where}"
    return problem(413, "payload_too_large", detail)


def unavailable_error(request: Request, exc: Unavailable) -> Response[Problem]:
    # Debug only: the access log has each 503, and an outage would otherwise flood the log.
    log.debug("%s %s answered 503: %s", request.method, request.url.path, exc, extra=_context(request))
    return unavailable(f"{exc}; nothing was changed, try again in a few seconds")


def unexpected_error(request: Request, exc: Exception) -> Response[Problem]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, extra=_context(request))
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def _context(request: Request) -> dict[str, str]:
    """The ids a log line about this request carries: the upload's, when the path names one."""
    path_params = request.scope.get("path_params") or {}
    return {"request_id": str(path_params["request_id"])} if "request_id" in path_params else {}


def _invalid_value(error: dict) -> str:
    key = error.get("key") or error.get("source") or "body"
    message = error.get("message") or "is invalid"
    if key == "data":
        key = "body"
    if message == f"'{error.get('key')}'":  # the value was absent: Litestar reports the KeyError's text
        message = "is missing"
    return f"{key}: {message}"


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit:,} bytes"


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    RequestEntityTooLarge: body_too_large,
    HTTPException: http_error,
    Unavailable: unavailable_error,
    Exception: unexpected_error,
}
