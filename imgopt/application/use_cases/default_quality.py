"""A tenant's default quality: what its uploads that name no quality are encoded at, and how an operator changes it."""

from dataclasses import dataclass, replace
from uuid import UUID

from imgopt.application.ports import UnitOfWorkFactory
from imgopt.domain.options import ORIGINAL_QUALITY, OptimizationOptions, Quality
from imgopt.domain.tenancy import Tenant, TenantNotFound


@dataclass(frozen=True, slots=True)
class ParseUploadOptions:
    """A tenant's upload options from loosely typed input (form fields): a quality left out is the tenant's default.

    The one place an upload's options are made for a tenant: the HTTP upload calls it, and so should a service
    that calls IngestCsv without HTTP and wants the tenant's default (IngestCsv takes the options as given).
    """

    uow: UnitOfWorkFactory

    def __call__(
        self,
        tenant_id: UUID,
        quality: str | int | None = None,
        max_width: str | int | None = None,
        max_height: str | int | None = None,
        format: str | None = None,
    ) -> OptimizationOptions:
        with self.uow() as uow:
            tenant = uow.tenants.get(tenant_id)
        default = tenant.default_quality if tenant else ORIGINAL_QUALITY
        return OptimizationOptions.parse(quality, max_width, max_height, format, default_quality=default)


@dataclass(frozen=True, slots=True)
class TenantNamed:
    """The tenant named `name`, with its default quality; TenantNotFound when there is none."""

    uow: UnitOfWorkFactory

    def __call__(self, name: str) -> Tenant:
        with self.uow() as uow:
            tenant = uow.tenants.named(name.strip())
        if tenant is None:
            raise _not_found(name)
        return tenant


@dataclass(frozen=True, slots=True)
class SetDefaultQuality:
    """From now on, the uploads of the tenant named `name` that name no quality get `quality`.

    Uploads already accepted keep the options they were accepted with.
    """

    uow: UnitOfWorkFactory

    def __call__(self, name: str, quality: Quality) -> Tenant:
        with self.uow() as uow:
            tenant = uow.tenants.named(name.strip())
            if tenant is None:
                raise _not_found(name)
            uow.tenants.set_default_quality(tenant.id, quality)
            uow.commit()
        return replace(tenant, default_quality=quality)


def _not_found(name: str) -> TenantNotFound:
    return TenantNotFound(f"no tenant named {name.strip()[:100]!r} (`imgopt keys create --tenant` makes one)")
