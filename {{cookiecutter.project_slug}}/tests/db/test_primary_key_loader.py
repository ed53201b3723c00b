"""The driver-level primary key lookup loads exactly what `session.get` loads."""

import uuid

import pytest
from sqlalchemy import ForeignKey, String, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from app.core.config import Settings
from app.db.primary_key_loader import PrimaryKeyLoader
from app.db.session import create_engine
from app.models.users import Role, User
from app.repositories.users import USER_BY_ID
from tests.conftest import make_user


async def test_loads_every_column_like_the_orm(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessions() as setup:
        stored = await make_user(setup, settings, email="loaded@example.com", role=Role.ADMIN)
    columns = [attr.key for attr in inspect(User).column_attrs]
    async with sessions() as by_orm, sessions() as by_driver:
        expected = await by_orm.get(User, stored.id)
        loaded = await USER_BY_ID.get(by_driver, stored.id)
        assert expected is not None
        assert loaded is not None
        for name in columns:
            ours, theirs = getattr(loaded, name), getattr(expected, name)
            assert (ours, type(ours)) == (theirs, type(theirs)), name
        assert loaded.role is Role.ADMIN  # the enum, not the stored text
        assert loaded.created_at.utcoffset() is not None  # UTCDateTime's processing applied
        # Joined the session as a loaded object: same identity, nothing to write.
        state = inspect(loaded)
        assert state.persistent
        assert not state.modified
        assert await by_driver.get(User, stored.id) is loaded
        assert not by_driver.dirty


async def test_a_change_to_the_loaded_user_is_written(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessions() as setup:
        stored = await make_user(setup, settings, email="changed@example.com")
    async with sessions() as session:
        loaded = await USER_BY_ID.get(session, stored.id)
        assert loaded is not None
        loaded.full_name = "Changed Name"
        await session.commit()
    async with sessions() as check:
        reread = await check.get(User, stored.id)
        assert reread is not None
        assert reread.full_name == "Changed Name"


async def test_a_missing_id_is_none(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await USER_BY_ID.get(session, uuid.uuid4()) is None


async def test_an_object_already_in_the_session_is_returned_as_is(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessions() as session:
        user = await make_user(session, settings, email="present@example.com")
        user.full_name = "Unsaved change"
        assert await USER_BY_ID.get(session, user.id) is user


async def test_a_dead_connection_fails_like_the_orm_would_so_the_api_answers_503(
    settings: Settings,
) -> None:
    engine = create_engine(settings.database_url, settings)
    try:
        async with AsyncSession(engine) as session:
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            driver.terminate()  # the server went away after the pool handed the connection out
            with pytest.raises(DBAPIError) as caught:
                await USER_BY_ID.get(session, uuid.uuid4())
        assert caught.value.connection_invalidated  # discarded, and an outage to the API (503)
    finally:
        await engine.dispose()


class _OtherBase(DeclarativeBase):
    pass


class _Parent(_OtherBase):
    __tablename__ = "loader_parents"
    id: Mapped[int] = mapped_column(primary_key=True)


class _Child(_OtherBase):
    __tablename__ = "loader_children"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("loader_parents.id"))
    parent: Mapped[_Parent] = relationship()


class _Deferred(_OtherBase):
    __tablename__ = "loader_deferred"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = deferred(mapped_column(String))


@pytest.mark.parametrize("model", [_Child, _Deferred])
def test_models_that_would_load_differently_are_refused(model: type) -> None:
    with pytest.raises(TypeError, match="load it with session.get instead"):
        PrimaryKeyLoader(model)
