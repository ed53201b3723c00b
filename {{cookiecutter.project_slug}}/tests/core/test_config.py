import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Environment, Settings, describe_settings_error
from tests.settings import HermeticSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def settings(**values: object) -> Settings:
    """Settings from explicit values and defaults only, whatever the environment holds."""
    values.setdefault("email_backend", "smtp")
    values.setdefault("frontend_url", "https://app.example.com")
    return HermeticSettings(**values)  # type: ignore[arg-type]


def production(**values: object) -> Settings:
    """Production settings that pass every start-up check but the ones `values` break."""
    return settings(**{"environment": Environment.PRODUCTION, "secret_key": "k" * 40, **values})


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return describe_settings_error(caught.value)


@pytest.mark.parametrize("secret", ["change-me", "dev-secret-change-me", "secret"])
def test_production_refuses_a_default_or_example_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        settings(environment=Environment.PRODUCTION, secret_key=secret)


def test_production_refuses_the_built_in_default_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        settings(environment=Environment.PRODUCTION)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        settings(environment=Environment.PRODUCTION, secret_key="short-but-not-default")


def test_production_refuses_debug() -> None:
    with pytest.raises(ValidationError, match="DEBUG"):
        settings(environment=Environment.PRODUCTION, secret_key="k" * 40, debug=True)


def test_production_accepts_a_strong_secret() -> None:
    production = settings(environment=Environment.PRODUCTION, secret_key="k" * 40)
    assert production.is_production
    assert production.json_logs


def test_the_secret_key_never_shows_in_a_repr_or_a_dump() -> None:
    key = "a-key-that-must-never-be-printed-0123456789"
    configured = settings(secret_key=key)
    assert configured.secret_key.get_secret_value() == key
    for shown in (
        repr(configured),
        str(configured),
        str(configured.model_dump()),
        configured.model_dump_json(),
    ):
        assert key not in shown


{% if cookiecutter.database == "postgresql" -%}
def test_test_database_defaults_to_a_sibling_database() -> None:
    configured = settings(
        database_url="postgresql+asyncpg://u:p%40ss@db:5432/shop", test_database_url=""
    )
    assert (
        configured.resolved_test_database_url == "postgresql+asyncpg://u:p%40ss@db:5432/shop_test"
    )


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p%40ss@db/shop", "postgresql+asyncpg://u:p%40ss@db/shop"),
        ("postgresql://u@db:6543/shop", "postgresql+asyncpg://u@db:6543/shop"),
        ("postgresql+psycopg://u@db/shop", "postgresql+asyncpg://u@db/shop"),
        ("postgresql+asyncpg://u@db/shop", "postgresql+asyncpg://u@db/shop"),
        # What hosted databases hand out: libpq's sslmode is asyncpg's ssl.
        ("postgres://u@db/shop?sslmode=require", "postgresql+asyncpg://u@db/shop?ssl=require"),
    ],
)
def test_database_urls_as_providers_write_them_connect_through_asyncpg(
    given: str, used: str
) -> None:
    configured = settings(database_url=given, test_database_url=given)
    assert configured.database_url == used
    assert configured.test_database_url == used


def test_the_tls_mode_in_the_url_is_the_one_used_unless_db_ssl_says_the_same() -> None:
    url = "postgres://u@db/shop?sslmode=verify-full"
    assert settings(database_url=url).resolved_db_ssl == "verify-full"
    assert settings(database_url=url, db_ssl="verify-full").resolved_db_ssl == "verify-full"
    assert refusal(database_url=url, db_ssl="disable") == (
        "DB_SSL=disable and sslmode=verify-full in DATABASE_URL disagree: keep one"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u@db/shop", "mysql:// cannot work here, this service runs on PostgreSQL"),
        ("sqlite:///shop.db", "sqlite:// cannot work here, this service runs on PostgreSQL"),
        ("postgres://u:secret@db:port/shop", "not a database URL of the form"),
        ("postgres://u@db/shop?sslmode=prefer", "sslmode=prefer is not one of disable, require"),
        ("postgres://u@db/shop?channel_binding=require", "channel_binding: libpq options"),
    ],
)
def test_a_database_url_that_cannot_work_is_refused_in_one_line(url: str, reason: str) -> None:
    for name in ("database_url", "test_database_url"):
        refused = refusal(**{name: url})
        assert refused.startswith(f"{name.upper()}: {reason}")
        assert "secret" not in refused
    assert refusal(database_url="mysql://u@db/shop").endswith(
        "use one of postgresql+asyncpg://, postgresql://, postgres://, postgresql+psycopg://"
    )
{%- else -%}
def test_test_database_of_a_sqlite_file_is_a_sibling_file() -> None:
    configured = settings(database_url="sqlite+aiosqlite:///./data/shop.db", test_database_url="")
    assert configured.resolved_test_database_url == "sqlite+aiosqlite:///data/shop_test.db"


@pytest.mark.parametrize("given", ["sqlite:///./shop.db", "sqlite+pysqlite:///./shop.db"])
def test_sqlite_urls_open_the_file_through_aiosqlite(given: str) -> None:
    assert settings(database_url=given).database_url == "sqlite+aiosqlite:///./shop.db"


@pytest.mark.parametrize("url", ["postgres://u@db/shop", "mysql://u@db/shop"])
def test_a_database_url_that_cannot_work_is_refused_in_one_line(url: str) -> None:
    scheme = url.split(":")[0]
    assert refusal(database_url=url) == (
        f"DATABASE_URL: {scheme}:// cannot work here, this service runs on SQLite: use one of "
        "sqlite+aiosqlite://, sqlite://, sqlite+pysqlite://"
    )
{%- endif %}


