"""`imgopt`: the service (serve, api, worker, migrate, purge, demo, keys, tenants) and the client (upload, status)."""

import argparse
import os
import sys

from imgopt.bootstrap.logging import configure_logging
from imgopt.bootstrap.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("upload", "status"):
        from imgopt.entrypoints.cli import client

        return {"upload": client.upload, "status": client.status}[args.command](args)
    try:
        return _run(args, _settings(args))
    except SettingsError as exc:
        print(f"imgopt: configuration error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """Every command and its options, as `imgopt --help` lists them."""
    parser = argparse.ArgumentParser(prog="imgopt", description="Image optimization service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in (("serve", "the HTTP API and the worker in one process"), ("api", "the HTTP API only")):
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument("--no-migrate", action="store_true", help="do not apply migrations on start")
    worker = commands.add_parser("worker", help="the worker only: process images, deliver webhooks")
    worker.add_argument("--no-migrate", action="store_true", help="do not apply migrations on start")
    commands.add_parser("migrate", help="apply database migrations and exit")
    purge = commands.add_parser("purge", help="delete finished requests older than a period, outputs first")
    purge.add_argument(
        "--older-than", required=True, metavar="PERIOD", help="finished longer ago than this: 30d, 12h, 90m"
    )
    demo = commands.add_parser("demo", help="the whole job end to end on local samples, no setup needed")
    demo.add_argument("--csv", type=argparse.FileType("rb"), help="run your own CSV instead of the samples")
    demo.add_argument("--images", type=int, default=24, help="how many sample images to generate (default 24)")
    demo.add_argument(
        "--storage",
        choices=("filesystem", "s3"),
        default="filesystem",
        help="where outputs go: the data directory (default) or an embedded SeaweedFS, the multi-host path",
    )
    _client_commands(commands)
    _key_commands(commands)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_format)
    if args.command == "keys":
        from imgopt.entrypoints.cli import api_keys

        return api_keys.run(settings, args)
    if args.command == "tenants":
        from imgopt.entrypoints.cli import tenants

        return tenants.run(settings, args)
    if args.command == "demo":
        try:
            from imgopt.entrypoints.demo.run import demo
        except ImportError as exc:
            raise SettingsError(f"imgopt demo needs {exc.name}: pip install 'imgopt[demo]'") from None
        return demo(settings, args)
    from imgopt.entrypoints.cli import service

    chosen = {
        "serve": service.serve,
        "api": service.api,
        "worker": service.work,
        "migrate": service.migrate,
        "purge": service.purge,
    }
    return chosen[args.command](settings, args)


def _client_commands(commands: argparse._SubParsersAction) -> None:
    """Commands that talk to a running API over HTTP; they need neither its database nor its settings."""
    upload = commands.add_parser("upload", help="upload a CSV to a running imgopt API and print its request id")
    upload.add_argument("file", metavar="FILE.csv")
    upload.add_argument("--wait", action="store_true", help="show progress until it finishes, then save the output")
    upload.add_argument(
        "--output", metavar="OUT.csv", help="where to save the output CSV (implies --wait; default imgopt-ID.csv)"
    )
    upload.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting after this long")
    upload.add_argument("--quality", help="1-100 or auto (default: the tenant's default quality, 50 unless changed)")
    upload.add_argument("--format", help="original (default), jpeg, webp, avif or png")
    upload.add_argument("--max-width", type=int, metavar="PX")
    upload.add_argument("--max-height", type=int, metavar="PX")
    upload.add_argument("--webhook-url", metavar="URL", help="notify this URL, signed, when it finishes")
    status = commands.add_parser("status", help="the progress of one request on a running imgopt API")
    status.add_argument("request_id", metavar="ID")
    status.add_argument("--json", action="store_true", help="the status document as JSON on stdout")
    status.add_argument("--details", action="store_true", help="every product and image, with failure reasons")
    for command in (upload, status):
        command.add_argument(
            "--api",
            default=os.environ.get("IMGOPT_API_URL", "http://127.0.0.1:8000"),
            metavar="URL",
            help="the API's base URL (IMGOPT_API_URL; default http://127.0.0.1:8000)",
        )
        command.add_argument(
            "--key", default=os.environ.get("IMGOPT_API_KEY"), help="API key, sent as a Bearer token (IMGOPT_API_KEY)"
        )


def _key_commands(commands: argparse._SubParsersAction) -> None:
    from imgopt.entrypoints.cli import api_keys, tenants

    api_keys.add_commands(commands)
    tenants.add_commands(commands)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if hasattr(args, "port") and "IMGOPT_PUBLIC_BASE_URL" not in os.environ:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        overrides["public_base_url"] = f"http://{host}:{args.port}"
    return Settings.from_env(**overrides)
