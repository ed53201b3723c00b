"""One access line per request: request id, method, route template, status and duration."""

import io
import json
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.observability.logging import ACCESS_LOGGER
from tests.urls import LIVE, ME


async def test_json_access_line_names_the_route_template_not_the_path(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    user_id = uuid.uuid4()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/api/v1/users/{user_id}")
    (line,) = output.getvalue().splitlines()
    record = json.loads(line)
    assert record["logger"] == ACCESS_LOGGER
    assert record["request_id"] == response.headers["x-request-id"]
    assert record["method"] == "GET"
    assert record["route"] == "/api/v1/users/{user_id}"
    assert record["status"] == response.status_code == 401
    assert isinstance(record["duration_ms"], float)
    assert str(user_id) not in line


async def test_text_access_line_carries_the_same_facts(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=False, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(ME)
    (line,) = output.getvalue().splitlines()
    assert f"[{response.headers['x-request-id']}]" in line
    assert f"GET {ME} 401 " in line


async def test_unmatched_path_is_logged_without_anything_token_like(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/nowhere/{jwt_like}")
    assert response.status_code == 404
    record = json.loads(output.getvalue())
    assert record["route"] == "/nowhere/[redacted]"
    assert jwt_like not in output.getvalue()


@pytest.mark.parametrize(
    "token",
    [
        "Qm9vdHN0cmFwLXJlc2V0LXRva2VuLWZvci10ZXN0aW5nLW9ubHk",  # a reset token's shape (43+)
        "kf83nd9s0akd81jf",  # 16 characters with digits
        "AbcdefghIjklmnoP",  # 16 characters, both letter cases
        "0f8fad5b-d9cb-469f-a165-70867728950e",  # an id
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",  # a JWT
    ],
)
async def test_unmatched_path_segments_that_look_like_tokens_are_not_logged(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO], token: str
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/no/such/{token}/page")
    assert response.status_code == 404
    assert json.loads(output.getvalue())["route"] == "/no/such/[redacted]/page"
    assert token not in output.getvalue()


async def test_unmatched_path_keeps_named_segments_readable(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=True, log_json=True, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/wp-admin/setup-config.php")
    assert json.loads(output.getvalue())["route"] == "/wp-admin/setup-config.php"


async def test_access_log_off_writes_nothing(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO]
) -> None:
    app = app_factory(access_log=False, log_level="INFO")
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        await client.get(ME)
    assert output.getvalue() == ""


@pytest.mark.parametrize("log_probes", [False, True])
async def test_passing_probes_are_logged_only_when_asked_and_failing_ones_always(
    app_factory: Callable[..., FastAPI], log_output: Callable[..., io.StringIO], log_probes: bool
) -> None:
    app = app_factory(
        access_log=True, access_log_probes=log_probes, log_json=True, log_level="INFO"
    )
    output = log_output(ACCESS_LOGGER)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        passing = await client.get(LIVE)
        failing = await client.post(LIVE)  # a probe sent wrong: 405
    assert (passing.status_code, failing.status_code) == (200, 405)
    logged = [
        (line["route"], line["status"]) for line in map(json.loads, output.getvalue().splitlines())
    ]
    assert logged == ([(LIVE, 200)] if log_probes else []) + [(LIVE, 405)]
