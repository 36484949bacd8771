"""Opaque global IDs (``base64("Type:key")``), decoded strictly."""

from __future__ import annotations

from strawberry import relay


def key_of(global_id: str, type_name: str) -> str | None:
    """The key inside ``global_id`` if it names an object of ``type_name``; None otherwise."""
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except (ValueError, TypeError):
        return None
    return parsed.node_id if parsed.type_name == type_name else None


INT32 = 2**31 - 1  # integer primary keys
INT64 = 2**63 - 1  # BigId primary keys


def int_key(text: str | None, largest: int = INT32) -> int | None:
    """A primary-key value from text, or None if it is not one (a key beyond the column's range
    names nothing, rather than overflowing in the database)."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= largest else None


def int_key_of(global_id: str, type_name: str, largest: int = INT32) -> int | None:
    return int_key(key_of(global_id, type_name), largest)
