"""Errors the domain raises; each carries a stable machine-readable code."""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    code = "illegal_transition"


class InvalidOptions(DomainError):
    code = "invalid_options"
