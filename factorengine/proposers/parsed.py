"""A factor program read for editing, and the Edit a mutation kind returns."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping, Sequence, TypeVar

import libcst as cst
import numpy as np

from factorengine.program import nodes
from factorengine.program.bindings import Binding, data_names, module_bindings, op_reference
from factorengine.program.rewrite import add_ops_imports

_T = TypeVar("_T")


@dataclass(frozen=True)
class Edit:
    """One applied mutation: the whole new module, a line on what changed and the idea behind it."""

    code: str
    idea: str
    hypothesis: str = ""


@dataclass(frozen=True)
class Parsed:
    """A program read for editing: its CST, factor, bindings, names in use, data names and line numbers."""

    module: cst.Module
    fn: cst.FunctionDef
    bindings: Mapping[str, Binding]
    taken: frozenset[str]
    data: frozenset[str]

    @cached_property
    def positions(self) -> nodes.Positions:
        """Return the source range of every node (resolved on first use: only chosen sites need it)."""
        return nodes.positions(self.module)

    def line(self, node: cst.CSTNode) -> int:
        """Return the 1-based line a node starts on."""
        return self.positions[node].start.line

    def refs(self, ops: Sequence[str]) -> dict[str, str] | None:
        """Return op -> the name to call it by, or None when one of them cannot be imported."""
        refs = {op: op_reference(op, self.bindings, self.taken) for op in ops}
        return None if None in refs.values() else refs  # type: ignore[return-value]

    def finish(self, module: cst.Module, refs: Mapping[str, str]) -> str:
        """Import the ops a rewrite calls by their own names and return the module's code."""
        needed = [op for op, ref in refs.items() if ref == op and self.bindings.get(op) != ("ops", op)]
        return add_ops_imports(module, needed).code


def read(source: str) -> Parsed:
    """Parse a program (already checked by parse_program) for editing."""
    module = cst.parse_module(source)
    fn = nodes.factor_def(module)
    return Parsed(module, fn, module_bindings(module), nodes.all_names(module), data_names(fn))


def pick(rng: np.random.Generator, items: Sequence[_T]) -> _T:
    """Return one item, drawn uniformly."""
    return items[int(rng.integers(len(items)))]
