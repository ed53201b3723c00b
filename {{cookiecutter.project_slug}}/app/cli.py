"""Operator commands: `python -m app.cli {create-db,superuser,prune-tokens{% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %},prune-files{% endif %}}`."""

import argparse
import asyncio
import logging
import sys
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from datetime import timedelta
{%- endif %}
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
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.user_tokens import UserTokenRepository
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from app.services.attachments import AttachmentService
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
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}


async def prune_files(settings: Settings) -> int:
    """Deletes stored files no attachment refers to (failed inserts and deletes, deleted items)."""
    database, storage = create_database(settings), build_storage(settings)
    try:
        service = AttachmentService(database, storage, settings)
        report = await service.prune_orphans(grace=PRUNE_FILES_GRACE)
    finally:
        await storage.close()
        await database.engine.dispose()
    print(f"Removed {report.orphans} stored files without an attachment")
    print(f"Removed {report.partial} abandoned partial uploads")
    return 0
{%- endif %}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    commands = ["create-db", "superuser", "prune-tokens", "prune-files"]
    parser.add_argument("command", choices=commands)
{%- else %}
    parser.add_argument("command", choices=["create-db", "superuser", "prune-tokens"])
{%- endif %}
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    if args.command == "create-db":
        created = asyncio.run(create_db(settings))
        print(f"Database {'created' if created else 'already exists'}")
        return 0
    if args.command == "superuser":
        return asyncio.run(create_superuser(settings))
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    if args.command == "prune-files":
        return asyncio.run(prune_files(settings))
{%- endif %}
    return asyncio.run(prune_tokens(settings))


if __name__ == "__main__":
    sys.exit(main())
