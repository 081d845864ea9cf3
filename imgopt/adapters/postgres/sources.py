"""Remembered sources in PostgreSQL: what each tenant's image URLs last gave, who fetches each now, and
which outputs may go."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, Row, text

from imgopt.adapters.postgres.image_results import SQL_TYPES
from imgopt.application.ports import SourceRepository
from imgopt.domain.image_jobs import ImageJob, ImageOutcome, StoredImage
from imgopt.domain.image_results import RESULT_FIELDS, ImageResult
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.request import UploadRequest
from imgopt.domain.sources import RememberedSource, SourceKey, SourceTurn, Validators

_KEYS = "CAST(:tenants AS uuid[]), CAST(:urls AS text[]), CAST(:options AS text[])"
_SAME_KEY = "(f.tenant_id, f.url, f.options) = (v.tenant_id, v.url, v.options)"
# What a source row remembers: who used it last, its validators and hash, its output, the output's result
# (every result field but `reused`, which is the image's, not the source's), and whose failure it was.
_RESULT_COLUMNS = tuple(name for name in RESULT_FIELDS if name != "reused")
_REMEMBERED = ("request_id", "etag", "last_modified", "content_sha256", "output_key", "output_url",
               *_RESULT_COLUMNS, "failed_for")  # fmt: skip

# The first job of each source (in key order, so concurrent claims lock rows in one order) takes the
# source's fetch unless another image holds it past now. What is remembered is read from the row the
# lease was taken on (the latest: a recorder may have committed while the claim waited for the row),
# else as the statement began.
_TURNS = text(
    f"""
    WITH v AS (SELECT * FROM unnest(CAST(:jobs AS bigint[]), {_KEYS}) AS v(job_id, tenant_id, url, options)),
    firsts AS (SELECT DISTINCT ON (tenant_id, url, options) * FROM v ORDER BY tenant_id, url, options, job_id),
    leased AS (
        INSERT INTO images.source_fetches AS f (tenant_id, url, options, fetching_job, fetching_until)
        SELECT tenant_id, url, options, job_id, :lease_until FROM firsts ORDER BY tenant_id, url, options
        ON CONFLICT (tenant_id, url, options) DO UPDATE
            SET fetching_job = excluded.fetching_job, fetching_until = excluded.fetching_until
            WHERE f.fetching_until IS NULL OR f.fetching_until <= :now OR f.fetching_job = excluded.fetching_job
        RETURNING f.*)
    SELECT v.job_id, coalesce(l.fetching_job = v.job_id, false) AS holds_fetch,
        {", ".join(f"CASE WHEN l.url IS NULL THEN f.{c} ELSE l.{c} END AS {c}" for c in _REMEMBERED)}
    FROM v LEFT JOIN leased l ON (l.tenant_id, l.url, l.options) = (v.tenant_id, v.url, v.options)
        LEFT JOIN images.source_fetches f ON {_SAME_KEY}
    """
)

# The sources held by jobs this worker still holds (found by the partial index on fetching_job), locked
# in key order as a claim locks them, then given the jobs' new lease.
_EXTEND_FETCHES = text(
    """
    WITH held AS (
        SELECT f.tenant_id, f.url, f.options FROM images.source_fetches f
            JOIN images.optimizerjobs j ON j.id = f.fetching_job
        WHERE f.fetching_job = ANY(CAST(:ids AS bigint[])) AND j.status = 'processing' AND j.claimed_by = :worker
        ORDER BY f.tenant_id, f.url, f.options FOR UPDATE OF f)
    UPDATE images.source_fetches f SET fetching_until = :lease_until
    FROM held WHERE (f.tenant_id, f.url, f.options) = (held.tenant_id, held.url, held.options)
    """
)

# Locked in key order, so that recorders (and purges) never wait on each other in a circle.
_LOCK = text(
    f"""
    SELECT v.job_id, f.output_key = v.output_key AS kept
    FROM images.source_fetches f
        JOIN unnest(CAST(:jobs AS bigint[]), {_KEYS}, CAST(:keys AS text[]))
            AS v(job_id, tenant_id, url, options, output_key) ON {_SAME_KEY}
    ORDER BY f.tenant_id, f.url, f.options FOR UPDATE OF f
    """
)

# Each job gives up the fetch it held; one that failed for good marks its upload's other images free to fetch.
_GIVE_UP_FETCH = text(
    f"""
    UPDATE images.source_fetches f
    SET fetching_job = CASE WHEN f.fetching_job = v.job_id THEN NULL ELSE f.fetching_job END,
        fetching_until = CASE WHEN f.fetching_job = v.job_id THEN NULL ELSE f.fetching_until END,
        failed_for = CASE WHEN v.failed THEN v.request_id ELSE f.failed_for END
    FROM unnest(CAST(:jobs AS bigint[]), {_KEYS}, CAST(:requests AS uuid[]), CAST(:failed AS boolean[]))
        AS v(job_id, tenant_id, url, options, request_id, failed)
    WHERE {_SAME_KEY} AND (f.fetching_job = v.job_id OR v.failed)
    """
)

_REMEMBER = text(
    f"""
    INSERT INTO images.source_fetches AS f (tenant_id, url, options, request_id, etag, last_modified, content_sha256,
        output_key, output_url, {", ".join(_RESULT_COLUMNS)}, fetched_at)
    SELECT DISTINCT ON (tenant_id, url, options) *, CAST(:now AS timestamptz) FROM unnest({_KEYS},
        CAST(:requests AS uuid[]), CAST(:etags AS text[]), CAST(:last_modified AS text[]), CAST(:hashes AS bytea[]),
        CAST(:keys AS text[]), CAST(:output_urls AS text[]),
        {", ".join(f"CAST(:{name} AS {SQL_TYPES[name]}[])" for name in _RESULT_COLUMNS)})
        AS v(tenant_id, url, options, request_id, etag, last_modified, content_sha256, output_key, output_url,
             {", ".join(_RESULT_COLUMNS)})
    ORDER BY tenant_id, url, options
    ON CONFLICT (tenant_id, url, options) DO UPDATE SET
        {", ".join(f"{name} = excluded.{name}" for name in _REMEMBERED if name != "failed_for")},
        fetched_at = excluded.fetched_at
    """
)

# A reuse changes only who used the source last, its validators (a 304 may send fresh ones) and when: the
# output and the hash stay (the recorder checked the output is still the one remembered, and locked the row).
# It gives up the fetch its job held in the same statement (`jobs`: every job of the batch on that source),
# one row version a source rather than two.
_REUSED = text(
    f"""
    UPDATE images.source_fetches f
    SET request_id = v.request_id, etag = v.etag, last_modified = v.last_modified, fetched_at = :now,
        fetching_job = CASE WHEN f.fetching_job = ANY(v.jobs) THEN NULL ELSE f.fetching_job END,
        fetching_until = CASE WHEN f.fetching_job = ANY(v.jobs) THEN NULL ELSE f.fetching_until END
    FROM (SELECT DISTINCT ON (tenant_id, url, options) *,
            array_agg(job_id) OVER (PARTITION BY tenant_id, url, options) AS jobs
        FROM unnest(CAST(:jobs AS bigint[]), {_KEYS}, CAST(:requests AS uuid[]), CAST(:etags AS text[]),
            CAST(:last_modified AS text[])) AS v(job_id, tenant_id, url, options, request_id, etag, last_modified)
        ORDER BY tenant_id, url, options) AS v
    WHERE {_SAME_KEY}
    """
)

_LOCK_OUTPUTS = text(
    """
    SELECT 1 FROM images.source_fetches WHERE output_key IN (
        SELECT output_key FROM images.optimizerjobs WHERE request_id = :id AND output_key IS NOT NULL)
    ORDER BY tenant_id, url, options FOR UPDATE
    """
)

# An output goes with the last image pointing at it: one of another request keeps it.
_RELEASE_OUTPUTS = text(
    """
    WITH alone AS (
        SELECT DISTINCT j.output_key FROM images.optimizerjobs j
        WHERE j.request_id = :id AND j.output_key IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM images.optimizerjobs o WHERE o.output_key = j.output_key AND o.request_id <> :id)),
    forgotten AS (DELETE FROM images.source_fetches f USING alone WHERE f.output_key = alone.output_key)
    SELECT output_key FROM alone ORDER BY output_key
    """
)


class PostgresSourceRepository(SourceRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def turns(
        self, jobs: Collection[ImageJob], now: datetime, lease_until: datetime, producer: str = ""
    ) -> dict[int, SourceTurn]:
        keys = {job.id: SourceKey.of(job.tenant_id, job.url, job.options, producer) for job in jobs if job.tenant_id}
        if not keys:
            return {}
        params = {"jobs": list(keys), **_keys(keys.values()), "now": now, "lease_until": lease_until}
        rows = self._connection.execute(_TURNS, params).all()
        return {
            row.job_id: SourceTurn(keys[row.job_id], _remembered(row), row.holds_fetch, row.failed_for) for row in rows
        }

    def extend_fetches(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        params = {"worker": worker_id, "ids": job_ids, "lease_until": lease_until}
        return self._connection.execute(_EXTEND_FETCHES, params).rowcount

    def still_remembered(self, outcomes: Collection[ImageOutcome]) -> set[int]:
        if not outcomes:
            return set()
        params = {
            "jobs": [o.job_id for o in outcomes],
            **_keys(o.source.key for o in outcomes),
            "keys": [o.output.key if o.reused else None for o in outcomes],
        }
        return {row.job_id for row in self._connection.execute(_LOCK, params) if row.kept}

    def remember(self, outcomes: Collection[ImageOutcome], now: datetime) -> None:
        fetched = [o for o in outcomes if o.output is not None and o.source.content_sha256 is not None]
        # Most of a re-upload: a few columns of each row, not the whole output again, and the fetch given up with them.
        reused = [o for o in fetched if o.reused]
        if reused:
            self._connection.execute(_REUSED, _reused_params(reused, now))
        reused_jobs = {o.job_id for o in reused}
        others = [o for o in outcomes if o.job_id not in reused_jobs]
        if others:
            params = {
                "jobs": [o.job_id for o in others],
                **_keys(o.source.key for o in others),
                "requests": [o.request_id for o in others],
                "failed": [o.status is ImageStatus.FAILED for o in others],
            }
            self._connection.execute(_GIVE_UP_FETCH, params)
        optimized = [o for o in fetched if not o.reused]
        if optimized:
            self._connection.execute(_REMEMBER, _remember_params(optimized, now))

    def release_outputs(self, request: UploadRequest) -> list[str]:
        self._connection.execute(_LOCK_OUTPUTS, {"id": request.id})
        return list(self._connection.execute(_RELEASE_OUTPUTS, {"id": request.id}).scalars())


def _keys(keys) -> dict[str, list]:
    keys = list(keys)
    return {
        "tenants": [key.tenant_id for key in keys],
        "urls": [key.url for key in keys],
        "options": [key.options for key in keys],
    }


def _remembered(row: Row) -> RememberedSource | None:
    if row.output_key is None:
        return None
    result = ImageResult(**{name: getattr(row, name) for name in _RESULT_COLUMNS})
    output = StoredImage(row.output_key, row.output_url, result)
    return RememberedSource(Validators(row.etag, row.last_modified), bytes(row.content_sha256), output, row.request_id)


def _reused_params(outcomes: list[ImageOutcome], now: datetime) -> dict:
    sources = [o.source for o in outcomes]
    return {
        "jobs": [o.job_id for o in outcomes],
        **_keys(source.key for source in sources),
        "now": now,
        "requests": [o.request_id for o in outcomes],
        "etags": [source.validators.etag for source in sources],
        "last_modified": [source.validators.last_modified for source in sources],
    }


def _remember_params(outcomes: list[ImageOutcome], now: datetime) -> dict:
    sources, outputs = [o.source for o in outcomes], [o.output for o in outcomes]
    return {
        **_keys(source.key for source in sources),
        "now": now,
        "requests": [o.request_id for o in outcomes],
        "etags": [source.validators.etag for source in sources],
        "last_modified": [source.validators.last_modified for source in sources],
        "hashes": [source.content_sha256 for source in sources],
        "keys": [output.key for output in outputs],
        "output_urls": [output.url for output in outputs],
        **{name: [getattr(output.result, name) for output in outputs] for name in _RESULT_COLUMNS},
    }
