"""A database that cannot be used, said in one line: what to check and which setting to fix.

Every command that connects (`python -m app.cli`, `alembic`, the test suite) turns such a failure
(unreachable, refused, missing, not migrated yet) into `ERROR: <line>` and a non-zero exit instead
of a driver traceback; anything else (a bug, a failing migration) still raises as it is.
"""

{% if cookiecutter.database == "postgresql" -%}
import ssl
{% else -%}
import sqlite3
{% endif -%}
from collections.abc import Iterator
from contextlib import contextmanager
{%- if cookiecutter.database == "postgresql" %}
from socket import gaierror
{%- endif %}

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
{%- if cookiecutter.database == "postgresql" %}

from app.core.exceptions import DatabaseUnavailableError

# SQLSTATE classes and codes that mean "could not get in", never "the statement failed".
CONNECTION_EXCEPTION_CLASS = "08"
AUTHORIZATION_CLASS = "28"
INVALID_CATALOG_NAME = "3D000"
# Connected, but to a database `make migrate` never ran on.
UNDEFINED_TABLE = "42P01"
{%- endif %}


@contextmanager
def exit_on_connection_failure(url: str, setting: str = "DATABASE_URL") -> Iterator[None]:
    """Runs the block; a failure to connect to `url` (read from `setting`) ends the process with
    one line and exit status 1."""
    try:
        yield
    except Exception as error:
        message = describe_connection_failure(error, url, setting)
        if message is None:
            raise
        raise SystemExit(f"ERROR: {message}") from None
{%- if cookiecutter.database == "postgresql" %}


def describe_connection_failure(error: BaseException, url: str, setting: str) -> str | None:
    """Why connecting to `url` failed and the fix, in one line; None if `error` is no such failure."""
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    cause = _driver_error(error)
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if isinstance(cause, ConnectionRefusedError):
        return (
            f"nothing accepts connections at {where} ({setting}): start PostgreSQL there, "
            f"or set {setting} to a server that runs"
        )
    if isinstance(cause, gaierror):
        return f"unknown host {parsed.host!r} in {setting}: fix the host name"
    if isinstance(cause, TimeoutError):
        return (
            f"no answer from {where} within DB_CONNECT_TIMEOUT_SECONDS ({setting}): check the "
            "host, the port and any firewall between"
        )
    if "rejected SSL upgrade" in text:
        return (
            f"the server at {where} offers no TLS but DB_SSL or sslmode in {setting} asks for it: "
            "for a server on this machine drop sslmode (or set DB_SSL=disable), else enable TLS "
            "on the server"
        )
    if isinstance(cause, ssl.SSLError) or "certificate" in text:
        return (
            f"TLS to {where} failed ({text}): the server's certificate must name its host and be "
            "trusted (system store or PGSSLROOTCERT), or choose another DB_SSL mode (SECURITY.md)"
        )
    sqlstate = str(getattr(_dbapi_error(error), "sqlstate", "") or "")
    if sqlstate.startswith(AUTHORIZATION_CLASS):
        return (
            f"PostgreSQL at {where} refused user {parsed.username!r} ({text}): fix the user "
            f"and password in {setting}"
        )
    if sqlstate == INVALID_CATALOG_NAME:
        # The driver's text: `make migrate` itself may miss the `postgres` database it starts from.
        return (
            f"{text} on {where}: run `make migrate` (it creates the database), or fix the name "
            f"in {setting}"
        )
    if sqlstate == UNDEFINED_TABLE:
        return f"{text} in database {parsed.database!r} on {where}: run `make migrate` first"
    if sqlstate.startswith(CONNECTION_EXCEPTION_CLASS) or isinstance(cause, OSError):
        return f"cannot connect to {where} ({text}): check {setting} and that PostgreSQL runs"
    return None


def _dbapi_error(error: BaseException) -> BaseException | None:
    """The driver-level error SQLAlchemy wraps (it carries the SQLSTATE)."""
    return error.orig if isinstance(error, DBAPIError) else None


def _driver_error(error: BaseException) -> BaseException:
    """asyncpg's own exception: under SQLAlchemy's wrappers or under DatabaseUnavailableError."""
    if isinstance(error, DatabaseUnavailableError) and error.__cause__ is not None:
        return error.__cause__
    wrapped = _dbapi_error(error)
    if wrapped is not None:
        return wrapped.__cause__ or wrapped
    return error
{%- else %}


def describe_connection_failure(error: BaseException, url: str, setting: str) -> str | None:
    """Why opening the SQLite file failed and the fix, in one line; None if `error` is no such
    failure."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    path = make_url(url).database
    if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
        return (
            f"cannot open the SQLite file {path!r} ({setting}): its folder must exist and be "
            "writable (`make migrate` creates it)"
        )
    if isinstance(cause, sqlite3.OperationalError) and "no such table" in str(cause):
        return f"{cause} in {path!r} ({setting}): run `make migrate` first"
    if isinstance(cause, OSError):  # creating the file's folder
        return f"cannot create the folder of the SQLite file {path!r} ({setting}): {cause.strerror}"
    return None
{%- endif %}
