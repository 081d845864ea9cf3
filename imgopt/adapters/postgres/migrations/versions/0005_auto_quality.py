"""quality=auto: the request asks for it; each image keeps the quality chosen and the score it reached.

Revision ID: 0005_auto_quality
Revises: 0003_tenancy
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005_auto_quality"
down_revision = "0003_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE images.requests ADD COLUMN auto_quality boolean NOT NULL DEFAULT false;
        ALTER TABLE images.optimizerjobs ADD COLUMN quality smallint, ADD COLUMN score real;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE images.optimizerjobs DROP COLUMN quality, DROP COLUMN score;
        ALTER TABLE images.requests DROP COLUMN auto_quality;
        """
    )
