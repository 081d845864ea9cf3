from datetime import UTC, datetime, timedelta
from uuid import UUID

from imgopt.domain.turns import Contender, Turns

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def contender(n: int, done: int = 0, in_flight: int = 0) -> Contender:
    return Contender(UUID(int=n), T0 + timedelta(seconds=n), done, in_flight)


def allotted(contenders: list[Contender], limit: int, turns: Turns = Turns()) -> list[tuple[int, int]]:
    return [(c.id.int, allowance) for c, allowance in turns.allot(contenders, limit)]


def test_a_new_request_goes_first_with_what_is_left_of_its_head_start():
    big, small = contender(1, done=5000, in_flight=8), contender(2, done=3, in_flight=1)

    turns = allotted([big, small], limit=4)

    assert turns == [(2, 60), (1, 2)]


def test_past_their_head_start_the_request_with_fewer_in_flight_goes_first_and_may_catch_up():
    busy, idle = contender(1, done=500, in_flight=10), contender(2, done=500, in_flight=2)

    turns = allotted([busy, idle], limit=4)

    assert turns == [(2, 6), (1, 2)]


def test_equal_requests_share_a_claim_and_ties_go_to_the_oldest():
    requests = [contender(n, done=100, in_flight=4) for n in (3, 1, 2)]

    turns = allotted(requests, limit=6)

    assert turns == [(1, 2), (2, 2), (3, 2)]


def test_requests_within_their_head_start_go_by_what_they_have_had():
    turns = allotted([contender(1, in_flight=8), contender(2, done=2), contender(3)], limit=4)

    assert [request for request, _ in turns] == [3, 2, 1]


def test_nothing_waiting_gets_no_turns():
    assert Turns().allot([], limit=8) == []


def test_the_tenant_with_fewer_images_in_flight_goes_first_whatever_its_requests_have_had():
    busy_tenant_new_request = Contender(UUID(int=1), T0, done=0, in_flight=0, tenant_in_flight=12)
    quiet_tenant_old_request = Contender(UUID(int=2), T0, done=900, in_flight=2, tenant_in_flight=2)

    turns = allotted([busy_tenant_new_request, quiet_tenant_old_request], limit=2)

    assert [request for request, _ in turns] == [2, 1]
