"""Re-uploads cost only what changed: per tenant, what each image URL last gave, and which image fetches it now.

Each image says whether its output was reused; outputs are found by key, so that an object goes only
when the last image pointing at it goes.

Revision ID: 0008_source_fetches
Revises: 0007_output_names
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008_source_fetches"
down_revision = "0007_output_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE images.source_fetches (
            tenant_id uuid NOT NULL REFERENCES images.tenants (id) ON DELETE CASCADE,
            url text NOT NULL,
            options text NOT NULL,
            -- The upload that fetched or reused it last (no reference: requests are purged, sources stay).
            request_id uuid,
            etag text,
            last_modified text,
            content_sha256 bytea,
            output_key text,
            output_url text,
            media_type text,
            bytes_in bigint,
            bytes_out bigint,
            width integer,
            height integer,
            quality smallint,
            score real,
            fetched_at timestamptz,
            -- The image fetching it now, until its lease ends: a tenant's other images of it wait.
            fetching_job bigint,
            fetching_until timestamptz,
            -- The upload one of whose images of it failed for good: its other images no longer wait their turn.
            failed_for uuid,
            PRIMARY KEY (tenant_id, url, options),
            CHECK ((output_key IS NULL) = (content_sha256 IS NULL))
        );
        CREATE INDEX source_fetches_output ON images.source_fetches (output_key) WHERE output_key IS NOT NULL;
        -- A result column as the others (NULL without a result); images optimized before read as not reused.
        ALTER TABLE images.optimizerjobs ADD COLUMN reused boolean DEFAULT false;
        CREATE INDEX optimizerjobs_output ON images.optimizerjobs (output_key) WHERE output_key IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX images.optimizerjobs_output;
        ALTER TABLE images.optimizerjobs DROP COLUMN reused;
        DROP TABLE images.source_fetches;
        """
    )
