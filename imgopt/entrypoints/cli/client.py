"""What `imgopt upload` and `imgopt status` do, given their parsed arguments."""

import argparse
import sys
from pathlib import Path

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from imgopt.client import ApiError, Client, ImgoptError, Status
from imgopt.entrypoints.cli import client_report as report


def upload(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if not Path(args.file).is_file():
        console.print(f"imgopt: no such file: {args.file}", markup=False)
        return 2
    with Client(args.api, key=args.key) as client:
        try:
            receipt = client.upload(
                args.file,
                quality=args.quality,
                max_width=args.max_width,
                max_height=args.max_height,
                format=args.format,
                webhook_url=args.webhook_url,
            )
        except ApiError as error:
            report.problem(console, error)
            return report.REFUSED
        except ImgoptError as error:
            console.print(f"imgopt: {error}", markup=False)
            return report.GAVE_UP
        print(receipt.request_id, flush=True)
        if receipt.webhook:
            console.print(f"Webhook secret (shown once, keep it): {receipt.webhook.secret}", markup=False)
        if not (args.wait or args.output):
            return 0
        try:
            status = _follow(console, client, receipt.request_id, receipt.images, args.timeout)
            output = client.save_output_csv(receipt.request_id, args.output or f"imgopt-{receipt.request_id}.csv")
            report.summary(console, status)
            console.print(f"Output CSV: {output}", markup=False)
            if status.images.failed:
                report.failures(console, client.status(receipt.request_id, details=True))
                return report.IMAGES_FAILED
        except ImgoptError as error:
            console.print(f"imgopt: {error}", markup=False)
            return report.GAVE_UP
        except KeyboardInterrupt:
            console.print(f"Stopped waiting; the request goes on (imgopt status {receipt.request_id}).")
            return report.INTERRUPTED
    return 0


def status(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    with Client(args.api, key=args.key) as client:
        try:
            found = client.status(args.request_id, details=args.details)
        except ApiError as error:
            report.problem(console, error)
            return report.REFUSED
        except ImgoptError as error:
            console.print(f"imgopt: {error}", markup=False)
            return report.GAVE_UP
    if args.json:
        document = msgspec.to_builtins(found)
        if document["details"] is None:
            del document["details"]
        sys.stdout.buffer.write(msgspec.json.encode(document) + b"\n")
        return 0
    report.summary(Console(), found)
    if args.details and found.images.failed:
        report.failures(Console(), found)
    return 0


def _follow(console: Console, client: Client, request_id: object, total: int, timeout: float | None) -> Status:
    columns = (TextColumn("Optimizing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("images", total=total)
        return client.wait(
            request_id, timeout=timeout, on_progress=lambda s: progress.update(task, completed=s.images.done)
        )
