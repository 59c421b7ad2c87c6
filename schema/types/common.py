"""Types shared by every mutation payload."""

from __future__ import annotations

import strawberry

from hub.errors import HubError


@strawberry.type(description="An expected problem with a mutation's input or the data's state.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, when one is.")
    message: str = strawberry.field(description="What is wrong, for people.")
    code: str = strawberry.field(
        description="Stable code: INVALID, NOT_FOUND, CONFLICT, FORBIDDEN, UNAVAILABLE …"
    )

    @classmethod
    def from_error(cls, error: HubError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)
