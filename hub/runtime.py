"""Where the database is: the configured server, or the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from hub.db.embedded import embedded_postgres
from hub.settings import Settings


class Database:
    """The database a process uses, held open until :meth:`close`.

    Closing is idempotent: ``hub serve`` closes from the app's shutdown,
    because uvicorn re-raises SIGTERM after shutdown and code after
    ``uvicorn.run`` never runs then.
    """

    def __init__(self, settings: Settings) -> None:
        self._stack = ExitStack()
        if settings.database_url:
            self.url = settings.database_url
        else:
            self.url = self._stack.enter_context(embedded_postgres(settings.data_dir))

    def close(self) -> None:
        self._stack.close()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """``HUB_DATABASE_URL`` when set; otherwise start the embedded PostgreSQL for the block."""
    database = Database(settings)
    try:
        yield database.url
    finally:
        database.close()
