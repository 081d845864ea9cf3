"""Fair turns in the queue: due jobs found per request, active requests found without scanning finished ones.

Revision ID: 0004_queue
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004_queue"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- A claim visits each running request and takes its next due jobs: one index probe per request.
        -- The index on (next_attempt_at, id) stays: the queue gauge reads the oldest due job from it.
        CREATE INDEX optimizerjobs_due_by_request ON images.optimizerjobs (request_id, next_attempt_at, id)
            WHERE status = 'pending';
        -- The requests table keeps every upload ever made; the few still running are found here.
        CREATE INDEX requests_active ON images.requests (created_at, id) WHERE status IN ('pending', 'processing');
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX images.requests_active;
        DROP INDEX images.optimizerjobs_due_by_request;
        """
    )
