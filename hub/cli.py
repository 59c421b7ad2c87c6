"""The ``hub`` command: serve, migrate, load, match and administer the hub."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from rich.console import Console

from hub.settings import get_settings

app = typer.Typer(
    help="Customer master-data hub: standardize, match and survive department records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
log = logging.getLogger("hub.cli")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (HUB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (HUB_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the built-in multi-department sample first.")
    ] = False,
) -> None:
    """Run the GraphQL server (migrates the database first)."""
    import uvicorn

    from hub.app import create_app
    from hub.logs import configure_logging
    from hub.runtime import database_url

    settings = get_settings()
    log_config = configure_logging(settings.log_level)
    on_startup = None
    if demo:
        from hub.demo import load_demo_on_startup

        on_startup = load_demo_on_startup
    with database_url(settings) as url:
        application = create_app(settings, url, on_startup=on_startup)
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            log_config=log_config,
            timeout_graceful_shutdown=10,
            ws="websockets-sansio",
        )


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    from hub.db.engine import create_engine
    from hub.db.migrate import upgrade_database
    from hub.logs import configure_logging
    from hub.runtime import database_url

    settings = get_settings()
    configure_logging(settings.log_level)

    async def run(url: str) -> None:
        engine = create_engine(url, settings)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()

    with database_url(settings) as url:
        asyncio.run(run(url))
    console.print("[green]database is at the latest revision[/green]")


def main() -> None:
    """Entry point of the ``hub`` console script."""
    app()
