"""The key a text is known by: what the embedding cache and a unit's `text_hash` store."""

from __future__ import annotations

import hashlib


def text_hash(text: str) -> str:
    """SHA-256 of the stripped text: the same words embed once, whatever their spacing at the ends."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()
