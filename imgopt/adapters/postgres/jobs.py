"""The work queue: optimizer jobs claimed with FOR UPDATE SKIP LOCKED under a lease."""

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Row, text

from imgopt.adapters.postgres.requests import options_from
from imgopt.application.ports import ImageJobRepository
from imgopt.domain.lifecycle import ImageStatus, RequestStatus, check_request_transition
from imgopt.domain.model import ImageJob, ImageOutcome

# Products turned into jobs per expansion, at least; more jobs than one claim keeps other workers fed.
_MIN_SLICE = 32

_RETURNING = """RETURNING j.id, j.request_id, j.line_no, j.position, j.input_url, j.attempts,
    r.quality, r.max_width, r.max_height, r.output_format"""

_RECLAIM_EXPIRED = text(
    f"""
    WITH picked AS (
        SELECT id FROM images.optimizerjobs
        WHERE status = 'processing' AND lease_until < :now
        ORDER BY lease_until LIMIT :limit FOR UPDATE SKIP LOCKED)
    UPDATE images.optimizerjobs j
    SET claimed_by = :worker, lease_until = :lease_until, attempts = j.attempts + 1, updated_at = :now
    FROM picked, images.requests r WHERE j.id = picked.id AND r.id = j.request_id
    {_RETURNING}
    """
)

_CLAIM_DUE = text(
    f"""
    WITH picked AS (
        SELECT id FROM images.optimizerjobs
        WHERE status = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
    UPDATE images.optimizerjobs j
    SET status = 'processing', claimed_by = :worker, lease_until = :lease_until,
        attempts = j.attempts + 1, updated_at = :now
    FROM picked, images.requests r WHERE j.id = picked.id AND r.id = j.request_id
    {_RETURNING}
    """
)

_NEXT_TO_EXPAND = text(
    """
    SELECT id, status, expanded_line FROM images.requests
    WHERE expanded_line < last_line ORDER BY created_at LIMIT 1 FOR UPDATE
    """
)

_EXPAND = text(
    """
    WITH slice AS (
        SELECT line_no, input_urls FROM images.productimages
        WHERE request_id = :id AND line_no > :after ORDER BY line_no LIMIT :products),
    created AS (
        INSERT INTO images.optimizerjobs (request_id, line_no, position, input_url, next_attempt_at, updated_at)
        SELECT :id, s.line_no, u.position - 1, u.url, :now, :now
        FROM slice s CROSS JOIN LATERAL unnest(s.input_urls) WITH ORDINALITY AS u(url, position)
        RETURNING 1)
    SELECT (SELECT max(line_no) FROM slice) AS through, (SELECT count(*) FROM created) AS jobs
    """
)

_MARK_EXPANDED = text(
    """
    UPDATE images.requests
    SET expanded_line = coalesce(:through, last_line), status = :status, started_at = coalesce(started_at, :now)
    WHERE id = :id
    """
)

_RECORD = text(
    """
    UPDATE images.optimizerjobs j
    SET status = v.status, failure_reason = v.reason,
        next_attempt_at = coalesce(v.next_attempt_at, j.next_attempt_at),
        lease_until = NULL, output_key = v.key, output_url = v.url,
        media_type = v.media_type, bytes_in = v.bytes_in, bytes_out = v.bytes_out,
        width = v.width, height = v.height, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:reasons AS text[]),
                CAST(:next_attempts AS timestamptz[]), CAST(:keys AS text[]), CAST(:urls AS text[]),
                CAST(:media_types AS text[]), CAST(:bytes_in AS bigint[]), CAST(:bytes_out AS bigint[]),
                CAST(:widths AS integer[]), CAST(:heights AS integer[]))
        AS v(id, status, reason, next_attempt_at, key, url, media_type, bytes_in, bytes_out, width, height)
    WHERE j.id = v.id AND j.status = 'processing' AND j.claimed_by = :worker
    RETURNING j.id
    """
)

# Taking the request rows in id order keeps two recorders from deadlocking on them.
_LOCK_REQUESTS = text("SELECT id FROM images.requests WHERE id = ANY(:ids) ORDER BY id FOR UPDATE")

# Runs after the request rows are locked, so it sees every other recorder's committed jobs:
# the product is counted once, by the transaction that finishes its last image.
_FINISHED_PRODUCTS = text(
    """
    SELECT p.request_id, count(*) AS products, count(*) FILTER (WHERE failed > 0) AS with_errors
    FROM (
        SELECT p.request_id, p.line_no, cardinality(p.input_urls) AS images,
            count(*) FILTER (WHERE j.status IN ('optimized', 'failed')) AS finished,
            count(*) FILTER (WHERE j.status = 'failed') AS failed
        FROM images.productimages p
        JOIN images.optimizerjobs j ON j.request_id = p.request_id AND j.line_no = p.line_no
        WHERE (p.request_id, p.line_no) IN (
            SELECT * FROM unnest(CAST(:request_ids AS uuid[]), CAST(:lines AS integer[])))
        GROUP BY p.request_id, p.line_no, p.input_urls
    ) p
    WHERE finished = images
    GROUP BY p.request_id
    """
)

