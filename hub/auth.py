"""Who is calling and what they may do: roles, permissions, API keys.

Roles: ``reader`` (front ends), ``department:<source>`` (submits and reads its
own source records), ``steward``, ``credit_officer`` and ``admin``. Keys are
random tokens shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import Forbidden, Invalid

KEY_PREFIX = "hub_"


class Permission(StrEnum):
    READ_CUSTOMERS = "read_customers"
    READ_PII = "read_pii"
    READ_CREDIT = "read_credit"
    SUBMIT_RECORDS = "submit_records"
    STEWARD = "steward"
    REQUEST_CREDIT = "request_credit"
    DECIDE_CREDIT = "decide_credit"
    ADMIN = "admin"


_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "reader": frozenset({Permission.READ_CUSTOMERS}),
    "steward": frozenset(
        {
            Permission.READ_CUSTOMERS,
            Permission.READ_PII,
            Permission.STEWARD,
            Permission.REQUEST_CREDIT,
        }
    ),
    "credit_officer": frozenset(
        {
            Permission.READ_CUSTOMERS,
            Permission.READ_PII,
            Permission.READ_CREDIT,
            Permission.REQUEST_CREDIT,
            Permission.DECIDE_CREDIT,
        }
    ),
    "admin": frozenset(Permission),
}
_DEPARTMENT_PERMISSIONS = frozenset({Permission.SUBMIT_RECORDS, Permission.REQUEST_CREDIT})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    client_id: int
    name: str
    role: str

    @property
    def department(self) -> str | None:
        """The source a ``department:<source>`` key speaks for."""
        kind, _, source = self.role.partition(":")
        return source if kind == "department" else None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.department is not None:
            return _DEPARTMENT_PERMISSIONS
        return _ROLE_PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise :class:`Forbidden` unless the caller holds ``permission``."""
        if not self.can(permission):
            raise Forbidden(f"role '{self.role}' may not {permission.value.replace('_', ' ')}")

    def require_source(self, source: str) -> None:
        """Departments act only for their own source; admins for any."""
        if self.can(Permission.ADMIN):
            return
        self.require(Permission.SUBMIT_RECORDS)
        if self.department != source:
            raise Forbidden(f"role '{self.role}' may not act for source '{source}'", field="source")

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.name} ({self.role})"


def check_role(role: str) -> str:
    """``role`` if it is one the hub knows."""
    from hub.services.sources import check_source_code

    kind, sep, source = role.partition(":")
    if kind == "department" and sep:
        check_source_code(source)
        return role
    if role in _ROLE_PERMISSIONS:
        return role
    known = ", ".join([*sorted(_ROLE_PERMISSIONS), "department:<source>"])
    raise Invalid(f"unknown role '{role}'; one of {known}", field="role")


def new_api_key() -> str:
    """A fresh random key (shown once, never stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> bytes:
    """What the database keeps of a key."""
    return hashlib.sha256(key.encode()).digest()
