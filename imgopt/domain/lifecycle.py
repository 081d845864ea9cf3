"""The request and image lifecycles as explicit state machines."""

from enum import StrEnum

from imgopt.domain.errors import IllegalTransition


class RequestStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_REQUEST


class ImageStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    OPTIMIZED = "optimized"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (ImageStatus.OPTIMIZED, ImageStatus.FAILED, ImageStatus.CANCELLED)


_OUTCOMES = frozenset({RequestStatus.COMPLETED, RequestStatus.COMPLETED_WITH_ERRORS, RequestStatus.FAILED})
_TERMINAL_REQUEST = _OUTCOMES | {RequestStatus.CANCELLED}

# A request with failed images reopens (processing) when they are retried; a cancelled one stays cancelled.
REQUEST_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset({RequestStatus.PROCESSING, RequestStatus.CANCELLED}),
    RequestStatus.PROCESSING: _TERMINAL_REQUEST,
    RequestStatus.COMPLETED: frozenset(),
    RequestStatus.COMPLETED_WITH_ERRORS: frozenset({RequestStatus.PROCESSING}),
    RequestStatus.FAILED: frozenset({RequestStatus.PROCESSING}),
    RequestStatus.CANCELLED: frozenset(),
}

# processing -> pending is a retry: a transient failure, a released or an expired lease.
# failed -> pending is a retry the caller asked for; pending -> cancelled, a cancelled request.
IMAGE_TRANSITIONS: dict[ImageStatus, frozenset[ImageStatus]] = {
    ImageStatus.PENDING: frozenset({ImageStatus.PROCESSING, ImageStatus.CANCELLED}),
    ImageStatus.PROCESSING: frozenset({ImageStatus.PENDING, ImageStatus.OPTIMIZED, ImageStatus.FAILED}),
    ImageStatus.OPTIMIZED: frozenset(),
    ImageStatus.FAILED: frozenset({ImageStatus.PENDING}),
    ImageStatus.CANCELLED: frozenset(),
}


def check_request_transition(current: RequestStatus, new: RequestStatus) -> RequestStatus:
    if new not in REQUEST_TRANSITIONS[current]:
        raise IllegalTransition(f"a request cannot go from {current} to {new}")
    return new


def check_image_transition(current: ImageStatus, new: ImageStatus) -> ImageStatus:
    if new not in IMAGE_TRANSITIONS[current]:
        raise IllegalTransition(f"an image cannot go from {current} to {new}")
    return new


def outcome_status(total: int, optimized: int, failed: int) -> RequestStatus:
    """The status of a group of images (a request or a product) once none is left to do."""
    if optimized + failed < total:
        raise IllegalTransition(f"{total - optimized - failed} of {total} images are not finished")
    if total and failed == total:
        return RequestStatus.FAILED
    if failed:
        return RequestStatus.COMPLETED_WITH_ERRORS
    return RequestStatus.COMPLETED
