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


def int_key_of(global_id: str, type_name: str) -> int | None:
    key = key_of(global_id, type_name)
    return int(key) if key is not None and key.isascii() and key.isdigit() else None
