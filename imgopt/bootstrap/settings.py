"""Configuration, read once from IMGOPT_* environment variables."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib.metadata import version
from pathlib import Path

from imgopt.adapters.storage.locations import check_storage_url
from imgopt.adapters.usable_cpus import usable_cpus
from imgopt.bootstrap.logging import LOG_FORMATS
from imgopt.domain.errors import InvalidOptions
from imgopt.domain.options import Quality
from imgopt.domain.origins import MAX_ORIGIN_CONCURRENCY, OriginLimits
from imgopt.domain.webhooks import DEFAULT_RETRY_DELAYS, RetrySchedule

MiB = 1024 * 1024
FILES_PATH = "/files"
"""Where the API serves outputs: `{IMGOPT_PUBLIC_BASE_URL}/files/{key}`."""
OPTIMIZERS = ("pillow", "vips")
API_DOCS = ("off", "redoc", "swagger")
"""What `/schema` shows people: nothing (the JSON document is always at `/schema/openapi.json`), Redoc or Swagger UI."""


def default_concurrency(cores: int) -> int:
    """Images a worker optimizes at once unless told: one per core it may use, and one more.

    The cores are those the process may use (`usable_cpus`: its container's CPU limit and the cores it
    is pinned to), not the host's: a 2-CPU pod on a 64-core node optimizes 3 at once, not 65.

    The one more keeps every core busy while a thread is between images (storing its output,
    taking the next download, waiting its turn for the GIL). The bare optimizer is no faster
    with a thread more than cores; the whole service is (docs/performance.md, "What was changed to get there").
    """
    return cores + 1


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path("imgopt-data")
    public_base_url: str = "http://127.0.0.1:8000"
    storage_url: str | None = None
    storage_public_url: str | None = None
    allow_private_networks: bool = False
    csv_formula_escape: bool = True  # output.csv cells a spreadsheet would run as a formula get a leading '
    max_upload_bytes: int = 256 * MiB
    max_rows: int = 1_000_000
    max_image_bytes: int = 25 * MiB
    max_pixels: int = 50_000_000
    worker_poll_seconds: float = 2.0
    worker_concurrency: int = 0
    worker_stop_grace_seconds: float = 10.0
    lease_seconds: int = 300
    max_attempts: int = 4
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 20.0
    fetch_total_timeout: float = 60.0
    webhook_timeout: float = 10.0
    webhook_retry_schedule: str = DEFAULT_RETRY_DELAYS
    status_cache_seconds: float = 0.25
    metrics_port: int | None = None
    retention_days: int | None = None
    log_format: str = "text"
    optimizer: str = "vips"
    auto_quality_target: float = 70.0
    # The default quality a tenant is created with (1 to 100, or auto); tenants that exist keep theirs.
    new_tenant_quality: str = "50"
    auth: str = "required"
    api_docs: str = "off"
    rate_limit_per_minute: int = 600
    auth_failures_per_minute: int = 30  # calls with a wrong key from one client address; then 429 for that address
    max_waiting_images: int = 1_000_000
    # Downloads, apart from the optimizing threads (docs/operations.md, "Sizing a worker").
    worker_downloads: int = 0  # downloads a worker runs at once; 0: four for each image it optimizes at once
    worker_tenant_downloads: int = 0  # of which one tenant's at most; 0: half of them
    # Re-upload images whose source is remembered with validators, claimed this many at a time; 0: as any other.
    worker_revalidation_group: int = 64
    # Origins, each someone's server: downloads at once from every worker together, the longest rest believed.
    origin_concurrency: int = 4
    # Other caps for some origins: `host=N`, `host:port=N` or `*.domain=N`, comma-separated (a CDN many shops share).
    origin_concurrency_overrides: str = ""
    origin_max_backoff_seconds: float = 600.0
    user_agent_contact: str | None = None  # a URL (or mailto:) an origin's owner can reach the operator at
    # Memory: what the images a worker optimizes at once may take; 0: half the cgroup's limit or of the host's memory.
    worker_memory_mb: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))  # a library caller may pass a string
        object.__setattr__(self, "auth", self.auth.strip().lower())
        object.__setattr__(self, "api_docs", self.api_docs.strip().lower())
        for name in ("max_upload_bytes", "max_rows", "max_image_bytes", "max_pixels", "lease_seconds", "max_attempts"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{env_name(name)} must be positive, got {getattr(self, name)}")
        if self.auth not in ("required", "off"):
            raise SettingsError(f"{env_name('auth')} must be required or off, got {self.auth!r}")
        for name in ("rate_limit_per_minute", "auth_failures_per_minute", "max_waiting_images"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{env_name(name)} must be 0 (no limit) or more, got {getattr(self, name)}")
        if self.retention_days is not None and self.retention_days <= 0:
            raise SettingsError(f"{env_name('retention_days')} must be 1 or more days; unset, outputs are kept")
        if self.metrics_port is not None and not 0 < self.metrics_port < 65536:
            raise SettingsError(f"{env_name('metrics_port')} must be a port number, got {self.metrics_port}")
        if self.worker_concurrency < 0:
            raise SettingsError(f"{env_name('worker_concurrency')} must be 0 (usable CPUs + 1) or more")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError(f"{env_name('public_base_url')} must be an http(s) URL, got {self.public_base_url!r}")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"{env_name('log_format')} must be {' or '.join(LOG_FORMATS)}, got {self.log_format!r}")
        public = self.storage_public_url
        if public is not None and not public.startswith(("http://", "https://")):
            raise SettingsError(f"{env_name('storage_public_url')} must be an http(s) URL, got {public!r}")
        try:
            if self.storage_url is not None:
                check_storage_url(self.storage_url)
        except ValueError as exc:
            raise SettingsError(f"{env_name('storage_url')}: {exc}") from None
        self._check_choice("optimizer", OPTIMIZERS)
        self._check_choice("api_docs", API_DOCS)
        if not 0 < self.auto_quality_target < 100:
            raise SettingsError(f"{env_name('auto_quality_target')} must be a SSIMULACRA2 score between 0 and 100")
        try:
            Quality.parse(self.new_tenant_quality)
        except InvalidOptions:
            quality = self.new_tenant_quality
            raise SettingsError(f"{env_name('new_tenant_quality')} must be 1 to 100 or auto, got {quality!r}") from None
        try:
            RetrySchedule.parse(self.webhook_retry_schedule)
        except ValueError as exc:
            raise SettingsError(f"{env_name('webhook_retry_schedule')}: {exc}") from None
        self._check_downloads()

    def _check_downloads(self) -> None:
        for name in ("worker_downloads", "worker_tenant_downloads", "worker_revalidation_group"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{env_name(name)} must be 0 (the default) or more, got {getattr(self, name)}")
        if not 0 < self.origin_concurrency <= MAX_ORIGIN_CONCURRENCY:
            raise SettingsError(
                f"{env_name('origin_concurrency')} must be 1 to {MAX_ORIGIN_CONCURRENCY}, got {self.origin_concurrency}"
            )
        try:
            OriginLimits.parse(self.origin_concurrency, self.origin_concurrency_overrides)
        except ValueError as exc:
            raise SettingsError(f"{env_name('origin_concurrency_overrides')}: {exc}") from None
        if self.worker_memory_mb < 0:
            raise SettingsError(f"{env_name('worker_memory_mb')} must be 0 (half the memory there is) or more")
        if self.origin_max_backoff_seconds < 0:
            raise SettingsError(f"{env_name('origin_max_backoff_seconds')} must be 0 or more seconds")
        contact = self.user_agent_contact
        if contact is not None and (
            not contact.startswith(("http://", "https://", "mailto:")) or not contact.isprintable() or " " in contact
        ):
            raise SettingsError(f"{env_name('user_agent_contact')} must be an http(s) or mailto: URL, got {contact!r}")

    def _check_choice(self, field_name: str, choices: tuple[str, ...]) -> None:
        value = getattr(self, field_name)
        if value not in choices:
            raise SettingsError(f"{env_name(field_name)} must be one of {', '.join(choices)}, got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Settings from IMGOPT_* variables (os.environ by default), then `overrides`."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(env_name(field.name))
            if raw is not None and raw.strip() != "":
                values[field.name] = _parse(field.name, field.type, raw.strip())
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def auth_required(self) -> bool:
        return self.auth == "required"

    @property
    def new_tenant_default_quality(self) -> Quality:
        """IMGOPT_NEW_TENANT_QUALITY, read: what a tenant created from now on gets for its uploads that name none."""
        return Quality.parse(self.new_tenant_quality)

    # Sizing, derived from one number (docs/operations.md, "Sizing a worker"): with c = `concurrency`
    # (IMGOPT_WORKER_CONCURRENCY, else the usable CPUs + 1), a worker optimizes c images at once and
    # downloads 4c (IMGOPT_WORKER_DOWNLOADS), one tenant's 2c at most; its database pool keeps
    # max(c + 4, 10) connections and opens as many more when all are taken: the worker's loops hold
    # one each (five at most), the downloads' short origin-slot statements share the rest in turn, and
    # the optimizing threads touch no database.
    @property
    def concurrency(self) -> int:
        """Images a worker optimizes at once."""
        return self.worker_concurrency or default_concurrency(_usable_cpus())

    @property
    def downloads(self) -> int:
        """Images a worker downloads at once, on threads apart from the `concurrency` that optimize."""
        return self.worker_downloads or 4 * self.concurrency

    @property
    def pool_size(self) -> int:
        """Connections the database pool keeps (and opens as many more when all are taken)."""
        return max(self.concurrency + 4, 10)

    @property
    def tenant_downloads(self) -> int:
        """Of `downloads`, how many one tenant's images may take: its slow origin cannot take them all."""
        return min(self.worker_tenant_downloads or max(self.downloads // 2, 1), self.downloads)

    @property
    def user_agent(self) -> str:
        """What downloads call themselves: the product and version, and where an origin's owner can reach us."""
        product = f"imgopt/{version('imgopt')}"
        return f"{product} (image optimizer; +{self.user_agent_contact})" if self.user_agent_contact else product

    @property
    def memory_budget_bytes(self) -> int:
        """What the images a worker optimizes at once may take (`MemoryBoundedOptimizer`)."""
        return self.worker_memory_mb * MiB if self.worker_memory_mb else memory_limit_bytes() // 2

    @property
    def delivery_lease_seconds(self) -> float:
        """How long a claimed webhook delivery stays hidden from other workers: past any attempt's timeout."""
        return max(120.0, self.webhook_timeout * 4)

    @property
    def origin_limits(self) -> OriginLimits:
        """Downloads at once per origin from every worker: IMGOPT_ORIGIN_CONCURRENCY, or an override's."""
        return OriginLimits.parse(self.origin_concurrency, self.origin_concurrency_overrides)

    @property
    def output_storage_url(self) -> str:
        """IMGOPT_STORAGE_URL, else the folder `files` of the data directory."""
        return self.storage_url or (self.data_dir / "files").resolve().as_uri()

    @property
    def files_public_url(self) -> str:
        """The base of output URLs: a CDN or public bucket when one is set, else the API's /files route."""
        return (self.storage_public_url or self.public_base_url.rstrip("/") + FILES_PATH).rstrip("/")

    def as_config(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


@cache
def _usable_cpus() -> int:
    return usable_cpus()


CGROUP_MEMORY_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def memory_limit_bytes(cgroup_files: tuple[Path, ...] = CGROUP_MEMORY_LIMITS) -> int:
    """The memory this process may use: its cgroup's limit (v2, then v1) when one is set, else the host's."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in cgroup_files:
        try:
            raw = path.read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and 0 < int(raw) < physical:  # "max", or v1's huge number: no limit
            return int(raw)
    return physical


def env_name(field_name: str) -> str:
    return "IMGOPT_" + field_name.upper()


def _parse(name: str, kind: object, raw: str) -> object:
    try:
        if kind in (bool, "bool"):
            lowered = raw.lower()
            if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError("expected true or false")
            return lowered in ("1", "true", "yes", "on")
        if kind in (int, "int", int | None):
            return int(raw.replace("_", ""))
        if kind in (float, "float"):
            return float(raw)
        if kind in (Path, "Path"):
            return Path(raw).expanduser()
        return raw
    except ValueError as exc:
        raise SettingsError(f"{env_name(name)}={raw!r} is not valid: {exc}") from None
