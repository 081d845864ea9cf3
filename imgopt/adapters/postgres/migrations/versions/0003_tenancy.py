"""Tenants and their API keys; every request and webhook belongs to a tenant; cancelled requests and images;
webhook secrets that rotate; an index for claims that take turns across requests. Existing rows move to the
anonymous tenant, the one IMGOPT_AUTH=off uses.

Revision ID: 0003_tenancy
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0003_tenancy"
down_revision = "0001"
branch_labels = None
depends_on = None

# imgopt.domain.tenancy.ANONYMOUS_TENANT_ID; written out, since a migration must not change with the code.
ANONYMOUS = "00000000-0000-4000-8000-000000000000"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE images.tenants (
            id uuid PRIMARY KEY,
            name text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL
        );
        INSERT INTO images.tenants (id, name, created_at) VALUES ('{ANONYMOUS}', 'anonymous', now());

        -- Only the SHA-256 of a key is kept; `prefix` is its first characters, to tell keys apart in listings.
        CREATE TABLE images.apikeys (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES images.tenants (id) ON DELETE CASCADE,
            name text NOT NULL,
            prefix text NOT NULL,
            key_hash text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL,
            last_used_at timestamptz,
            revoked_at timestamptz
        );
        CREATE INDEX apikeys_tenant ON images.apikeys (tenant_id, created_at);

        -- A constant default fills existing rows without rewriting the table; then every writer must say.
        ALTER TABLE images.requests
            ADD COLUMN tenant_id uuid NOT NULL DEFAULT '{ANONYMOUS}' REFERENCES images.tenants (id),
            ADD COLUMN cancelled_count integer NOT NULL DEFAULT 0;
        ALTER TABLE images.requests ALTER COLUMN tenant_id DROP DEFAULT;
        CREATE INDEX requests_tenant_newest ON images.requests (tenant_id, created_at DESC, id DESC);
        CREATE INDEX requests_tenant_open ON images.requests (tenant_id)
            WHERE status IN ('pending', 'processing');
        ALTER TABLE images.requests DROP CONSTRAINT requests_status_check;
        ALTER TABLE images.requests ADD CONSTRAINT requests_status_check CHECK (status IN
            ('pending', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled'));
        ALTER TABLE images.optimizerjobs DROP CONSTRAINT optimizerjobs_status_check;
        ALTER TABLE images.optimizerjobs ADD CONSTRAINT optimizerjobs_status_check CHECK (status IN
            ('pending', 'processing', 'optimized', 'failed', 'cancelled'));

        ALTER TABLE images.webhookurls
            ADD COLUMN tenant_id uuid NOT NULL DEFAULT '{ANONYMOUS}' REFERENCES images.tenants (id),
            ADD COLUMN previous_secret text,
            ADD COLUMN previous_secret_until timestamptz;
        ALTER TABLE images.webhookurls ALTER COLUMN tenant_id DROP DEFAULT;
        CREATE INDEX webhookurls_tenant_newest ON images.webhookurls (tenant_id, created_at DESC, id DESC);
        CREATE INDEX webhookdeliveries_webhook ON images.webhookdeliveries (webhook_id, created_at DESC);

        -- Claims take turns across requests: each request's due jobs, oldest first.
        CREATE INDEX optimizerjobs_request_due ON images.optimizerjobs (request_id, next_attempt_at, id)
            WHERE status = 'pending';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX images.webhookdeliveries_webhook, images.optimizerjobs_request_due;
        ALTER TABLE images.webhookurls
            DROP COLUMN tenant_id, DROP COLUMN previous_secret, DROP COLUMN previous_secret_until;
        DELETE FROM images.optimizerjobs WHERE status = 'cancelled';
        ALTER TABLE images.optimizerjobs DROP CONSTRAINT optimizerjobs_status_check;
        ALTER TABLE images.optimizerjobs ADD CONSTRAINT optimizerjobs_status_check CHECK (status IN
            ('pending', 'processing', 'optimized', 'failed'));
        UPDATE images.requests SET status = 'failed' WHERE status = 'cancelled';
        ALTER TABLE images.requests DROP CONSTRAINT requests_status_check;
        ALTER TABLE images.requests ADD CONSTRAINT requests_status_check CHECK (status IN
            ('pending', 'processing', 'completed', 'completed_with_errors', 'failed'));
        ALTER TABLE images.requests DROP COLUMN tenant_id, DROP COLUMN cancelled_count;
        DROP TABLE images.apikeys, images.tenants;
        """
    )
