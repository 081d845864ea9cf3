"""Origin slots in PostgreSQL: a few leased rows per origin, and when each origin may be asked again."""

import logging
import threading
import uuid

from sqlalchemy import Engine, Row, TextClause, text

from imgopt.adapters.postgres.outages import unavailable_on_outage
from imgopt.application.ports import OriginResting, OriginSlot, OriginSlots, Unavailable
from imgopt.domain.origins import OriginLimits

log = logging.getLogger(__name__)

# A slot's lease is short and renewed while its holder lives: a worker that dies (OOM kill, SIGKILL)
# holding slots, in use or kept between downloads, blocks their origin for at most this long.
LEASE_SECONDS = 15.0

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

# Every slot this process holds, in one statement: a download may last far longer than a lease.
_RENEW = text(
    "UPDATE images.origin_leases SET lease_until = now() + make_interval(secs => :seconds) WHERE holder = :holder"
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
    """`limits.of(origin)` slots per origin across every worker, each leased for `lease_seconds`.

    While this process holds any slot, a thread of its own renews all its leases every third of
    `lease_seconds`, so a download longer than a lease keeps its slot and a process that dies loses
    its slots a lease later. Should renewing fail (the database away), the leases may end under a
    download: another worker may then take the slot, one download over the cap until this one ends.
    """

    def __init__(self, engine: Engine, limits: OriginLimits, lease_seconds: float = LEASE_SECONDS) -> None:
        self._engine = engine
        self._limits = limits
        self._lease_seconds = lease_seconds
        self._holder = uuid.uuid4().hex  # this process: a slot it leased is given back by it only
        self._lock = threading.Condition()
        self._held = 0
        self._closed = False
        self._renewer: threading.Thread | None = None

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
        if row.slot is None:
            return None
        self._count(+1)
        return OriginSlot(origin, row.slot)

    def give_back(self, slot: OriginSlot) -> None:
        try:
            self._run(_GIVE_BACK, {"origin": slot.origin, "slot": slot.slot, "holder": self._holder})
        finally:  # not given back (the database away): no longer renewed, its lease ends by itself
            self._count(-1)

    def rest(self, origin: str, seconds: float) -> None:
        self._run(_REST, {"origin": origin, "seconds": seconds})

    def close(self) -> None:
        """Stop renewing: the slots still held end with their leases."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        if self._renewer is not None:
            self._renewer.join()

    def _count(self, change: int) -> None:
        with self._lock:
            self._held += change
            if self._renewer is None and not self._closed:
                self._renewer = threading.Thread(target=self._renew, name="imgopt-origin-leases", daemon=True)
                self._renewer.start()
            self._lock.notify()

    def _renew(self) -> None:
        while True:
            with self._lock:
                # Idle while no slot is held; then a renewal every third of a lease, the first a third after.
                self._lock.wait_for(lambda: self._held or self._closed)
                if self._lock.wait_for(lambda: self._closed, timeout=self._lease_seconds / 3):
                    return
                if not self._held:
                    continue
            try:
                self._run(_RENEW, {"holder": self._holder, "seconds": self._lease_seconds})
            except Unavailable as error:  # the next round tries again; meanwhile the leases run
                log.warning("could not renew origin slot leases: %s", error)
            except Exception:  # a bug: log it, and the renewer goes on
                log.exception("could not renew origin slot leases")

    def _run(self, statement: TextClause, params: dict) -> list[Row]:
        with unavailable_on_outage(), self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            result = c.execute(statement, params)
            return result.all() if result.returns_rows else []
