"""Settings read from the environment and `.env` (environment wins)."""

import os
from enum import StrEnum
from functools import lru_cache
from ipaddress import ip_address, ip_network
{%- if cookiecutter.file_storage == "local" %}
from pathlib import Path, PurePosixPath
{%- else %}
from pathlib import PurePosixPath
{%- endif %}
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Secrets that ship in examples; production refuses every one of them.
KNOWN_WEAK_SECRETS = frozenset({"change-me", "changeme", "secret", "dev-secret-change-me"})
MIN_SECRET_LENGTH = 32
# Loopback and the private ranges: where Prometheus scrapes pods and containers from.
PRIVATE_NETWORKS = [
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
]
{%- if cookiecutter.database == "postgresql" %}
# DATABASE_URL may start with any of these (hosted databases hand out postgres://); every one
# connects through asyncpg, the driver this project installs.
DATABASE_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres", "postgresql+psycopg")
ASYNC_DATABASE_SCHEME = "postgresql+asyncpg"
DATABASE_URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5432/NAME"
# TLS modes, as DB_SSL and as `sslmode`/`ssl` in DATABASE_URL; libpq's allow and prefer fall back
# to plain text, so they are refused rather than guessed.
SSL_MODES = ("disable", "require", "verify-ca", "verify-full")
# libpq options providers add to their URLs that asyncpg has no parameter for.
LIBPQ_ONLY_OPTIONS = frozenset(
    {"channel_binding", "connect_timeout", "application_name", "options", "gssencmode"}
)
{%- else %}
# DATABASE_URL may start with any of these; every one opens the file through aiosqlite.
DATABASE_SCHEMES = ("sqlite+aiosqlite", "sqlite", "sqlite+pysqlite")
ASYNC_DATABASE_SCHEME = "sqlite+aiosqlite"
DATABASE_URL_SHAPE = "sqlite:///./folder/name.db"
{%- endif %}


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # fmt: skip on lines whose length follows the project name: formatting must not depend on it.
    project_name: str = "{{ cookiecutter.project_name }}"  # fmt: skip
    environment: Environment = Environment.LOCAL
    debug: bool = False
    # A folder of files named like the settings (Kubernetes mounts its Secret so): each file's
    # content is that setting. Read from the process environment only (it says where the others
    # come from); variables and .env win over the files.
    secrets_dir: str = ""

    database_url: str = "{{ cookiecutter.__database_url }}"  # fmt: skip
    # Empty means: the same server, database name + "_test" (SQLite: the file name).
    test_database_url: str = ""
{%- if cookiecutter.database == "postgresql" %}
    # One worker's event loop serves many requests at once; each holds a connection only while
    # it queries. The pool stays open at this size; no overflow, because an overflow connection
    # is closed when returned to a full pool (one new connection per request under steady load).
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    # TLS to PostgreSQL, stated explicitly (asyncpg otherwise tries TLS, then falls back to
    # plain text). Empty: verify-full in production, disable elsewhere. See SECURITY.md.
    db_ssl: Literal["", "disable", "require", "verify-ca", "verify-full"] = ""
    # Off by default: on asyncpg a pre-ping adds round trips to every checkout (PERFORMANCE.md).
    # Without it, a database restart fails one request per process with 503 (Retry-After), after
    # which SQLAlchemy discards the whole stale pool; recycling keeps connections younger than
    # server idle limits.
    db_pool_pre_ping: bool = False
    db_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    # A cut or hung database must fail requests within bounded time, never hang them.
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_command_timeout_seconds: float = Field(default=30.0, gt=0)
{%- endif %}
    # A request waits this long for a free connection, then gets 503 (never an endless hang).
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)

    # Hidden from repr() and dumps; .get_secret_value() where the key itself is needed.
    secret_key: SecretStr = SecretStr("dev-secret-change-me")
    # Shared-secret algorithms only: the key is SECRET_KEY, so RS*/ES*/none make no sense here.
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "{{ cookiecutter.project_slug }}"
    jwt_audience: str = "{{ cookiecutter.project_slug }}-api"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=300)
    access_token_expire_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=90)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Concurrent bcrypt computations; the rest of the cores stay free for the event loop.
    password_hashing_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1
    )
    # Password checks allowed to wait for a hashing slot, and for how long; past either, the
    # request answers 503 SERVER_BUSY with Retry-After at once instead of piling up.
    password_hashing_queue: int = Field(default=16, ge=0)
    password_hashing_wait_seconds: float = Field(default=5.0, gt=0, le=60)

    cors_origins: Annotated[list[str], NoDecode] = []
    # /docs, /redoc and /openapi.json. Unset: served everywhere but production, where the API's
    # whole surface is a map for attackers; DOCS_ENABLED=true serves them there too.
    docs_enabled: bool | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
{%- if cookiecutter.file_storage != "none" %}
    # File uploads (docs/operations.md, "File uploads"): the largest file accepted, and the MIME
    # types accepted as detected from the file's own bytes (never the client's Content-Type).
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    upload_allowed_types: Annotated[list[str], NoDecode] = [
        "application/pdf",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
    ]
{%- endif %}
{%- if cookiecutter.file_storage == "local" %}
    # One directory on this machine's disk: the service cannot run as more than one replica.
    local_storage_dir: Path = Path("var/uploads")
{%- elif cookiecutter.file_storage == "s3" %}
    # An S3-compatible bucket; empty endpoint means AWS itself, empty keys mean botocore's own
    # chain (instance role, web identity). Path-style addressing for MinIO and most others.
    s3_bucket: str = "uploads"
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Downloads are redirects to a presigned URL that stops working after this long.
    s3_presign_expire_seconds: int = Field(default=300, ge=1, le=3600)
{%- endif %}

    rate_limit_enabled: bool = True
    # After the counter storage fails, requests go through uncounted this long, then one retries.
    rate_limit_breaker_seconds: float = Field(default=30.0, gt=0, le=600)
    rate_limit_default: str = "120/minute"
    rate_limit_auth: str = "10/minute"
    # Counted per target account, whatever address the attempts come from. Tight enough to stop
    # brute force, loose enough that an attacker can lock an owner out for minutes, not days.
    rate_limit_login_account: str = "5/minute;30/hour"
{%- if cookiecutter.__redis == "yes" %}
{%- if cookiecutter.rate_limit_storage == "redis" %}
    # Counters live in Redis, shared by every worker and instance
    # (docs/operations.md, "Rate limits"){% if cookiecutter.background_jobs == "taskiq" %}; so does the job queue{% endif %}.
{%- else %}
    # The job queue (docs/operations.md, "Background jobs"); rate-limit counters stay in memory.
{%- endif %}
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Bounds every Redis call: a dead Redis costs this long per request at worst, not minutes.
    redis_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
{%- endif %}
{%- if cookiecutter.rate_limit_storage == "memory" %}
    rate_limit_storage_url: str = "memory://"
    # Bounds every call to the counter storage (memory answers at once; memcached:// may not).
    rate_limit_storage_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
    # Jobs (emails) go through a Redis stream at REDIS_URL to `make worker`
    # (docs/operations.md, "Background jobs").
    jobs_queue_name: str = "{{ cookiecutter.project_slug }}:jobs"
    jobs_max_retries: int = Field(default=5, ge=0, le=50)
    # A job runs at most JOBS_MAX_RETRIES times in all. Retry n waits n times the wait before it,
    # starting at this (5, 10, 30, 120 s), at most JOBS_RETRY_MAX_DELAY_SECONDS (taskiq's
    # SmartRetryMiddleware multiplies the previous delay).
    jobs_retry_delay_seconds: float = Field(default=5.0, ge=0)
    jobs_retry_max_delay_seconds: float = Field(default=300.0, ge=0)
    # A job unacknowledged this long (its worker died) is taken over by another worker.
    jobs_redeliver_after_seconds: float = Field(default=300.0, gt=0)
    # The worker writes its heartbeat file this often; its probes fail after 3 missed beats.
    jobs_heartbeat_seconds: float = Field(default=5.0, gt=0, le=60)
{%- endif %}
    # Start of every counter key: services sharing one storage must use different prefixes.
    rate_limit_key_prefix: str = "{{ cookiecutter.project_slug }}"

    # Cached reads (app/cache/, docs/operations.md "Caching"): a write invalidates what it changed
    # once it commits, in every instance sharing the store.
{%- if cookiecutter.rate_limit_storage == "redis" %}
    # In Redis at REDIS_URL, shared by every worker and instance.
    cache_enabled: bool = True
{%- else %}
    # In each process's memory: off unless the service runs as one process, since a write in one
    # process cannot invalidate another's entries.
    cache_enabled: bool = False
    cache_max_entries: int = Field(default=10_000, ge=1)
{%- endif %}
    # The longest an entry is kept; writes invalidate it sooner.
    cache_ttl_seconds: float = Field(default=300.0, gt=0, le=24 * 3600)
    # A read waits this long for the cache store, then loads from the database instead ...
    cache_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    # ... and after a failure, reads skip the store this long before one tries it again.
    cache_breaker_seconds: float = Field(default=30.0, gt=0, le=600)
    # Start of every cache key: services sharing one store must use different prefixes.
    cache_key_prefix: str = "{{ cookiecutter.project_slug }}:cache"

