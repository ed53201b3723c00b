"""Operator commands: `python -m app.cli {create-db,superuser,prune-tokens,purge-deleted}`."""

import argparse
import asyncio
import logging
import sys
from datetime import timedelta
{%- if cookiecutter.database == "sqlite" %}
from pathlib import Path

from sqlalchemy.engine import make_url
{%- else %}

from sqlalchemy import text
from sqlalchemy.engine import make_url
{%- endif %}

from app.core.clock import utcnow
from app.core.config import Settings, settings_or_exit
{%- if cookiecutter.database == "sqlite" %}
from app.db.session import create_database
{%- else %}
from app.db.session import create_database, create_engine
{%- endif %}
from app.repositories.base import purge_soft_deleted
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.user_tokens import UserTokenRepository
from app.services.users import UserService

logger = logging.getLogger("app.cli")


{% if cookiecutter.database == "sqlite" -%}
async def create_db(settings: Settings) -> bool:
    """Creates the folder of the SQLite file in DATABASE_URL; True if the file did not exist yet.

    SQLite creates the file itself on first connect, but not the folders above it.
    """
    path = Path(str(make_url(settings.database_url).database))
    return await asyncio.to_thread(_create_parent_folder, path)


def _create_parent_folder(path: Path) -> bool:
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    return not existed
{%- else -%}
async def create_db(settings: Settings) -> bool:
    """Creates the PostgreSQL database in DATABASE_URL if it does not exist; True if created."""
    target = make_url(settings.database_url)
    maintenance = target.set(database="postgres").render_as_string(hide_password=False)
    # The app's own engine settings (TLS mode, timeouts): a command connects as the service does.
    server = create_engine(maintenance, settings)
    try:
        # CREATE DATABASE cannot run inside a transaction, hence AUTOCOMMIT.
        async with server.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                name = conn.dialect.identifier_preparer.quote(str(target.database))
                await conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        await server.dispose()
    return not exists
{%- endif %}


async def create_superuser(settings: Settings) -> int:
    if not settings.first_superuser_password:
        print(
            "FIRST_SUPERUSER_PASSWORD is empty: set it in .env or the environment.", file=sys.stderr
        )
        return 1
    database = create_database(settings)
    try:
        async with database.transaction() as session:
            user, created = await UserService(settings).ensure_superuser(
                session, settings.first_superuser_email, settings.first_superuser_password
            )
    finally:
        await database.engine.dispose()
    print(f"{'Created' if created else 'Already present'}: admin {user.email}")
    return 0


async def prune_tokens(settings: Settings) -> int:
    database = create_database(settings)
    try:
        async with database.transaction() as session:
            removed = await RefreshTokenRepository(session).delete_expired(utcnow())
            links = await UserTokenRepository(session).delete_expired(utcnow())
    finally:
        await database.engine.dispose()
    print(f"Removed {removed} expired refresh tokens")
    print(f"Removed {links} expired reset and verification tokens")
    return 0


async def purge_deleted(settings: Settings) -> int:
    """Removes for good the soft-deleted rows older than SOFT_DELETE_RETENTION_DAYS."""
    deleted_before = utcnow() - timedelta(days=settings.soft_delete_retention_days)
    database = create_database(settings)
    try:
        async with database.transaction() as session:
            removed = await purge_soft_deleted(session, deleted_before)
    finally:
        await database.engine.dispose()
    if not removed:
        print("No model soft-deletes: nothing to purge")
    for table, count in removed.items():
        print(f"Removed {count} {table} deleted before {deleted_before:%Y-%m-%d %H:%M} UTC")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    parser.add_argument(
        "command", choices=["create-db", "superuser", "prune-tokens", "purge-deleted"]
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    if args.command == "create-db":
        created = asyncio.run(create_db(settings))
        print(f"Database {'created' if created else 'already exists'}")
        return 0
    if args.command == "superuser":
        return asyncio.run(create_superuser(settings))
    if args.command == "purge-deleted":
        return asyncio.run(purge_deleted(settings))
    return asyncio.run(prune_tokens(settings))


if __name__ == "__main__":
    sys.exit(main())
