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


def test_an_image_may_go_back_to_pending_only_from_processing():
    assert check_image_transition(ImageStatus.PROCESSING, ImageStatus.PENDING) is ImageStatus.PENDING
    for terminal in (ImageStatus.OPTIMIZED, ImageStatus.FAILED):
        with pytest.raises(IllegalTransition):
            check_image_transition(terminal, ImageStatus.PENDING)
    with pytest.raises(IllegalTransition):
        check_image_transition(ImageStatus.PENDING, ImageStatus.OPTIMIZED)


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
