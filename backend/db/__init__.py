"""Database layer: declarative base, engine and session handling, Alembic migrations."""
