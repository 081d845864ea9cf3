"""Run the demo: local origin, real API, real worker, real signed webhook, and a summary."""

import argparse
import dataclasses
import logging
import time
from contextlib import ExitStack

import httpx
import standardwebhooks
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from imgopt.bootstrap.settings import Settings
from imgopt.domain.lifecycle import RequestStatus
from imgopt.entrypoints.cli.service import prepare
from imgopt.entrypoints.demo.local_http import ImageOrigin, WebhookReceiver
from imgopt.entrypoints.demo.samples import sample_csv, sample_images
from imgopt.entrypoints.demo.storage import StorageUnavailable, demo_storage
from imgopt.entrypoints.http.app import create_app
from imgopt.entrypoints.http.server import BackgroundServer, free_port
from imgopt.entrypoints.worker.process import build_worker

TERMINAL = {status.value for status in RequestStatus if status.is_terminal}


def demo(settings: Settings, args: argparse.Namespace) -> int:
    console = Console()
    # The progress bar and the summary tell the story; routine log lines would only interleave with them.
    for name in ("imgopt", "httpx", "uvicorn"):
        logging.getLogger(name).setLevel(logging.WARNING)
    port = free_port()
    # The demo's origin and receiver live on this machine, so loopback must be reachable here.
    settings = dataclasses.replace(settings, allow_private_networks=True, public_base_url=f"http://127.0.0.1:{port}")
    with console.status("Starting PostgreSQL and migrating…"):
        settings, container = prepare(settings)
    where = (
        "embedded PostgreSQL in " + str(settings.data_dir / "postgres")
        if "host=/" in settings.database_url
        else "IMGOPT_DATABASE_URL"
    )
    with ExitStack() as running:
        running.callback(container.shutdown_resources)
        try:
            with console.status(f"Preparing the {args.storage} storage…"):
                outputs = running.enter_context(demo_storage(args.storage, settings, container))
        except StorageUnavailable as exc:
            console.print(f"[red]{exc}")
            return 1
        console.print(f"[bold]imgopt demo[/] — database: {where}; {outputs}")
        with console.status("Drawing sample photos…"):
            images = {} if args.csv else sample_images(args.images)
        worker = build_worker(container, settings)
        running.callback(worker.stop)
        origin = running.enter_context(ImageOrigin(images))
        receiver = running.enter_context(WebhookReceiver())
        api = running.enter_context(BackgroundServer(create_app(container, settings), port=port))
        worker.start()
        csv_data = args.csv.read() if args.csv else sample_csv(origin.base_url, list(images))
        # The demo calls the API as any team would: with a key of its own (shown nowhere).
        key = container.use_cases.create_api_key()("demo", f"imgopt demo {time.strftime('%Y-%m-%d %H:%M:%S')}")
        return _run(console, api.url, key.plaintext, csv_data, receiver, settings, outputs)


def _run(
    console: Console,
    api: str,
    key: str,
    csv_data: bytes,
    receiver: WebhookReceiver,
    settings: Settings,
    outputs: str,
) -> int:
    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    (demo_dir / "products.csv").write_bytes(csv_data)
    client = httpx.Client(base_url=api, timeout=60, headers={"Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    response = client.post(
        "/upload",
        files={"file": ("products.csv", csv_data, "text/csv")},
        data={"webhookUrl": f"{receiver.base_url}/webhook"},
    )
    if response.status_code != 202:
        problem = response.json()
        console.print(f"[red]The upload was refused ({response.status_code}): {problem['detail']}")
        for error in problem.get("errors") or []:
            column = f", column {error['column']!r}" if error.get("column") else ""
            console.print(f"  line {error['line']}{column}: {error['message']}", markup=False)
        return 1
    receipt = response.json()
    request_id = receipt["requestId"]
    console.print(f"Uploaded {receipt['products']} products, {receipt['images']} images → request {request_id}")
    status = _follow(console, client, request_id, receipt["images"])
    if not receiver.received.wait(timeout=60):
        console.print("[red]No webhook arrived within a minute.")
        return 1
    elapsed = time.perf_counter() - started
    headers, body = receiver.deliveries[0]
    payload = standardwebhooks.Webhook(receipt["webhook"]["secret"]).verify(body, headers)
    output_csv = demo_dir / f"output-{request_id}.csv"
    output_csv.write_bytes(client.get(f"/status/{request_id}/output.csv").content)
    products = _products(client, request_id)
    _summary(console, status, payload, headers, elapsed, output_csv, products, outputs)
    _fetch_one_output(console, client, products)
    return 0


def _products(client: httpx.Client, request_id: str) -> list[dict]:
    """Every product with its images, page by page."""
    products, cursor = [], None
    while True:
        params = {"details": "true", "limit": 1000} | ({"cursor": cursor} if cursor else {})
        details = client.get(f"/status/{request_id}", params=params).json()["details"]
        products += details["products"]
        cursor = details["nextCursor"]
        if cursor is None:
            return products


def _follow(console: Console, client: httpx.Client, request_id: str, total: int) -> dict:
    columns = (TextColumn("Optimizing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("images", total=total)
        while True:
            status = client.get(f"/status/{request_id}").json()
            progress.update(task, completed=status["images"]["optimized"] + status["images"]["failed"])
            if status["status"] in TERMINAL:
                return status
            time.sleep(0.1)


def _summary(console, status, payload, headers, elapsed, output_csv, products, outputs) -> None:
    images = status["images"]
    saved = 1 - status["bytesOut"] / status["bytesIn"] if status["bytesIn"] else 0.0
    table = Table(title=f"Request {status['requestId']}: {status['status']}", show_header=False)
    table.add_row("Images", f"{images['total']} ({images['optimized']} optimized, {images['failed']} failed)")
    table.add_row("Bytes before → after", f"{status['bytesIn']:,} → {status['bytesOut']:,} ({saved:.0%} saved)")
    table.add_row("Time, upload to webhook", f"{elapsed:.2f} s ({images['total'] / elapsed:.1f} images/s)")
    table.add_row("Webhook", f"{payload['type']}, signature verified (webhook-id {headers['webhook-id']})")
    console.print(table)
    console.print(f"Optimized images: {outputs}, under {status['requestId']}/", soft_wrap=True)
    console.print(f"Output CSV: {output_csv.resolve()}", soft_wrap=True)
    failed = [(p["line"], i) for p in products for i in p["images"] if i["status"] == "failed"]
    if failed:
        console.print("Failed images (each with its reason; the rest of the request went on):")
    for line, image in failed:
        console.print(f"  line {line}, {image['inputUrl']}: {image['failureReason']}", markup=False, style="yellow")


def _fetch_one_output(console: Console, client: httpx.Client, products: list[dict]) -> None:
    """Fetch an output by the URL the status gave, as a user would: streamed by the API, or redirected to storage."""
    urls = [i["outputUrl"] for p in products for i in p["images"] if i.get("outputUrl")]
    if not urls:
        return
    response = client.get(urls[0], follow_redirects=True)
    route = " after a redirect to a presigned URL" if response.history else ""
    console.print(
        f"Fetched {urls[0]}{route}: HTTP {response.status_code}, {response.headers.get('content-type')}, "
        f"{len(response.content):,} bytes",
        soft_wrap=True,
        markup=False,
    )
