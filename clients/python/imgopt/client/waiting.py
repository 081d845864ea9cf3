"""Waiting for a request to finish: polling until a deadline, riding out passing failures."""

import time
from collections.abc import Callable

from imgopt.client.errors import ApiError, ConnectionFailed, WaitTimeout
from imgopt.client.status import Status

# Answers that say "try again soon": a restarting server, or a proxy in front of it.
_PASSING_STATUSES = frozenset({502, 503, 504})
_PASSING_FAILURES_IN_A_ROW = 5


def poll_until_finished(
    read: Callable[[], Status],
    timeout: float | None,
    poll: float,
    on_progress: Callable[[Status], object] | None = None,
) -> Status:
    """Call `read` every `poll` seconds until the status it returns is finished; `WaitTimeout` at the deadline."""
    deadline = None if timeout is None else time.monotonic() + timeout
    failures, status = 0, None
    while True:
        try:
            status, failures = read(), 0
        except (ApiError, ConnectionFailed) as exc:
            failures += 1
            passing = isinstance(exc, ConnectionFailed) or exc.status in _PASSING_STATUSES
            if not passing or failures >= _PASSING_FAILURES_IN_A_ROW:
                raise
        else:
            if on_progress:
                on_progress(status)
            if status.finished:
                return status
        if deadline is not None and time.monotonic() + poll > deadline:
            where = f"request {status.request_id}" if status else "the request"
            raise WaitTimeout(f"{where} had not finished after {timeout:g} s", status)
        time.sleep(poll)
