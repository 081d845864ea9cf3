"""How much work is waiting: the image queue and the webhook outbox, read in one statement."""

from sqlalchemy import Engine, text

from imgopt.adapters.postgres.outages import unavailable_on_outage
from imgopt.application.ports import QueueReader, QueueSnapshot

# Every part runs on a partial index, except the unfinished requests (a scan of the requests
# table, one row per upload). Images not yet expanded into jobs wait since their upload.
_SNAPSHOT = text(
    """
    SELECT now() AS at,
        (SELECT coalesce(sum(image_count - optimized_count - failed_count), 0)
         FROM images.requests WHERE status IN ('pending', 'processing')) AS unfinished,
        (SELECT count(*) FROM images.optimizerjobs WHERE status = 'processing') AS processing,
        least(
            (SELECT min(next_attempt_at) FROM images.optimizerjobs
             WHERE status = 'pending' AND next_attempt_at <= now()),
            (SELECT min(created_at) FROM images.requests WHERE expanded_line < last_line)
        ) AS oldest_pending_since,
        (SELECT count(*) FROM images.webhookdeliveries
         WHERE status = 'pending' AND next_attempt_at <= now()) AS deliveries_due,
        (SELECT count(*) FROM images.webhookdeliveries WHERE status = 'pending') AS deliveries_pending,
        (SELECT min(next_attempt_at) FROM images.webhookdeliveries
         WHERE status = 'pending' AND next_attempt_at <= now()) AS oldest_delivery_due_since
    """
)


class PostgresQueueReader(QueueReader):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def snapshot(self) -> QueueSnapshot:
        with unavailable_on_outage(), self._engine.connect() as connection:
            row = connection.execute(_SNAPSHOT).one()
            connection.rollback()
        return QueueSnapshot(
            at=row.at,
            images_pending=max(row.unfinished - row.processing, 0),
            images_processing=row.processing,
            oldest_pending_since=row.oldest_pending_since,
            deliveries_due=row.deliveries_due,
            deliveries_pending=row.deliveries_pending,
            oldest_delivery_due_since=row.oldest_delivery_due_since,
        )
