"""`imgopt tenants quality TENANT [QUALITY]`: a tenant's default quality, shown or changed by an operator."""

import argparse
import json
import sys

from imgopt.bootstrap.settings import Settings
from imgopt.domain.errors import DomainError
from imgopt.domain.options import Quality
from imgopt.domain.tenancy import Tenant
from imgopt.entrypoints.cli.service import prepare


def add_commands(commands: argparse._SubParsersAction) -> None:
    tenants = commands.add_parser("tenants", help="show or change a tenant's default quality (needs the database)")
    actions = tenants.add_subparsers(dest="action", required=True, metavar="ACTION")
    quality = actions.add_parser(
        "quality",
        help="the quality a tenant's uploads get when they name none: shown, or set to QUALITY",
        description="Uploads already accepted keep theirs; new tenants get IMGOPT_NEW_TENANT_QUALITY.",
    )
    quality.add_argument("tenant", metavar="TENANT", help="the tenant's name, as `imgopt keys list` shows it")
    quality.add_argument("quality", metavar="QUALITY", nargs="?", help="1 to 100, or auto; left out: show it")
    quality.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        quality = None if args.quality is None else Quality.parse(args.quality)
    except DomainError as exc:
        print(f"imgopt tenants: {exc.message}", file=sys.stderr)
        return 1
    _, container = prepare(settings)
    use_cases = container.use_cases
    try:
        if quality is None:
            tenant = use_cases.tenant_named()(args.tenant)
        else:
            tenant = use_cases.set_default_quality()(args.tenant, quality)
            print(f"Uploads of {tenant.name!r} that name no quality now get {quality}.", file=sys.stderr)
    except DomainError as exc:
        print(f"imgopt tenants: {exc.message}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    print(json.dumps(_document(tenant)) if args.json else tenant.default_quality)
    return 0


def _document(tenant: Tenant) -> dict:
    return {"id": str(tenant.id), "name": tenant.name, "defaultQuality": str(tenant.default_quality)}
