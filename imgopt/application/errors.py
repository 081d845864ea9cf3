"""Errors the use cases raise about the state of the system rather than about input."""

from imgopt.domain.errors import DomainError


class RequestNotFound(DomainError):
    code = "request_not_found"


class RequestNotFinished(DomainError):
    code = "request_not_finished"
