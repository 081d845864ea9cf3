"""The wiring table: every port bound to its adapter, in the manner of Inversify modules.

`Core`, `Persistence` and `Network` are modules of adapters; `UseCases` declares the ports it
needs as typed dependencies; `Container` binds one to the other. Override any provider to
rebind it (`container.core.clock.override(providers.Object(FixedClock()))`).
"""

from dependency_injector import containers, providers

from imgopt.adapters.net.guard import AddressGuard, GuardedUrlPolicy
from imgopt.adapters.postgres.engine import make_engine
from imgopt.adapters.postgres.signal import PostgresWorkSignal
from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.adapters.storage import FilesystemStorage
from imgopt.adapters.system import RandomIds, SystemClock
from imgopt.application import ports
from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus
from imgopt.bootstrap.settings import Settings
from imgopt.domain.product_csv import CsvLimits


def _engine(url: str, pool_size: int):
    engine = make_engine(url, pool_size=pool_size)
    yield engine
    engine.dispose()


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

    guard = providers.Singleton(AddressGuard, allow_private_networks=config.allow_private_networks)
    url_policy = providers.Singleton(GuardedUrlPolicy, guard=guard)


class Imaging(containers.DeclarativeContainer):
    config = providers.Configuration()

    storage = providers.Singleton(FilesystemStorage, root=config.files_dir, public_base_url=config.public_base_url)


class UseCases(containers.DeclarativeContainer):
    config = providers.Configuration()

    uow = providers.Dependency(instance_of=ports.UnitOfWork)
    clock = providers.Dependency(instance_of=ports.Clock)
    ids = providers.Dependency(instance_of=ports.IdGenerator)
    links = providers.Dependency(instance_of=Links)
    url_policy = providers.Dependency(instance_of=ports.UrlPolicy)

    csv_limits = providers.Singleton(CsvLimits, max_rows=config.max_rows)
    announcer = providers.Factory(Announcer, clock=clock, ids=ids, links=links)
    register_webhook = providers.Factory(
        RegisterWebhook, uow=uow, clock=clock, ids=ids, url_policy=url_policy, announcer=announcer
    )
    ingest_csv = providers.Factory(
        IngestCsv, uow=uow, clock=clock, ids=ids, limits=csv_limits, register_webhook=register_webhook
    )
    get_status = providers.Factory(GetStatus, uow=uow, links=links)
    export_output_csv = providers.Factory(ExportOutputCsv, uow=uow)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    core = providers.Container(Core, config=config)
    persistence = providers.Container(Persistence, config=config)
    network = providers.Container(Network, config=config)
    imaging = providers.Container(Imaging, config=config)
    use_cases = providers.Container(
        UseCases,
        config=config,
        uow=persistence.uow,
        clock=core.clock,
        ids=core.ids,
        links=core.links,
        url_policy=network.url_policy,
    )


def create_container(settings: Settings) -> Container:
    """A container configured from `settings`, whose database_url must be set (see bootstrap.database)."""
    if not settings.database_url:
        raise ValueError("settings.database_url is not set; call imgopt.bootstrap.database.with_database first")
    container = Container()
    container.config.from_dict(
        {
            **settings.as_config(),
            "files_dir": settings.data_dir / "files",
            "pool_size": max(settings.concurrency + 4, 10),
        }
    )
    return container
