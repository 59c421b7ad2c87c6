"""The ``hub`` command: serve, migrate, load, match and administer the hub."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

# Each command imports what it needs: `hub match` never pays for the
# database stack, settings or asyncio at start-up.
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from hub.services.match_keys import KeysRefreshed

app = typer.Typer(
    help="Customer master-data hub: standardize, match and survive department records.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
log = logging.getLogger("hub.cli")
T = TypeVar("T")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (HUB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (HUB_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the built-in multi-department sample first.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes sharing the port (one per core uses them all)."),
    ] = 1,
) -> None:
    """Run the GraphQL server (migrates the database first)."""
    import uvicorn

    from hub.app import create_app
    from hub.logs import configure_logging
    from hub.runtime import Database
    from hub.settings import get_settings

    settings = get_settings()
    log_config = configure_logging(settings.log_level)
    bind_host, bind_port = host or settings.host, port or settings.port
    on_startup = None
    if demo:
        from functools import partial

        from hub.demo import load_demo_on_startup

        on_startup = partial(
            load_demo_on_startup,
            url=f"http://{bind_host}:{bind_port}/graphql",
            data_dir=settings.data_dir,
        )
    served = {
        "host": bind_host,
        "port": bind_port,
        "log_config": log_config,
        "access_log": settings.access_log_enabled,
        "timeout_graceful_shutdown": 10,
        "ws": "websockets-sansio",
    }
    # Started once, here: workers only connect to it (an embedded server stops
    # when this process, its last user, leaves).
    database = Database(settings)
    try:
        if workers == 1:
            application = create_app(
                settings, database.url, on_startup=on_startup, on_shutdown=database.close
            )
            uvicorn.run(application, **served)  # type: ignore[arg-type]
        else:
            _prepare_for_workers(database.url, on_startup)
            # Workers are fresh interpreters that read their settings from the
            # environment; they get the database this process has started.
            os.environ["HUB_DATABASE_URL"] = database.url
            # Their configuration is pickled to them: the log stream goes by name.
            handlers = {**log_config["handlers"]}
            handlers["stderr"] = {**handlers["stderr"], "stream": "ext://sys.stderr"}
            served["log_config"] = {**log_config, "handlers": handlers}
            from hub.workers import run_workers

            status = run_workers(workers, served)
            if status:
                raise typer.Exit(status)
    finally:
        database.close()


def _prepare_for_workers(
    url: str, on_startup: Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]] | None
) -> None:
    """Migrate and run the startup hook once, before the workers start."""
    import asyncio

    from hub.db.engine import create_engine, session_factory
    from hub.db.migrate import upgrade_database
    from hub.settings import get_settings

    async def run() -> None:
        engine = create_engine(url, get_settings())
        try:
            await upgrade_database(engine)
            if on_startup is not None:
                await on_startup(session_factory(engine))
        finally:
            await engine.dispose()

    asyncio.run(run())


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    import asyncio

    from hub.db.engine import create_engine
    from hub.db.migrate import upgrade_database
    from hub.logs import configure_logging
    from hub.runtime import database_url
    from hub.settings import get_settings

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


keys_app = typer.Typer(help="API keys: create and revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _run_with_database(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run ``work`` against the configured (or embedded) database, migrated first."""
    import asyncio

    from hub.db.engine import create_engine, session_factory
    from hub.db.migrate import upgrade_database
    from hub.logs import configure_logging
    from hub.runtime import database_url
    from hub.settings import get_settings

    settings = get_settings()
    configure_logging("WARNING")

    async def run(url: str) -> T:
        engine = create_engine(url, settings)
        try:
            await upgrade_database(engine)
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    with database_url(settings) as url:
        return asyncio.run(run(url))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who the key is for (unique).")],
    role: Annotated[
        str,
        typer.Option(help="reader, department:<source>, steward, credit_officer or admin."),
    ],
) -> None:
    """Create an API key; it is printed once, on the last line."""
    from hub.errors import HubError
    from hub.services.keys import create_api_key
    from hub.uow import in_transaction

    try:
        issued = _run_with_database(
            lambda sessions: in_transaction(
                sessions, lambda session: create_api_key(session, name=name, role=role)
            )
        )
    except HubError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from error
    console.print(f"created key for [bold]{issued.principal.name}[/bold] ({issued.principal.role})")
    console.print("store it now; the hub keeps only its hash")
    typer.echo(issued.key)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Option(help="The client whose key to revoke.")]) -> None:
    """Revoke a client's key; it stops working at once."""
    from hub.errors import HubError
    from hub.services.keys import revoke_api_key
    from hub.uow import in_transaction

    try:
        _run_with_database(
            lambda sessions: in_transaction(sessions, lambda session: revoke_api_key(session, name))
        )
    except HubError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from error
    console.print(f"revoked the key of {name}")


frequencies_app = typer.Typer(
    help="Term frequencies of the stored population (what submissions score with).",
    no_args_is_help=True,
)
app.add_typer(frequencies_app, name="frequencies")


@frequencies_app.command("refresh")
def frequencies_refresh() -> None:
    """Count the term frequencies of the stored records now and keep them as the latest."""
    from hub.services.frequencies import refresh_term_frequencies
    from hub.uow import in_transaction

    head = _run_with_database(
        lambda sessions: in_transaction(sessions, refresh_term_frequencies, attempts=1)
    )
    console.print(
        f"term frequency snapshot {head.id}: {head.records:,} current records counted",
        soft_wrap=True,
    )