{% if cookiecutter.realtime == "yes" %}    # GET /api/v1/events and /api/v1/events/ws (app/events/, docs/operations.md "Realtime").
    # Each stream re-checks its token this often (a revoked one closes it) and sends a heartbeat.
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # A WebSocket must send its auth message this soon after connecting, or is closed with 4408.
    events_auth_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Open streams (SSE and WebSocket together) one user may hold, and this process may hold;
    # past either, a new one is refused with 429 TOO_MANY_STREAMS.
    events_max_streams_per_user: int = Field(default=5, ge=1, le=1000)
    events_max_streams_per_instance: int = Field(default=2000, ge=1)
    # Events waiting for one stream; a stream this far behind is dropped (slow consumer).
    events_queue_size: int = Field(default=100, ge=1, le=10_000)
    # Events kept per user for a reconnect's Last-Event-ID (the replay window).
    events_replay_size: int = Field(default=100, ge=1, le=10_000)
{%- if cookiecutter.__redis == "yes" %}
    # Redis channel and stream keys start with this: services sharing one Redis differ here.
    events_key_prefix: str = "{{ cookiecutter.project_slug }}:events"
{%- endif %}

{% endif %}    # The served process (app/server.py) freezes start-up objects out of the garbage collector.
    gc_tuning_enabled: bool = True

    log_level: str = "INFO"
    log_json: bool | None = None
    access_log: bool = True
    # Probes that pass (/health/live, /health/ready answering below 400) get no access line:
    # a load balancer or kubelet sends them every few seconds per instance. Failing ones are.
    access_log_probes: bool = False

    # /metrics answers only clients in these networks; everyone else gets the ordinary 404.
    metrics_enabled: bool = True
    metrics_allow_from: Annotated[list[str], NoDecode] = PRIVATE_NETWORKS
    # Account emails: `console` logs them (development only, refused in production).
    email_backend: Literal["smtp", "console"] = "console"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # none: plain text (local relays only); starttls: upgrade on 587; tls: TLS from the start (465).
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    email_from: str = "{{ cookiecutter.project_name }} <no-reply@example.com>"
    # Base of the links in emails: {FRONTEND_URL}/reset-password?token=... and /verify-email?token=...
    frontend_url: str = "http://localhost:3000"
    password_reset_expire_minutes: int = Field(default=30, ge=5, le=24 * 60)
    email_verification_expire_hours: int = Field(default=48, ge=1, le=14 * 24)
    # How long the old address may undo an email change (long: its owner may be away).
    email_change_undo_expire_hours: int = Field(default=7 * 24, ge=1, le=30 * 24)
    # read_only: an unverified account signs in but may only read; full: no difference.
    unverified_user_access: Literal["read_only", "full"] = "read_only"
    # Reset and verification emails sent per target address, whoever asks (on top of RATE_LIMIT_AUTH);
    # past it the answer is the same 202 and nothing is sent. Only sent emails count.
    rate_limit_email_account: str = "3/hour;10/day"

    # Soft-deleted rows (`make resource ... soft_delete=yes`) stay restorable this long; then
    # `make purge-deleted` removes them for good.
    soft_delete_retention_days: int = Field(default=30, ge=0, le=3650)

    first_superuser_email: str = "admin@example.com"
    first_superuser_password: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secret_files = SecretsSettingsSource(
            settings_cls, secrets_dir=os.environ.get("SECRETS_DIR") or None
        )
        return init_settings, env_settings, dotenv_settings, secret_files

    @field_validator("database_url", "test_database_url")
    @classmethod
    def _use_the_async_driver(cls, value: str) -> str:
        """A URL as a provider hands it out works as it is; one that cannot work fails here."""
        return async_database_url(value) if value else value

    @field_validator(
        "cors_origins",
        "metrics_allow_from",
{%- if cookiecutter.file_storage != "none" %}
        "upload_allowed_types",
{%- endif %}
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("metrics_allow_from")
    @classmethod
    def _parse_networks(cls, value: list[str]) -> list[str]:
        """A typo fails at start-up; a host address (10.0.0.5) counts as its own /32."""
        return [str(ip_network(network, strict=False)) for network in value]

    @field_validator(
        "rate_limit_default",
        "rate_limit_auth",
        "rate_limit_login_account",
        "rate_limit_email_account",
    )
    @classmethod
    def _parse_limits(cls, value: str) -> str:
        """A typo in a limit fails at start-up, not as a 500 on the first request."""
        parse_many(value)
        return value

    @field_validator("frontend_url")
    @classmethod
    def _refuse_link_schemes_other_than_http(cls, value: str) -> str:
        """Emailed links are built on it: `javascript:` or `data:` would run in the reader's mail."""
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

{%- if cookiecutter.database == "postgresql" %}

    @model_validator(mode="after")
    def _refuse_two_tls_modes(self) -> Self:
        in_url = url_ssl_mode(self.database_url)
        if self.db_ssl and in_url and self.db_ssl != in_url:
            raise ValueError(
                f"DB_SSL={self.db_ssl} and sslmode={in_url} in DATABASE_URL disagree: keep one"
            )
        return self
{%- endif %}

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment != Environment.PRODUCTION:
            return self
        secret = self.secret_key.get_secret_value()
        if secret.lower() in KNOWN_WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters in production"
            )
        if self.debug:
            raise ValueError("DEBUG must be off in production")
        if "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS must list origins explicitly in production, not '*'")
        if self.email_backend == "console":
            raise ValueError("EMAIL_BACKEND=console only logs emails; use smtp in production")
        if self.smtp_tls == "none" and not is_loopback_host(self.smtp_host):
            raise ValueError(
                "SMTP_TLS=none sends emails (and their links) in plain text: use starttls or tls "
                "in production unless SMTP_HOST is on this machine"
            )
        frontend = urlsplit(self.frontend_url)
        if frontend.scheme != "https" or is_loopback_host(frontend.hostname or ""):
            raise ValueError(
                "FRONTEND_URL must be the public https:// site that serves the email links "
                "in production"
            )
{%- if cookiecutter.file_storage == "s3" %}
        endpoint = urlsplit(self.s3_endpoint_url)
        if endpoint.scheme == "http" and not is_loopback_host(endpoint.hostname or ""):
            raise ValueError("S3_ENDPOINT_URL must be https:// in production (files and keys)")
{%- endif %}
        return self

