from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.conftest import assert_error

ASSETS = [
    ("/docs-assets/swagger-ui-bundle.js", "javascript"),
    ("/docs-assets/swagger-ui.css", "text/css"),
    ("/docs-assets/redoc.standalone.js", "javascript"),
    ("/docs-assets/favicon.png", "image/png"),
]


async def test_swagger_ui_page_loads_its_assets_from_this_service(client: AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    page = response.text
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert "/docs-assets/swagger-ui.css" in page
    assert "/openapi.json" in page
    assert "/docs/oauth2-redirect" in page
    assert "cdn.jsdelivr.net" not in page
    assert '"persistAuthorization": true' in page


async def test_redoc_page_loads_its_script_from_this_service(client: AsyncClient) -> None:
    response = await client.get("/redoc")
    assert response.status_code == 200
    assert "/docs-assets/redoc.standalone.js" in response.text
    assert "cdn.jsdelivr.net" not in response.text
    assert "fonts.googleapis.com" not in response.text


async def test_oauth2_redirect_page_is_served(client: AsyncClient) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "oauth2" in response.text.lower()


@pytest.mark.parametrize(("path", "content_type"), ASSETS)
async def test_docs_assets_are_served_with_their_content_type(
    client: AsyncClient, path: str, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert len(response.content) > 1000
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_pages_stay_out_of_the_openapi_schema(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]


async def test_turning_docs_off_removes_pages_schema_and_assets(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(docs_enabled=False)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        for path in ["/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", ASSETS[0][0]]:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert_error(response.json(), "NOT_FOUND")


@pytest.mark.parametrize(("docs_enabled", "status"), [(None, 404), (True, 200)])
async def test_production_serves_docs_only_when_enabled_explicitly(
    app_factory: Callable[..., FastAPI], docs_enabled: bool | None, status: int
) -> None:
    app = app_factory(environment="production", secret_key="p" * 40, docs_enabled=docs_enabled)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        for path in ["/docs", "/redoc", "/openapi.json"]:
            assert (await client.get(path)).status_code == status, path


async def test_docs_list_sign_in_first_whatever_order_the_routes_are_matched_in(
    client: AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert [tag["name"] for tag in schema["tags"]][:2] == ["auth", "users"]
