"""The embedded PostgreSQL: a real server from the ``pgserver`` wheel, not SQLite."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DATABASE_NAME = "hub"


def import_pgserver() -> ModuleType:
    """The ``pgserver`` module, imported without its runtime-directory warning.

    pgserver asks platformdirs for a runtime directory when it is imported;
    servers and CI containers have no ``XDG_RUNTIME_DIR`` and the fallback
    platformdirs picks (``/tmp/runtime-<uid>``) is what we want anyway.
    """
    from platformdirs.api import RuntimeDirWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeDirWarning)
        import pgserver
    return pgserver


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) the PostgreSQL server kept in ``data_dir``; yield its URL.

    The server stops when the last process using it leaves, so ``hub load``
    can share the server a running ``hub serve`` started.
    """
    pgserver = import_pgserver()
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    log.info("starting embedded postgresql", extra={"data_dir": str(pgdata)})
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        # DATABASE_NAME is a constant of this module, not input.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608
        exists = server.psql(query)
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        url = make_url(server.get_uri(DATABASE_NAME))
        yield url.render_as_string(hide_password=False)
    finally:
        server.cleanup()
        log.info("embedded postgresql released", extra={"data_dir": str(pgdata)})
