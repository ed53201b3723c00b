"""/metrics: counts by route template, pool gauges, 429s and login failures; private by default."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from pydantic import ValidationError

from app.models.users import User
from tests.conftest import assert_error
from tests.settings import HermeticSettings

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
PUBLIC_ADDRESS = "203.0.113.7"  # TEST-NET-3: never private
SCRAPER_ADDRESS = "10.1.2.3"  # a pod address, where Prometheus scrapes from


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def requests_counted(route: str, status: int, method: str = "GET") -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


async def scrape(app: FastAPI) -> str:
    async with client_from(app, SCRAPER_ADDRESS) as scraper:
        response = await scraper.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(
    client: AsyncClient, app: FastAPI, user_headers: dict[str, str]
) -> None:
    ok_before, refused_before = requests_counted(ME, 200), requests_counted(ME, 401)
    for _ in range(3):
        assert (await client.get(ME, headers=user_headers)).status_code == 200
    assert (await client.get(ME)).status_code == 401
    assert requests_counted(ME, 200) - ok_before == 3
    assert requests_counted(ME, 401) - refused_before == 1
    text = await scrape(app)
    assert 'http_requests_total{method="GET",route="' + ME + '",status="200"}' in text
    assert 'http_request_duration_seconds_count{method="GET",route="' + ME + '"}' in text
    assert "http_requests_in_progress 0.0" in text


async def test_a_path_with_an_id_is_labelled_by_its_template_never_the_id(
    client: AsyncClient, app: FastAPI, admin_headers: dict[str, str], user: User
) -> None:
    template = "/api/v1/users/{user_id}"
    before = requests_counted(template, 200)
    response = await client.get(f"/api/v1/users/{user.id}", headers=admin_headers)
    assert response.status_code == 200
    # Letters, not digits: "12345" can turn up by chance inside a duration sum or a timestamp.
    assert (await client.get("/no/such/path/zebra-xq")).status_code == 404
    assert requests_counted(template, 200) - before == 1
    text = await scrape(app)
    assert str(user.id) not in text
    assert "zebra-xq" not in text
    assert 'route="unmatched",status="404"' in text


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health/live"), ("HEAD", "/health/live"), ("GET", "/health/ready")],
)
async def test_health_probes_are_counted_under_their_own_routes(
    client: AsyncClient, method: str, path: str
) -> None:
    """Probes are the most frequent requests: counted as "unmatched" they would bury the 404s."""
    before, unmatched_before = (
        requests_counted(path, 200, method),
        requests_counted("unmatched", 200, method),
    )
    assert (await client.request(method, path)).status_code == 200
    assert requests_counted(path, 200, method) - before == 1
    assert requests_counted("unmatched", 200, method) == unmatched_before


async def test_pool_gauges_are_exported(client: AsyncClient, app: FastAPI) -> None:
    await client.get("/health/ready")
    text = await scrape(app)
    assert "db_pool_checked_out_connections " in text
    assert "db_pool_size " in text
    size = REGISTRY.get_sample_value("db_pool_size")
    assert size is not None
    assert size >= 1


async def test_rate_limit_rejections_are_counted(
    app_factory: Callable[..., FastAPI], user_headers: dict[str, str]
) -> None:
    app = app_factory(rate_limit_default="2/minute")
    rejected_before = REGISTRY.get_sample_value("rate_limit_rejections_total", {"limit": "default"})
    limited_before = requests_counted(ME, 429)
    async with client_from(app, "10.9.8.7") as client:
        statuses = [(await client.get(ME, headers=user_headers)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    rejected = REGISTRY.get_sample_value("rate_limit_rejections_total", {"limit": "default"})
    assert (rejected or 0) - (rejected_before or 0) == 1
    assert requests_counted(ME, 429) - limited_before == 1


async def test_login_failures_are_counted(client: AsyncClient, user: User) -> None:
    before = REGISTRY.get_sample_value("login_failures_total") or 0
    response = await client.post(LOGIN, data={"username": user.email, "password": "wrong-guess"})
    assert response.status_code == 401
    assert (REGISTRY.get_sample_value("login_failures_total") or 0) - before == 1


async def test_a_public_client_gets_the_ordinary_404(app: FastAPI) -> None:
    async with client_from(app, PUBLIC_ADDRESS) as public:
        response = await public.get("/metrics")
        unknown = await public.get("/no-such-page")
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")
    assert response.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert "http_requests_total" not in response.text


@pytest.mark.parametrize("address", ["127.0.0.1", SCRAPER_ADDRESS, "192.168.1.20", "::1"])
async def test_loopback_and_private_clients_may_scrape(app: FastAPI, address: str) -> None:
    async with client_from(app, address) as scraper:
        response = await scraper.get("/metrics")
    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_the_allow_list_comes_from_the_setting(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(metrics_allow_from=["192.0.2.0/24"])
    async with client_from(app, "192.0.2.44") as allowed, client_from(app, "10.0.0.1") as other:
        assert (await allowed.get("/metrics")).status_code == 200
        assert (await other.get("/metrics")).status_code == 404


async def test_metrics_disabled_removes_the_route(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(metrics_enabled=False)
    async with client_from(app, "127.0.0.1") as local:
        response = await local.get("/metrics")
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_scrapes_skip_the_access_log_and_the_rate_limits(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(access_log=True, access_log_probes=True, rate_limit_default="1/minute")
    access = Collected()
    logging.getLogger("app.access").addHandler(access)
    try:
        async with client_from(app, SCRAPER_ADDRESS) as scraper:
            statuses = [(await scraper.get("/metrics")).status_code for _ in range(3)]
            await scraper.get("/health/live")
    finally:
        logging.getLogger("app.access").removeHandler(access)
    assert statuses == [200, 200, 200]
    assert [line for line in access.lines if "/metrics" in line] == []
    assert [line for line in access.lines if "/health/live" in line]


def test_a_malformed_network_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="metrics_allow_from"):
        HermeticSettings(metrics_allow_from="10.0.0.0/33")  # type: ignore[arg-type]
    assert HermeticSettings(metrics_allow_from="10.0.0.5, ::1").metrics_allow_from == [  # type: ignore[arg-type]
        "10.0.0.5/32",
        "::1/128",
    ]
