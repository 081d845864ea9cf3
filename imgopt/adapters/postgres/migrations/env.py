"""Alembic environment: runs on the connection `imgopt migrate` hands over, under an advisory lock."""

from alembic import context
from sqlalchemy import text

SCHEMA = "images"
# Any constant works; it only has to be the same for every process that migrates.
MIGRATION_LOCK = 0x696D676F7074

connection = context.config.attributes["connection"]
connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
context.configure(connection=connection, version_table_schema=SCHEMA, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