_COUNT = text(
    """
    UPDATE images.requests r
    SET optimized_count = optimized_count + v.optimized, failed_count = failed_count + v.failed,
        bytes_in = r.bytes_in + v.bytes_in, bytes_out = r.bytes_out + v.bytes_out,
        products_finished = products_finished + v.products, products_with_errors = products_with_errors + v.with_errors
    FROM unnest(CAST(:ids AS uuid[]), CAST(:optimized AS integer[]), CAST(:failed AS integer[]),
                CAST(:bytes_in AS bigint[]), CAST(:bytes_out AS bigint[]), CAST(:products AS integer[]),
                CAST(:with_errors AS integer[])) AS v(id, optimized, failed, bytes_in, bytes_out, products, with_errors)
    WHERE r.id = v.id
    RETURNING r.id, r.optimized_count + r.failed_count = r.image_count AS finished
    """
)

_RELEASE = text(
    """
    UPDATE images.optimizerjobs j
    SET status = 'pending', claimed_by = NULL, lease_until = NULL, attempts = v.attempts, updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS smallint[])) AS v(id, attempts)
    WHERE j.id = v.id AND j.status = 'processing' AND j.claimed_by = :worker
    """
)


class PostgresImageJobRepository(ImageJobRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime, reclaim_expired: bool = True
    ) -> list[ImageJob]:
        params = {"worker": worker_id, "now": now, "lease_until": lease_until}
        jobs = self._claim(_RECLAIM_EXPIRED, limit, params) if reclaim_expired else []
        jobs += self._claim(_CLAIM_DUE, limit - len(jobs), params)
        while len(jobs) < limit and self._expand(now, max(limit - len(jobs), _MIN_SLICE)):
            jobs += self._claim(_CLAIM_DUE, limit - len(jobs), params)
        return jobs

    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[UUID]:
        if not outcomes:
            return []
        applied_ids = set(self._connection.execute(_RECORD, _record_params(worker_id, outcomes, now)).scalars())
        applied = [outcome for outcome in outcomes if outcome.job_id in applied_ids]
        if not applied:
            return []
        request_ids = sorted({outcome.request_id for outcome in applied})
        self._connection.execute(_LOCK_REQUESTS, {"ids": request_ids})
        terminal = [outcome for outcome in applied if outcome.status.is_terminal]
        finished_products = {
            row.request_id: row
            for row in self._connection.execute(
                _FINISHED_PRODUCTS,
                {"request_ids": [o.request_id for o in terminal], "lines": [o.line for o in terminal]},
            )
        }
        tally = defaultdict(lambda: [0, 0, 0, 0])
        for outcome in terminal:
            counts = tally[outcome.request_id]
            if outcome.status is ImageStatus.OPTIMIZED:
                counts[0] += 1
                counts[2] += outcome.output.bytes_in
                counts[3] += outcome.output.bytes_out
            else:
                counts[1] += 1
        rows = self._connection.execute(
            _COUNT,
            {
                "ids": request_ids,
                "optimized": [tally[rid][0] for rid in request_ids],
                "failed": [tally[rid][1] for rid in request_ids],
                "bytes_in": [tally[rid][2] for rid in request_ids],
                "bytes_out": [tally[rid][3] for rid in request_ids],
                "products": [_products(finished_products.get(rid), "products") for rid in request_ids],
                "with_errors": [_products(finished_products.get(rid), "with_errors") for rid in request_ids],
            },
        )
        return sorted(row.id for row in rows if row.finished)

    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        if jobs:
            self._connection.execute(
                _RELEASE,
                {"worker": worker_id, "ids": [job.id for job in jobs], "attempts": [job.attempts for job in jobs]},
            )

    def _claim(self, statement, limit: int, params: dict) -> list[ImageJob]:
        if limit <= 0:
            return []
        rows = self._connection.execute(statement, {**params, "limit": limit})
        return sorted((_job(row) for row in rows), key=lambda job: job.id)

    def _expand(self, now: datetime, products: int) -> bool:
        """Create the jobs of the next slice of products of the oldest request that has any left."""
        request = self._connection.execute(_NEXT_TO_EXPAND).first()
        if request is None:
            return False
        through = (
            self._connection.execute(
                _EXPAND, {"id": request.id, "after": request.expanded_line, "products": products, "now": now}
            )
            .first()
            .through
        )
        status = RequestStatus(request.status)
        if status is RequestStatus.PENDING:
            status = check_request_transition(status, RequestStatus.PROCESSING)
        self._connection.execute(
            _MARK_EXPANDED, {"id": request.id, "through": through, "status": status.value, "now": now}
        )
        return True


def _job(row: Row) -> ImageJob:
    return ImageJob(
        id=row.id,
        request_id=row.request_id,
        line=row.line_no,
        position=row.position,
        url=row.input_url,
        attempts=row.attempts,
        options=options_from(row),
    )


def _products(row: Row | None, field: str) -> int:
    return getattr(row, field) if row is not None else 0


def _record_params(worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> dict:
    outputs = [outcome.output for outcome in outcomes]
    return {
        "worker": worker_id,
        "now": now,
        "ids": [o.job_id for o in outcomes],
        "statuses": [o.status.value for o in outcomes],
        "reasons": [o.reason for o in outcomes],
        "next_attempts": [o.next_attempt_at for o in outcomes],
        "keys": [out.key if out else None for out in outputs],
        "urls": [out.url if out else None for out in outputs],
        "media_types": [out.media_type if out else None for out in outputs],
        "bytes_in": [out.bytes_in if out else None for out in outputs],
        "bytes_out": [out.bytes_out if out else None for out in outputs],
        "widths": [out.width if out else None for out in outputs],
        "heights": [out.height if out else None for out in outputs],
    }
