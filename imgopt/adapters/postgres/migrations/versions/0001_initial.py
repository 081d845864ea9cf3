"""The initial schema: requests, their products, one optimizer job per image, webhooks and their outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE images.requests (
            id uuid PRIMARY KEY,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'completed', 'completed_with_errors', 'failed')),
            quality smallint NOT NULL,
            max_width integer,
            max_height integer,
            output_format text NOT NULL,
            product_count integer NOT NULL,
            image_count integer NOT NULL,
            last_line integer NOT NULL,
            expanded_line integer NOT NULL DEFAULT 0,
            optimized_count integer NOT NULL DEFAULT 0,
            failed_count integer NOT NULL DEFAULT 0,
            products_finished integer NOT NULL DEFAULT 0,
            products_with_errors integer NOT NULL DEFAULT 0,
            bytes_in bigint NOT NULL DEFAULT 0,
            bytes_out bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            started_at timestamptz,
            finished_at timestamptz
        );
        CREATE INDEX requests_unexpanded ON images.requests (created_at) WHERE expanded_line < last_line;

        -- One row per CSV row, written in bulk by COPY. No foreign key: its per-row trigger
        -- would triple the cost of ingest, and the only writer stores a request and its rows
        -- in one transaction.
        CREATE TABLE images.productimages (
            request_id uuid NOT NULL,
            line_no integer NOT NULL,
            serial bigint NOT NULL,
            product_name text NOT NULL,
            input_urls text[] NOT NULL,
            PRIMARY KEY (request_id, line_no)
        );

        -- One row per image: the unit of work that workers claim. Rows are created from
        -- productimages a slice at a time, as workers need them.
        CREATE TABLE images.optimizerjobs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            request_id uuid NOT NULL REFERENCES images.requests (id) ON DELETE CASCADE,
            line_no integer NOT NULL,
            position smallint NOT NULL,
            input_url text NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'optimized', 'failed')),
            attempts smallint NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL,
            claimed_by text,
            lease_until timestamptz,
            failure_reason text,
            output_key text,
            output_url text,
            media_type text,
            bytes_in bigint,
            bytes_out bigint,
            width integer,
            height integer,
            updated_at timestamptz NOT NULL,
            UNIQUE (request_id, line_no, position),
            -- claimed_by stays on a finished job: the worker that did it.
            CHECK ((status = 'processing') = (lease_until IS NOT NULL)),
            CHECK (status <> 'processing' OR claimed_by IS NOT NULL)
        );
        CREATE INDEX optimizerjobs_due ON images.optimizerjobs (next_attempt_at, id) WHERE status = 'pending';
        CREATE INDEX optimizerjobs_leased ON images.optimizerjobs (lease_until) WHERE status = 'processing';
        CREATE INDEX optimizerjobs_processing ON images.optimizerjobs (request_id) WHERE status = 'processing';

        CREATE TABLE images.webhookurls (
            id uuid PRIMARY KEY,
            request_id uuid REFERENCES images.requests (id) ON DELETE CASCADE,
            url text NOT NULL,
            secret text NOT NULL,
            format text NOT NULL CHECK (format IN ('json', 'multipart-csv')),
            enabled boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            disabled_at timestamptz
        );
        CREATE INDEX webhookurls_request ON images.webhookurls (request_id);

        CREATE TABLE images.webhookdeliveries (
            id text PRIMARY KEY,
            webhook_id uuid NOT NULL REFERENCES images.webhookurls (id) ON DELETE CASCADE,
            request_id uuid NOT NULL REFERENCES images.requests (id) ON DELETE CASCADE,
            event_type text NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX webhookdeliveries_due ON images.webhookdeliveries (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX webhookdeliveries_request ON images.webhookdeliveries (request_id);

        CREATE TABLE images.webhookattempts (
            delivery_id text NOT NULL REFERENCES images.webhookdeliveries (id) ON DELETE CASCADE,
            attempt integer NOT NULL,
            attempted_at timestamptz NOT NULL,
            status_code integer,
            error text,
            duration_ms integer NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE images.webhookattempts, images.webhookdeliveries, images.webhookurls,
            images.optimizerjobs, images.productimages, images.requests
        """
    )
