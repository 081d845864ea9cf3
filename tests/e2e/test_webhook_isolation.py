"""Receivers that hang hold up only their own deliveries: the worker's other webhooks still go out."""

import dataclasses
import io
import threading

from imgopt.bootstrap.containers import create_container
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.worker.process import build_worker
from tests.support import LocalServer, Reply, csv_bytes, process_due, wait_for

HANGING = 24


def finished_request(container, origin: LocalServer):
    """A request whose only image is gone from its origin: it finishes (failed) at once."""
    receipt = container.use_cases.ingest_csv()(
        ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(f"1,Gone,{origin.url('/gone.jpg')}"))
    )
    process_due(container.use_cases)
    return receipt.request_id


def test_two_dozen_hanging_receivers_do_not_delay_an_unrelated_webhook(settings, clean_database):
    settings = dataclasses.replace(settings, webhook_timeout=60.0, worker_poll_seconds=0.5)
    container = create_container(settings)
    container.persistence.engine.override(clean_database)
    hang = threading.Event()
    with LocalServer() as origin, LocalServer() as receiver:
        hanging_urls = [receiver.route(f"/hang/{n}", Reply(b"", 204, gate=hang)) for n in range(HANGING)]
        prompt_url = receiver.route("/prompt", Reply(b"", 204))
        slow_request, other_request = finished_request(container, origin), finished_request(container, origin)
        register = container.use_cases.register_webhook()
        worker = build_worker(container, settings)
        worker.start()
        try:
            for url in hanging_urls:
                register(ANONYMOUS_TENANT_ID, url, slow_request)
            wait_for(lambda: hanging(receiver) == HANGING, timeout=60, message="every hanging receiver to be called")

            register(ANONYMOUS_TENANT_ID, prompt_url, other_request)
            wait_for(lambda: receiver.hits("/prompt"), timeout=30, message="the unrelated webhook")
            still_hanging = not hang.is_set() and hanging(receiver)
        finally:
            hang.set()
            worker.stop()
            container.persistence.engine.reset_override()
            container.shutdown_resources()

    assert still_hanging == HANGING


def hanging(receiver: LocalServer) -> int:
    return sum(1 for request in receiver.requests if request.path.startswith("/hang/"))
