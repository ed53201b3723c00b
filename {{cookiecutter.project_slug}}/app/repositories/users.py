from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from app.models.users import User
from app.repositories.base import Repository, sort_clause
from app.schemas.users import UserListParams

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": User.created_at,
    "email": User.email,
}


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.get_by(User.email == email)

    async def search(self, params: UserListParams) -> tuple[list[User], int]:
        conditions: list[ColumnElement[bool]] = []
        if params.email:
            conditions.append(User.email.icontains(params.email, autoescape=True))
        if params.role is not None:
            conditions.append(User.role == params.role)
        if params.is_active is not None:
            conditions.append(User.is_active.is_(params.is_active))
        return await self.list(
            conditions=conditions,
            order_by=[sort_clause(params.sort, SORT_COLUMNS), User.id],
            limit=params.limit,
            offset=params.offset,
        )
