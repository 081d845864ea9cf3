"""API keys: create one (shown once), list them (never the key), revoke one; and who a presented key stands for."""

from dataclasses import dataclass
from uuid import UUID

from imgopt.application.ports import EVERY_TENANT, ApiKeyReader, Clock, IdGenerator, UnitOfWorkFactory
from imgopt.domain.options import ORIGINAL_QUALITY, Quality
from imgopt.domain.tenancy import (
    ANONYMOUS,
    ApiKey,
    Caller,
    KeyNotFound,
    Tenant,
    Unauthenticated,
    check_key_format,
    check_name,
    hash_key,
    new_api_key,
)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key and the only copy of it there will ever be: `plaintext` is not stored."""

    key: ApiKey
    tenant: str
    plaintext: str


@dataclass(frozen=True, slots=True)
class ListedKey:
    key: ApiKey
    tenant: str


@dataclass(frozen=True, slots=True)
class CreateApiKey:
    """Make a key for the tenant named `tenant`, creating the tenant on first use with `new_tenant_quality`."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    new_tenant_quality: Quality = ORIGINAL_QUALITY

    def __call__(self, tenant: str, name: str) -> CreatedKey:
        tenant, name, now = check_name(tenant, "tenant"), check_name(name, "key"), self.clock.now()
        plaintext = self.ids.api_key()
        with self.uow() as uow:
            owner = uow.tenants.named(tenant)
            if owner is None:
                owner = Tenant(self.ids.uuid(), tenant, now, self.new_tenant_quality)
                uow.tenants.add(owner)
            key = new_api_key(self.ids.uuid(), owner.id, name, plaintext, now)
            uow.keys.add(key)
            uow.commit()
        return CreatedKey(key, owner.name, plaintext)


@dataclass(frozen=True, slots=True)
class ListApiKeys:
    uow: UnitOfWorkFactory

    def __call__(self, tenant: str | None = None) -> list[ListedKey]:
        """Every key, newest first, or only those of the tenant named `tenant` (none when it does not exist)."""
        with self.uow() as uow:
            if tenant is None:
                return [ListedKey(key, name) for key, name in uow.keys.listed(EVERY_TENANT)]
            owner = uow.tenants.named(tenant.strip())
            return [ListedKey(key, name) for key, name in uow.keys.listed(owner.id)] if owner else []


@dataclass(frozen=True, slots=True)
class RevokeApiKey:
    """Revoke a key: from the commit on, every API process refuses it."""

    uow: UnitOfWorkFactory
    clock: Clock

    def __call__(self, key_id: UUID) -> ApiKey:
        with self.uow() as uow:
            key = uow.keys.revoke(key_id, self.clock.now())
            if key is None:
                raise KeyNotFound(f"no API key with id {key_id}")
            uow.commit()
        return key


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Who a presented key stands for: its tenant, if the key exists and is not revoked.

    With authentication off every caller is the one anonymous tenant, key or no key.
    `at_once` answers from memory without blocking, or None when the database must be asked.
    """

    keys: ApiKeyReader
    required: bool

    def at_once(self, presented: str | None) -> Caller | None:
        if not self.required:
            return ANONYMOUS
        key_hash = hash_key(check_key_format(presented))
        key = self.keys.remembered(key_hash)
        return self._caller(key, key_hash) if key is not None else None

    def __call__(self, presented: str | None) -> Caller:
        if not self.required:
            return ANONYMOUS
        key_hash = hash_key(check_key_format(presented))
        return self._caller(self.keys.find(key_hash), key_hash)

    @staticmethod
    def _caller(key: ApiKey | None, key_hash: str) -> Caller:
        if key is None or not key.admits(key_hash):
            raise Unauthenticated("the API key is unknown or has been revoked")
        return Caller(key.tenant_id, key.id)
