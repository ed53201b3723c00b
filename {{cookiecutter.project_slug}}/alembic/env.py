"""Alembic environment: async engine, URL from the app settings unless the caller sets one."""

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy import pool
{%- endif %}
from sqlalchemy.engine import Connection
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

from alembic import context
from app import models  # noqa: F401  (registers every table on Base.metadata)
from app.core.config import Settings, settings_or_exit
from app.db.base import Base, UTCDateTime
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


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
