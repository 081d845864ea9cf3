"""Sources: what a tenant last fetched from an image URL, so that a re-upload costs only what changed.

Per tenant, per URL, per set of options and per producer (the optimizer's engine, version and settings
that change an output), the service remembers the origin's validators (ETag,
Last-Modified), a hash of the bytes and the output made of them. A later image of the same source
asks the origin only whether it changed (a conditional GET); unchanged, it points at the same
output: no optimization, no second object. Within one upload a source is fetched once: its other
images wait for the first, then take its output without asking the origin again.
"""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from imgopt.domain.options import OptimizationOptions
from imgopt.domain.outputs import StoredImage

# How long an image waits (in the queue, not on a thread) while another image fetches its source.
WAIT_FOR_SOURCE_SECONDS = 1.0


def options_fingerprint(options: OptimizationOptions) -> str:
    """The options as one stable string: outputs made with equal fingerprints are interchangeable."""
    quality = "auto" if options.auto_quality else str(options.quality)
    return f"q={quality};w={options.max_width or ''};h={options.max_height or ''};f={options.format.value}"


def output_fingerprint(options: OptimizationOptions, producer: str) -> str:
    """What an output is made under: the options, and the optimizer that makes it (`ImageOptimizer.producer`).

    An output remembered under another producer (another engine or version, retuned tables, another
    auto quality target) is not the one this worker would make: its source is fetched and optimized again.
    """
    return f"{options_fingerprint(options)};by={producer}" if producer else options_fingerprint(options)


@dataclass(frozen=True, slots=True)
class SourceKey:
    """One tenant's one URL under one set of options and one producer: tenants never share what they fetched."""

    tenant_id: UUID
    url: str
    options: str  # output_fingerprint: the options and the producer

    @classmethod
    def of(cls, tenant_id: UUID, url: str, options: OptimizationOptions, producer: str = "") -> "SourceKey":
        return cls(tenant_id, url, output_fingerprint(options, producer))


@dataclass(frozen=True, slots=True)
class Validators:
    """What the origin said identifies the bytes it sent (RFC 9110): asked back on the next fetch."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def updated_by(self, newer: "Validators") -> "Validators":
        """These, with whatever `newer` says in their place (a 304 may carry a fresh ETag, or none)."""
        return Validators(newer.etag or self.etag, newer.last_modified or self.last_modified)


@dataclass(frozen=True, slots=True)
class SourceFetch:
    """What one attempt learnt of its source: the validators and hash to remember with its output."""

    key: SourceKey
    validators: Validators = Validators()
    content_sha256: bytes | None = None  # None: nothing fetched (the attempt failed, or only waited)


@dataclass(frozen=True, slots=True)
class RememberedSource:
    """The source as last fetched: its validators, the hash of its bytes, the output made of them,
    and the upload that fetched or reused it last."""

    validators: Validators
    content_sha256: bytes
    output: StoredImage
    request_id: UUID


class SourcePlan(StrEnum):
    REUSE = "reuse"  # this upload fetched it already: take that output, without asking the origin
    FETCH = "fetch"  # fetch it (conditionally, when something is remembered)
    WAIT = "wait"  # another image of the tenant is fetching it right now


@dataclass(frozen=True, slots=True)
class SourceTurn:
    """What a claim found of an image's source: the output remembered (if any), and whether this image
    holds the source's fetch (a lease, so that of a tenant's images of one source one fetches at a time)."""

    key: SourceKey
    remembered: RememberedSource | None = None
    holds_fetch: bool = True
    # The upload one of whose images of this source failed for good: its other images each fetch on their
    # own (as if alone), rather than wait one after another for a turn that would fail the same way.
    failed_for: UUID | None = None

    def revalidates(self, request_id: UUID) -> bool:
        """Whether the image most likely ends at its download, with nothing to optimize: its output is remembered
        and the origin can be asked whether it changed (validators), or its upload fetched it already.
        """
        remembered = self.remembered
        return remembered is not None and (bool(remembered.validators) or remembered.request_id == request_id)

    def plan(self, request_id: UUID) -> SourcePlan:
        if self.remembered is not None and self.remembered.request_id == request_id:
            return SourcePlan.REUSE
        return SourcePlan.FETCH if self.holds_fetch or self.failed_for == request_id else SourcePlan.WAIT
