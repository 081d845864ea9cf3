"""Ids: UUIDv7, made in time order, unique."""

import time
import uuid

from imgopt.adapters.system import RandomIds, time_ordered_uuid


def test_the_rfc_9562_example_is_reproduced_from_its_time_and_random_bits():
    # RFC 9562, appendix A.6: 2022-02-22 19:22:22 UTC, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
    made = time_ordered_uuid(0x017F22E279B0, bytes.fromhex("0CC318C4DC0C0C07398F"))

    assert made == uuid.UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")


def test_an_id_is_version_7_of_the_rfc_variant_and_carries_the_millisecond_it_was_made():
    before = time.time_ns() // 1_000_000
    made = RandomIds().uuid()
    after = time.time_ns() // 1_000_000

    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_ids_made_in_later_milliseconds_sort_after_earlier_ones_and_none_repeats():
    ids = RandomIds()
    earlier = [ids.uuid() for _ in range(5_000)]
    deadline = time.monotonic() + 1
    while time.time_ns() // 1_000_000 <= earlier[-1].int >> 80 and time.monotonic() < deadline:
        time.sleep(0.001)
    later = ids.uuid()

    assert len(set(earlier)) == len(earlier)
    assert all(later > made for made in earlier)
