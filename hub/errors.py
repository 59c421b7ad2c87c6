"""The hub's error tree: what domain services raise, and what clients are told.

Every expected failure is a :class:`HubError` with a stable ``code``; the
GraphQL layer turns it into a ``userErrors`` entry or an error with
``extensions.code``. Anything else is a bug: masked for clients and logged.

::

    HubError
    ├── Invalid          input breaks a rule (field names what)
    ├── NotFound         an id or key that does not exist
    ├── Conflict         a concurrent change or a state that forbids the operation
    ├── Unauthenticated  no key, or a key that is unknown or revoked
    ├── Forbidden        the caller's role may not do this
    └── Unavailable      the database cannot be reached right now
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every expected failure; ``code`` is what clients see."""

    code = "ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(HubError):
    """Input breaks a rule of the contract or the domain."""

    code = "INVALID"


class NotFound(HubError):
    """The thing asked for does not exist."""

    code = "NOT_FOUND"


class Conflict(HubError):
    """A concurrent change won, or the current state forbids the operation."""

    code = "CONFLICT"


class Unauthenticated(HubError):
    """No API key, or one that is unknown or revoked."""

    code = "UNAUTHENTICATED"


class Forbidden(HubError):
    """The caller's role does not allow this."""

    code = "FORBIDDEN"


class Unavailable(HubError):
    """The database cannot be reached; retrying later may succeed."""

    code = "UNAVAILABLE"
