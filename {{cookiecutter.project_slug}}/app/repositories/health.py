"""The one query readiness needs: does the database answer at all."""

from sqlalchemy import text

from app.db.session import Database


async def ping_database(database: Database) -> None:
    # A connection of its own, outside any request transaction: readiness must not need one.
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
