"""`GET /metrics` after a demo-sized upload: every counter says what happened, by route template, never by id."""

import httpx
from prometheus_client.exposition import choose_encoder
from prometheus_client.parser import text_string_to_metric_families

from tests.support import csv_bytes, wait_for

STATUS_200 = {"route": "/status/{request_id}", "method": "GET", "status": "200"}


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{base}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_count_the_images_bytes_failures_webhooks_and_requests_of_a_demo_sized_upload(service):
    o = service.origin
    rows = [f'{n},Shirt {n},"{o.url("/small-320x240.jpg")},{o.url("/flowers.jpeg")}"' for n in range(1, 11)]
    rows += [f'{n},Broken {n},"{o.url("/page.jpg")},{o.url("/missing.jpg")}"' for n in (11, 12)]
    receipt = service.upload(csv_bytes(*rows), webhookUrl=service.receiver.url("/hook"))
    request_id = receipt["requestId"]
    polls = 0

    def delivered() -> dict | None:
        nonlocal polls
        polls += 1
        status = httpx.get(f"{service.url}/status/{request_id}", params={"details": "true"}).json()
        deliveries = status["details"]["webhookDeliveries"]
        return status if deliveries and deliveries[0]["status"] == "delivered" else None

    status = wait_for(delivered, timeout=60, interval=0.1, message="the request to finish and its webhook to arrive")

    # A request is counted once its response has gone out: the last poll may land a moment after its answer.
    def counted() -> dict | None:
        samples = scrape(service.url)
        return samples if value(samples, "imgopt_http_requests_total", **STATUS_200) == polls else None

    samples = wait_for(counted, message=f"{polls} status polls counted")

    assert value(samples, "imgopt_images_finished_total", outcome="optimized") == 20
    assert value(samples, "imgopt_images_finished_total", outcome="failed") == 4
    assert value(samples, "imgopt_image_failures_total", **{"class": "image", "retried": "false"}) == 2
    assert value(samples, "imgopt_image_failures_total", **{"class": "fetch", "retried": "false"}) == 2
    assert value(samples, "imgopt_image_input_bytes_total") == status["bytesIn"] > 0
    assert value(samples, "imgopt_image_output_bytes_total") == status["bytesOut"] > 0
    # The two photos are fetched and optimized once each; their 18 other images reuse those outputs. A
    # failed source is asked again by its next image.
    assert value(samples, "imgopt_images_reused_total") == 18
    assert value(samples, "imgopt_fetch_duration_seconds_count", outcome="ok") == 2
    assert value(samples, "imgopt_fetch_duration_seconds_count", outcome="failed") == 4  # 404s, and HTML sniffed
    assert value(samples, "imgopt_optimize_duration_seconds_count", outcome="ok") == 2
    assert value(samples, "imgopt_webhook_attempts_total", result="2xx") == 1
    assert value(samples, "imgopt_webhook_attempts_total", result="5xx") == 0
    assert value(samples, "imgopt_leases_reclaimed_total") == 0
    assert value(samples, "imgopt_http_requests_total", route="/upload", method="POST", status="202") == 1
    assert value(samples, "imgopt_http_request_duration_seconds_count", route="/upload", method="POST") == 1
    assert value(samples, "imgopt_queue_images", status="pending") == 0
    assert value(samples, "imgopt_queue_images", status="processing") == 0
    assert value(samples, "imgopt_webhook_deliveries", state="due") == 0
    assert value(samples, "imgopt_worker_images_in_flight") == 0
    assert value(samples, "imgopt_worker_database_up") == 1
    assert not any(request_id in str(labels) for _, labels in samples)


def test_a_request_is_counted_without_its_url_or_an_invented_method(service):
    httpx.get(f"{service.url}/no/such/page")
    httpx.request("PROPFIND", f"{service.url}/health")

    samples = scrape(service.url)

    assert value(samples, "imgopt_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert value(samples, "imgopt_http_requests_total", route="<unmatched>", method="OTHER", status="405") == 1
    assert not any("/no/such/page" in str(labels) or "PROPFIND" in str(labels) for _, labels in samples)


def test_metrics_carry_one_content_type_with_one_charset_in_either_exposition_format(service):
    asks_openmetrics = "application/openmetrics-text; version=1.0.0"
    text = httpx.get(f"{service.url}/metrics")
    openmetrics = httpx.get(f"{service.url}/metrics", headers={"accept": asks_openmetrics})

    assert text.headers.get_list("content-type") == [choose_encoder("")[1]]
    assert openmetrics.headers.get_list("content-type") == [choose_encoder(asks_openmetrics)[1]]
    for response in (text, openmetrics):
        assert response.headers["content-type"].count("charset=") == 1, response.headers["content-type"]
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4;")
    assert openmetrics.text.endswith("# EOF\n")
