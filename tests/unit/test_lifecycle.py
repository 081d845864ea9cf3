import pytest

from imgopt.domain.errors import IllegalTransition
from imgopt.domain.lifecycle import (
    ImageStatus,
    RequestStatus,
    check_image_transition,
    check_request_transition,
    outcome_status,
)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (RequestStatus.PENDING, RequestStatus.PROCESSING),
        (RequestStatus.PROCESSING, RequestStatus.COMPLETED),
        (RequestStatus.PROCESSING, RequestStatus.COMPLETED_WITH_ERRORS),
        (RequestStatus.PROCESSING, RequestStatus.FAILED),
    ],
)
def test_a_request_moves_forward(current, new):
    assert check_request_transition(current, new) is new


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (RequestStatus.PENDING, RequestStatus.COMPLETED),
        (RequestStatus.COMPLETED, RequestStatus.PROCESSING),
        (RequestStatus.FAILED, RequestStatus.COMPLETED),
        (RequestStatus.PROCESSING, RequestStatus.PENDING),
    ],
)
def test_a_request_never_moves_backward_or_skips_processing(current, new):
    with pytest.raises(IllegalTransition):
        check_request_transition(current, new)


def test_an_image_goes_back_to_pending_from_processing_or_when_a_failed_one_is_retried():
    assert check_image_transition(ImageStatus.PROCESSING, ImageStatus.PENDING) is ImageStatus.PENDING
    assert check_image_transition(ImageStatus.FAILED, ImageStatus.PENDING) is ImageStatus.PENDING
    for terminal in (ImageStatus.OPTIMIZED, ImageStatus.CANCELLED):
        with pytest.raises(IllegalTransition):
            check_image_transition(terminal, ImageStatus.PENDING)
    with pytest.raises(IllegalTransition):
        check_image_transition(ImageStatus.PENDING, ImageStatus.OPTIMIZED)


def test_only_a_waiting_image_is_cancelled():
    assert check_image_transition(ImageStatus.PENDING, ImageStatus.CANCELLED) is ImageStatus.CANCELLED

    for other in (ImageStatus.PROCESSING, ImageStatus.OPTIMIZED, ImageStatus.FAILED):
        with pytest.raises(IllegalTransition):
            check_image_transition(other, ImageStatus.CANCELLED)


@pytest.mark.parametrize("current", [RequestStatus.PENDING, RequestStatus.PROCESSING])
def test_an_unfinished_request_may_be_cancelled(current):
    assert check_request_transition(current, RequestStatus.CANCELLED) is RequestStatus.CANCELLED


@pytest.mark.parametrize(
    ("current", "may_reopen"),
    [
        (RequestStatus.COMPLETED_WITH_ERRORS, True),
        (RequestStatus.FAILED, True),
        (RequestStatus.COMPLETED, False),
        (RequestStatus.CANCELLED, False),
    ],
)
def test_only_a_request_with_failed_images_reopens(current, may_reopen):
    if may_reopen:
        assert check_request_transition(current, RequestStatus.PROCESSING) is RequestStatus.PROCESSING
    else:
        with pytest.raises(IllegalTransition):
            check_request_transition(current, RequestStatus.PROCESSING)


@pytest.mark.parametrize(
    ("total", "optimized", "failed", "expected"),
    [
        (3, 3, 0, RequestStatus.COMPLETED),
        (3, 2, 1, RequestStatus.COMPLETED_WITH_ERRORS),
        (3, 0, 3, RequestStatus.FAILED),
    ],
)
def test_the_outcome_follows_from_the_counts(total, optimized, failed, expected):
    assert outcome_status(total, optimized, failed) is expected


def test_there_is_no_outcome_while_images_remain():
    with pytest.raises(IllegalTransition, match="1 of 3 images are not finished"):
        outcome_status(3, 1, 1)