{%- if cookiecutter.database == "postgresql" %}

    @property
    def resolved_db_ssl(self) -> str:
        # DB_SSL, else the URL's sslmode (what a provider handed out), else by environment.
        return (
            self.db_ssl
            or url_ssl_mode(self.database_url)
            or ("verify-full" if self.is_production else "disable")
        )
{%- endif %}

    @property
    def is_production(self) -> bool:
        return self.environment == Environment.PRODUCTION

    @property
    def serves_docs(self) -> bool:
        return not self.is_production if self.docs_enabled is None else self.docs_enabled

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json

    @property
    def resolved_test_database_url(self) -> str:
        return self.test_database_url or with_database_suffix(self.database_url, "_test")


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine: localhost, *.localhost, 127.0.0.0/8, ::1."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ip_address(name).is_loopback
    except ValueError:  # a host name other than localhost
        return False


def async_database_url(url: str) -> str:
    """`url` on the async driver this project uses; ValueError naming the forms that work."""
    forms = ", ".join(f"{scheme}://" for scheme in DATABASE_SCHEMES)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Not echoed: the value may hold a password.
        raise ValueError(f"not a database URL of the form {DATABASE_URL_SHAPE}") from None
    if parsed.drivername not in DATABASE_SCHEMES:
        raise ValueError(
            f"{parsed.drivername}:// cannot work here, this service runs on "
            f"{% if cookiecutter.database == "postgresql" %}PostgreSQL{% else %}SQLite{% endif %}: use one of {forms}"
        )
    parsed = parsed.set(drivername=ASYNC_DATABASE_SCHEME)
{%- if cookiecutter.database == "postgresql" %}
    query = dict(parsed.query)
    unknown = sorted(LIBPQ_ONLY_OPTIONS & query.keys())
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: libpq options asyncpg does not take; remove them")
    # Providers write libpq's sslmode=require; asyncpg names the same setting ssl.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    if "ssl" in query and query["ssl"] not in SSL_MODES:
        raise ValueError(f"sslmode={query['ssl']} is not one of {', '.join(SSL_MODES)}")
    parsed = parsed.set(query=query)
{%- endif %}
    return parsed.render_as_string(hide_password=False)
{%- if cookiecutter.database == "postgresql" %}


