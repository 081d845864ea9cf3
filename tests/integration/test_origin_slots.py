"""Origin slots on a real PostgreSQL: never more holders than slots, however many race; a rest honoured."""

import threading
import time

import pytest
from sqlalchemy import text

from imgopt.adapters.postgres.origins import PostgresOriginSlots
from imgopt.application.ports import OriginResting
from imgopt.domain.origins import OriginLimits
from tests.support import wait_for


def test_sixteen_threads_of_four_holders_racing_for_two_slots_never_hold_more_than_two(clean_database):
    holders = [PostgresOriginSlots(clean_database, limits=OriginLimits(2), lease_seconds=60) for _ in range(4)]
    lock, holding, most, taken = threading.Lock(), [0], [0], [0]

    def race(slots: PostgresOriginSlots) -> None:
        for _ in range(25):
            slot = slots.take("shop.example")
            if slot is None:
                continue
            with lock:
                holding[0] += 1
                most[0] = max(most[0], holding[0])
                taken[0] += 1
            time.sleep(0.002)  # hold it a moment, so that holders overlap
            with lock:
                holding[0] -= 1
            slots.give_back(slot)

    threads = [threading.Thread(target=race, args=(holders[n % 4],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert most[0] <= 2 and taken[0] > 0
    with clean_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM images.origin_leases")).scalar() == 0


def test_a_slot_whose_holder_died_is_taken_again_once_its_lease_ends(clean_database):
    dead, alive = (
        PostgresOriginSlots(clean_database, OriginLimits(1), 60),
        PostgresOriginSlots(clean_database, OriginLimits(1), 60),
    )
    assert dead.take("shop.example") is not None
    assert alive.take("shop.example") is None
    with clean_database.begin() as connection:
        connection.execute(text("UPDATE images.origin_leases SET lease_until = now() - interval '1 second'"))
    assert alive.take("shop.example") is not None
    assert alive.take("other.example") is not None  # each origin has slots of its own


def test_a_slot_held_longer_than_its_lease_is_renewed_and_a_holder_that_stops_loses_it_a_lease_later(
    clean_database,
):
    holder, other = (PostgresOriginSlots(clean_database, OriginLimits(1), lease_seconds=1.5) for _ in range(2))
    try:
        assert holder.take("shop.example") is not None
        with clean_database.connect() as connection:
            first_end = connection.execute(text("SELECT lease_until FROM images.origin_leases")).scalar()

        def a_second_past_the_first_end() -> bool:
            with clean_database.connect() as connection:
                return connection.execute(
                    text("SELECT now() > :end + interval '1 second'"), {"end": first_end}
                ).scalar()

        wait_for(a_second_past_the_first_end, timeout=10)
        assert other.take("shop.example") is None  # a download longer than a lease keeps its slot

        holder.close()  # as a killed worker: no renewal from now on
        assert other.take("shop.example") is None
        wait_for(lambda: other.take("shop.example"), timeout=5, message="the slot back a lease after its holder went")
    finally:
        holder.close()
        other.close()


def test_an_origin_told_to_rest_gives_no_slot_until_then_and_a_shorter_rest_does_not_cut_it(clean_database):
    slots = PostgresOriginSlots(clean_database, OriginLimits(4), 60)
    slots.rest("shop.example", 30)
    slots.rest("shop.example", 1)
    with pytest.raises(OriginResting) as resting:
        slots.take("shop.example")
    assert 28 < resting.value.seconds <= 30
    assert slots.take("other.example") is not None


def test_a_rest_forgets_the_rests_that_ended_an_hour_ago_or_more(clean_database):
    with clean_database.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO images.origin_rests (origin, not_before) VALUES"
                " ('old.example', now() - interval '2 hours'), ('recent.example', now() - interval '5 minutes')"
            )
        )
    PostgresOriginSlots(clean_database, limits=OriginLimits(2), lease_seconds=60).rest("shop.example", 5)

    with clean_database.connect() as connection:
        origins = set(connection.execute(text("SELECT origin FROM images.origin_rests")).scalars())
    assert origins == {"recent.example", "shop.example"}


def test_an_origin_given_its_own_cap_gets_that_many_slots_and_the_others_the_default(clean_database):
    slots = PostgresOriginSlots(clean_database, OriginLimits.parse(1, "cdn.example=3"), 60)

    assert len([slot for _ in range(5) if (slot := slots.take("cdn.example")) is not None]) == 3
    assert len([slot for _ in range(5) if (slot := slots.take("shop.example")) is not None]) == 1
