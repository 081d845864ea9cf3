"""The work queue: optimizer jobs claimed with FOR UPDATE SKIP LOCKED under a lease."""

from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, Row, text

from imgopt.adapters.postgres.image_results import SQL_TYPES
from imgopt.adapters.postgres.requests import RUNNING, SHORT_OF_JOBS, WITH_FRONT, options_from
from imgopt.application.ports import Claimed, ImageJobRepository
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob, ImageOutcome
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.origins import ORIGIN_PATTERN
from imgopt.domain.request import UploadRequest

# Every request's first images go before the images of requests that have had more (see _CLAIM_DUE).
HEAD_START = 64

_RETURNING = """RETURNING j.id, j.request_id, r.tenant_id, j.line_no, j.position, j.input_url, j.attempts,
    j.output_name, r.quality, r.auto_quality, r.max_width, r.max_height, r.output_format"""

_RECLAIM_EXPIRED = text(
    """
    UPDATE images.optimizerjobs
    SET status = 'pending', claimed_by = NULL, lease_until = NULL, next_attempt_at = :now, updated_at = :now
    WHERE id IN (
        SELECT id FROM images.optimizerjobs
        WHERE status = 'processing' AND lease_until < :now FOR UPDATE SKIP LOCKED)
    """
)

# Turns in the queue, in one statement: the only statement of the rule, because only the database
# sees every worker's claims at once. Tenants take turns, then the requests of each, so that no
# upload is stuck behind another. The tenant with the fewest images in flight goes first, so every
# tenant converges on an equal share of the workers. Among a tenant's requests (and between tenants
# as busy as each other), every request's first HEAD_START images go before the images of requests
# that have had more: a small upload finishes about as soon as it would alone, and a big one loses
# only a moment to it. Beyond that, the request with the fewest images in flight goes first, ties
# to the oldest. Each is allowed an equal share of the claim, or enough to catch up with the others'
# images in flight, or what is left of its head start, whichever is more; a request with fewer due
# gives what it has and leaves the rest to the next (the next round of `claim`).
#
# `running` finds each running request's first
# job due once, and its tenant's images in flight; `waiting` keeps those with a job due, with their
# images done and in flight; `turns` orders them (tenants first) and gives each its allowance; each
# is then visited in that order through its own slice of the due-jobs index and locks only what it
# gives: the outer LIMIT ends the visits once the claim is full. A tenant's requests together give no
# more than its room in the claiming worker's downloads (`DownloadRoom`), the first in turn order
# first. The images of an origin resting (it answered 429 or 503 with Retry-After) are skipped; the
# origins resting are read once (MATERIALIZED), so an image's origin is computed only while some
# origin rests. A job is `finishing` when no more images of its request are left to claim than are
# in flight. The last line is there even when nothing was claimed, to say whether some running
# request is short of jobs.
_CLAIM_DUE = text(
    f"""
    WITH resting AS MATERIALIZED (SELECT origin FROM images.origin_rests WHERE not_before > :now),
    in_flight AS (
        SELECT request_id, count(*) AS images FROM images.optimizerjobs
        WHERE status = 'processing' GROUP BY request_id),
    running AS (
        SELECT r.id, r.tenant_id, r.created_at, r.optimized_count + r.failed_count AS done,
            r.image_count - r.cancelled_count AS image_count, front, coalesce(f.images, 0) AS in_flight,
            sum(coalesce(f.images, 0)) OVER (PARTITION BY r.tenant_id) AS tenant_in_flight,
            {SHORT_OF_JOBS} AS short
        FROM {WITH_FRONT} LEFT JOIN in_flight f ON f.request_id = r.id WHERE {RUNNING}),
    waiting AS (
        SELECT id, tenant_id, created_at, in_flight, tenant_in_flight, done + in_flight AS attained,
            image_count - done - in_flight AS unclaimed,
            count(*) OVER () AS requests, sum(in_flight) OVER () AS all_in_flight
        FROM running WHERE front IS NOT NULL),
    ordered AS (
        SELECT w.id, w.tenant_id, unclaimed, in_flight,
            row_number() OVER (
                ORDER BY tenant_in_flight, least(attained, :head_start), in_flight, created_at, w.id) AS turn,
            greatest(ceil(CAST(:limit AS numeric) / requests),
                     ceil((all_in_flight + :limit) / requests) - in_flight,
                     :head_start - attained) AS allowance,
            coalesce(room.images, CAST(:tenant_room AS integer)) AS tenant_room
        FROM waiting w LEFT JOIN unnest(CAST(:tenants AS uuid[]), CAST(:rooms AS integer[])) AS room(tenant_id, images)
            ON room.tenant_id = w.tenant_id),
    turns AS (
        SELECT id, unclaimed, in_flight, turn,
            greatest(least(allowance, tenant_room - coalesce(sum(least(allowance, unclaimed)) OVER (
                PARTITION BY tenant_id ORDER BY turn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)), 0)
                AS allowance
        FROM ordered ORDER BY turn),
    picked AS (
        SELECT due.id, t.turn, t.allowance, t.unclaimed, t.in_flight FROM turns t CROSS JOIN LATERAL (
            SELECT j.id FROM images.optimizerjobs j
            WHERE j.request_id = t.id AND j.status = 'pending' AND j.next_attempt_at <= :now
                AND NOT EXISTS (SELECT 1 FROM resting WHERE resting.origin = lower(substring(j.input_url FROM :origin)))
            ORDER BY j.next_attempt_at, j.id LIMIT t.allowance FOR UPDATE SKIP LOCKED) AS due
        LIMIT :limit),
    claimed AS (
        UPDATE images.optimizerjobs j
        SET status = 'processing', claimed_by = :worker, lease_until = :lease_until,
            attempts = j.attempts + 1, updated_at = :now
        FROM picked, images.requests r WHERE j.id = picked.id AND r.id = j.request_id
        {_RETURNING}, picked.turn, picked.allowance, picked.unclaimed, picked.in_flight),
    counted AS (SELECT *, count(*) OVER (PARTITION BY request_id) AS taken FROM claimed)
    SELECT counted.*, short.any AS requests_short_of_jobs,
        counted.unclaimed - counted.taken <= counted.in_flight + counted.taken AS finishing
    FROM (SELECT coalesce(bool_or(short), false) AS any FROM running) AS short LEFT JOIN counted ON true
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
    f"""
    UPDATE images.optimizerjobs j
    SET status = v.status, failure_reason = v.reason, attempts = v.attempts,
        next_attempt_at = coalesce(v.next_attempt_at, j.next_attempt_at),
        lease_until = NULL, output_key = v.key, output_url = v.url,
        {", ".join(f"{name} = v.{name}" for name in SQL_TYPES)}, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:reasons AS text[]),
                CAST(:next_attempts AS timestamptz[]), CAST(:keys AS text[]), CAST(:urls AS text[]),
                {", ".join(f"CAST(:{name} AS {sql}[])" for name, sql in SQL_TYPES.items())},
                CAST(:attempts AS smallint[]))
        AS v(id, status, reason, next_attempt_at, key, url, {", ".join(SQL_TYPES)}, attempts)
    WHERE j.id = v.id AND j.status = 'processing' AND j.claimed_by = :worker
    RETURNING j.id
    """
)

# A reuse (most of a re-upload) takes its output and result from the source row the recorder has locked and
# checked (`SourceRepository.still_remembered`): five arrays an image rather than every result field. One
# whose row holds another output is not here; the general statement records it as it is.
_RECORD_REUSED = text(
    f"""
    UPDATE images.optimizerjobs j
    SET status = 'optimized', failure_reason = NULL, attempts = v.attempts, lease_until = NULL,
        output_key = f.output_key, output_url = f.output_url,
        {", ".join(f"{name} = f.{name}" for name in SQL_TYPES if name != "reused")}, reused = true, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:tenants AS uuid[]), CAST(:urls AS text[]), CAST(:options AS text[]),
                CAST(:keys AS text[]), CAST(:attempts AS smallint[])) AS v(id, tenant_id, url, options, key, attempts)
        JOIN images.source_fetches f ON (f.tenant_id, f.url, f.options) = (v.tenant_id, v.url, v.options)
    WHERE j.id = v.id AND j.status = 'processing' AND j.claimed_by = :worker AND f.output_key = v.key
    RETURNING j.id
    """
)

_EXTEND_LEASES = text(
    """
    UPDATE images.optimizerjobs SET lease_until = :lease_until
    WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'processing' AND claimed_by = :worker
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

