"""The one query readiness needs: does the database answer at all."""

from sqlalchemy import text

from app.db.session import Database


async def ping_database(database: Database) -> None:
    # Straight from the pool, outside any request transaction and the connection queue.
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
