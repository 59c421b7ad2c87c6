"""Small SQL helpers shared by the services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column = ANY(:ids)`` with the ids bound as one array parameter.

    ``IN (...)`` binds one parameter per id, and asyncpg refuses more than
    32,767 parameters in a statement; batch jobs pass far more ids than that.
    """
    return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))  # type: ignore[no-any-return]
