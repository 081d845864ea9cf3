"""Tenants and their API keys: who a caller is, how a key looks, and how it is checked without being stored."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from imgopt.domain.errors import DomainError
from imgopt.domain.options import ORIGINAL_QUALITY, Quality

KEY_PREFIX = "imgopt_"
# 32 random bytes, base64url without padding: 43 characters after the prefix. Secret scanners match this.
KEY_PATTERN = re.compile(r"imgopt_[A-Za-z0-9_-]{43}")
# What listings show of a key: enough to tell keys apart, far too little to guess the rest.
SHOWN_CHARACTERS = len(KEY_PREFIX) + 6

ANONYMOUS_TENANT_ID = UUID("00000000-0000-4000-8000-000000000000")


class Unauthenticated(DomainError):
    code = "unauthenticated"


class KeyNotFound(DomainError):
    code = "key_not_found"


class TenantNotFound(DomainError):
    code = "tenant_not_found"


class InvalidName(DomainError):
    code = "invalid_name"


@dataclass(frozen=True, slots=True)
class Caller:
    """Whoever made a call: a tenant, through one of its keys (None when the API takes no key)."""

    tenant_id: UUID
    key_id: UUID | None = None


ANONYMOUS = Caller(ANONYMOUS_TENANT_ID)


@dataclass(frozen=True, slots=True)
class Tenant:
    """A team. Its uploads that name no quality get `default_quality`."""

    id: UUID
    name: str
    created_at: datetime
    default_quality: Quality = ORIGINAL_QUALITY


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as stored: its SHA-256 hash and the first characters, never the key itself."""

    id: UUID
    tenant_id: UUID
    name: str
    prefix: str
    key_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def admits(self, key_hash: str) -> bool:
        """Whether the key whose hash is `key_hash` is this one and is live; hashes are compared in constant time."""
        return not self.revoked and hmac.compare_digest(self.key_hash, key_hash)


def hash_key(presented: str) -> str:
    """SHA-256, hex. Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force."""
    return hashlib.sha256(presented.encode()).hexdigest()


def check_key_format(presented: str | None) -> str:
    """The key itself, or Unauthenticated saying what is wrong with what was sent (never echoing it)."""
    if not presented:
        raise Unauthenticated(
            "this endpoint needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
            "(create one with `imgopt keys create --tenant TEAM NAME`)"
        )
    if not KEY_PATTERN.fullmatch(presented):
        raise Unauthenticated(
            f"the API key is malformed: imgopt keys look like {KEY_PREFIX}… followed by 43 characters"
        )
    return presented


def new_api_key(key_id: UUID, tenant_id: UUID, name: str, plaintext: str, now: datetime) -> ApiKey:
    return ApiKey(key_id, tenant_id, name, plaintext[:SHOWN_CHARACTERS], hash_key(plaintext), now)


def check_name(name: str, what: str) -> str:
    """A tenant's or a key's name: 1 to 100 printable characters, spaces around it dropped."""
    name = name.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise InvalidName(f"a {what} name is 1 to 100 printable characters, got {name[:40]!r}")
    return name
