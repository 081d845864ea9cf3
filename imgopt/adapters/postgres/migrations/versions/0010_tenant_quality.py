"""Each tenant has a default quality, for its uploads that name none: a level, or auto.

Tenants that exist get the original system's q50, so their uploads are encoded exactly as before;
new tenants get IMGOPT_NEW_TENANT_QUALITY, which the application writes when it creates one.

Revision ID: 0010_tenant_quality
Revises: 0009_source_fetch_leases
Create Date: 2026-12-08
"""

from alembic import op

revision = "0010_tenant_quality"
down_revision = "0009_source_fetch_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE images.tenants
            ADD COLUMN default_quality smallint NOT NULL DEFAULT 50 CHECK (default_quality BETWEEN 1 AND 100),
            ADD COLUMN default_auto_quality boolean NOT NULL DEFAULT false;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE images.tenants DROP COLUMN default_quality, DROP COLUMN default_auto_quality")
