"""The wiring table: every port bound to its adapter, in the manner of Inversify modules.

`Core`, `Persistence`, `Telemetry`, `Network` and `Imaging` are modules of adapters; `UseCases` declares the
ports it needs as typed dependencies; `Container` binds the one to the other. Use cases hold no
state of their own (each transaction gets a new unit of work from the factory they are given), so
each is a singleton. Override any provider to rebind it
(`container.core.clock.override(providers.Object(clock))`) before the first use case is built.
"""

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta

from dependency_injector import containers, providers

from imgopt.adapters.imaging.cpu_slots import CpuBoundOptimizer
from imgopt.adapters.imaging.memory_budget import TRIM_ABOVE_BYTES, MemoryBoundedOptimizer, MemoryBudget
from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer
from imgopt.adapters.metrics.http import HttpMetrics
from imgopt.adapters.metrics.origins import OriginBackoffs
from imgopt.adapters.metrics.queue import QueueGauges
from imgopt.adapters.metrics.registry import new_registry
from imgopt.adapters.metrics.timing import CountedSender, TimedFetcher, TimedOptimizer
from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.adapters.net.fetcher import HttpxImageFetcher
from imgopt.adapters.net.guard import AddressGuard, GuardedUrlPolicy
from imgopt.adapters.net.kept_slots import KeptOriginSlots
from imgopt.adapters.net.politeness import PoliteFetcher
from imgopt.adapters.net.sender import HttpxWebhookSender
from imgopt.adapters.postgres.api_keys import PostgresApiKeyReader, RememberingApiKeyReader
from imgopt.adapters.postgres.engine import make_engine
from imgopt.adapters.postgres.origins import PostgresOriginSlots
from imgopt.adapters.postgres.queue import PostgresQueueReader
from imgopt.adapters.postgres.signal import IMAGE_WORK, WEBHOOK_WORK, PostgresWorkSignal
from imgopt.adapters.postgres.status import PostgresStatusReader
from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.adapters.status_documents import JsonEventDocuments
from imgopt.adapters.storage.locations import cloud_variables, open_storage
from imgopt.adapters.system import RandomIds, SystemClock, SystemRandomSource, new_worker_id
from imgopt.application import ports
from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.api_keys import Authenticate, CreateApiKey, ListApiKeys, RevokeApiKey
from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases, ReclaimExpiredLeases, ReleaseImages
from imgopt.application.use_cases.default_quality import ParseUploadOptions, SetDefaultQuality, TenantNamed
from imgopt.application.use_cases.delivery import ClaimDeliveries, DeliverWebhook
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.management import CancelRequest, DeleteRequest, RetryRequest
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.retention import PurgeRequests, SweepInterruptedWrites
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus, ListRequests
from imgopt.application.use_cases.webhook_management import (
    DeleteWebhook,
    ListDeliveries,
    ListWebhooks,
    Redeliver,
    RotateWebhookSecret,
)
from imgopt.bootstrap.settings import Settings
from imgopt.domain.image_jobs import RetryPolicy
from imgopt.domain.limits import WaitingImagesLimit
from imgopt.domain.product_csv import CsvLimits
from imgopt.domain.webhooks import RetrySchedule


def _engine(url: str, pool_size: int) -> Iterator:
    engine = make_engine(url, pool_size=pool_size)
    yield engine
    engine.dispose()


def _closing(factory, **arguments) -> Iterator:
    """An adapter that holds connections, closed when the container shuts its resources down."""
    adapter = factory(**arguments)
    yield adapter
    adapter.close()


def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