_RELEASE_UNHELD = text(
    """
    UPDATE images.optimizerjobs
    SET status = 'pending', claimed_by = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0),
        updated_at = now()
    WHERE status = 'processing' AND claimed_by = :worker AND NOT id = ANY(CAST(:held AS bigint[]))
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


class PostgresImageJobRepository(ImageJobRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_for(self, request: UploadRequest, products: int, now: datetime) -> int:
        params = {"id": request.id, "after": request.expanded_line, "products": products, "now": now}
        through = self._connection.execute(_EXPAND, params).scalar()
        return request.last_line if through is None else through

    def claim(
        self,
        worker_id: str,
        limit: int,
        now: datetime,
        lease_until: datetime,
        lines: int,
        room: DownloadRoom = DownloadRoom(),
    ) -> Claimed:
        claimed: list[Row] = []
        while True:
            tenants = list(room.downloading)
            params = {
                "worker": worker_id,
                "now": now,
                "lease_until": lease_until,
                "limit": limit - len(claimed),
                "head_start": HEAD_START,
                "lines": lines,
                "tenants": tenants,
                "rooms": [room.of(tenant) for tenant in tenants],
                "tenant_room": room.per_tenant,  # NULL: no cap (least and greatest skip a NULL)
                "origin": ORIGIN_PATTERN,
            }
            rows = self._connection.execute(_CLAIM_DUE, params).all()
            jobs = [row for row in rows if row.id is not None]
            claimed += sorted(jobs, key=lambda row: (row.turn, row.id))
            room = room.after(row.tenant_id for row in jobs)
            if len(claimed) == limit or not _some_may_give_more(jobs, room):
                # Every request gave all it had due or all its tenant's room, or the claim is full.
                return Claimed([_job(row) for row in claimed], rows[0].requests_short_of_jobs)

    def reclaim_expired(self, now: datetime) -> int:
        return self._connection.execute(_RECLAIM_EXPIRED, {"now": now}).rowcount

    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[ImageOutcome]:
        if not outcomes:
            return []
        reuses = [o for o in outcomes if o.reused and o.source is not None and o.status is ImageStatus.OPTIMIZED]
        recorded = set()
        if reuses:
            recorded = set(self._connection.execute(_RECORD_REUSED, _reused_params(worker_id, reuses, now)).scalars())
        rest = [outcome for outcome in outcomes if outcome.job_id not in recorded]
        if rest:
            recorded |= set(self._connection.execute(_RECORD, _record_params(worker_id, rest, now)).scalars())
        return [outcome for outcome in outcomes if outcome.job_id in recorded]

    def extend_leases(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        params = {"worker": worker_id, "ids": job_ids, "lease_until": lease_until}
        return self._connection.execute(_EXTEND_LEASES, params).rowcount

    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        if jobs:
            self._connection.execute(
                _RELEASE,
                {"worker": worker_id, "ids": [job.id for job in jobs], "attempts": [job.attempts for job in jobs]},
            )

    def release_unheld(self, worker_id: str, held: list[int]) -> int:
        return self._connection.execute(_RELEASE_UNHELD, {"worker": worker_id, "held": held}).rowcount

    def in_flight(self, request: UploadRequest) -> int:
        return self._connection.execute(_IN_FLIGHT, {"id": request.id}).scalar()

    def cancel_pending(self, request: UploadRequest, now: datetime) -> int:
        return self._connection.execute(_CANCEL_PENDING, {"id": request.id, "now": now}).rowcount

    def retry_failed(self, request: UploadRequest, now: datetime) -> list[int]:
        return list(self._connection.execute(_RETRY_FAILED, {"id": request.id, "now": now}).scalars())


def _some_may_give_more(rows: list[Row], room: DownloadRoom) -> bool:
    """Whether a request gave all it was allowed and its tenant has room left (`room`, after these rows):
    it may have more due, for another round. One whose tenant's room is full gets nothing in another
    (a single tenant's re-upload filled its room on every claim, and paid a second, empty round)."""
    given = Counter(row.request_id for row in rows)
    return any(given[row.request_id] == row.allowance and room.of(row.tenant_id) != 0 for row in rows)


def _job(row: Row) -> ImageJob:
    return ImageJob(
        id=row.id,
        request_id=row.request_id,
        line=row.line_no,
        position=row.position,
        url=row.input_url,
        attempts=row.attempts,
        options=options_from(row),
        finishing=row.finishing,
        tenant_id=row.tenant_id,
        output_name=row.output_name,
    )


def _reused_params(worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> dict:
    keys = [o.source.key for o in outcomes]
    return {
        "worker": worker_id,
        "now": now,
        "ids": [o.job_id for o in outcomes],
        "tenants": [key.tenant_id for key in keys],
        "urls": [key.url for key in keys],
        "options": [key.options for key in keys],
        "keys": [o.output.key for o in outcomes],
        "attempts": [o.attempts for o in outcomes],
    }


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
        **{name: [getattr(out.result, name) if out else None for out in outputs] for name in SQL_TYPES},
        "attempts": [o.attempts for o in outcomes],
    }
