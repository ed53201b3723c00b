"""What a developer may well have tuned for their own service: none of it may reach the tests.

One matrix row (tests/variants.py, suite HOSTILE) runs its own tests with these settings in the
environment and in `.env`; its suite must pass as it does in a clean environment.
"""

from pathlib import Path

from tests.variants import Variant

HOSTILE_SETTINGS = {
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_AUTH": "1000/minute",
    "RATE_LIMIT_LOGIN_ACCOUNT": "1000/minute",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "60",
    "REFRESH_TOKEN_EXPIRE_DAYS": "1",
    "CORS_ORIGINS": "https://elsewhere.example.org",
    "LOG_JSON": "true",
    "LOG_LEVEL": "WARNING",
    "ACCESS_LOG": "true",
    "DB_POOL_SIZE": "1",
    "DB_MAX_OVERFLOW": "0",
    "MAX_BODY_BYTES": "2048",
    "DOCS_ENABLED": "false",
    "BCRYPT_ROUNDS": "13",
}
HOSTILE_ENV_FILE = {
    "RATE_LIMIT_DEFAULT": "3/minute",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "1",
    "ENVIRONMENT": "production",
    "DOCS_ENABLED": "false",
}
# On top, in a taskiq bake: their Redis, queue, retries and mail login. The broker is built from
# the environment when imported, so the suite must pin it before anything imports it.
HOSTILE_JOB_SETTINGS = {
    "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:1/0",
    "JOBS_QUEUE_NAME": "production:jobs",
    "JOBS_MAX_RETRIES": "0",
    "JOBS_RETRY_DELAY_SECONDS": "60",
    "SMTP_USER": "mailer",
    "SMTP_PASSWORD": "not-the-test-servers",
}


def make_hostile(project: Path, variant: Variant) -> dict[str, str]:
    """Appends the hostile `.env` lines to `project` and returns the hostile environment."""
    with (project / ".env").open("a") as env_file:
        env_file.writelines(f"{name}={value}\n" for name, value in HOSTILE_ENV_FILE.items())
    jobs = variant.answer("background_jobs", "none") == "taskiq"
    return {**HOSTILE_SETTINGS, **(HOSTILE_JOB_SETTINGS if jobs else {})}
