"""Waiting on a request: passing failures are ridden out, lasting ones raised, the deadline kept."""

import uuid

import msgspec
import pytest

from imgopt.client import ApiError, ConnectionFailed, Problem, Status, WaitTimeout
from imgopt.client.waiting import poll_until_finished

REQUEST_ID = uuid.UUID(int=7)


def status(state: str) -> Status:
    counts = {"total": 1, "pending": 0, "processing": 0, "optimized": 1, "failed": 0}
    document = {
        "requestId": str(REQUEST_ID),
        "status": state,
        "createdAt": "2026-11-24T10:00:00Z",
        "options": {"quality": 50},
        "products": {"total": 1, "finished": 1, "withErrors": 0},
        "images": counts,
        "bytesIn": 10,
        "bytesOut": 5,
    }
    return msgspec.convert(document, Status)


def scripted(*answers):
    """A status reader that gives each answer in turn (raising the exceptions among them)."""
    remaining = list(answers)

    def read() -> Status:
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return read


def unavailable(code: int = 503) -> ApiError:
    return ApiError(Problem(status=code, code="not_ready", detail="the database is restarting"))


def test_a_restarting_api_is_waited_out_and_every_status_seen_is_reported():
    seen = []
    read = scripted(status("processing"), unavailable(), ConnectionFailed("refused"), status("completed"))

    finished = poll_until_finished(read, timeout=None, poll=0, on_progress=seen.append)

    assert finished.status == "completed"
    assert [s.status for s in seen] == ["processing", "completed"]


def test_an_error_that_waiting_cannot_mend_is_raised_at_once():
    read = scripted(status("processing"), unavailable(404), status("completed"))

    with pytest.raises(ApiError) as raised:
        poll_until_finished(read, timeout=None, poll=0)

    assert raised.value.status == 404


def test_five_passing_failures_in_a_row_are_one_too_many():
    read = scripted(*(ConnectionFailed(f"refused {n}") for n in range(5)), status("completed"))

    with pytest.raises(ConnectionFailed, match="refused 4"):
        poll_until_finished(read, timeout=None, poll=0)


def test_the_deadline_raises_with_the_last_status_seen():
    read = scripted(status("pending"), status("processing"))

    with pytest.raises(WaitTimeout) as waited:
        poll_until_finished(read, timeout=0, poll=0.01)

    assert waited.value.status.status == "pending" and str(REQUEST_ID) in str(waited.value)
