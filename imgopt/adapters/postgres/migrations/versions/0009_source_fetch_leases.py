"""The image fetching a source is found by its id: a worker extends the source's lease with the image's.

Partial: only the rows someone is fetching (or fetched last without recording yet) are in it, so it stays
as small as the number of fetches under way, however many sources are remembered.

Revision ID: 0009_source_fetch_leases
Revises: 0008_source_fetches
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009_source_fetch_leases"
down_revision = "0008_source_fetches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX source_fetches_fetching ON images.source_fetches (fetching_job) WHERE fetching_job IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX images.source_fetches_fetching")
