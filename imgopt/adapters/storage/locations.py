"""IMGOPT_STORAGE_URL to a storage: `file:///path`, `s3://bucket[/prefix]`, `gs://bucket[/prefix]`."""

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imgopt.adapters.storage.filesystem import FilesystemStorage
from imgopt.adapters.storage.object_store import ObstoreStorage
from imgopt.application.ports import ImageStorage

SCHEMES = ("file", "s3", "gs")
_STANDARD_PREFIXES = ("AWS_", "GOOGLE_")
# obstore would retry for three minutes by default; the worker has its own backoff, so fail soon and let it retry.
RETRY = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}
TIMEOUTS = {"connect_timeout": timedelta(seconds=5), "timeout": timedelta(seconds=60)}


def check_storage_url(url: str) -> None:
    """ValueError unless `url` names a storage imgopt can open."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"expected file:///absolute/path, s3://bucket[/prefix] or gs://bucket[/prefix], got {url!r}")
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        raise ValueError(f"a file URL needs an absolute path, as in file:///var/lib/imgopt/files, got {url!r}")
    if parts.scheme != "file" and not parts.netloc:
        raise ValueError(f"the URL names no bucket: {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"the URL may not carry a query or a fragment: {url!r}")


def cloud_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of `environ` that configure cloud clients (AWS_*, GOOGLE_*), and no others."""
    return {name: value for name, value in environ.items() if name.startswith(_STANDARD_PREFIXES)}


def open_storage(url: str, public_url: str, environ: Mapping[str, str]) -> ImageStorage:
    """The storage at `url`, handing out `{public_url}/{key}`; credentials and endpoint from the standard variables."""
    check_storage_url(url)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FilesystemStorage(Path(unquote(parts.path)), public_url)
    bucket, prefix = parts.netloc, unquote(parts.path).strip("/") or None
    if parts.scheme == "s3":
        return ObstoreStorage(_s3_store(bucket, prefix, environ), url, public_url)
    return ObstoreStorage(_gcs_store(bucket, prefix, environ), url, public_url)


def _s3_store(bucket: str, prefix: str | None, environ: Mapping[str, str]):
    from obstore.store import S3Store

    # The names every AWS SDK reads; a service-specific endpoint wins over the general one, as in the SDKs.
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    config = {
        "access_key_id": environ.get("AWS_ACCESS_KEY_ID"),
        "secret_access_key": environ.get("AWS_SECRET_ACCESS_KEY"),
        "session_token": environ.get("AWS_SESSION_TOKEN"),
        "region": environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
        "endpoint": endpoint,
    }
    return S3Store(
        bucket,
        prefix=prefix,
        config={name: value for name, value in config.items() if value},
        client_options={**TIMEOUTS, "allow_http": bool(endpoint and endpoint.startswith("http://"))},
        retry_config=RETRY,
    )


def _gcs_store(bucket: str, prefix: str | None, environ: Mapping[str, str]):
    from obstore.store import GCSStore

    credentials = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    config = {"service_account_path": credentials} if credentials else {}
    return GCSStore(bucket, prefix=prefix, config=config, client_options=TIMEOUTS, retry_config=RETRY)
