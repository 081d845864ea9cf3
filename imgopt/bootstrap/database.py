"""Choose the database: the configured one, else an embedded PostgreSQL under the data directory."""

import dataclasses
import logging

from imgopt.adapters.postgres.embedded import EmbeddedPostgresMissing, embedded_postgres_url
from imgopt.bootstrap.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def with_database(settings: Settings) -> Settings:
    if settings.database_url:
        return settings
    directory = settings.data_dir / "postgres"
    try:
        url = embedded_postgres_url(directory)
    except EmbeddedPostgresMissing as exc:
        raise SettingsError(str(exc)) from None
    log.info("IMGOPT_DATABASE_URL is not set: using the embedded PostgreSQL in %s", directory)
    return dataclasses.replace(settings, database_url=url)
