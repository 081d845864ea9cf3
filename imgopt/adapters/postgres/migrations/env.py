"""Alembic environment: runs on the connection `imgopt migrate` hands over, under an advisory lock.

Revisions form one line, each naming the one before it (`down_revision`): 0001, 0003_tenancy,
0005_auto_quality. The numbers skipped were never released; a revision id is never renamed or reused,
because every database records the one it is at. A new revision takes the next free number.
"""

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
