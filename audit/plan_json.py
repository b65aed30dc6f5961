"""The JSON a plan entry stores (``p2c_meta.plan.changes`` / ``conflicts``) as named fields."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from load.diff import Change, Conflict


def changes_of(stored: Any) -> list[dict]:
    """``[[field, old, new], ...]`` → ``[{"field", "old", "new"}, ...]``."""
    return [asdict(Change(*c)) for c in _list(stored)]


def conflicts_of(stored: Any) -> list[dict]:
    """``[[field, base, actual, desired, resolution], ...]`` → dicts with those names."""
    return [asdict(Conflict(*c)) for c in _list(stored)]


def _list(stored: Any) -> list:
    value = json.loads(stored) if isinstance(stored, str) else stored
    return value or []
