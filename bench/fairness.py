"""Fair turns: a 10-image upload while a 20,000-image one is being processed, against the same upload alone."""

import time

from sqlalchemy import create_engine

from bench import images
from bench.database import empty_tables, scratch_database
from bench.endpoints import Origin, Receiver
from bench.pipeline import Trips, fresh_data_dir, serve
from bench.result import Goal, Measure, Result, Verdict
from bench.stats import column, median, paired_ratios
from imgopt.adapters.postgres.engine import sqlalchemy_url
from imgopt.domain.turns import Turns

SMALL = 10
# The small upload comes once this many of the big one's images are done: past its head start
# (Turns.head_start), every worker thread and claimed slot busy with it.
BIG_UNDER_WAY = 2 * Turns().head_start


def fairness(quick: bool) -> Result:
    big, under_way, rounds = (100, 4, 1) if quick else (20_000, BIG_UNDER_WAY, 3)
    variants = images.photo_variants(2 * SMALL)
    small_names, big_names = [path.name for path in variants[:SMALL]], [path.name for path in variants[SMALL:]]
    result = Result(
        "fairness",
        f"a {SMALL}-image upload while a {big:,}-image upload is being processed, vs the same upload alone",
        method=(
            f"`imgopt serve` as in `pipeline` (the real optimizer, {images.SOURCE}-sized photos from an origin on "
            f"loopback, the signed webhook). Alone: a {SMALL}-image upload (5 products x 2 URLs) from POST /upload "
            f"until its webhook arrives. Behind a big one: a {big:,}-image upload ({big // 2:,} products, distinct "
            f"URLs over {len(big_names)} photos) is posted first and followed until {under_way} of its images "
            f"are done (past its head start: the worker is busy with it alone), then the same {SMALL}-image upload "
            "(new URLs) is timed the same way while the big one keeps going. Each is measured on a server started "
            f"for it on emptied tables, after a 2-image warm-up; {rounds} rounds, the order of the two rotated; "
            "ratio paired per round. Oldest first, as the queue was, the small upload would have waited for every "
            "image of the big one."
        ),
    )
    samples: dict[str, list[dict[str, float]]] = {"alone": [], "behind": []}
    with (
        scratch_database("fairness") as database_url,
        Origin({path.name: path.read_bytes() for path in variants}) as origin,
        Receiver() as receiver,
    ):
        engine = create_engine(sqlalchemy_url(database_url))
        for index in range(rounds):
            for subject in ("alone", "behind") if index % 2 == 0 else ("behind", "alone"):
                with serve(database_url, f"fairness-{subject}") as server:
                    trips = Trips(server, origin, receiver, database_url, fresh_data_dir("fairness"))
                    trips.run(f"warm-{index}-{subject}", small_names[:2], timeout=120)
                    label = f"{index}-{subject}"
                    samples[subject].append(_small_upload(trips, label, small_names, big_names, big, under_way))
                empty_tables(engine)
        engine.dispose()
    alone, behind = column(samples["alone"], "seconds"), column(samples["behind"], "seconds")
    result.measures += [
        Measure(f"{SMALL}-image upload alone", "seconds", median(alone), "s", alone),
        Measure(f"{SMALL}-image upload behind {big:,}", "seconds", median(behind), "s", behind),
        Measure(
            f"  images of the {big:,} done meanwhile (until the small one's delivery was logged)",
            "images",
            median(column(samples["behind"], "big_done_meanwhile")),
        ),
    ]
    ratios = paired_ratios(behind, alone)
    result.verdicts.append(
        Verdict(
            f"{SMALL} images behind {big:,} / alone, upload to webhook",
            median(ratios),
            goal=Goal("<=", 2.0),
            samples=ratios,
        )
    )
    result.details = {"small": SMALL, "big": big, "rounds": rounds, "samples": samples}
    return result


def _small_upload(
    trips: Trips, label: str, small: list[str], big: list[str], big_count: int, under_way: int
) -> dict[str, float]:
    """Seconds from upload to webhook of the small upload; with `label` ending in "behind", after the big one."""
    if not label.endswith("behind"):
        return {"seconds": trips.run(f"small-{label}", small, timeout=120).seconds}
    names = [f"{number}/{big[number % len(big)]}" for number in range(big_count)]
    receipt = trips.upload(f"big-{label}", names, webhook=False)
    done = _wait_for_progress(trips, receipt["requestId"], under_way)
    trip = trips.run(f"small-{label}", small, timeout=300)
    meanwhile = _wait_for_progress(trips, receipt["requestId"], 0) - done
    return {"seconds": trip.seconds, "big_done_meanwhile": meanwhile}


def _wait_for_progress(trips: Trips, request_id: str, images: int) -> int:
    deadline = time.monotonic() + 300
    while (done := trips.status(request_id)["images"]["optimized"]) < images:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the big upload had {done} of {images} images done after 300 s")
        time.sleep(0.05)
    return done
