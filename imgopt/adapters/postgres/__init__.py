"""PostgreSQL persistence: SQLAlchemy 2 Core over psycopg 3, schema `images`, Alembic migrations."""
