"""The work queue: optimizer jobs claimed with FOR UPDATE SKIP LOCKED under a lease."""

from datetime import datetime

from sqlalchemy import Connection, Row, text

from imgopt.adapters.postgres.requests import options_from
from imgopt.application.ports import ImageJobRepository
from imgopt.domain.model import ImageJob, ImageOutcome
from imgopt.domain.request import UploadRequest

_RETURNING = """RETURNING j.id, j.request_id, j.line_no, j.position, j.input_url, j.attempts,
    r.quality, r.auto_quality, r.max_width, r.max_height, r.output_format"""

_RECLAIM_EXPIRED = text(
    """
    UPDATE images.optimizerjobs
    SET status = 'pending', claimed_by = NULL, lease_until = NULL, next_attempt_at = :now, updated_at = :now
    WHERE id IN (
        SELECT id FROM images.optimizerjobs
        WHERE status = 'processing' AND lease_until < :now FOR UPDATE SKIP LOCKED)
    """
)

# Turns: each open request offers its oldest due jobs that no other claim holds (at most `limit`,
# locked until this claim commits, so concurrent claims never offer the same); a tenant's requests take
# turns, then tenants do, counting the images each already has in flight, so every tenant converges
# on an equal share of the workers. Only open requests' jobs are claimed: a cancelled request's stay put.
_CLAIM_DUE = text(
    f"""
    WITH offered AS (
        SELECT r.tenant_id, d.id, d.next_attempt_at,
            row_number() OVER (PARTITION BY r.id ORDER BY d.next_attempt_at, d.id) AS request_turn
        FROM images.requests r CROSS JOIN LATERAL (
            SELECT id, next_attempt_at FROM images.optimizerjobs
            WHERE request_id = r.id AND status = 'pending' AND next_attempt_at <= :now
            ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED) d
        WHERE r.status IN ('pending', 'processing')),
    busy AS (
        SELECT r.tenant_id, count(*) AS in_flight
        FROM images.optimizerjobs j JOIN images.requests r ON r.id = j.request_id
        WHERE j.status = 'processing' GROUP BY r.tenant_id),
    turns AS (
        SELECT o.id, o.next_attempt_at, coalesce(b.in_flight, 0) + row_number() OVER (
            PARTITION BY o.tenant_id ORDER BY o.request_turn, o.next_attempt_at, o.id) AS tenant_turn
        FROM offered o LEFT JOIN busy b ON b.tenant_id = o.tenant_id),
    picked AS (SELECT id FROM turns ORDER BY tenant_turn, next_attempt_at, id LIMIT :limit)
    UPDATE images.optimizerjobs j
    SET status = 'processing', claimed_by = :worker, lease_until = :lease_until,
        attempts = j.attempts + 1, updated_at = :now
    FROM picked, images.requests r WHERE j.id = picked.id AND r.id = j.request_id
    {_RETURNING}
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
        FROM slice s CROSS JOIN LATERAL unnest(s.input_urls) WITH ORDINALITY AS u(url, position))
    SELECT max(line_no) AS through FROM slice
    """
)

_RECORD = text(
    """
    UPDATE images.optimizerjobs j
    SET status = v.status, failure_reason = v.reason,
        next_attempt_at = coalesce(v.next_attempt_at, j.next_attempt_at),
        lease_until = NULL, output_key = v.key, output_url = v.url,
        media_type = v.media_type, bytes_in = v.bytes_in, bytes_out = v.bytes_out,
        width = v.width, height = v.height, quality = v.quality, score = v.score, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:reasons AS text[]),
                CAST(:next_attempts AS timestamptz[]), CAST(:keys AS text[]), CAST(:urls AS text[]),
                CAST(:media_types AS text[]), CAST(:bytes_in AS bigint[]), CAST(:bytes_out AS bigint[]),
                CAST(:widths AS integer[]), CAST(:heights AS integer[]), CAST(:qualities AS smallint[]),
                CAST(:scores AS real[]))
        AS v(id, status, reason, next_attempt_at, key, url, media_type, bytes_in, bytes_out, width, height,
             quality, score)
    WHERE j.id = v.id AND j.status = 'processing' AND j.claimed_by = :worker
    RETURNING j.id
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


_IN_FLIGHT = text("SELECT count(*) FROM images.optimizerjobs WHERE request_id = :id AND status = 'processing'")

_CANCEL_PENDING = text(
    """
    UPDATE images.optimizerjobs SET status = 'cancelled', failure_reason = 'cancelled', updated_at = :now
    WHERE request_id = :id AND status = 'pending'
    """
)

_RETRY_FAILED = text(
    """
    UPDATE images.optimizerjobs
    SET status = 'pending', attempts = 0, failure_reason = NULL, next_attempt_at = :now, updated_at = :now
    WHERE request_id = :id AND status = 'failed'
    RETURNING line_no
    """
)

_OUTPUT_KEYS = text("SELECT output_key FROM images.optimizerjobs WHERE request_id = :id AND output_key IS NOT NULL")


class PostgresImageJobRepository(ImageJobRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_for(self, request: UploadRequest, products: int, now: datetime) -> int:
        params = {"id": request.id, "after": request.expanded_line, "products": products, "now": now}
        through = self._connection.execute(_EXPAND, params).scalar()
        return request.last_line if through is None else through

    def claim(self, worker_id: str, limit: int, now: datetime, lease_until: datetime) -> list[ImageJob]:
        if limit <= 0:
            return []
        params = {"worker": worker_id, "now": now, "lease_until": lease_until, "limit": limit}
        return sorted((_job(row) for row in self._connection.execute(_CLAIM_DUE, params)), key=lambda job: job.id)

    def reclaim_expired(self, now: datetime) -> int:
        return self._connection.execute(_RECLAIM_EXPIRED, {"now": now}).rowcount

    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[ImageOutcome]:
        if not outcomes:
            return []
        recorded = set(self._connection.execute(_RECORD, _record_params(worker_id, outcomes, now)).scalars())
        return [outcome for outcome in outcomes if outcome.job_id in recorded]

    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        if jobs:
            self._connection.execute(
                _RELEASE,
                {"worker": worker_id, "ids": [job.id for job in jobs], "attempts": [job.attempts for job in jobs]},
            )

    def in_flight(self, request: UploadRequest) -> int:
        return self._connection.execute(_IN_FLIGHT, {"id": request.id}).scalar()

    def cancel_pending(self, request: UploadRequest, now: datetime) -> int:
        return self._connection.execute(_CANCEL_PENDING, {"id": request.id, "now": now}).rowcount

    def retry_failed(self, request: UploadRequest, now: datetime) -> list[int]:
        return list(self._connection.execute(_RETRY_FAILED, {"id": request.id, "now": now}).scalars())

    def output_keys(self, request: UploadRequest) -> list[str]:
        return list(self._connection.execute(_OUTPUT_KEYS, {"id": request.id}).scalars())


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
        "qualities": [out.quality if out else None for out in outputs],
        "scores": [out.score if out else None for out in outputs],
    }
