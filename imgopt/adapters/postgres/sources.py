"""Remembered sources in PostgreSQL: what each tenant's image URLs last gave, who fetches each now, and
which outputs may go."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, Row, text

from imgopt.application.ports import SourceRepository
from imgopt.domain.image_jobs import ImageJob, ImageOutcome, StoredImage
from imgopt.domain.image_results import RESULT_FIELDS, ImageResult
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.request import UploadRequest
from imgopt.domain.sources import RememberedSource, SourceKey, SourceTurn, Validators

_KEYS = "CAST(:tenants AS uuid[]), CAST(:urls AS text[]), CAST(:options AS text[])"
_SAME_KEY = "(f.tenant_id, f.url, f.options) = (v.tenant_id, v.url, v.options)"

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
        CASE WHEN l.url IS NULL THEN f.request_id ELSE l.request_id END AS request_id,
        CASE WHEN l.url IS NULL THEN f.etag ELSE l.etag END AS etag,
        CASE WHEN l.url IS NULL THEN f.last_modified ELSE l.last_modified END AS last_modified,
        CASE WHEN l.url IS NULL THEN f.content_sha256 ELSE l.content_sha256 END AS content_sha256,
        CASE WHEN l.url IS NULL THEN f.output_key ELSE l.output_key END AS output_key,
        CASE WHEN l.url IS NULL THEN f.output_url ELSE l.output_url END AS output_url,
        CASE WHEN l.url IS NULL THEN f.media_type ELSE l.media_type END AS media_type,
        CASE WHEN l.url IS NULL THEN f.bytes_in ELSE l.bytes_in END AS bytes_in,
        CASE WHEN l.url IS NULL THEN f.bytes_out ELSE l.bytes_out END AS bytes_out,
        CASE WHEN l.url IS NULL THEN f.width ELSE l.width END AS width,
        CASE WHEN l.url IS NULL THEN f.height ELSE l.height END AS height,
        CASE WHEN l.url IS NULL THEN f.quality ELSE l.quality END AS quality,
        CASE WHEN l.url IS NULL THEN f.score ELSE l.score END AS score,
        CASE WHEN l.url IS NULL THEN f.failed_for ELSE l.failed_for END AS failed_for
    FROM v LEFT JOIN leased l ON (l.tenant_id, l.url, l.options) = (v.tenant_id, v.url, v.options)
        LEFT JOIN images.source_fetches f ON {_SAME_KEY}
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
        output_key, output_url, media_type, bytes_in, bytes_out, width, height, quality, score, fetched_at)
    SELECT DISTINCT ON (tenant_id, url, options) *, CAST(:now AS timestamptz) FROM unnest({_KEYS},
        CAST(:requests AS uuid[]), CAST(:etags AS text[]), CAST(:last_modified AS text[]), CAST(:hashes AS bytea[]),
        CAST(:keys AS text[]), CAST(:output_urls AS text[]), CAST(:media_types AS text[]), CAST(:bytes_in AS bigint[]),
        CAST(:bytes_out AS bigint[]), CAST(:widths AS integer[]), CAST(:heights AS integer[]),
        CAST(:qualities AS smallint[]), CAST(:scores AS real[]))
        AS v(tenant_id, url, options, request_id, etag, last_modified, content_sha256, output_key, output_url,
             media_type, bytes_in, bytes_out, width, height, quality, score)
    ORDER BY tenant_id, url, options
    ON CONFLICT (tenant_id, url, options) DO UPDATE SET
        request_id = excluded.request_id, etag = excluded.etag, last_modified = excluded.last_modified,
        content_sha256 = excluded.content_sha256, output_key = excluded.output_key, output_url = excluded.output_url,
        media_type = excluded.media_type, bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out,
        width = excluded.width, height = excluded.height, quality = excluded.quality, score = excluded.score,
        fetched_at = excluded.fetched_at
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

    def turns(self, jobs: Collection[ImageJob], now: datetime, lease_until: datetime) -> dict[int, SourceTurn]:
        keys = {job.id: SourceKey.of(job.tenant_id, job.url, job.options) for job in jobs if job.tenant_id}
        if not keys:
            return {}
        params = {"jobs": list(keys), **_keys(keys.values()), "now": now, "lease_until": lease_until}
        rows = self._connection.execute(_TURNS, params).all()
        return {
            row.job_id: SourceTurn(keys[row.job_id], _remembered(row), row.holds_fetch, row.failed_for) for row in rows
        }

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
        if not outcomes:
            return
        params = {
            "jobs": [o.job_id for o in outcomes],
            **_keys(o.source.key for o in outcomes),
            "requests": [o.request_id for o in outcomes],
            "failed": [o.status is ImageStatus.FAILED for o in outcomes],
        }
        self._connection.execute(_GIVE_UP_FETCH, params)
        fetched = [o for o in outcomes if o.output is not None and o.source.content_sha256 is not None]
        if fetched:
            self._connection.execute(_REMEMBER, _remember_params(fetched, now))

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
    result = ImageResult(**{name: getattr(row, name) for name in RESULT_FIELDS if name != "reused"})
    output = StoredImage(row.output_key, row.output_url, result)
    return RememberedSource(Validators(row.etag, row.last_modified), bytes(row.content_sha256), output, row.request_id)


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
        "media_types": [output.result.media_type for output in outputs],
        "bytes_in": [output.result.bytes_in for output in outputs],
        "bytes_out": [output.result.bytes_out for output in outputs],
        "widths": [output.result.width for output in outputs],
        "heights": [output.result.height for output in outputs],
        "qualities": [output.result.quality for output in outputs],
        "scores": [output.result.score for output in outputs],
    }
