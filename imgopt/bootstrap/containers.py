"""The wiring table: every port bound to its adapter, in the manner of Inversify modules.

`Core`, `Persistence`, `Network` and `Imaging` are modules of adapters; `UseCases` and
`WorkerModule` declare the ports they need as typed dependencies; `Container` binds one to the
other. Use cases hold no state of their own (each transaction gets a new unit of work from the
factory they are given), so each is a singleton. Override any provider to rebind it
(`container.core.clock.override(providers.Object(clock))`) before the first use case is built.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from dependency_injector import containers, providers

from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer
from imgopt.adapters.net.fetcher import HttpxImageFetcher
from imgopt.adapters.net.guard import AddressGuard, GuardedUrlPolicy
from imgopt.adapters.net.sender import HttpxWebhookSender
from imgopt.adapters.postgres.engine import make_engine
from imgopt.adapters.postgres.signal import PostgresWorkSignal
from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.adapters.storage import FilesystemStorage
from imgopt.adapters.system import RandomIds, SystemClock, new_worker_id
from imgopt.application import ports
from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.delivery import DeliverWebhooks, DeliveryOptions
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.processing import ProcessImages, WorkerOptions
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus
from imgopt.bootstrap.settings import Settings
from imgopt.domain.model import RetryPolicy
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


def _thread_pool(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    yield pool
    # Not waiting: the worker already recorded or released its jobs; a download still running ends
    # when the fetcher's connections are closed, right after.
    pool.shutdown(wait=False, cancel_futures=True)


class Core(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    links = providers.Singleton(Links, base_url=config.public_base_url)


class Persistence(containers.DeclarativeContainer):
    config = providers.Configuration()

    engine = providers.Resource(_engine, url=config.database_url, pool_size=config.pool_size)
    uow = providers.Factory(SqlAlchemyUnitOfWork, engine=engine)
    work_signal = providers.Factory(PostgresWorkSignal, url=config.database_url)


class Network(containers.DeclarativeContainer):
    config = providers.Configuration()
    clock = providers.Dependency(instance_of=ports.Clock)

    guard = providers.Singleton(AddressGuard, allow_private_networks=config.allow_private_networks)
    url_policy = providers.Singleton(GuardedUrlPolicy, guard=guard)
    fetcher = providers.Resource(
        _closing,
        HttpxImageFetcher,
        guard=guard,
        max_bytes=config.max_image_bytes,
        connect_timeout=config.fetch_connect_timeout,
        read_timeout=config.fetch_read_timeout,
        total_timeout=config.fetch_total_timeout,
    )
    sender = providers.Resource(_closing, HttpxWebhookSender, guard=guard, clock=clock, timeout=config.webhook_timeout)


class Imaging(containers.DeclarativeContainer):
    config = providers.Configuration()

    # IMGOPT_OPTIMIZER: both keep one contract; libvips resizes 1.7x as fast (docs/performance.md).
    pillow = providers.Singleton(
        PillowOptimizer, max_pixels=config.max_pixels, auto_quality_target=config.auto_quality_target
    )
    optimizer = providers.Selector(
        config.optimizer, pillow=pillow, vips=providers.Singleton(VipsOptimizer, pillow=pillow)
    )
    storage = providers.Singleton(FilesystemStorage, root=config.files_dir, public_base_url=config.public_base_url)


class UseCases(containers.DeclarativeContainer):
    config = providers.Configuration()

    uow = providers.Dependency(instance_of=Callable)  # a UnitOfWorkFactory: a new unit of work per call
    clock = providers.Dependency(instance_of=ports.Clock)
    ids = providers.Dependency(instance_of=ports.IdGenerator)
    links = providers.Dependency(instance_of=Links)
    url_policy = providers.Dependency(instance_of=ports.UrlPolicy)

    csv_limits = providers.Singleton(CsvLimits, max_rows=config.max_rows)
    announcer = providers.Singleton(Announcer, clock=clock, ids=ids, links=links)
    register_webhook = providers.Singleton(
        RegisterWebhook, uow=uow, clock=clock, ids=ids, url_policy=url_policy, announcer=announcer
    )
    ingest_csv = providers.Singleton(
        IngestCsv, uow=uow, clock=clock, ids=ids, limits=csv_limits, register_webhook=register_webhook
    )
    get_status = providers.Singleton(GetStatus, uow=uow, links=links)
    export_output_csv = providers.Singleton(ExportOutputCsv, uow=uow)


class WorkerModule(containers.DeclarativeContainer):
    config = providers.Configuration()

    uow = providers.Dependency(instance_of=Callable)
    clock = providers.Dependency(instance_of=ports.Clock)
    fetcher = providers.Dependency(instance_of=ports.ImageFetcher)
    optimizer = providers.Dependency(instance_of=ports.ImageOptimizer)
    storage = providers.Dependency(instance_of=ports.ImageStorage)
    sender = providers.Dependency(instance_of=ports.WebhookSender)
    announcer = providers.Dependency(instance_of=Announcer)
    export_output_csv = providers.Dependency(instance_of=ExportOutputCsv)

    worker_id = providers.Singleton(new_worker_id)
    # Twice as many threads as cores, so downloads overlap optimizing (see WorkerOptions.threads).
    image_pool = providers.Resource(_thread_pool, workers=config.image_threads, name="imgopt-image")
    # Deliveries wait on receivers, not on the CPU: a few more threads than cores costs nothing.
    delivery_pool = providers.Resource(_thread_pool, workers=8, name="imgopt-webhook")
    worker_options = providers.Singleton(
        WorkerOptions,
        worker_id=worker_id,
        concurrency=config.concurrency,
        lease=providers.Factory(timedelta, seconds=config.lease_seconds),
        retry=providers.Singleton(RetryPolicy, max_attempts=config.max_attempts),
        stop_grace=providers.Factory(timedelta, seconds=config.worker_stop_grace_seconds),
    )
    delivery_options = providers.Singleton(
        DeliveryOptions,
        worker_id=worker_id,
        schedule=providers.Singleton(RetrySchedule.parse, config.webhook_retry_schedule),
    )
    process_images = providers.Singleton(
        ProcessImages,
        uow=uow,
        fetcher=fetcher,
        optimizer=optimizer,
        storage=storage,
        clock=clock,
        announcer=announcer,
        executor=image_pool,
        options=worker_options,
    )
    deliver_webhooks = providers.Singleton(
        DeliverWebhooks,
        uow=uow,
        sender=sender,
        clock=clock,
        export_output_csv=export_output_csv,
        executor=delivery_pool,
        options=delivery_options,
    )


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    core = providers.Container(Core, config=config)
    persistence = providers.Container(Persistence, config=config)
    network = providers.Container(Network, config=config, clock=core.clock)
    imaging = providers.Container(Imaging, config=config)
    use_cases = providers.Container(
        UseCases,
        config=config,
        uow=persistence.uow.provider,
        clock=core.clock,
        ids=core.ids,
        links=core.links,
        url_policy=network.url_policy,
    )
    worker = providers.Container(
        WorkerModule,
        config=config,
        uow=persistence.uow.provider,
        clock=core.clock,
        fetcher=network.fetcher,
        optimizer=imaging.optimizer,
        storage=imaging.storage,
        sender=network.sender,
        announcer=use_cases.announcer,
        export_output_csv=use_cases.export_output_csv,
    )


def create_container(settings: Settings) -> Container:
    """A container configured from `settings`, whose database_url must be set (see bootstrap.database)."""
    if not settings.database_url:
        raise ValueError("settings.database_url is not set; call imgopt.bootstrap.database.with_database first")
    container = Container()
    container.config.from_dict(
        {
            **settings.as_config(),
            "concurrency": settings.concurrency,
            "image_threads": 2 * settings.concurrency,
            "files_dir": settings.data_dir / "files",
            "pool_size": max(settings.concurrency + 4, 10),
        }
    )
    return container
