"""Hermetic test settings: the environment and `.env` tune the developer's own service, never the
suite. Only where the databases live is read from outside (TEST_DATABASE_URL or DATABASE_URL)."""

{% if cookiecutter.background_jobs == "taskiq" -%}
import uuid
{% endif -%}
from functools import cache

{% if cookiecutter.database == "postgresql" or cookiecutter.background_jobs == "taskiq" -%}
from pydantic import SecretStr, ValidationError
{% else -%}
from pydantic import ValidationError
{% endif -%}
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from app.core.config import Environment, Settings, describe_settings_error
{%- if cookiecutter.background_jobs == "taskiq" %}

# Never the project's own queue: a running `make worker` must not see test jobs. One per run, so
# the broker (built from the environment, see conftest.py) and every app of the run share it,
# and the run deletes it at the end (tests/conftest.py).
TEST_JOBS_QUEUE = f"{{ cookiecutter.project_slug }}-test-{uuid.uuid4().hex}"
{%- endif %}


class HermeticSettings(Settings):
    """Settings from explicit values and the defaults in code, never from the environment or .env."""

    # No file either: pydantic-settings reads and parses .env while it builds its sources, before
    # `settings_customise_sources` drops them, and the suite builds settings for most of its tests.
    model_config = SettingsConfigDict(env_file=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class DatabaseLocation(BaseSettings):
    """The only values the suite reads from outside: where the databases live."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Settings.model_fields["database_url"].default
    test_database_url: str = ""


@cache  # read once per run, like the environment it comes from
def database_url_for_tests() -> str:
    location = DatabaseLocation()
    try:
        return HermeticSettings(
            database_url=location.database_url, test_database_url=location.test_database_url
        ).resolved_test_database_url
    except ValidationError as error:
        # Read while pytest loads conftest.py: a SystemExit passes through it as one line.
        raise SystemExit(f"ERROR: invalid settings: {describe_settings_error(error)}") from None


def make_test_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "database_url": database_url_for_tests(),
        "bcrypt_rounds": 4,
        "access_log": False,
        "cors_origins": ["https://app.example.com"],
        # Port 9 refuses at once; the `settings` fixture points it at the test SMTP server.
        "email_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": 9,
        "smtp_tls": "none",
        "frontend_url": "https://app.example.com",
        # On in every bake: the suite proves the cached reads are never stale.
        "cache_enabled": True,
{%- if cookiecutter.background_jobs == "taskiq" %}
        "jobs_queue_name": TEST_JOBS_QUEUE,
{%- endif %}
    }
    values.update(overrides)
    return HermeticSettings(**values)  # type: ignore[arg-type]


def changed_settings(settings: Settings, **changes: object) -> Settings:
    """`settings` with `changes`, validated again, still ignoring the environment."""
    return HermeticSettings(**{**settings.model_dump(), **changes})
{%- if cookiecutter.database == "postgresql" or cookiecutter.background_jobs == "taskiq" %}


def as_environment(settings: Settings) -> dict[str, str]:
    """Every setting as a variable: a process started with them reads nothing of the developer's
    environment or .env for its settings (variables win over .env)."""
    # Settings left unset (None) resolve from the environment: pass what they resolved to.
    resolved = {"log_json": settings.json_logs, "docs_enabled": settings.serves_docs}
    values = settings.model_dump(mode="json") | resolved
    # mode="json" masks secrets as "**********"; the process needs the values themselves.
    values |= {
        name: value.get_secret_value() for name, value in settings if isinstance(value, SecretStr)
    }
    return {
        name.upper(): _as_variable(value) for name, value in values.items() if value is not None
    }


def _as_variable(value: object) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
{%- endif %}