def test_cors_origins_accept_a_comma_separated_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    from_environment = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_environment.cors_origins == ["https://a.example.com", "https://b.example.com"]


@pytest.mark.parametrize("limit", ["10/fortnight", "ten per minute", ""])
def test_a_malformed_rate_limit_fails_at_start_up(limit: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_login_account"):
        settings(rate_limit_login_account=limit)


@pytest.mark.parametrize("algorithm", ["none", "RS256", "ES256"])
def test_only_shared_secret_jwt_algorithms_are_accepted(algorithm: str) -> None:
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        settings(jwt_algorithm=algorithm)


def test_production_refuses_the_console_email_backend() -> None:
    with pytest.raises(ValidationError, match="EMAIL_BACKEND=console"):
        settings(environment=Environment.PRODUCTION, secret_key="k" * 40, email_backend="console")


def test_console_email_backend_is_fine_outside_production() -> None:
    assert settings(email_backend="console").email_backend == "console"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)//",
        "data:text/html,x",
        "ftp://app.example.com",
        "app.example.com",
    ],
)
@pytest.mark.parametrize("environment", list(Environment))
def test_frontend_url_must_be_an_http_url_in_every_environment(
    url: str, environment: Environment
) -> None:
    assert refusal(environment=environment, secret_key="k" * 40, frontend_url=url) == (
        "FRONTEND_URL: must be an http:// or https:// URL with a host"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3000",
        "https://localhost",
        "https://app.localhost",
        "https://127.0.0.1:8443",
        "https://[::1]/",
        "http://app.example.com",
    ],
)
def test_production_refuses_a_local_or_plain_http_frontend_url(url: str) -> None:
    with pytest.raises(ValidationError, match="FRONTEND_URL must be the public https://"):
        production(frontend_url=url)


def test_a_local_http_frontend_url_is_fine_outside_production() -> None:
    assert settings(frontend_url="http://localhost:3000").frontend_url == "http://localhost:3000"


@pytest.mark.parametrize("host", ["smtp.example.com", "10.0.0.25", "mailpit"])
def test_production_refuses_plain_text_smtp_to_a_relay_elsewhere(host: str) -> None:
    with pytest.raises(ValidationError, match="SMTP_TLS=none sends emails"):
        production(smtp_host=host, smtp_tls="none")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_production_allows_plain_text_smtp_to_a_relay_on_this_machine(host: str) -> None:
    assert production(smtp_host=host, smtp_tls="none").smtp_tls == "none"


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [
        (Environment.LOCAL, None, True),
        (Environment.TEST, None, True),
        (Environment.PRODUCTION, None, False),
        (Environment.PRODUCTION, True, True),
        (Environment.LOCAL, False, False),
    ],
)
def test_docs_are_served_in_production_only_when_enabled_explicitly(
    environment: Environment, docs_enabled: bool | None, served: bool
) -> None:
    chosen = production(environment=environment, docs_enabled=docs_enabled)
    assert chosen.serves_docs is served


def test_settings_errors_are_described_by_variable_name_on_one_line() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(access_token_expire_minutes=600, rate_limit_auth="lots")
    assert describe_settings_error(caught.value) == (
        "ACCESS_TOKEN_EXPIRE_MINUTES: Input should be less than or equal to 60; "
        "RATE_LIMIT_AUTH: couldn't parse rate limit string 'lots'"
    )


@pytest.mark.parametrize(
    "command",
    [["-c", "from app.server import serve; serve()"], ["-m", "app.cli", "create-db"]],
    ids=["server", "cli"],
)
def test_a_refused_production_start_prints_one_line(command: list[str]) -> None:
    env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": "too-short"}
    result = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ERROR: invalid settings: SECRET_KEY must be a random value of at least 32 characters "
        "in production"
    ]
{%- if cookiecutter.database == "postgresql" %}


def test_database_tls_is_verified_by_default_in_production() -> None:
    production = settings(environment=Environment.PRODUCTION, secret_key="k" * 40, db_ssl="")
    assert production.resolved_db_ssl == "verify-full"


def test_database_tls_is_off_by_default_locally_so_no_tls_attempt_is_made() -> None:
    assert settings(environment=Environment.LOCAL, db_ssl="").resolved_db_ssl == "disable"


def test_database_tls_setting_wins_over_the_environment_default() -> None:
    production = settings(environment=Environment.PRODUCTION, secret_key="k" * 40, db_ssl="disable")
    assert production.resolved_db_ssl == "disable"


@pytest.mark.parametrize("mode", ["prefer", "allow", "on"])
def test_database_tls_modes_that_fall_back_silently_are_refused(mode: str) -> None:
    with pytest.raises(ValidationError, match="db_ssl"):
        settings(db_ssl=mode)
{%- endif %}


def test_files_in_secrets_dir_provide_settings_and_variables_still_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the Kubernetes pods read their Secret: one file per setting, named like it."""
    (tmp_path / "SECRET_KEY").write_text("f" * 40 + "\n")  # a trailing newline is not the key's
    (tmp_path / "SMTP_PASSWORD").write_text("relay-password")
    for name in ("SECRET_KEY", "SMTP_PASSWORD", "SECRETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).smtp_password.get_secret_value() == ""

    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    from_files = Settings(_env_file=None)
    assert from_files.secret_key.get_secret_value() == "f" * 40
    assert from_files.smtp_password.get_secret_value() == "relay-password"

    monkeypatch.setenv("SMTP_PASSWORD", "from-the-environment")
    assert Settings(_env_file=None).smtp_password.get_secret_value() == "from-the-environment"
