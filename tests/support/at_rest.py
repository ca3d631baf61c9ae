"""What an auditor would read: every byte of a test database's files.

SQLite: the database file and its write-ahead log (and shared-memory index, and a
rollback journal if any). PostgreSQL: after a ``CHECKPOINT``, every file of the
database's directory under the server's data directory — heap, indexes, TOAST, free
space maps. The tests run as root on the server's machine, so they can read them;
if they cannot, they fail loudly rather than pass on nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from storage.db import Database, sqlite_path


async def database_bytes(db: Database) -> bytes:
    if db.is_sqlite:
        path = sqlite_path(db.url)
        assert path is not None
        return await asyncio.to_thread(_read, path.parent, f"{path.name}*")
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("CHECKPOINT")
        folder = (
            await autocommit.execute(
                text(
                    "SELECT current_setting('data_directory') || '/base/' || oid "
                    "FROM pg_database WHERE datname = current_database()"
                )
            )
        ).scalar_one()
    return await asyncio.to_thread(_read, Path(folder), "*")


def _read(folder: Path, pattern: str) -> bytes:
    found = [f for f in folder.glob(pattern) if f.is_file()]
    assert found, f"no database files found to read in {folder}"
    data = b"".join(f.read_bytes() for f in found)
    assert data, "the database files are empty"
    return data


def found_in(data: bytes, needles: list[str]) -> list[str]:
    """The needles present in the bytes (as UTF-8 text)."""
    return [needle for needle in needles if needle.encode() in data]
