"""The use cases wired to hand-written fakes, as the container wires them to adapters."""

import io
from datetime import timedelta

from imgopt.adapters.documents import JsonEventDocuments
from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.claiming import ClaimImages, ReclaimExpiredLeases, ReleaseImages
from imgopt.application.use_cases.delivery import ClaimDeliveries, DeliverWebhook
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus
from imgopt.domain.model import RetryPolicy
from imgopt.domain.product_csv import CsvLimits
from imgopt.domain.webhooks import RetrySchedule, WebhookFormat
from tests.support import csv_bytes
from tests.unit.fakes import (
    AllowListUrlPolicy,
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


class World:
    def __init__(
        self,
        clock: FixedClock | None = None,
        images: dict | None = None,
        statuses: list | None = None,
        retry: RetryPolicy | None = None,
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
        self.register = RegisterWebhook(
            self.uow, self.clock, self.ids, AllowListUrlPolicy(), self.announcer, self.webhook_work
        )
        self.ingest = IngestCsv(self.uow, self.clock, self.ids, CsvLimits(), self.register, self.image_work)
        self.status = GetStatus(reader, LINKS)
        self.export = ExportOutputCsv(reader)
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
            self.uow, self.sender, self.clock, self.export, RetrySchedule.parse("0,5s,1m")
        )

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
