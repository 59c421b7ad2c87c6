"""E-mail addresses: trimmed, lower-cased and checked for a plausible shape."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from matching.types import Flag, Standardized

__all__ = ["standardize_email"]

_FIELD = "emails"
_MAX_LENGTH = 254  # RFC 5321 path limit
_MAX_LOCAL_LENGTH = 64
_SHAPE = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
)


@lru_cache(maxsize=65_536)
def standardize_email(text: str) -> Standardized[str]:
    """An e-mail address lower-cased, or ``None`` with a flag when its shape is wrong.

    Full-width characters (＠, ．) are folded by NFKC and the ideographic full
    stop 。, a common slip of Chinese input methods, is read as a dot.
    """
    address = unicodedata.normalize("NFKC", text).replace("。", ".").strip().lower()
    address = address.removeprefix("mailto:").strip("<>").strip()
    if not address:
        return Standardized(None, (Flag(_FIELD, "empty", "no address given"),))
    local, _, _ = address.rpartition("@")
    if (
        len(address) > _MAX_LENGTH
        or len(local) > _MAX_LOCAL_LENGTH
        or ".." in address
        or not _SHAPE.fullmatch(address)
    ):
        return Standardized(
            None, (Flag(_FIELD, "invalid", f"'{text[:60]}' is not a valid e-mail address"),)
        )
    return Standardized(address)
