"""Attachments end to end: the real app, database and {% if cookiecutter.file_storage == "s3" %}S3 API server{% else %}disk{% endif %}; every refusal leaves no row and no object."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.attachments import Attachment
from tests.conftest import assert_error
from tests.stored import partial_uploads, stored_bytes, stored_objects
from tests.urls import url_for

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
BOUNDARY = "test-boundary-7f3a"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
Headers = dict[str, str]


def head(filename: str = "photo.png", content_type: str = "image/png") -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def body(data: bytes, filename: str = "photo.png", content_type: str = "image/png") -> bytes:
    return head(filename, content_type) + data + TAIL


async def create_item(client: AsyncClient, headers: Headers) -> str:
    response = await client.post(
        url_for("list_items"), json={"title": "with files"}, headers=headers
    )
    assert response.status_code == 201
    item_id: str = response.json()["id"]
    return item_id


def upload_url(item_id: str) -> str:
    return url_for("upload_attachment", item_id=item_id)


def one_url(item_id: str, attachment_id: str) -> str:
    return url_for("download_attachment", item_id=item_id, attachment_id=attachment_id)


async def upload(
    client: AsyncClient, headers: Headers, item_id: str, data: bytes = PNG
) -> dict[str, object]:
    response = await client.post(
        upload_url(item_id), content=body(data), headers={**headers, "Content-Type": MULTIPART}
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def rows(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Attachment)) or 0


class Leftovers:
    """Rows, objects and partial uploads before a refusal, to compare with after it."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session, self.settings = session, settings

    async def snapshot(self) -> tuple[int, set[str], int]:
        return (
            await rows(self.session),
            stored_objects(self.settings),
            partial_uploads(self.settings),
        )


@pytest.fixture
def leftovers(session: AsyncSession, settings: Settings) -> Leftovers:
    return Leftovers(session, settings)


def client_for(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value("uploads_refused_total", {"reason": reason}) or 0.0


async def test_upload_list_download_delete(
    client: AsyncClient, user_headers: Headers, settings: Settings, session: AsyncSession
) -> None:
    item_id = await create_item(client, user_headers)
    created = await upload(client, user_headers, item_id)
    assert set(created) == {"id", "name", "content_type", "size", "created_at"}
    assert (created["name"], created["content_type"], created["size"]) == (
        "photo.png",
        "image/png",
        len(PNG),
    )
    attachment = await session.get(Attachment, uuid.UUID(str(created["id"])))
    assert attachment is not None
    assert stored_bytes(settings, attachment.key) == PNG

    listed = await client.get(upload_url(item_id), headers=user_headers, params={"limit": 1})
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert [entry["id"] for entry in listed.json()["results"]] == [created["id"]]

    response = await client.get(one_url(item_id, str(created["id"])), headers=user_headers)
{%- if cookiecutter.file_storage == "s3" %}
    assert response.status_code == 307
    assert response.headers["location"].startswith(settings.s3_endpoint_url)
    assert "X-Amz-Expires=" in response.headers["location"]
    async with AsyncClient() as outside:
        fetched = await outside.get(response.headers["location"])
    assert fetched.content == PNG
    assert fetched.headers["content-disposition"].startswith('attachment; filename="photo.png"')
{%- else %}
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith('attachment; filename="photo.png"')
{%- endif %}

    deleted = await client.delete(one_url(item_id, str(created["id"])), headers=user_headers)
    assert deleted.status_code == 204
    assert attachment.key not in stored_objects(settings)
    gone = await client.get(one_url(item_id, str(created["id"])), headers=user_headers)
    assert gone.status_code == 404


async def test_another_users_item_and_files_are_not_found(
    client: AsyncClient, user_headers: Headers, other_headers: Headers, leftovers: Leftovers
) -> None:
    item_id = await create_item(client, user_headers)
    attachment_id = str((await upload(client, user_headers, item_id))["id"])
    before = await leftovers.snapshot()
    attempts = [
        client.post(
            upload_url(item_id),
            content=body(PNG),
            headers={**other_headers, "Content-Type": MULTIPART},
        ),
        client.get(upload_url(item_id), headers=other_headers),
        client.get(one_url(item_id, attachment_id), headers=other_headers),
        client.delete(one_url(item_id, attachment_id), headers=other_headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404
        assert_error(response.json(), "NOT_FOUND")
    assert await leftovers.snapshot() == before


async def test_truthful_content_length_over_the_limit_is_refused_before_reading(
    app_factory: Callable[..., FastAPI], user_headers: Headers, leftovers: Leftovers
) -> None:
    app = app_factory(upload_max_bytes=1000)
    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        for chunk in (head(), b"x" * 50_000, TAIL):
            sent.append(len(chunk))
            yield chunk

    async with app.router.lifespan_context(app), client_for(app) as client:
        item_id = await create_item(client, user_headers)
        before, count = await leftovers.snapshot(), refused("too_large")
        response = await client.post(
            upload_url(item_id),
            content=stream(),
            headers={**user_headers, "Content-Type": MULTIPART, "Content-Length": "50200"},
        )
    assert response.status_code == 413
    assert_error(response.json(), "PAYLOAD_TOO_LARGE")
    assert response.json()["error"]["details"] == {"max_bytes": 1000}
    assert sum(sent) <= len(head())  # refused on the header: at most the first chunk was pulled
    assert await leftovers.snapshot() == before
    assert refused("too_large") == count + 1


@pytest.mark.parametrize("declared", [None, "400"], ids=["chunked", "lying-content-length"])
async def test_a_body_growing_past_the_limit_is_refused_as_it_arrives(
    app_factory: Callable[..., FastAPI],
    user_headers: Headers,
    leftovers: Leftovers,
    declared: str | None,
) -> None:
    limit = 20_000
    app = app_factory(upload_max_bytes=limit)
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head()
        yield PNG
        for _ in range(100):  # 100 x 1000 bytes: five times the limit, if it were all read
            sent += 1000
            yield b"x" * 1000
        yield TAIL

    headers = {**user_headers, "Content-Type": MULTIPART}
    if declared:
        headers["Content-Length"] = declared
    async with app.router.lifespan_context(app), client_for(app) as client:
        item_id = await create_item(client, user_headers)
        before = await leftovers.snapshot()
        response = await client.post(upload_url(item_id), content=stream(), headers=headers)
    assert response.status_code == 413
    assert_error(response.json(), "PAYLOAD_TOO_LARGE")
    assert sent <= limit + 2000  # stopped within a chunk of the limit, not at the end
    assert await leftovers.snapshot() == before


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (b"<html><script>alert(document.cookie)</script></html>", "photo.png", "image/png"),
        (b"MZ" + bytes(200), "invoice.pdf", "application/pdf"),
        (b"plain words, no signature at all", "notes.png", "image/png"),
    ],
    ids=["html-as-png", "exe-as-pdf", "text-as-png"],
)
async def test_a_disguised_type_is_refused(
    client: AsyncClient,
    user_headers: Headers,
    leftovers: Leftovers,
    data: bytes,
    filename: str,
    declared: str,
) -> None:
    item_id = await create_item(client, user_headers)
    before = await leftovers.snapshot()
    response = await client.post(
        upload_url(item_id),
        content=body(data, filename, declared),
        headers={**user_headers, "Content-Type": MULTIPART},
    )
    assert response.status_code == 415
    assert_error(response.json(), "UNSUPPORTED_MEDIA_TYPE")
    assert await leftovers.snapshot() == before


async def test_an_empty_file_is_refused(
    client: AsyncClient, user_headers: Headers, leftovers: Leftovers
) -> None:
    item_id = await create_item(client, user_headers)
    before = await leftovers.snapshot()
    response = await client.post(
        upload_url(item_id), content=body(b""), headers={**user_headers, "Content-Type": MULTIPART}
    )
    assert response.status_code == 422
    assert_error(response.json(), "EMPTY_FILE")
    assert await leftovers.snapshot() == before


@pytest.mark.parametrize(
    "content",
    [
        b"",
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx{TAIL.decode()}'.encode(),
    ],
    ids=["no-body", "no-file-field"],
)
async def test_a_body_without_the_file_is_refused(
    client: AsyncClient, user_headers: Headers, leftovers: Leftovers, content: bytes
) -> None:
    item_id = await create_item(client, user_headers)
    before = await leftovers.snapshot()
    response = await client.post(
        upload_url(item_id), content=content, headers={**user_headers, "Content-Type": MULTIPART}
    )
    assert response.status_code == 400
    assert_error(response.json(), "MALFORMED_UPLOAD")
    assert await leftovers.snapshot() == before


async def test_a_traversal_name_is_only_a_label(
    client: AsyncClient, user_headers: Headers, settings: Settings, session: AsyncSession
) -> None:
    item_id = await create_item(client, user_headers)
    before = stored_objects(settings)
    response = await client.post(
        upload_url(item_id),
        content=body(PNG, filename="../../../../tmp/evil\x01.png"),
        headers={**user_headers, "Content-Type": MULTIPART},
    )
    assert response.status_code == 201
    assert response.json()["name"] == "evil.png"
    attachment = await session.get(Attachment, uuid.UUID(response.json()["id"]))
    assert attachment is not None
    # The object is stored under the key the service chose, next to the others, nowhere else.
    assert stored_objects(settings) == before | {attachment.key}
    assert attachment.key not in {"evil.png", "..", "tmp"}


async def test_an_interrupted_upload_leaves_nothing(
    app: FastAPI, user_headers: Headers, leftovers: Leftovers
) -> None:
    """A real server and a client that hangs up halfway through the file."""
    async with client_for(app) as client:
        item_id = await create_item(client, user_headers)
    before, count = await leftovers.snapshot(), refused("interrupted")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        data = head() + PNG + b"x" * 100_000
        request = (
            f"POST {upload_url(item_id)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {user_headers['Authorization']}\r\n"
            f"Content-Type: {MULTIPART}\r\nContent-Length: {len(data) + 500_000}\r\n\r\n"
        ).encode()
        writer.write(request + data)
        await writer.drain()
        writer.close()
        for _ in range(500):  # the server notices the hang-up on its next read
            if refused("interrupted") > count:
                break
            await asyncio.sleep(0.01)
    finally:
        server.should_exit = True
        await serving
    assert refused("interrupted") == count + 1
    assert await leftovers.snapshot() == before
