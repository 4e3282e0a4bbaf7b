"""`Fields`: the read-only namespace a program receives as `d` (`d.close`, `d.volume`, ...)."""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, NoReturn

import numpy as np

__all__ = ["Fields"]


class Fields:
    """Named read-only arrays as attributes; attributes can be neither set nor deleted."""

    __slots__ = ("_arrays",)

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        object.__setattr__(self, "_arrays", MappingProxyType(dict(arrays)))

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = object.__getattribute__(self, "_arrays")
        try:
            return arrays[name]
        except KeyError:
            raise AttributeError(f"no input named {name!r}; inputs are: {', '.join(arrays)}") from None

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"inputs are read-only: cannot set d.{name}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"inputs are read-only: cannot delete d.{name}")

    def __dir__(self) -> list[str]:
        return list(object.__getattribute__(self, "_arrays"))

    def part(self, rows: int | None, every: int = 1) -> Fields:
        """The first `rows` rows (None: all) of every `every`-th column of every input (read-only views, nothing
        copied)."""
        arrays = object.__getattribute__(self, "_arrays")
        return Fields({name: array[:rows, ::every] for name, array in arrays.items()})

    def __repr__(self) -> str:
        arrays = object.__getattribute__(self, "_arrays")
        return "Fields(" + ", ".join(f"{k}: {v.dtype}{list(v.shape)}" for k, v in arrays.items()) + ")"