match_keys_app = typer.Typer(
    help="Stored blocking keys: bring them in line with the current blocking rules.",
    no_args_is_help=True,
)
app.add_typer(match_keys_app, name="match-keys")


@match_keys_app.command("refresh")
def match_keys_refresh(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Records per transaction.")] = 5000,
) -> None:
    """Work every current record's blocking keys out again and write the difference.

    Run it after an upgrade whose matching/ blocks differently; the hub may
    keep serving. Stopped half-way, run it again: finished batches stay done.
    """
    from rich.progress import Progress

    from hub.matcher import default_matcher
    from hub.services.match_keys import count_current_records, refresh_all_match_keys

    async def refresh(sessions: async_sessionmaker[AsyncSession]) -> KeysRefreshed:
        async with sessions() as session:
            total = await count_current_records(session)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("match keys", total=total)
            return await refresh_all_match_keys(
                sessions,
                default_matcher().keys,
                batch=batch,
                on_batch=lambda done: progress.advance(task, done.records),
            )

    done = _run_with_database(refresh)
    console.print(
        f"{done.records:,} current records read: {done.added:,} keys added, "
        f"{done.removed:,} removed",
        soft_wrap=True,
    )


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="JSONL or CSV files of source records.")],
    source: Annotated[
        str | None,
        typer.Option(
            help="The department of records without a 'source' field; records naming "
            "another department are rejected. Without it each record names its own."
        ),
    ] = None,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--no-bulk",
            help="Bulk first load (set-based, one transaction); default: bulk when the hub "
            "holds no source record yet.",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Records per transaction (incremental loads).")
    ] = 500,
) -> None:
    """Load department files: a first load in bulk (one transaction), later ones in batches.

    Either way a load killed half-way can simply be run again: a bulk load
    committed nothing, a batched one finds its stored batches unchanged.
    """
    from hub.errors import HubError
    from hub.loading import load_files

    try:
        report = _run_with_database(
            lambda sessions: load_files(
                sessions, files, source=source, bulk=bulk, batch_size=batch_size, console=console
            )
        )
    except HubError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from error
    console.print(
        f"{report.mode} load: created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {report.rejected}",
        soft_wrap=True,
    )
    if report.goldens is not None:
        console.print(
            f"{report.goldens} golden records, {report.reviews} review pairs opened",
            soft_wrap=True,
        )
    if report.seconds:
        stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in report.seconds.items())
        console.print(f"seconds: {stages}", soft_wrap=True)
    for problem in report.problems[:20]:
        console.print(f"  {problem}", style="yellow", markup=False, highlight=False, soft_wrap=True)
    if len(report.problems) > 20:
        console.print(f"  … and {len(report.problems) - 20} more")
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def match(
    files: Annotated[list[Path], typer.Argument(help="JSONL or CSV files of source records.")],
    out: Annotated[Path, typer.Option(help="Where to write one line per record.")],
    review: Annotated[
        Path | None, typer.Option(help="Where to write one line per uncertain pair.")
    ] = None,
) -> None:
    """Standardize and match files offline (no database): clusters and review pairs."""
    from hub.errors import HubError
    from hub.offline import match_files

    try:
        report = match_files(files, out, review, console=console)
    except HubError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from error
    for problem in report.problems[:20]:
        console.print(f"  [yellow]{problem}[/yellow]")
    result = report.result
    if result is not None:
        stats = result.stats
        console.print(
            f"{stats.records} records, {stats.clusters} clusters, {stats.auto_links} auto-links, "
            f"{stats.review_pairs} review pairs, {report.rejected} rejected"
        )


@app.command("load-interactions")
def load_interactions(
    files: Annotated[list[Path], typer.Argument(help="JSONL or CSV files of interactions.")],
    source: Annotated[str, typer.Option(help="The department that recorded them.")],
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Per transaction.")] = 2000,
) -> None:
    """Load a department's interactions (idempotent by key; re-runs store what is missing)."""
    from hub.errors import HubError
    from hub.interaction_loading import load_interaction_files

    try:
        report = _run_with_database(
            lambda sessions: load_interaction_files(
                sessions, files, source=source, batch_size=batch_size, console=console
            )
        )
    except HubError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from error
    console.print(
        f"created {report.created}, unchanged {report.unchanged}, "
        f"waiting for their customer's record {report.unattached}, rejected {report.rejected}"
    )
    for problem in report.problems[:20]:
        console.print(f"  [yellow]{problem}[/yellow]")
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def recompute(
    batch_size: Annotated[int, typer.Option(min=1, help="Customers per transaction.")] = 5000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Worker processes sharing the batches (0: all in this one process; "
            "default: one more than the cores).",
        ),
    ] = None,
) -> None:
    """Recompute every customer's metrics, classification and credit."""
    from hub.recompute import default_workers, recompute_all

    chosen = default_workers() if workers is None else workers
    done = _run_with_database(
        lambda sessions: recompute_all(
            sessions, batch_size=batch_size, workers=chosen, console=console
        )
    )
    console.print(f"recomputed {done} customers")


@app.command("schema")
def print_schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the GraphQL schema (SDL); `schema.graphql` in the repository is its checked-in copy."""
    from hub.settings import Settings
    from schema import build_schema

    text = build_schema(Settings(_env_file=None)).as_str() + "\n"  # type: ignore[call-arg]
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def main() -> None:
    """Entry point of the ``hub`` console script."""
    app()
