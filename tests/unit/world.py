"""The use cases wired to hand-written fakes by the container's own `UseCases` module, its dependencies overridden."""

import copy
import dataclasses
import io
from datetime import timedelta
from functools import partial
from uuid import UUID

from imgopt.adapters.status_documents import JsonEventDocuments
from imgopt.application.links import Links
from imgopt.bootstrap.containers import UseCases, container_config
from imgopt.bootstrap.settings import Settings
from imgopt.domain.image_jobs import RetryPolicy
from imgopt.domain.webhooks import WebhookFormat
from tests.support import csv_bytes
from tests.unit.fakes import (
    AllowListUrlPolicy,
    FakeApiKeyReader,
    FakeDatabase,
    FakeFetcher,
    FakeOptimizer,
    FakeSender,
    FakeStatusReader,
    FakeStorage,
    FakeWorkSignal,
    FixedClock,
    FixedRandom,
    SequentialIds,
)

LINKS = Links("http://imgopt.test")
LEASE = timedelta(minutes=5)
TENANT_A = UUID("aaaaaaaa-0000-4000-8000-000000000000")
TENANT_B = UUID("bbbbbbbb-0000-4000-8000-000000000000")
# The settings of the unit world: retries come back within a minute, so tests advance the clock a little.
SETTINGS = Settings(database_url="fake://", lease_seconds=int(LEASE.total_seconds()), max_attempts=3,
                    webhook_retry_schedule="0,5s,1m")  # fmt: skip
# The calls a tenant makes, bound to its id: world.status(request_id) is tenant A's, world.acting_as(B).status(...) B's.
TENANT_CALLS = {
    "ingest": "ingest_csv",
    "status": "get_status",
    "export": "export_output_csv",
    "register": "register_webhook",
    "list_requests": "list_requests",
    "cancel": "cancel_request",
    "retry_request": "retry_request",
    "delete": "delete_request",
    "list_webhooks": "list_webhooks",
    "delete_webhook": "delete_webhook",
    "rotate": "rotate_webhook_secret",
    "deliveries": "list_deliveries",
    "redeliver": "redeliver",
}
# Shorter names the tests call the worker's use cases by.
WORKER_CALLS = {
    "claim": "claim_images",
    "record": "record_outcomes",
    "release": "release_images",
    "reclaim": "reclaim_expired_leases",
    "purge": "purge_requests",
    "create_key": "create_api_key",
    "list_keys": "list_api_keys",
    "revoke_key": "revoke_api_key",
    "tenant_named": "tenant_named",
    "set_default_quality": "set_default_quality",
    "upload_options": "parse_upload_options",
}


class World:
    def __init__(
        self,
        clock: FixedClock | None = None,
        images: dict | None = None,
        statuses: list | None = None,
        retry: RetryPolicy | None = None,
        waiting_limit: int = 0,
        new_tenant_quality: str = SETTINGS.new_tenant_quality,
    ):
        self.db = FakeDatabase()
        self.uow = self.db.unit_of_work
        self.clock = clock or FixedClock()
        self.ids = SequentialIds()
        self.image_work, self.webhook_work = FakeWorkSignal(), FakeWorkSignal()
        self.fetcher = FakeFetcher(images or {})
        self.storage = FakeStorage()
        self.optimizer = FakeOptimizer()
        self.sender = FakeSender(self.clock, statuses)
        self.random = FixedRandom()
        self.retry = retry or RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10))
        self.use_cases = UseCases(
            config=container_config(dataclasses.replace(SETTINGS, new_tenant_quality=new_tenant_quality))
            | {"max_waiting_images": waiting_limit, "auth_required": True},
            uow=self.uow,
            status_reader=FakeStatusReader(self.db),
            key_reader=FakeApiKeyReader(self.db),
            image_work=self.image_work,
            webhook_work=self.webhook_work,
            clock=self.clock,
            ids=self.ids,
            random=self.random,
            links=LINKS,
            documents=JsonEventDocuments(),
            worker_id="w1",
            url_policy=AllowListUrlPolicy(),
            fetcher=self.fetcher,
            optimizer=self.optimizer,
            storage=self.storage,
            sender=self.sender,
        )
        self.use_cases.process_image.add_kwargs(retry=self.retry)
        self.use_cases.purge_requests.add_kwargs(batch=2)  # small, so that batches show
        for name in ("announcer", "register_webhook", "ingest_csv", "process_image", "authenticate",
                     "claim_deliveries", "deliver_webhook", "export_output_csv"):  # fmt: skip
            setattr(self, name, getattr(self.use_cases, name)())
        for call, use_case in WORKER_CALLS.items():
            setattr(self, call, getattr(self.use_cases, use_case)())
        self._act_as(TENANT_A)

    def _act_as(self, tenant: UUID) -> None:
        self.tenant = tenant
        for call, use_case in TENANT_CALLS.items():
            setattr(self, call, partial(getattr(self.use_cases, use_case)(), tenant))

    def acting_as(self, tenant: UUID) -> "World":
        """The same world (one database, one worker), its calls made as `tenant`."""
        other = copy.copy(self)
        other._act_as(tenant)
        return other

    def upload(self, *rows: str, webhook: str | None = None, webhook_format=WebhookFormat.JSON, options=None):
        extra = {"options": options} if options else {}
        return self.ingest(io.BytesIO(csv_bytes(*rows)), webhook_url=webhook, webhook_format=webhook_format, **extra)

    def process(self, batch: int = 4) -> int:
        """What a worker's runner does, on one thread: claim, process, record, until nothing is due."""
        recorded = 0
        while jobs := self.claim(batch):
            recorded += len(self.record([self.process_image(job) for job in jobs]))
        return recorded

    def deliver(self) -> int:
        """Attempt every due delivery once."""
        dispatches = self.claim_deliveries(100)
        for dispatch in dispatches:
            self.deliver_webhook(dispatch)
        return len(dispatches)
