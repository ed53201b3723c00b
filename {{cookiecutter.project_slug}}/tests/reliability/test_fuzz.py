"""Property-based fuzzing of the whole OpenAPI schema against a running server.

Every operation is called with bounded, deterministic examples, with and without a valid token.
No answer may be a 5xx, and every answer must match the documented schema, errors included.
"""

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.reliability.conftest import LiveServer

schemathesis = pytest.importorskip("schemathesis")
# Skipped on purpose: email-validator refuses special-use domains (`.test`, `.invalid`) that JSON
# Schema's `format: email` allows, so generated "valid" emails are rightly answered with 422.
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

MAX_EXAMPLES = 8


@pytest.fixture(scope="session")
def fuzz_server(two_servers: tuple[LiveServer, LiveServer]) -> LiveServer:
    return two_servers[0]


@pytest.fixture(scope="session")
def access_token(fuzz_server: LiveServer) -> str:
    credentials = {"email": "fuzz@example.com", "password": "correct horse battery"}
    httpx.post(f"{fuzz_server.base_url}/api/v1/auth/register", json=credentials, timeout=10)
    login = httpx.post(
        f"{fuzz_server.base_url}/api/v1/auth/login",
        data={"username": credentials["email"], "password": credentials["password"]},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


@pytest.fixture(scope="session")
def operations(fuzz_server: LiveServer) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(operations: list[Any], base_url: str, headers: dict[str, str]) -> None:
    """Runs each operation's bounded examples; a failing example raises with its reproduction."""
    for operation in operations:

        @BOUNDED
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(
                base_url=base_url, headers=headers, excluded_checks=[positive_data_acceptance]
            )

        check()


def test_anonymous_calls_never_fail_and_match_the_schema(
    operations: list[Any], fuzz_server: LiveServer
) -> None:
    fuzz(operations, fuzz_server.base_url, {})


def test_authenticated_calls_never_fail_and_match_the_schema(
    operations: list[Any], fuzz_server: LiveServer, access_token: str
) -> None:
    fuzz(operations, fuzz_server.base_url, {"Authorization": f"Bearer {access_token}"})
