"""The attachment service's own guarantees, with the real database and {% if cookiecutter.file_storage == "s3" %}S3 API server{% else %}directory{% endif %}."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.cache.versioned import Cache
from app.core.config import Settings
from app.core.exceptions import NotFoundError, UnsupportedFileTypeError
from app.db.session import Database
from app.models.items import Item
from app.models.users import User
from app.services.attachments import AttachmentService
from app.services.items import ItemService
from app.storage import Storage, build_storage
from tests.api.test_attachments import PNG
from tests.stored import stored_objects

# Negative: every object counts as old enough, so the test need not wait an hour.
EVERYTHING = timedelta(seconds=-60)


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    storage = build_storage(settings)
    yield storage
    await storage.close()


@pytest.fixture
async def item(session: AsyncSession, user: User) -> Item:
    item = Item(title="with files", owner_id=user.id)
    session.add(item)
    await session.commit()
    return item


async def test_prune_removes_objects_without_a_row_and_keeps_the_others(
    database: Database, storage: Storage, settings: Settings, cache: Cache, user: User, item: Item
) -> None:
    service = AttachmentService(database, storage, settings, ItemService(cache))
    kept = await service.upload(user.principal, item.id, "kept.png", chunks_of(PNG))
    orphan = uuid.uuid4().hex  # what a failed insert or delete leaves behind
    await storage.save(orphan, chunks_of(PNG))

    report = await service.prune_orphans(grace=EVERYTHING)

    assert report.orphans >= 1
    assert orphan not in stored_objects(settings)
    assert kept.key in stored_objects(settings)


async def test_prune_leaves_young_objects_alone(
    database: Database, storage: Storage, settings: Settings, cache: Cache
) -> None:
    young = uuid.uuid4().hex  # an upload whose row is being written right now
    await storage.save(young, chunks_of(PNG))
    await AttachmentService(database, storage, settings, ItemService(cache)).prune_orphans(
        grace=timedelta(hours=1)
    )
    assert young in stored_objects(settings)
    await storage.delete(young)


async def test_another_users_item_is_refused_before_any_byte_is_read(
    database: Database,
    storage: Storage,
    settings: Settings,
    cache: Cache,
    other_user: User,
    item: Item,
) -> None:
    read: list[bytes] = []

    async def watched() -> AsyncIterator[bytes]:
        read.append(PNG)
        yield PNG

    service = AttachmentService(database, storage, settings, ItemService(cache))
    with pytest.raises(NotFoundError):
        await service.upload(other_user.principal, item.id, "x.png", watched())
    assert read == []


async def test_a_refused_type_stores_nothing(
    database: Database, storage: Storage, settings: Settings, cache: Cache, user: User, item: Item
) -> None:
    before = stored_objects(settings)
    service = AttachmentService(database, storage, settings, ItemService(cache))
    html = chunks_of(b"<!DOCTYPE html>", b"<html></html>")
    with pytest.raises(UnsupportedFileTypeError):
        await service.upload(user.principal, item.id, "x.png", html)
    assert stored_objects(settings) == before
