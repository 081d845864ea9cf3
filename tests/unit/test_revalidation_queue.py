"""The worker's revalidations by origin: no more chains of an origin than its slots, and a chain's rest first again."""

import uuid

from imgopt.domain.image_jobs import ImageJob
from imgopt.domain.origins import OriginLimits
from imgopt.entrypoints.worker.revalidations import RevalidationQueue

TENANT = uuid.uuid4()


def jobs(host: str, count: int, first: int = 0) -> list[ImageJob]:
    request = uuid.UUID(int=1)
    return [
        ImageJob(n, request, n, 0, f"https://{host}/{n}.jpg", 1, tenant_id=TENANT) for n in range(first, first + count)
    ]


def test_each_origin_gets_chains_on_no_more_threads_than_its_slots_a_group_spread_over_them():
    queue = RevalidationQueue(group=8, limits=OriginLimits(2, (("big.example", 4),)))
    for job in jobs("a.example", 10) + jobs("big.example", 8, first=100):
        queue.add(job)

    chains = list(queue.chains())

    assert sorted((chain.origin, len(chain.jobs)) for chain in chains) == [
        ("a.example", 4), ("a.example", 4), *[("big.example", 2)] * 4
    ]  # fmt: skip
    assert len(queue) == 2 and list(queue.chains()) == []  # every slot taken
    assert queue.room().of(TENANT) == 0  # 18 held, running or waiting: more than two groups of 8


def test_the_images_a_chain_did_not_begin_go_first_in_line_again():
    queue = RevalidationQueue(group=4, limits=OriginLimits(1))
    for job in jobs("a.example", 6):
        queue.add(job)
    [chain] = queue.chains()

    queue.ended(chain, chain.jobs[2:])
    [again] = queue.chains()

    assert [job.id for job in chain.jobs] == [0, 1, 2, 3]
    assert [job.id for job in again.jobs] == [2, 3, 4, 5]
    assert len(queue) == 0 and not queue
    assert queue.room().of(TENANT) == 2 * 4 - 4  # the chain running holds 4
