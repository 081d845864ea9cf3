"""Origin slots in PostgreSQL: a few leased rows per origin, and when each origin may be asked again."""

import uuid

from sqlalchemy import Engine, Row, TextClause, text

from imgopt.adapters.postgres.outages import unavailable_on_outage
from imgopt.application.ports import OriginResting, OriginSlot, OriginSlots
from imgopt.domain.origins import OriginLimits

# One free slot, picked at random among the free ones so that workers rarely race for the same;
# two that do meet at the primary key, and the second finds the row leased and takes nothing.
# The database's clock decides, so hosts whose clocks differ agree on who holds what.
_TAKE = text(
    """
    WITH resting AS (
        SELECT extract(epoch FROM not_before - now()) AS seconds FROM images.origin_rests
        WHERE origin = :origin AND not_before > now()),
    free AS (
        SELECT s AS slot FROM generate_series(0, :slots - 1) AS s
        WHERE NOT EXISTS (SELECT 1 FROM resting) AND NOT EXISTS (
            SELECT 1 FROM images.origin_leases l WHERE l.origin = :origin AND l.slot = s AND l.lease_until > now())
        ORDER BY random() LIMIT 1),
    taken AS (
        INSERT INTO images.origin_leases (origin, slot, holder, lease_until)
        SELECT :origin, slot, :holder, now() + make_interval(secs => :seconds) FROM free
        ON CONFLICT (origin, slot) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
        WHERE images.origin_leases.lease_until <= now()
        RETURNING slot)
    SELECT (SELECT slot FROM taken) AS slot, (SELECT seconds FROM resting) AS resting
    """
)

_GIVE_BACK = text("DELETE FROM images.origin_leases WHERE origin = :origin AND slot = :slot AND holder = :holder")

# A rest also forgets the rests that ended an hour ago or more (other origins'), so the table holds
# only the origins rested of late: rests are rare (a 429 or 503), and the claim reads them all.
_REST = text(
    """
    WITH forgotten AS (
        DELETE FROM images.origin_rests WHERE not_before < now() - interval '1 hour' AND origin <> :origin)
    INSERT INTO images.origin_rests (origin, not_before) VALUES (:origin, now() + make_interval(secs => :seconds))
    ON CONFLICT (origin) DO UPDATE SET not_before = greatest(images.origin_rests.not_before, excluded.not_before)
    """
)


class PostgresOriginSlots(OriginSlots):
    """`limits.of(origin)` slots per origin across every worker; a lease lasts `lease_seconds` (past any download)."""

    def __init__(self, engine: Engine, limits: OriginLimits, lease_seconds: float) -> None:
        self._engine = engine
        self._limits = limits
        self._lease_seconds = lease_seconds
        self._holder = uuid.uuid4().hex  # this process: a slot it leased is given back by it only

    def take(self, origin: str) -> OriginSlot | None:
        params = {
            "origin": origin,
            "slots": self._limits.of(origin),
            "holder": self._holder,
            "seconds": self._lease_seconds,
        }
        row = self._run(_TAKE, params)[0]
        if row.resting is not None:
            raise OriginResting(origin, float(row.resting))
        return None if row.slot is None else OriginSlot(origin, row.slot)

    def give_back(self, slot: OriginSlot) -> None:
        self._run(_GIVE_BACK, {"origin": slot.origin, "slot": slot.slot, "holder": self._holder})

    def rest(self, origin: str, seconds: float) -> None:
        self._run(_REST, {"origin": origin, "seconds": seconds})

    def _run(self, statement: TextClause, params: dict) -> list[Row]:
        with unavailable_on_outage(), self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            result = c.execute(statement, params)
            return result.all() if result.returns_rows else []
