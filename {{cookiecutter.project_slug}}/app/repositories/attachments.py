import uuid
from collections.abc import Iterable

from sqlalchemy import select

from app.models.attachments import Attachment
from app.repositories.base import Repository, ResultPage


class AttachmentRepository(Repository[Attachment]):
    model = Attachment

    async def page_of_item(
        self, item_id: uuid.UUID, *, limit: int, offset: int
    ) -> ResultPage[Attachment]:
        return await self.list(
            conditions=[Attachment.item_id == item_id],
            order_by=[Attachment.created_at.desc(), Attachment.id],
            limit=limit,
            offset=offset,
        )

    async def get_of_item(self, item_id: uuid.UUID, id_: uuid.UUID) -> Attachment | None:
        return await self.get_by(Attachment.id == id_, Attachment.item_id == item_id)

    async def known_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` a row still refers to."""
        wanted = list(keys)
        if not wanted:
            return set()
        rows = await self.session.scalars(select(Attachment.key).where(Attachment.key.in_(wanted)))
        return set(rows)
