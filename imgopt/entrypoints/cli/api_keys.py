"""`imgopt keys create | list | revoke`: API keys, managed by an operator against the database."""

import argparse
import json
import sys
from uuid import UUID

from imgopt.application.use_cases.api_keys import ListedKey
from imgopt.bootstrap.settings import Settings
from imgopt.domain.errors import DomainError
from imgopt.entrypoints.cli.service import prepare


def add_commands(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="create, list and revoke API keys (needs the database)")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a key for a tenant (created on first use); shown once")
    create.add_argument("--tenant", required=True, help="the team the key acts for")
    create.add_argument("name", help="what the key is for, to tell it apart later")
    create.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing = actions.add_parser("list", help="the keys, newest first (never the keys themselves)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    listing.add_argument("--json", action="store_true", help="a JSON array on stdout")
    revoke = actions.add_parser("revoke", help="refuse a key from now on, on every API process")
    revoke.add_argument("key_id", metavar="KEY_ID")


def run(settings: Settings, args: argparse.Namespace) -> int:
    _, container = prepare(settings)
    use_cases = container.use_cases
    try:
        if args.action == "create":
            created = use_cases.create_api_key()(args.tenant, args.name)
            listed = _document(ListedKey(created.key, created.tenant))
            if args.json:
                print(json.dumps({**listed, "key": created.plaintext}))
            else:
                print(
                    f"Created key {created.key.id} ({created.key.name!r}) for tenant {created.tenant!r}.",
                    file=sys.stderr,
                )
                print("Keep it now: it is not stored and cannot be shown again.", file=sys.stderr)
                print(created.plaintext)
        elif args.action == "list":
            keys = use_cases.list_api_keys()(args.tenant)
            if args.json:
                print(json.dumps([_document(key) for key in keys]))
            else:
                for key in keys:
                    row = _document(key)
                    state = (
                        f"revoked {row['revokedAt']}"
                        if row["revokedAt"]
                        else f"last used {row['lastUsedAt'] or 'never'}"
                    )
                    print(f"{row['id']}  {row['prefix']}…  {row['tenant']}  {row['name']}  {state}")
        else:
            key = use_cases.revoke_api_key()(_uuid(args.key_id))
            print(f"Revoked key {key.id} ({key.name!r}); every API process refuses it from now on.", file=sys.stderr)
    except DomainError as exc:
        print(f"imgopt keys: {exc.message}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    return 0


def _uuid(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise _NotAnId(f"{text[:60]!r} is not a key id (a UUID, as `imgopt keys list` shows)") from None


class _NotAnId(DomainError):
    code = "invalid_id"


def _document(listed: ListedKey) -> dict:
    key = listed.key
    return {
        "id": str(key.id),
        "tenant": listed.tenant,
        "name": key.name,
        "prefix": key.prefix,
        "createdAt": key.created_at.isoformat(),
        "lastUsedAt": key.last_used_at.isoformat() if key.last_used_at else None,
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }
