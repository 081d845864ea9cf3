"""Tenants and their API keys; a revocation is announced on a channel every API process listens to."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Row, text

from imgopt.application.ports import ApiKeyRepository, Scope, TenantRepository
from imgopt.domain.options import Quality
from imgopt.domain.tenancy import ApiKey, Tenant

KEYS_CHANGED = "imgopt_keys"
TENANT_COLUMNS = "id, name, created_at, default_quality, default_auto_quality"
KEY_COLUMNS = "id, tenant_id, name, prefix, key_hash, created_at, last_used_at, revoked_at"

_WAITING = text(
    """
    WITH tenant AS (SELECT id FROM images.tenants WHERE id = :tenant FOR UPDATE)
    SELECT coalesce(sum(image_count - optimized_count - failed_count - cancelled_count), 0)
    FROM images.requests WHERE tenant_id = (SELECT id FROM tenant) AND status IN ('pending', 'processing')
    """
)

_LISTED = text(
    f"""
    SELECT {", ".join("k." + c for c in KEY_COLUMNS.split(", "))}, t.name AS tenant_name
    FROM images.apikeys k JOIN images.tenants t ON t.id = k.tenant_id
    WHERE CAST(:tenant AS uuid) IS NULL OR k.tenant_id = :tenant
    ORDER BY k.created_at DESC, k.id DESC
    """
)

# NOTIFY is sent when the transaction commits: API processes forget the keys they hold at that moment.
_REVOKE = text(
    f"""
    WITH revoked AS (
        UPDATE images.apikeys SET revoked_at = coalesce(revoked_at, :now) WHERE id = :id RETURNING {KEY_COLUMNS})
    SELECT revoked.*, pg_notify('{KEYS_CHANGED}', revoked.id::text) FROM revoked
    """
)


class PostgresTenantRepository(TenantRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def named(self, name: str) -> Tenant | None:
        row = self._connection.execute(
            text(f"SELECT {TENANT_COLUMNS} FROM images.tenants WHERE name = :name"), {"name": name}
        ).first()
        return tenant_from(row) if row else None

    def get(self, tenant_id: UUID) -> Tenant | None:
        row = self._connection.execute(
            text(f"SELECT {TENANT_COLUMNS} FROM images.tenants WHERE id = :id"), {"id": tenant_id}
        ).first()
        return tenant_from(row) if row else None

    def add(self, tenant: Tenant) -> None:
        self._connection.execute(
            text(
                """
                INSERT INTO images.tenants (id, name, created_at, default_quality, default_auto_quality)
                VALUES (:id, :name, :created_at, :quality, :auto)
                """
            ),
            {
                "id": tenant.id,
                "name": tenant.name,
                "created_at": tenant.created_at,
                "quality": tenant.default_quality.level,
                "auto": tenant.default_quality.auto,
            },
        )

    def set_default_quality(self, tenant_id: UUID, quality: Quality) -> None:
        self._connection.execute(
            text("UPDATE images.tenants SET default_quality = :quality, default_auto_quality = :auto WHERE id = :id"),
            {"id": tenant_id, "quality": quality.level, "auto": quality.auto},
        )

    def waiting_images(self, tenant_id: UUID) -> int:
        return self._connection.execute(_WAITING, {"tenant": tenant_id}).scalar()


class PostgresApiKeyRepository(ApiKeyRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, key: ApiKey) -> None:
        self._connection.execute(
            text(
                """
                INSERT INTO images.apikeys (id, tenant_id, name, prefix, key_hash, created_at)
                VALUES (:id, :tenant_id, :name, :prefix, :key_hash, :created_at)
                """
            ),
            {
                "id": key.id,
                "tenant_id": key.tenant_id,
                "name": key.name,
                "prefix": key.prefix,
                "key_hash": key.key_hash,
                "created_at": key.created_at,
            },
        )

    def listed(self, tenant_id: Scope) -> list[tuple[ApiKey, str]]:
        return [(key_from(row), row.tenant_name) for row in self._connection.execute(_LISTED, {"tenant": tenant_id})]

    def revoke(self, key_id: UUID, now: datetime) -> ApiKey | None:
        row = self._connection.execute(_REVOKE, {"id": key_id, "now": now}).first()
        return key_from(row) if row else None


def tenant_from(row: Row) -> Tenant:
    return Tenant(row.id, row.name, row.created_at, Quality(row.default_quality, row.default_auto_quality))


def key_from(row: Row) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
