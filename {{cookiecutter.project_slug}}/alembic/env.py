"""Alembic environment: async engine, URL from the app settings unless the caller sets one."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any, Literal

from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy import pool
{%- endif %}
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

from alembic import context
from app import models  # noqa: F401  (registers every table on Base.metadata)
from app.core.config import Settings, settings_or_exit
from app.db.base import Base, UTCDateTime
from app.db.connection_errors import exit_on_connection_failure
{%- if cookiecutter.database == "postgresql" %}
from app.db.session import create_engine
{%- endif %}

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def settings() -> Settings:
    # Tests pass their own settings through `config.attributes`; everything else reads them.
    given: Settings | None = config.attributes.get("settings")
    return given or settings_or_exit()


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # New migrations stay plain SQLAlchemy: the UTC handling lives in the models, not the schema.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def next_number(
    context: MigrationContext, revision: object, directives: list[MigrationScript]
) -> None:
    """`make revision` continues the numbering: file `0004_<message>.py`, revision id `0004`."""
    numbers = [
        int(script.revision)
        for script in ScriptDirectory.from_config(config).walk_revisions()
        if script.revision.isdigit()
    ]
    for directive in directives:
        directive.rev_id = f"{max(numbers, default=0) + 1:04d}"


# Shared by online and offline runs.
OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "compare_type": True,
    "render_item": render_item,
    "process_revision_directives": next_number,
{%- if cookiecutter.database == "sqlite" %}
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    "render_as_batch": True,
{%- endif %}
}


def run_migrations_offline() -> None:
    context.configure(
        url=settings().database_url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
{%- if cookiecutter.database == "sqlite" %}
    # Not the app's engine: its PRAGMA foreign_keys=ON would cascade deletes through the table
    # copies of batch mode.
    engine = create_async_engine(settings().database_url, poolclass=pool.NullPool)
{%- else %}
    # The app's own engine settings (TLS mode, timeouts): migrations connect as the service does.
    current = settings()
    engine = create_engine(current.database_url, current)
{%- endif %}
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


@contextmanager
def failures_in_one_line() -> Iterator[None]:
    """A migration the database refuses, or a revision made on an old schema: one line each."""
    try:
        yield
    except CommandError as error:
        if "not up to date" not in str(error):
            raise
        raise SystemExit(
            "ERROR: the database is behind alembic/versions: run `make migrate` first, then "
            "`make revision` again (autogenerate compares the models with the database)"
        ) from None
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0]
        hint = (
            "a new NOT NULL column needs server_default= for the rows already there "
            "(docs/operations.md, Migrations)"
            if "null" in reason.lower()
            else "fix the migration in alembic/versions"
        )
{%- if cookiecutter.database == "postgresql" %}
        # PostgreSQL runs DDL in the transaction: the failed migration left nothing behind.
        raise SystemExit(
            f"ERROR: a migration failed and was rolled back ({reason}): {hint}, then run "
            "`make migrate` again"
        ) from None
{%- else %}
        # SQLite commits some DDL as it goes: `alembic current` says where the schema stopped.
        raise SystemExit(
            f"ERROR: a migration failed ({reason}): {hint}, check `alembic current`, then run "
            "`make migrate` again"
        ) from None
{%- endif %}


if context.is_offline_mode():
    run_migrations_offline()
else:
    with failures_in_one_line(), exit_on_connection_failure(settings().database_url):
        asyncio.run(run_async_migrations())
