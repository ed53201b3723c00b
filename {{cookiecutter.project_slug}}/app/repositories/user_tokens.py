from datetime import datetime

from sqlalchemy import delete, select

from app.models.user_tokens import TokenPurpose, UserToken
from app.repositories.base import Repository


class UserTokenRepository(Repository[UserToken]):
    model = UserToken

    async def get_by_hash(
        self, token_hash: str, purpose: TokenPurpose, *, for_update: bool = False
    ) -> UserToken | None:
        """A token of another purpose is not found. `for_update` locks the row against a race."""
        query = select(UserToken).where(
            UserToken.token_hash == token_hash, UserToken.purpose == purpose
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def delete_expired(self, now: datetime) -> int:
        result = await self.session.execute(delete(UserToken).where(UserToken.expires_at < now))
        return int(getattr(result, "rowcount", 0) or 0)