class Core(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    random = providers.Singleton(SystemRandomSource)
    links = providers.Singleton(Links, base_url=config.public_base_url)
    documents = providers.Singleton(JsonEventDocuments)
    worker_id = providers.Singleton(new_worker_id)


class Persistence(containers.DeclarativeContainer):
    config = providers.Configuration()

    engine = providers.Resource(_engine, url=config.database_url, pool_size=config.pool_size)
    uow = providers.Factory(SqlAlchemyUnitOfWork, engine=engine)
    status_reader = providers.Singleton(PostgresStatusReader, engine=engine)
    key_reader = providers.Resource(
        _closing,
        RememberingApiKeyReader,
        reader=providers.Singleton(PostgresApiKeyReader, engine=engine),
        engine=engine,
    )
    queue_reader = providers.Singleton(PostgresQueueReader, engine=engine)
    image_work = providers.Resource(_closing, PostgresWorkSignal, engine=engine, channel=IMAGE_WORK)
    webhook_work = providers.Resource(_closing, PostgresWorkSignal, engine=engine, channel=WEBHOOK_WORK)
    # Leases renewed by a thread of its own while it holds a slot; stopped on shutdown.
    origin_slots = providers.Resource(_closing, PostgresOriginSlots, engine=engine, limits=config.origin_limits)


class Telemetry(containers.DeclarativeContainer):
    """Prometheus metrics in a registry of the container's own; the queue gauges read through a port."""

    queue_reader = providers.Dependency(instance_of=ports.QueueReader)

    registry = providers.Singleton(new_registry, providers.Singleton(QueueGauges, reader=queue_reader))
    worker = providers.Singleton(WorkerMetrics, registry=registry)
    http = providers.Singleton(HttpMetrics, registry=registry)


class Network(containers.DeclarativeContainer):
    config = providers.Configuration()
    clock = providers.Dependency(instance_of=ports.Clock)
    registry = providers.Dependency()
    origin_slots = providers.Dependency(instance_of=ports.OriginSlots)

    guard = providers.Singleton(AddressGuard, allow_private_networks=config.allow_private_networks)
    url_policy = providers.Singleton(GuardedUrlPolicy, guard=guard)
    http_fetcher = providers.Resource(
        _closing,
        HttpxImageFetcher,
        guard=guard,
        max_bytes=config.max_image_bytes,
        connect_timeout=config.fetch_connect_timeout,
        read_timeout=config.fetch_read_timeout,
        total_timeout=config.fetch_total_timeout,
        user_agent=config.user_agent,
        max_retry_after=config.origin_max_backoff_seconds,
    )
    http_sender = providers.Resource(
        _closing, HttpxWebhookSender, guard=guard, clock=clock, timeout=config.webhook_timeout
    )
    # A slot given back is kept a moment for the next download of its origin (no statement per image).
    kept_slots = providers.Resource(_closing, KeptOriginSlots, slots=origin_slots)
    # Timed inside the origin's slot: the histogram shows the download, not the wait for a slot.
    fetcher = providers.Resource(
        _closing,
        PoliteFetcher,
        fetcher=providers.Singleton(TimedFetcher, fetcher=http_fetcher, registry=registry),
        slots=kept_slots,
        wait_seconds=config.fetch_total_timeout,
        on_backoff=providers.Singleton(OriginBackoffs, registry=registry),
    )
    sender = providers.Singleton(CountedSender, sender=http_sender, registry=registry)


class Imaging(containers.DeclarativeContainer):
    config = providers.Configuration()
    registry = providers.Dependency()

    # IMGOPT_OPTIMIZER: both keep one contract; libvips resizes 1.7x as fast (docs/performance.md).
    pillow = providers.Singleton(
        PillowOptimizer, max_pixels=config.max_pixels, auto_quality_target=config.auto_quality_target
    )
    chosen = providers.Selector(config.optimizer, pillow=pillow, vips=providers.Singleton(VipsOptimizer, pillow=pillow))
    # Timed inside the CPU slots: the histogram shows the work, not the wait for a core. Admitted by
    # the memory its pixels take before it waits for a slot.
    optimizer = providers.Singleton(
        MemoryBoundedOptimizer,
        optimizer=providers.Singleton(
            CpuBoundOptimizer,
            optimizer=providers.Singleton(TimedOptimizer, optimizer=chosen, registry=registry),
            slots=config.concurrency,
        ),
        budget=providers.Singleton(MemoryBudget, limit=config.memory_budget_bytes),
        trim_above=TRIM_ABOVE_BYTES,
    )
    storage = providers.Singleton(
        open_storage, url=config.storage_location, public_url=config.files_public_url, environ=config.cloud_environment
    )


class UseCases(containers.DeclarativeContainer):
    """Every use case, each a singleton: they hold no state (a new unit of work per transaction)."""

    config = providers.Configuration()

    uow = providers.Dependency(instance_of=Callable)  # a UnitOfWorkFactory: a new unit of work per call
    status_reader = providers.Dependency(instance_of=ports.StatusReader)
    key_reader = providers.Dependency(instance_of=ports.ApiKeyReader)
    image_work = providers.Dependency(instance_of=ports.WorkSignal)
    webhook_work = providers.Dependency(instance_of=ports.WorkSignal)
    clock = providers.Dependency(instance_of=ports.Clock)
    ids = providers.Dependency(instance_of=ports.IdGenerator)
    random = providers.Dependency(instance_of=ports.RandomSource)
    links = providers.Dependency(instance_of=Links)
    documents = providers.Dependency(instance_of=ports.EventDocuments)
    worker_id = providers.Dependency(instance_of=str)
    url_policy = providers.Dependency(instance_of=ports.UrlPolicy)
    fetcher = providers.Dependency(instance_of=ports.ImageFetcher)
    optimizer = providers.Dependency(instance_of=ports.ImageOptimizer)
    storage = providers.Dependency(instance_of=ports.ImageStorage)
    sender = providers.Dependency(instance_of=ports.WebhookSender)

    announcer = providers.Singleton(Announcer, clock=clock, ids=ids, links=links, documents=documents)
    register_webhook = providers.Singleton(
        RegisterWebhook,
        uow=uow,
        clock=clock,
        ids=ids,
        url_policy=url_policy,
        announcer=announcer,
        webhook_work=webhook_work,
    )
    ingest_csv = providers.Singleton(
        IngestCsv,
        uow=uow,
        clock=clock,
        ids=ids,
        limits=providers.Singleton(CsvLimits, max_rows=config.max_rows),
        register_webhook=register_webhook,
        image_work=image_work,
        waiting_limit=providers.Singleton(WaitingImagesLimit, limit=config.max_waiting_images),
    )
    parse_upload_options = providers.Singleton(ParseUploadOptions, uow=uow)
    get_status = providers.Singleton(GetStatus, reader=status_reader, links=links)
    export_output_csv = providers.Singleton(
        ExportOutputCsv, reader=status_reader, formula_escape=config.csv_formula_escape
    )
    list_requests = providers.Singleton(ListRequests, reader=status_reader)
    cancel_request = providers.Singleton(
        CancelRequest, uow=uow, clock=clock, announcer=announcer, webhook_work=webhook_work
    )
    retry_request = providers.Singleton(RetryRequest, uow=uow, clock=clock, image_work=image_work)
    delete_request = providers.Singleton(DeleteRequest, uow=uow, storage=storage)
    purge_requests = providers.Singleton(PurgeRequests, uow=uow, clock=clock, storage=storage)
    sweep_interrupted_writes = providers.Singleton(SweepInterruptedWrites, storage=storage)

    list_webhooks = providers.Singleton(ListWebhooks, reader=status_reader)
    delete_webhook = providers.Singleton(DeleteWebhook, uow=uow)
    rotate_webhook_secret = providers.Singleton(RotateWebhookSecret, uow=uow, clock=clock, ids=ids)
    list_deliveries = providers.Singleton(ListDeliveries, reader=status_reader)
    redeliver = providers.Singleton(Redeliver, uow=uow, clock=clock, webhook_work=webhook_work)

    authenticate = providers.Singleton(Authenticate, keys=key_reader, required=config.auth_required)
    create_api_key = providers.Singleton(
        CreateApiKey, uow=uow, clock=clock, ids=ids, new_tenant_quality=config.new_tenant_default_quality
    )
    list_api_keys = providers.Singleton(ListApiKeys, uow=uow)
    revoke_api_key = providers.Singleton(RevokeApiKey, uow=uow, clock=clock)
    tenant_named = providers.Singleton(TenantNamed, uow=uow)
    set_default_quality = providers.Singleton(SetDefaultQuality, uow=uow)

    claim_images = providers.Singleton(
        ClaimImages,
        uow=uow,
        clock=clock,
        worker_id=worker_id,
        lease=providers.Factory(_seconds, config.lease_seconds),
        producer=optimizer.provided.producer,
    )
    process_image = providers.Singleton(
        ProcessImage,
        fetcher=fetcher,
        optimizer=optimizer,
        storage=storage,
        clock=clock,
        retry=providers.Singleton(RetryPolicy, max_attempts=config.max_attempts),
        random=random,
    )
    record_outcomes = providers.Singleton(
        RecordOutcomes, uow=uow, clock=clock, worker_id=worker_id, announcer=announcer, webhook_work=webhook_work
    )
    extend_leases = providers.Singleton(
        ExtendLeases, uow=uow, clock=clock, worker_id=worker_id, lease=providers.Factory(_seconds, config.lease_seconds)
    )
    release_images = providers.Singleton(ReleaseImages, uow=uow, worker_id=worker_id, image_work=image_work)
    reclaim_expired_leases = providers.Singleton(ReclaimExpiredLeases, uow=uow, clock=clock, image_work=image_work)
    claim_deliveries = providers.Singleton(
        ClaimDeliveries, uow=uow, clock=clock, lease=providers.Factory(_seconds, config.delivery_lease_seconds)
    )
    deliver_webhook = providers.Singleton(
        DeliverWebhook,
        uow=uow,
        sender=sender,
        clock=clock,
        export_output_csv=export_output_csv,
        schedule=providers.Singleton(RetrySchedule.parse, config.webhook_retry_schedule),
    )


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    core = providers.Container(Core, config=config)
    persistence = providers.Container(Persistence, config=config)
    telemetry = providers.Container(Telemetry, queue_reader=persistence.queue_reader)
    network = providers.Container(
        Network, config=config, clock=core.clock, registry=telemetry.registry, origin_slots=persistence.origin_slots
    )
    imaging = providers.Container(Imaging, config=config, registry=telemetry.registry)
    use_cases = providers.Container(
        UseCases,
        config=config,
        uow=persistence.uow.provider,
        status_reader=persistence.status_reader,
        key_reader=persistence.key_reader,
        image_work=persistence.image_work,
        webhook_work=persistence.webhook_work,
        clock=core.clock,
        ids=core.ids,
        random=core.random,
        links=core.links,
        documents=core.documents,
        worker_id=core.worker_id,
        url_policy=network.url_policy,
        fetcher=network.fetcher,
        optimizer=imaging.optimizer,
        storage=imaging.storage,
        sender=network.sender,
    )


def create_container(settings: Settings, environ: Mapping[str, str] | None = None) -> Container:
    """A container configured from `settings`, whose database_url must be set (see bootstrap.database).

    Object storage credentials and endpoints come from the standard variables (AWS_*, GOOGLE_*) of
    `environ`, os.environ by default.
    """
    if not settings.database_url:
        raise ValueError("settings.database_url is not set; call imgopt.bootstrap.database.with_database first")
    container = Container()
    container.config.from_dict(container_config(settings, environ))
    return container


def container_config(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """What the providers read: the settings, and what they derive. Unit tests configure `UseCases` with it."""
    return {
        **settings.as_config(),
        "concurrency": settings.concurrency,
        "storage_location": settings.output_storage_url,
        "files_public_url": settings.files_public_url,
        "cloud_environment": cloud_variables(os.environ if environ is None else environ),
        "pool_size": settings.pool_size,
        "delivery_lease_seconds": settings.delivery_lease_seconds,
        "origin_limits": settings.origin_limits,
        "memory_budget_bytes": settings.memory_budget_bytes,
        "user_agent": settings.user_agent,
        "auth_required": settings.auth_required,
        "new_tenant_default_quality": settings.new_tenant_default_quality,
    }
