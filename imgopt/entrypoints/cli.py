"""The `imgopt` command: serve, api, worker, migrate, demo."""

import argparse
import logging
import os
import sys

from imgopt.bootstrap.settings import Settings, SettingsError

log = logging.getLogger("imgopt")


def main(argv: list[str] | None = None) -> int:
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
    demo = commands.add_parser("demo", help="the whole job end to end on local samples, no setup needed")
    demo.add_argument("--csv", type=argparse.FileType("rb"), help="run your own CSV instead of the samples")
    demo.add_argument("--images", type=int, default=24, help="how many sample images to generate (default 24)")
    demo.add_argument(
        "--storage",
        choices=("filesystem", "s3"),
        default="filesystem",
        help="where outputs go: the data directory (default) or an embedded SeaweedFS, the multi-host path",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("pgserver", "alembic.runtime.plugins"):  # they narrate every start and stop
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"imgopt: configuration error: {exc}", file=sys.stderr)
        return 2
    from imgopt.entrypoints import commands as run

    if args.command == "demo":
        from imgopt.entrypoints.demo.run import demo

        return demo(settings, args)
    return {"serve": run.serve, "api": run.api, "worker": run.work, "migrate": run.migrate}[args.command](
        settings, args
    )


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if hasattr(args, "port") and "IMGOPT_PUBLIC_BASE_URL" not in os.environ:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        overrides["public_base_url"] = f"http://{host}:{args.port}"
    return Settings.from_env(**overrides)


if __name__ == "__main__":
    sys.exit(main())
