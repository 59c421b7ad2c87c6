"""The checked-in schema.graphql is the schema the code serves: API changes show in review."""

from __future__ import annotations

from pathlib import Path

from hub.settings import Settings
from schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def test_checked_in_schema_matches_the_code() -> None:
    printed = build_schema(Settings(_env_file=None)).as_str() + "\n"  # type: ignore[call-arg]
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed, (
        "schema.graphql is stale: run `hub schema --out schema.graphql` and review the diff"
    )


def test_every_type_and_field_has_a_description() -> None:
    schema = build_schema(Settings(_env_file=None))  # type: ignore[call-arg]
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []
