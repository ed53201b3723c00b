"""The {% if cookiecutter.file_storage == "s3" %}S3 storage against a real S3 API server (moto, on loopback){% else %}local disk storage against a temporary directory{% endif %}."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
{% if cookiecutter.file_storage == "s3" %}import httpx
{% endif %}import pytest

from app.core.clock import utcnow
from app.core.config import Settings
from app.storage import Storage, build_storage
from app.storage.base import InvalidKeyError
{%- if cookiecutter.file_storage == "s3" %}
from app.storage.s3 import PART_BYTES
{%- else %}
from app.storage.local import WRITE_BYTES
{%- endif %}
from tests.stored import partial_uploads, stored_bytes, stored_objects


class Broken(Exception):
    pass


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    storage = build_storage(settings)
    yield storage
    await storage.close()


async def chunks_of(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise Broken


def new_key() -> str:
    return uuid.uuid4().hex


async def test_save_stores_the_chunks_as_one_object(storage: Storage, settings: Settings) -> None:
    key = new_key()
    size = await storage.save(key, chunks_of(b"abc", b"", b"def"))
    assert size == 6
    assert stored_bytes(settings, key) == b"abcdef"
    await storage.delete(key)
    assert key not in stored_objects(settings)


async def test_a_failure_after_the_first_{{ "part" if cookiecutter.file_storage == "s3" else "write" }}_leaves_nothing(
    storage: Storage, settings: Settings
) -> None:
    key = new_key()
    with pytest.raises(Broken):
        await storage.save(key, chunks_of(b"x" * {{ "PART_BYTES" if cookiecutter.file_storage == "s3" else "WRITE_BYTES" }}, b"more", fail=True))
    assert key not in stored_objects(settings)
    assert partial_uploads(settings) == 0


{% if cookiecutter.file_storage == "s3" -%}
async def test_a_file_larger_than_a_part_is_uploaded_in_parts(
    storage: Storage, settings: Settings
) -> None:
    key = new_key()
    data = bytes(range(256)) * (PART_BYTES // 256) + b"tail"
    halves = (data[: len(data) // 2], data[len(data) // 2 :])
    assert await storage.save(key, chunks_of(*halves)) == len(data)
    assert stored_bytes(settings, key) == data
    assert partial_uploads(settings) == 0
    await storage.delete(key)


async def test_download_url_serves_the_object_as_an_attachment(storage: Storage) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"%PDF-1.4"))
    url = await storage.download_url(
        key, filename_header='attachment; filename="a.pdf"', content_type="application/pdf"
    )
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4"
    assert response.headers["content-disposition"] == 'attachment; filename="a.pdf"'
    assert response.headers["content-type"] == "application/pdf"
    await storage.delete(key)
{%- else -%}
async def test_a_file_larger_than_a_write_is_stored_in_order(
    storage: Storage, settings: Settings
) -> None:
    key = new_key()
    pieces = [bytes([n]) * (WRITE_BYTES // 3) for n in range(8)] + [b"tail"]
    assert await storage.save(key, chunks_of(*pieces)) == sum(map(len, pieces))
    assert stored_bytes(settings, key) == b"".join(pieces)
    await storage.delete(key)


async def test_open_reads_the_file_back_in_chunks(storage: Storage) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"a" * 100_000))
    read = b"".join([chunk async for chunk in await storage.open(key)])
    assert read == b"a" * 100_000
    await storage.delete(key)
    with pytest.raises(FileNotFoundError):
        await storage.open(key)
{%- endif %}


async def test_a_failing_upload_leaves_nothing(storage: Storage, settings: Settings) -> None:
    before = stored_objects(settings)
    key = new_key()
    with pytest.raises(Broken):
        await storage.save(key, chunks_of(b"abc", fail=True))
    assert stored_objects(settings) == before
    assert partial_uploads(settings) == 0


async def test_a_cancelled_upload_leaves_nothing(storage: Storage, settings: Settings) -> None:
    before = stored_objects(settings)

    async def stalled() -> AsyncIterator[bytes]:
        yield b"x" * {{ "PART_BYTES" if cookiecutter.file_storage == "s3" else "WRITE_BYTES" }}
        yield b"more"
        await anyio.sleep_forever()

    with anyio.move_on_after(0.5) as waited:
        await storage.save(new_key(), stalled())
    assert waited.cancelled_caught
    assert stored_objects(settings) == before
    assert partial_uploads(settings) == 0


async def test_deleting_a_missing_object_is_not_an_error(storage: Storage) -> None:
    await storage.delete(new_key())


@pytest.mark.parametrize("key", ["../escape", "a/b", "", ".hidden", "x" * 200])
async def test_keys_that_could_be_paths_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        await storage.save(key, chunks_of(b"abc"))


async def test_keys_lists_only_objects_written_before_the_cutoff(storage: Storage) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"abc"))
    assert key in await storage.keys(before=utcnow() + timedelta(minutes=1))
    assert key not in await storage.keys(before=utcnow() - timedelta(minutes=1))
    await storage.delete(key)
