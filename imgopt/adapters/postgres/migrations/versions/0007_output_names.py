"""Output names that cannot be guessed: each image draws a random name when it is queued.

Images queued before keep none and their outputs keep their id, so links already given out still work.
Revision ID: 0007_output_names
Revises: 0006_origins_leases
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007_output_names"
down_revision = "0006_origins_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added without a default, then given one, so that the existing rows are not rewritten (or renamed).
    op.execute(
        """
        ALTER TABLE images.optimizerjobs ADD COLUMN output_name text;
        ALTER TABLE images.optimizerjobs ALTER COLUMN output_name SET DEFAULT replace(gen_random_uuid()::text, '-', '');
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE images.optimizerjobs DROP COLUMN output_name;")
