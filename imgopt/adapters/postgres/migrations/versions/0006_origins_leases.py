"""Origins as someone's servers: leases on a few download slots per origin, and when each may be asked again.

Revision ID: 0006_origins_leases
Revises: 0005_auto_quality
Create Date: 2026-12-06
"""

from alembic import op

revision = "0006_origins_leases"
down_revision = "0005_auto_quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE images.origin_leases (
            origin text NOT NULL,
            slot smallint NOT NULL,
            holder text NOT NULL,
            lease_until timestamptz NOT NULL,
            PRIMARY KEY (origin, slot)
        );
        CREATE TABLE images.origin_rests (
            origin text PRIMARY KEY,
            not_before timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE images.origin_rests; DROP TABLE images.origin_leases;")
