import uuid
from datetime import datetime

from sqlalchemy import delete, update

from app.core.clock import utcnow
from app.models.refresh_tokens import RefreshToken
from app.repositories.base import Repository


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def get_for_update(self, token_id: uuid.UUID) -> RefreshToken | None:
        """Locks the row so two concurrent refreshes of one token cannot both succeed."""
        return await self.session.get(self.model, token_id, with_for_update=True)

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def revoke_all_for_user(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def delete_expired(self, now: datetime) -> int:
        """Removes rows past their expiry; returns how many went.

        Revoked rows stay until they expire: they are what reveals the reuse of a stolen token.
        """
        result = await self.session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at < now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
