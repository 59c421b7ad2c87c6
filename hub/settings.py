"""Settings, read once from the environment (prefix ``HUB_``) or a ``.env`` file."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the hub; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of an external server; unset starts an embedded PostgreSQL.",
    )
    data_dir: Path = Field(
        default=Path(".hub"), description="Where the embedded PostgreSQL keeps its data."
    )
    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development turns GraphiQL and introspection on by default.",
    )
    host: str = Field(default="127.0.0.1", description="Address `hub serve` binds.")
    port: PositiveInt = Field(default=8000, description="Port `hub serve` binds.")
    log_level: str = Field(default="INFO", description="Log level of the JSON logs.")
    access_log: bool | None = Field(
        default=None,
        description="Log every HTTP request (default: on in development, off in production).",
    )
    db_pool_size: PositiveInt = Field(default=10, description="Connections kept per process.")
    db_max_overflow: int = Field(default=10, ge=0, description="Extra connections under load.")
    graphiql: bool | None = Field(
        default=None, description="Serve GraphiQL at /graphql (default: on in development)."
    )
    introspection: bool | None = Field(
        default=None, description="Allow schema introspection (default: on in development)."
    )
    max_query_depth: PositiveInt = Field(default=12, description="Deepest GraphQL query accepted.")
    max_query_cost: PositiveInt = Field(
        default=60_000,
        description="Most work one operation may ask for (fields × page sizes).",
    )
    max_query_aliases: PositiveInt = Field(
        default=30, description="Most aliases in one operation (no alias-multiplied queries)."
    )
    max_page_size: PositiveInt = Field(default=200, description="Largest `first` for readers.")
    max_admin_page_size: PositiveInt = Field(
        default=1000, description="Largest `first` for admin keys (exports)."
    )
    max_body_bytes: PositiveInt = Field(
        default=8 * 1024 * 1024, description="Largest request body accepted, in bytes."
    )
    request_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A GraphQL request running longer is cancelled."
    )
    max_batch_records: PositiveInt = Field(
        default=1000, description="Most records accepted by one submitRecords call."
    )
    api_key_cache_seconds: float | None = Field(
        default=None,
        ge=0,
        description="How long a server trusts a key it has checked, so a revoked key works "
        "at most this long more; 0 checks every request (default: 0 in development, "
        "5 in production).",
    )

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return self.environment is Environment.DEVELOPMENT

    @property
    def access_log_enabled(self) -> bool:
        if self.access_log is not None:
            return self.access_log
        return self.environment is Environment.DEVELOPMENT

    @property
    def api_key_cache_ttl(self) -> float:
        if self.api_key_cache_seconds is not None:
            return self.api_key_cache_seconds
        return 5.0 if self.environment is Environment.PRODUCTION else 0.0

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment is Environment.DEVELOPMENT


@cache
def get_settings() -> Settings:
    """The process's settings (read once)."""
    return Settings()
