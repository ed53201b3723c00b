"""Operator commands, run as `python -m app.cli COMMAND`.

COMMAND is create-db, superuser, prune-tokens, purge-deleted{% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}, prune-files{% endif %}{% if cookiecutter.background_jobs == "taskiq" %}, check-queue{% endif %}.
"""

import argparse
import asyncio
import logging
import sys
{%- if cookiecutter.background_jobs == "taskiq" %}
from collections.abc import Awaitable
{%- endif %}
from datetime import timedelta
{%- if cookiecutter.database == "sqlite" %}
from pathlib import Path
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
from typing import cast
from urllib.parse import urlsplit
{%- endif %}

from pydantic import ValidationError
{%- if cookiecutter.background_jobs == "taskiq" %}
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import text
{%- endif %}
from sqlalchemy.engine import make_url

{% if cookiecutter.example_resource and cookiecutter.file_storage != "none" -%}
from app.cache.stores import build_cache
{% endif -%}
from app.core.clock import utcnow
from app.core.config import Settings, settings_or_exit
from app.db.connection_errors import exit_on_connection_failure
{%- if cookiecutter.database == "sqlite" %}
from app.db.session import create_database
{%- else %}
from app.db.session import create_database, create_engine
{%- endif %}
from app.repositories.base import purge_soft_deleted
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.user_tokens import UserTokenRepository
from app.schemas.users import UserCreate
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from app.services.attachments import AttachmentService
from app.services.items import ItemService
{%- endif %}
from app.services.users import UserService
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from app.storage import build_storage
{%- endif %}

logger = logging.getLogger("app.cli")
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
# Objects younger than this may belong to an upload whose row is being written: left alone.
PRUNE_FILES_GRACE = timedelta(hours=1)
{%- endif %}


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


def _migrated_file_or_exit(settings: Settings) -> None:
    """SQLite would create a missing file, empty: say what to run instead of "no such table"."""
    path = Path(str(make_url(settings.database_url).database))
    if not path.is_file():
        raise SystemExit(
            f"ERROR: no SQLite file at {str(path)!r} (DATABASE_URL): run `make migrate` first"
        )
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
            "ERROR: FIRST_SUPERUSER_PASSWORD is empty: set it in .env or the environment.",
            file=sys.stderr,
        )
        return 1
    try:
        # The rules the API applies at sign-up: an admin it would refuse is not created either.
        admin = UserCreate(
            email=settings.first_superuser_email, password=settings.first_superuser_password
        )
    except ValidationError as error:
        print(f"ERROR: {_describe_refused_admin(error)}", file=sys.stderr)
        return 1
    database = create_database(settings)
    try:
        async with database.transaction() as session:
            user, created = await UserService(settings).ensure_superuser(
                session, admin.email, admin.password
            )
    finally:
        await database.engine.dispose()
    print(f"{'Created' if created else 'Already present'}: admin {user.email}")
    return 0


def _describe_refused_admin(error: ValidationError) -> str:
    """`FIRST_SUPERUSER_PASSWORD: <rule>` per refused field, on one line."""
    refused = "; ".join(
        f"FIRST_SUPERUSER_{'.'.join(map(str, detail['loc'])).upper()}: {detail['msg']}"
        for detail in error.errors()
    )
    return f"{refused} (the API refuses the same at sign-up)"


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
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}


async def prune_files(settings: Settings) -> int:
    """Deletes stored files no attachment refers to (failed inserts and deletes, deleted items)."""
    database, storage = create_database(settings), build_storage(settings)
    cache = build_cache(settings)
    try:
        items = ItemService(cache)
        report = await AttachmentService(database, storage, settings, items).prune_orphans(
            grace=PRUNE_FILES_GRACE
        )
    finally:
        await cache.close()
        await storage.close()
        await database.engine.dispose()
    print(f"Removed {report.orphans} stored files without an attachment")
    print(f"Removed {report.partial} abandoned partial uploads")
    return 0
{%- endif %}


{%- if cookiecutter.background_jobs == "taskiq" %}


async def check_queue(settings: Settings) -> None:
    """Exits with one line unless Redis at REDIS_URL answers: `make worker` runs it first, since
    taskiq itself would restart its workers forever, a traceback each time."""
    url = urlsplit(settings.redis_url)
    where = f"{url.hostname or 'localhost'}:{url.port or 6379}"
    try:
        async with Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=settings.redis_timeout_seconds,
            socket_timeout=settings.redis_timeout_seconds,
        ) as redis:
            # redis-py types ping() for its sync and async clients at once.
            await cast("Awaitable[bool]", redis.ping())
    except AuthenticationError as error:
        raise SystemExit(
            f"ERROR: Redis at {where} refused the login ({error}): fix the password in REDIS_URL"
        ) from None
    except (RedisError, OSError) as error:
        raise SystemExit(
            f"ERROR: Redis at {where} (REDIS_URL) does not answer ({error}): start Redis there, "
            "or set REDIS_URL to one that runs"
        ) from None
{%- endif %}


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
    commands = ["create-db", "superuser", "prune-tokens", "purge-deleted"]
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    commands.append("prune-files")
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
    commands.append("check-queue")
{%- endif %}
    parser.add_argument("command", choices=commands)
    args = parser.parse_args(argv)
    settings = settings_or_exit()
{%- if cookiecutter.background_jobs == "taskiq" %}
    if args.command == "check-queue":
        asyncio.run(check_queue(settings))
        return 0
{%- endif %}
    with exit_on_connection_failure(settings.database_url):
        if args.command == "create-db":
            created = asyncio.run(create_db(settings))
            print(f"Database {'created' if created else 'already exists'}")
            return 0
{%- if cookiecutter.database == "sqlite" %}
        _migrated_file_or_exit(settings)
{%- endif %}
        if args.command == "superuser":
            return asyncio.run(create_superuser(settings))
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
        if args.command == "prune-files":
            return asyncio.run(prune_files(settings))
{%- endif %}
        if args.command == "purge-deleted":
            return asyncio.run(purge_deleted(settings))
        return asyncio.run(prune_tokens(settings))


if __name__ == "__main__":
    sys.exit(main())