def url_ssl_mode(url: str) -> str:
    """The TLS mode a (normalised) DATABASE_URL asks for; empty if it names none."""
    mode = make_url(url).query.get("ssl", "")
    return mode if isinstance(mode, str) else ""
{%- endif %}


def with_database_suffix(url: str, suffix: str) -> str:
    """The same URL naming a sibling database: `shop` -> `shop_test`, `./shop.db` -> `shop_test.db`."""
    parsed = make_url(url)
    name = PurePosixPath(str(parsed.database))
    renamed = str(name.with_name(f"{name.stem}{suffix}{name.suffix}"))
    return parsed.set(database=renamed).render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_or_exit() -> Settings:
    """Settings for a starting process: a bad value ends it with one line, not a traceback."""
    try:
        return get_settings()
    except ValidationError as error:
        raise SystemExit(f"ERROR: invalid settings: {describe_settings_error(error)}") from None


def describe_settings_error(error: ValidationError) -> str:
    """`NAME: problem` per error, by environment variable name, on one line."""
    parts = []
    for detail in error.errors():
        message = str(detail["msg"]).removeprefix("Value error, ")
        names = ".".join(str(part) for part in detail["loc"]).upper()
        parts.append(f"{names}: {message}" if names else message)
    return "; ".join(parts)
