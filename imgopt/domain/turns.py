"""Turns in the queue: which requests a claim takes images from, and how many from each."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Contender:
    """A request with images due, as a claim finds it."""

    id: UUID
    created_at: datetime
    done: int  # images recorded, optimized or failed
    in_flight: int  # images claimed by some worker and not yet recorded
    tenant_in_flight: int = 0  # the same, over every running request of its tenant

    @property
    def attained(self) -> int:
        return self.done + self.in_flight


@dataclass(frozen=True, slots=True)
class Turns:
    """Tenants take turns, then the requests of each, so that no upload is stuck behind another.

    The tenant with the fewest images in flight goes first, so every tenant converges on an equal
    share of the workers. Among a tenant's requests (and between tenants as busy as each other),
    every request's first `head_start` images go before the images of requests that have had
    more: a small upload finishes about as soon as it would alone, and a big one loses only a
    moment to it. Beyond that, the request with the fewest images in flight goes first, ties to
    the oldest. Each is allowed an equal share of the claim, or enough to catch up with the
    others' images in flight, or what is left of its head start, whichever is more; a request
    with fewer due gives what it has and leaves the rest to the next.

    The database applies this rule in one statement, because only it sees every worker's claims
    at once (`adapters/postgres/jobs.py`); `allot` states it in Python, for the in-memory queue
    of the unit tests and as its reference.
    """

    head_start: int = 64

    def allot(self, contenders: Iterable[Contender], limit: int) -> list[tuple[Contender, int]]:
        """The contenders in turn order, each with how many images it may give to a claim of `limit`."""
        contenders = list(contenders)
        if not contenders:
            return []
        share = -(-limit // len(contenders))
        level = -(-(sum(c.in_flight for c in contenders) + limit) // len(contenders))
        ordered = sorted(contenders, key=self._order)
        return [(c, max(share, level - c.in_flight, self.head_start - c.attained)) for c in ordered]

    def _order(self, contender: Contender) -> tuple:
        return (
            contender.tenant_in_flight,
            min(contender.attained, self.head_start),
            contender.in_flight,
            contender.created_at,
            contender.id,
        )


@dataclass(frozen=True, slots=True)
class DownloadRoom:
    """How many more images a claim may give each tenant: `per_tenant` less what the claiming worker
    is already downloading for it (`downloading`), so one tenant's slow origin cannot take every
    download a worker has. `per_tenant` None: no cap (a library caller claiming by hand)."""

    per_tenant: int | None = None
    downloading: Mapping[UUID, int] = field(default_factory=dict)

    def of(self, tenant_id: UUID) -> int | None:
        if self.per_tenant is None:
            return None
        return max(self.per_tenant - self.downloading.get(tenant_id, 0), 0)

    def after(self, claimed: Iterable[UUID]) -> "DownloadRoom":
        """The room left once the images of these tenants (one entry an image) are downloading too."""
        downloading = dict(self.downloading)
        for tenant_id in claimed:
            downloading[tenant_id] = downloading.get(tenant_id, 0) + 1
        return DownloadRoom(self.per_tenant, downloading)
