"""One row by primary key, read through asyncpg itself: the user lookup every request makes.

`session.get` runs the ORM's whole query path for it (statement cache key, execution context,
cursor adapter, result object, loading strategies): measured, about two thirds of the CPU the
lookup costs, and the largest single share of an authenticated GET. Here the statement is
compiled once from the table, sent as a prepared statement on the session's own connection (the
same pooled connection, inside its transaction if one is open), each value goes through the same
type processing SQLAlchemy applies, and the object joins the session as if loaded by a query:
persistent, unchanged, in the identity map.

Plain-column models only: a relationship or a deferred column would load differently from
`session.get`, so such a model is refused when its loader is built.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
from sqlalchemy import Dialect, bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ColumnProperty, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from app.db.base import Base

ModelT = TypeVar("ModelT", bound=Base)
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    bind: Processor
    # (attribute name, result processor) per selected column, in the statement's order.
    columns: tuple[tuple[str, Processor], ...]


class PrimaryKeyLoader(Generic[ModelT]):
    def __init__(self, model: type[ModelT]) -> None:
        mapper = inspect(model)
        plain = all(isinstance(prop, ColumnProperty) and not prop.deferred for prop in mapper.attrs)
        if mapper.relationships or not plain or len(mapper.primary_key) != 1:
            raise TypeError(
                f"{model.__name__} has relationships, deferred columns or a composite key: a"
                " PrimaryKeyLoader (plain-column models only) would load it unlike session.get;"
                " load it with session.get instead"
            )
        self._model = model
        self._mapper = mapper
        self._compiled: _Compiled | None = None

    async def get(self, session: AsyncSession, id_: Any) -> ModelT | None:
        """What `session.get(model, id_)` returns, for one extra-cheap round trip."""
        loaded = session.identity_map  # empty in a request's fresh session: skip the lookup
        if loaded and identity_key(self._model, id_) in loaded:
            return await session.get(self._model, id_)  # already loaded: the ORM decides
        connection = await session.connection()
        compiled = self._compile(connection.dialect)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        bound = compiled.bind(id_) if compiled.bind else id_
        try:
            row = await driver.fetchrow(compiled.sql, bound)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError):
            # Let SQLAlchemy run the same lookup: a dead connection then gets its handling
            # (the pool discards it, DBAPIError with connection_invalidated -> 503 envelope)
            # instead of surfacing as an unknown driver error (500).
            return await session.get(self._model, id_)
        if row is None:
            return None
        values = {
            name: process(value) if process else value
            for (name, process), value in zip(compiled.columns, row, strict=True)
        }
        instance = self._model(**values)
        make_transient_to_detached(instance)  # "loaded": no pending changes, identity set
        session.add(instance)
        return instance

    def _compile(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:
            table = self._mapper.local_table
            (key,) = self._mapper.primary_key
            statement = select(*table.columns).where(key == bindparam("id_"))
            self._compiled = _Compiled(
                sql=str(statement.compile(dialect=dialect)),
                bind=key.type.dialect_impl(dialect).bind_processor(dialect),
                columns=tuple(
                    (
                        self._mapper.get_property_by_column(column).key,
                        column.type.dialect_impl(dialect).result_processor(dialect, None),
                    )
                    for column in table.columns
                ),
            )
        return self._compiled
