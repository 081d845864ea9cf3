"""Ports: what the use cases need from the outside world, as small abstract classes.

Adapters implement them; tests replace them with hand-written fakes. Every port is an
`abc.ABC` because Litestar checks injected values against their annotations. One import for
all of them (`from imgopt.application.ports import Clock`); each concern has a module of its own.
"""

from imgopt.application.ports.notification import EventDocuments, UnsafeUrl, UrlPolicy, WebhookSender
from imgopt.application.ports.persistence import (
    EVERY_TENANT,
    ApiKeyRepository,
    Claimed,
    DeliveryRepository,
    ImageJobRepository,
    ProductRepository,
    RequestRepository,
    Scope,
    SourceRepository,
    TenantRepository,
    Unavailable,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookRepository,
)
from imgopt.application.ports.pipeline import (
    FetchedImage,
    FetchFailed,
    ImageFetcher,
    ImageOptimizer,
    ImageStorage,
    NotModified,
    OptimizedImage,
    OptimizeFailed,
    OriginResting,
    OriginSlot,
    OriginSlots,
    StorageFailed,
    StoredObject,
)
from imgopt.application.ports.reading import ApiKeyReader, Page, Position, QueueReader, QueueSnapshot, StatusReader
from imgopt.application.ports.system import Clock, IdGenerator, RandomSource, WorkSignal

__all__ = [
    "EVERY_TENANT",
    "Scope",
    "Unavailable",
    "RequestRepository",
    "TenantRepository",
    "ApiKeyRepository",
    "ProductRepository",
    "Claimed",
    "ImageJobRepository",
    "SourceRepository",
    "WebhookRepository",
    "DeliveryRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Position",
    "Page",
    "StatusReader",
    "ApiKeyReader",
    "QueueSnapshot",
    "QueueReader",
    "FetchedImage",
    "FetchFailed",
    "ImageFetcher",
    "NotModified",
    "OriginResting",
    "OriginSlot",
    "OriginSlots",
    "OptimizedImage",
    "OptimizeFailed",
    "ImageOptimizer",
    "StorageFailed",
    "StoredObject",
    "ImageStorage",
    "UnsafeUrl",
    "UrlPolicy",
    "EventDocuments",
    "WebhookSender",
    "Clock",
    "RandomSource",
    "IdGenerator",
    "WorkSignal",
]
