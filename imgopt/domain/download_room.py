"""A worker's room for one more tenant's downloads: no tenant's slow origin takes every download a worker has."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID


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
