"""What one transaction of a replica wrote, on its way to the run's one writer (`Store.replica`, `Store.apply`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One write as the store executed it: its SQL and arguments (the replica's timestamps included)."""

    sql: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Commit:
    """The writes of one transaction, in order: the writer applies them in one transaction too."""

    statements: tuple[Statement, ...]
