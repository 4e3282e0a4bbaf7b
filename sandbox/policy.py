"""What a program may use (`Policy`) and how much of the machine a run may take (`Limits`)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Limits", "Policy"]

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _check_module_names(field: str, names: tuple[str, ...]) -> None:
    bad = [name for name in names if not isinstance(name, str) or not _MODULE_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"Policy.{field}: not dotted module names: {bad!r}")


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The caller's rules for one kind of program.

    preload: modules the server imports once before serving, so runs start warm
             (imported by name; they run trusted, outside the audit hook).
    allowed_imports: names a program may import; "numpy" also allows "numpy.linalg",
             "factorengine.ops" allows that module and its submodules only.
             Imports of anything else are refused, whether or not it is loaded.
    output_shape: the shape every output must have; None accepts any non-empty shape.
    """

    preload: tuple[str, ...] = ("numpy", "math")
    allowed_imports: tuple[str, ...] = ("numpy", "math")
    output_shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        _check_module_names("preload", self.preload)
        _check_module_names("allowed_imports", self.allowed_imports)
        shape = self.output_shape
        if shape is not None and not all(isinstance(n, int) and n > 0 for n in shape):
            raise ValueError(f"Policy.output_shape must be positive ints or None, got {shape!r}")

    def shape_for(self, rows: int | None, every: int = 1) -> tuple[int, ...] | None:
        """The expected output shape of a run on the first `rows` rows (None: all) of every `every`-th column."""
        if self.output_shape is None:
            return None
        days, columns, *rest = self.output_shape
        return (days if rows is None else rows, -(-columns // every), *rest)

    def allows(self, module: str) -> bool:
        """Whether `module` (dotted name) equals or lies under an allowed import."""
        return any(module == name or module.startswith(name + ".") for name in self.allowed_imports)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resources of one run (one forked child).

    memory_mb: address space a run may add on top of the server's own (RLIMIT_AS).
    cpu_s: CPU seconds per run (RLIMIT_CPU: SIGXCPU at cpu_s, SIGKILL one second later).
    max_output_mb: size of each worker's result slot when Policy.output_shape is None.
    open_files: highest file descriptor number + 1 a run may open (RLIMIT_NOFILE).
    """

    memory_mb: int = 2048
    cpu_s: int = 60
    max_output_mb: int = 256
    open_files: int = 32

    def __post_init__(self) -> None:
        for name in ("memory_mb", "cpu_s", "max_output_mb", "open_files"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")

    def slot_bytes(self, output_shape: tuple[int, ...] | None) -> int:
        """Bytes of one result slot: the float64 output shape if known, else max_output_mb."""
        if output_shape is not None:
            return 8 * math.prod(output_shape)
        return self.max_output_mb * 2**20
