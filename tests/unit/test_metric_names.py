"""The metrics the docs, the alerts and the dashboard name are the ones imgopt exports."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imgopt.adapters.metrics.http import HttpMetrics
from imgopt.adapters.metrics.origins import OriginBackoffs
from imgopt.adapters.metrics.queue import QueueGauges
from imgopt.adapters.metrics.registry import new_registry
from imgopt.adapters.metrics.timing import CountedSender, TimedFetcher, TimedOptimizer
from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.ports import QueueReader, QueueSnapshot
from imgopt.domain.options import OptimizationOptions
from tests.unit.fakes import FakeFetcher, FakeOptimizer, FakeSender, FixedClock

ROOT = Path(__file__).resolve().parents[2]
# What names imgopt's metrics: the operations guide, the alert rules and the dashboard.
NAMING = ("docs/operations.md", "deploy/prometheus/alerts.yaml", "deploy/grafana/dashboard.json")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
JPEG = b"\xff\xd8\xff" + b"x" * 97


class StillQueue(QueueReader):
    def __init__(self) -> None:
        self.reads = 0

    def snapshot(self) -> QueueSnapshot:
        self.reads += 1
        return QueueSnapshot(NOW, 7, 2, NOW - timedelta(hours=1), 1, 3, None)


def exported_names() -> set[str]:
    registry = new_registry(QueueGauges(StillQueue()))
    WorkerMetrics(registry)
    OriginBackoffs(registry)(429)
    HttpMetrics(registry).answered("/health", "GET", 200, 0.001)
    fetched = TimedFetcher(FakeFetcher({"https://o.example/a.jpg": JPEG}), registry).fetch("https://o.example/a.jpg")
    TimedOptimizer(FakeOptimizer(), registry).optimize(fetched.data, OptimizationOptions())
    CountedSender(FakeSender(FixedClock()), registry).send("https://hooks.example/", {}, b"{}", "application/json")
    return {sample.name for family in registry.collect() for sample in family.samples}


def test_every_metric_the_operations_guide_the_alerts_and_the_dashboard_name_is_exported():
    exported = exported_names()
    bases = {re.sub(r"_(bucket|count|sum|created)$", "", name) for name in exported}

    for document in NAMING:
        named = set(re.findall(r"\bimgopt_[a-z_]+[a-z]", (ROOT / document).read_text()))
        assert named, document
        assert named <= exported | bases, f"{document} names {sorted(named - exported - bases)}"


def test_the_queue_is_read_at_most_once_however_often_it_is_scraped():
    reader, now = StillQueue(), [100.0]
    gauges = QueueGauges(reader, refresh_seconds=5, monotonic=lambda: now[0])

    first = {s.name + str(s.labels): s.value for family in gauges.collect() for s in family.samples}
    for _ in range(10):
        list(gauges.collect())
    now[0] += 5
    list(gauges.collect())

    assert reader.reads == 2
    assert first["imgopt_queue_images{'status': 'pending'}"] == 7
    assert first["imgopt_queue_oldest_pending_age_seconds{}"] == 3600
    assert first["imgopt_webhook_oldest_due_age_seconds{}"] == 0
