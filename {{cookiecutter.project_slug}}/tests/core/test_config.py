import pytest
from pydantic import ValidationError

from app.core.config import Environment, Settings


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION, secret_key="short-but-not-default")


def test_production_refuses_debug() -> None:
    with pytest.raises(ValidationError, match="DEBUG"):
        Settings(environment=Environment.PRODUCTION, secret_key="k" * 40, debug=True)


def test_production_accepts_a_strong_secret() -> None:
    settings = Settings(environment=Environment.PRODUCTION, secret_key="k" * 40)
    assert settings.is_production
    assert settings.json_logs


def test_test_database_defaults_to_a_sibling_database() -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://u:p%40ss@db:5432/shop", test_database_url=""
    )
    assert settings.resolved_test_database_url == "postgresql+asyncpg://u:p%40ss@db:5432/shop_test"


def test_cors_origins_accept_a_comma_separated_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    assert Settings().cors_origins == ["https://a.example.com", "https://b.example.com"]


@pytest.mark.parametrize("limit", ["10/fortnight", "ten per minute", ""])
def test_a_malformed_rate_limit_fails_at_start_up(limit: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_login_account"):
        Settings(rate_limit_login_account=limit)


@pytest.mark.parametrize("algorithm", ["none", "RS256", "ES256"])
def test_only_shared_secret_jwt_algorithms_are_accepted(algorithm: str) -> None:
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        Settings(jwt_algorithm=algorithm)
