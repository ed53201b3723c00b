"""Files attached to items: stored as they arrive, typed from their bytes, owned through the item.

Each step opens its own short unit of work: no database connection is held while a file's
bytes arrive (a slow client would otherwise pin one for minutes). Row and object stay
consistent in one direction: an object is stored before its row and deleted after it, so every
row has its object; an object whose row never came (a failed insert) or is gone (a failed
delete, an item deleted with its attachments) is an orphan, removed by `prune_orphans`.
"""

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import anyio

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.exceptions import EmptyFileError, NotFoundError
from app.core.files import SNIFF_BYTES, check_type, {% if cookiecutter.file_storage == "s3" %}content_disposition, {% endif %}safe_filename
from app.db.session import Database, ReadSession
from app.models.attachments import Attachment
from app.models.users import Principal
from app.observability.metrics import UPLOAD_BYTES_STORED
from app.repositories.attachments import AttachmentRepository
from app.repositories.base import ResultPage
from app.schemas.attachments import AttachmentListParams
from app.services.items import ItemService
from app.storage import Storage

logger = logging.getLogger(__name__)
# Keys looked up per query while pruning.
PRUNE_BATCH = 500


@dataclass(frozen=True, slots=True)
class PruneReport:
    orphans: int
    partial: int


@dataclass(frozen=True, slots=True)
class Download:
    attachment: Attachment
{%- if cookiecutter.file_storage == "s3" %}
    url: str
{%- else %}
    chunks: AsyncIterator[bytes]
{%- endif %}


class AttachmentService:
    """Files of items: `items` decides whose item it is (another user's is a 404)."""

    def __init__(
        self, database: Database, storage: Storage, settings: Settings, items: ItemService
    ) -> None:
        self.database = database
        self.storage = storage
        self.settings = settings
        self.items = items

    async def upload(
        self,
        user: Principal,
        item_id: uuid.UUID,
        filename: str | None,
        chunks: AsyncIterator[bytes],
    ) -> Attachment:
        """Stores the file under a new key, then records it; refused files leave nothing."""
        async with self.database.reads() as session:
            await self.items.get(session, user, item_id)  # 404 before a byte of the file is read
        content_type, typed_chunks = await self._typed(chunks)
        key = uuid.uuid4().hex
        size = await self.storage.save(key, typed_chunks)
        try:
            async with self.database.transaction() as session:
                attachment = await AttachmentRepository(session).create(
                    item_id=item_id,
                    name=safe_filename(filename),
                    content_type=content_type,
                    size=size,
                    key=key,
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.storage.delete(key)
            raise
        UPLOAD_BYTES_STORED.inc(size)
        return attachment

    async def _typed(self, chunks: AsyncIterator[bytes]) -> tuple[str, AsyncIterator[bytes]]:
        """The type the file's first bytes show (415 unless allowed), and the whole file again."""
        head = bytearray()
        async for chunk in chunks:
            head += chunk
            if len(head) >= SNIFF_BYTES:
                break
        if not head:
            raise EmptyFileError()
        content_type = check_type(bytes(head[:SNIFF_BYTES]), self.settings.upload_allowed_types)

        async def whole_file() -> AsyncIterator[bytes]:
            yield bytes(head)
            async for chunk in chunks:
                yield chunk

        return content_type, whole_file()

    async def list(
        self, user: Principal, item_id: uuid.UUID, params: AttachmentListParams
    ) -> ResultPage[Attachment]:
        async with self.database.reads() as session:
            await self.items.get(session, user, item_id)
            return await AttachmentRepository(session).page_of_item(
                item_id, limit=params.limit, offset=params.offset
            )

    async def get(
        self, user: Principal, item_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> Attachment:
        async with self.database.reads() as session:
            return await self._get(session, user, item_id, attachment_id)

    async def download(
        self, user: Principal, item_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> Download:
        attachment = await self.get(user, item_id, attachment_id)
{%- if cookiecutter.file_storage == "s3" %}
        url = await self.storage.download_url(
            attachment.key,
            filename_header=content_disposition(attachment.name),
            content_type=attachment.content_type,
        )
        return Download(attachment, url)
{%- else %}
        try:
            chunks = await self.storage.open(attachment.key)
        except FileNotFoundError:
            # Rows are written after their files and deleted before them: the disk lost it.
            logger.error("Attachment %s has no file under key %s", attachment.id, attachment.key)
            raise NotFoundError("Attachment file not found") from None
        return Download(attachment, chunks)
{%- endif %}

    async def delete(self, user: Principal, item_id: uuid.UUID, attachment_id: uuid.UUID) -> None:
        """The row first (the answer depends on it), then the object; an object left behind by
        a failure here is an orphan for `prune_orphans`."""
        async with self.database.transaction() as session:
            attachment = await self._get(session, user, item_id, attachment_id)
            await AttachmentRepository(session).delete(attachment)
        try:
            await self.storage.delete(attachment.key)
        except Exception:
            logger.exception(
                "Attachment %s deleted, its object %s not", attachment.id, attachment.key
            )

    async def prune_orphans(self, *, grace: timedelta) -> PruneReport:
        """Deletes objects no row refers to and abandoned partial uploads, older than `grace`
        (younger ones may belong to an upload whose row is being written right now)."""
        before = utcnow() - grace
        keys = await self.storage.keys(before=before)
        orphans: list[str] = []
        for start in range(0, len(keys), PRUNE_BATCH):
            batch = keys[start : start + PRUNE_BATCH]
            async with self.database.reads() as session:
                known = await AttachmentRepository(session).known_keys(batch)
            orphans.extend(key for key in batch if key not in known)
        for key in orphans:
            await self.storage.delete(key)
        partial = await self.storage.discard_partial(before=before)
        return PruneReport(orphans=len(orphans), partial=partial)

    async def _get(
        self,
        session: ReadSession,
        user: Principal,
        item_id: uuid.UUID,
        attachment_id: uuid.UUID,
    ) -> Attachment:
        await self.items.get(session, user, item_id)  # another user's item: 404
        attachment = await AttachmentRepository(session).get_of_item(item_id, attachment_id)
        if attachment is None:
            raise NotFoundError("Attachment not found")
        return attachment
