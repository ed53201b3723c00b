"""Generic data access. Repositories run queries and return ORM objects or None; no rules, no HTTP."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Select, UnaryExpression, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.clock import utcnow
from app.db.base import Base
from app.db.soft_delete import INCLUDE_DELETED, SoftDelete, soft_deleted_models

ModelT = TypeVar("ModelT", bound=Base)
ResultT = TypeVar("ResultT")
# Built once: SQL expressions are immutable, so list requests need not rebuild it (PERFORMANCE.md).
ROWS_BEFORE_PAGING = func.count().over()


@dataclass(frozen=True, slots=True)
class ResultPage(Generic[ResultT]):
    """One page of rows, the total for the same filters, and the window that chose it."""

    results: Sequence[ResultT]
    total: int
    limit: int
    offset: int


# A page of some of a model's columns (`Repository.list_columns`), each row a dict by column
# name: no ORM objects, and no SQLAlchemy Rows either, whose attributes are found by name in
# Python on every read while a response schema reads a dict's keys in pydantic's own code
# (PERFORMANCE.md).
RowPage = ResultPage[dict[str, Any]]


@cache
def _columns_select(model: type[Base], columns: tuple[str, ...]) -> Select[Any]:
    """SELECT of `model`'s `columns`, built once for each list that asks (PERFORMANCE.md)."""
    return select(*(getattr(model, name) for name in columns))


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id_: uuid.UUID) -> ModelT | None:
        return await self.session.get(self.model, id_)

    async def get_by(self, *conditions: ColumnElement[bool]) -> ModelT | None:
        result = await self.session.execute(select(self.model).where(*conditions).limit(1))
        return result.scalar_one_or_none()

    async def list(
        self,
        *,
        conditions: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
        limit: int,
        offset: int,
    ) -> ResultPage[ModelT]:
        """One page of ORM objects (loaded as `_select()` says) and the total for the same filters."""
        rows, total = await self._page(self._select(), conditions, order_by, limit, offset)
        return ResultPage([row[0] for row in rows], total, limit, offset)

    async def list_columns(
        self,
        columns: Iterable[str],
        *,
        conditions: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
        limit: int,
        offset: int,
    ) -> RowPage:
        """`list`, but each result is a dict of only the model's `columns`, by name.

        For a list that goes straight into a response schema: no ORM object is built, tracked and
        dropped per row (PERFORMANCE.md). Soft-deleted rows stay hidden: the columns are the
        model's, so the ORM still knows which model the query reads.
        """
        names = tuple(columns)
        rows, total = await self._page(
            _columns_select(self.model, names), conditions, order_by, limit, offset
        )
        # zip stops at the last name: the total each row carries last is left out.
        results = [dict(zip(names, row, strict=False)) for row in rows]
        return ResultPage(results, total, limit, offset)

    async def _page(
        self,
        query: Select[Any],
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Row[Any]], int]:
        """A page of `query`'s rows and the total count for the same filters, in one round trip.

        Each row carries `count(*) OVER ()`, the total before LIMIT and OFFSET, as its last
        column. Only a page past the end has no row to carry it, and only then is the total
        counted on its own.
        """
        query = query.where(*conditions)
        paged = query.add_columns(ROWS_BEFORE_PAGING).order_by(*order_by).limit(limit)
        rows = (await self.session.execute(paged.offset(offset))).all()
        if rows:
            return rows, rows[0][-1]
        if not offset:
            return rows, 0
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        return rows, await self.session.scalar(counted) or 0

    async def create(self, **values: Any) -> ModelT:
        instance = self.model(**values)
        self.session.add(instance)
        await self.session.flush()
        return instance

    async def update(self, instance: ModelT, **values: Any) -> ModelT:
        for name, value in values.items():
            setattr(instance, name, value)
        await self.session.flush()
        return instance

    async def delete(self, instance: ModelT) -> None:
        await self.session.delete(instance)
        await self.session.flush()

    def _select(self) -> Select[ModelT]:
        """The base query for lists; override to add eager loads (selectinload: a joined eager
        load would multiply the rows the window count sees)."""
        return select(self.model)


class SoftDeleteRepository(Repository[ModelT], Generic[ModelT]):
    """For a model mixing in `SoftDelete`: `delete` hides the row; the inherited queries skip
    hidden rows (app/db/soft_delete.py); the methods below are the only ones that see them."""

    async def delete(self, instance: ModelT) -> None:
        await self.update(instance, deleted_at=utcnow())

    async def get_deleted(self, id_: uuid.UUID) -> ModelT | None:
        query = select(self.model).where(self._deleted_at().is_not(None), self._id() == id_)
        result = await self.session.execute(query.execution_options(**INCLUDE_DELETED))
        return result.scalar_one_or_none()

    async def list_deleted(self, *, limit: int, offset: int) -> ResultPage[ModelT]:
        query = select(self.model).where(self._deleted_at().is_not(None))
        total = await self.session.scalar(
            select(func.count()).select_from(query.subquery()).execution_options(**INCLUDE_DELETED)
        )
        page = query.order_by(self._deleted_at().desc(), self._id()).limit(limit).offset(offset)
        rows = await self.session.scalars(page.execution_options(**INCLUDE_DELETED))
        return ResultPage(list(rows), total or 0, limit, offset)

    async def restore(self, instance: ModelT) -> ModelT:
        return await self.update(instance, deleted_at=None)

    def _deleted_at(self) -> ColumnElement[datetime | None]:
        assert issubclass(self.model, SoftDelete), f"{self.model.__name__} is not SoftDelete"
        return self.model.__table__.c.deleted_at

    def _id(self) -> ColumnElement[uuid.UUID]:
        return self.model.__table__.c.id


async def purge_soft_deleted(session: AsyncSession, deleted_before: datetime) -> dict[str, int]:
    """Deletes for good every soft-deleted row deleted before `deleted_before`, in every model
    that soft-deletes; how many, by table."""
    removed = {}
    for model in soft_deleted_models(Base):
        table = model.__table__  # type: ignore[attr-defined]  # a mapped SoftDelete model
        statement = delete(table).where(table.c.deleted_at < deleted_before)
        result = await session.execute(statement.execution_options(**INCLUDE_DELETED))
        removed[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
    return removed


def sort_clause(
    sort: str, columns: Mapping[str, InstrumentedAttribute[Any]]
) -> UnaryExpression[Any]:
    """Turns an allow-listed `field` / `-field` into ORDER BY; unknown names raise KeyError."""
    column = columns[sort.lstrip("-")]
    return column.desc() if sort.startswith("-") else column.asc()
