"""What the client raises: the server's problem document, an unreachable server, a wait that ran out."""

from imgopt.client.models import CsvProblem, Problem


class ImgoptError(Exception):
    """Anything the client raises on purpose."""


class ApiError(ImgoptError):
    """The API answered with an error; `problem` is its problem document as sent."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.code}: {problem.detail}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def detail(self) -> str:
        return self.problem.detail

    @property
    def errors(self) -> list[CsvProblem]:
        """For a refused CSV: each problem with its line and column (at most 100; see `problem.error_count`)."""
        return self.problem.errors


class ConnectionFailed(ImgoptError):
    """The API could not be reached, or stopped answering mid-way."""


class WaitTimeout(ImgoptError, TimeoutError):
    """The request had not finished by the deadline; `status` is the last one seen."""

    def __init__(self, message: str, status: object) -> None:
        super().__init__(message)
        self.status = status


class InvalidSignature(ImgoptError):
    """A webhook whose signature, timestamp or headers do not check out: do not trust its body."""
