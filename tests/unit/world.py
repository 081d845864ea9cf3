"""The use cases wired to hand-written fakes, as the container wires them to adapters."""

import copy
import io
from datetime import timedelta
from functools import partial
from uuid import UUID

from imgopt.adapters.status_documents import JsonEventDocuments
from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.api_keys import Authenticate, CreateApiKey, ListApiKeys, RevokeApiKey
from imgopt.application.use_cases.claiming import ClaimImages, ReclaimExpiredLeases, ReleaseImages
from imgopt.application.use_cases.delivery import ClaimDeliveries, DeliverWebhook
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.management import CancelRequest, DeleteRequest, RetryRequest
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.retention import PurgeRequests
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus, ListRequests
from imgopt.application.use_cases.webhook_management import (
    DeleteWebhook,
    ListDeliveries,
    ListWebhooks,
    Redeliver,
    RotateWebhookSecret,
)
from imgopt.domain.image_jobs import RetryPolicy
from imgopt.domain.limits import WaitingImagesLimit
from imgopt.domain.product_csv import CsvLimits
from imgopt.domain.webhooks import RetrySchedule, WebhookFormat
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
# The calls a tenant makes, bound to its id: world.status(request_id) is tenant A's, world.acting_as(B).status(...) B's.
TENANT_CALLS = {
    "ingest": "ingest_csv",
    "status": "get_status",
    "export": "export_output_csv",
    "register": "register_webhook",
    "list_requests": "_list_requests",
    "cancel": "cancel_request",
    "retry_request": "_retry_request",
    "delete": "delete_request",
    "list_webhooks": "_list_webhooks",
    "delete_webhook": "_delete_webhook",
    "rotate": "rotate_secret",
    "deliveries": "list_deliveries",
    "redeliver": "_redeliver",
}


class World:
    def __init__(
        self,
        clock: FixedClock | None = None,
        images: dict | None = None,
        statuses: list | None = None,
        retry: RetryPolicy | None = None,
        waiting_limit: int = 0,
    ):
        self.db = FakeDatabase()
        self.uow = self.db.unit_of_work
        self.clock = clock or FixedClock()
        self.ids = SequentialIds()
        self.image_work, self.webhook_work = FakeWorkSignal(), FakeWorkSignal()
        self.fetcher = FakeFetcher(images or {})
        self.storage = FakeStorage()
        self.sender = FakeSender(self.clock, statuses)
        reader = FakeStatusReader(self.db)
        announcer = self.announcer = Announcer(self.clock, self.ids, LINKS, JsonEventDocuments())
        self.register_webhook = RegisterWebhook(
            self.uow, self.clock, self.ids, AllowListUrlPolicy(), self.announcer, self.webhook_work
        )
        self.ingest_csv = IngestCsv(
            self.uow,
            self.clock,
            self.ids,
            CsvLimits(),
            self.register_webhook,
            self.image_work,
            WaitingImagesLimit(waiting_limit),
        )
        self.get_status = GetStatus(reader, LINKS)
        self.export_output_csv = ExportOutputCsv(reader)
        self._list_requests = ListRequests(reader)
        self.cancel_request = CancelRequest(self.uow, self.clock, announcer, self.webhook_work)
        self._retry_request = RetryRequest(self.uow, self.clock, self.image_work)
        self.delete_request = DeleteRequest(self.uow, self.storage)
        self.purge = PurgeRequests(self.uow, self.clock, self.storage, batch=2)
        self._list_webhooks = ListWebhooks(reader)
        self._delete_webhook = DeleteWebhook(self.uow)
        self.rotate_secret = RotateWebhookSecret(self.uow, self.clock, self.ids)
        self.list_deliveries = ListDeliveries(reader)
        self._redeliver = Redeliver(self.uow, self.clock, self.webhook_work)
        self.create_key = CreateApiKey(self.uow, self.clock, self.ids)
        self.list_keys = ListApiKeys(self.uow)
        self.revoke_key = RevokeApiKey(self.uow, self.clock)
        self.authenticate = Authenticate(FakeApiKeyReader(self.db), required=True)
        self.claim = ClaimImages(self.uow, self.clock, "w1", LEASE)
        self.retry = retry or RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10))
        self.random = FixedRandom()
        self.process_image = ProcessImage(
            self.fetcher, FakeOptimizer(), self.storage, self.clock, self.retry, self.random
        )
        self.record = RecordOutcomes(self.uow, self.clock, "w1", announcer, self.webhook_work)
        self.release = ReleaseImages(self.uow, "w1", self.image_work)
        self.reclaim = ReclaimExpiredLeases(self.uow, self.clock, self.image_work)
        self.claim_deliveries = ClaimDeliveries(self.uow, self.clock, timedelta(minutes=2))
        self.deliver_webhook = DeliverWebhook(
            self.uow, self.sender, self.clock, self.export_output_csv, RetrySchedule.parse("0,5s,1m")
        )
        self._act_as(TENANT_A)

    def _act_as(self, tenant: UUID) -> None:
        self.tenant = tenant
        for call, use_case in TENANT_CALLS.items():
            setattr(self, call, partial(getattr(self, use_case), tenant))

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
