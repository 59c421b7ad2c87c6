"""Where the database is: the configured server, or the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub.db.embedded import embedded_postgres
from hub.settings import Settings


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """``HUB_DATABASE_URL`` when set; otherwise start the embedded PostgreSQL for the block."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_postgres(settings.data_dir) as url:
        yield url
