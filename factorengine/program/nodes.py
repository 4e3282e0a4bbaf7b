"""Generic libcst helpers over factor programs: find, read, name, rename and replace nodes.

Nodes are found by identity, never by text; orders are traversal (source) orders, so the same input always
gives the same output.
"""
from __future__ import annotations

import re
from typing import Mapping

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

Number = int | float
Positions = Mapping[cst.CSTNode, CodeRange]  # node -> its source range
# `name=default` without spaces, as PEP 8 writes keyword defaults
TIGHT_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
_EMPTY = cst.Module(body=[])


def source_of(node: cst.CSTNode) -> str:
    """Return a node's code as written."""
    return _EMPTY.code_for_node(node)


def render(node: cst.CSTNode, limit: int = 60) -> str:
    """Return a node's code on one line, shortened to `limit` characters."""
    text = " ".join(source_of(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def positions(module: cst.Module) -> Positions:
    """Return the source range of every node of a module (its nodes are used as they are, not copied)."""
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def number(node: cst.BaseExpression) -> Number | None:
    """Return the value of an int/float literal, optionally negated, else None."""
    sign = 1
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        sign, node = -1, node.expression
    if isinstance(node, cst.Integer):
        return sign * int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return sign * float(node.evaluated_value)
    return None


def call_name(call: cst.Call) -> str:
    """Return the called name without its module: `np.clip` -> "clip" ("" for other callees)."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def collect(node: cst.CSTNode, kinds: type | tuple[type, ...]) -> list:
    """Return the nodes of the given kinds in a tree, in traversal (source) order."""
    found: list[cst.CSTNode] = []

    class _Finder(cst.CSTVisitor):
        def on_visit(self, visited: cst.CSTNode) -> bool:
            if isinstance(visited, kinds):
                found.append(visited)
            return True

    node.visit(_Finder())
    return found


def factor_def(module: cst.Module) -> cst.FunctionDef:
    """Return the module-level `def factor` (the program was parsed by parse_program before)."""
    return next(s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "factor")


def panel_name(fn: cst.FunctionDef) -> str:
    """Return the name of factor's first parameter (the panel, `d`)."""
    return [*fn.params.posonly_params, *fn.params.params][0].name.value


def sole_return(fn: cst.FunctionDef) -> cst.Return | None:
    """Return factor's return statement when it is the only one and ends the body, else None."""
    returns = collect(fn.body, cst.Return)
    last = fn.body.body[-1]
    if len(returns) != 1 or not isinstance(last, cst.SimpleStatementLine) or last.body[-1] is not returns[0]:
        return None
    return returns[0] if returns[0].value is not None else None


def all_names(node: cst.CSTNode) -> frozenset[str]:
    """Return every identifier in a tree (attributes and keywords included): names a fresh name must avoid."""
    return frozenset(n.value for n in collect(node, cst.Name))


def referenced_names(node: cst.CSTNode) -> list[str]:
    """Return the variable names a tree reads or binds, in order (not attribute or keyword names)."""
    finder = _Variables()
    node.visit(finder)
    return finder.names


def fresh_name(base: str, taken: frozenset[str]) -> str:
    """Return `base` if free, else the first free `stem_2`, `stem_3`, ... (stem: base without a `_<n>` suffix)."""
    if base not in taken:
        return base
    stem = re.sub(r"_\d+$", "", base)
    return next(f"{stem}_{k}" for k in range(2, len(taken) + 3) if f"{stem}_{k}" not in taken)


def numbered_name(base: str, taken: frozenset[str]) -> str:
    """Return the first free `base_1`, `base_2`, ... (for parameters an edit introduces)."""
    return next(f"{base}_{k}" for k in range(1, len(taken) + 2) if f"{base}_{k}" not in taken)


def rename(node: cst.CSTNode, mapping: Mapping[str, str]) -> cst.CSTNode:
    """Rename variables (not attribute or keyword names) throughout a tree."""
    return node.visit(_Renamer(mapping))


def replace_nodes(tree: cst.CSTNode, replacements: Mapping[int, cst.CSTNode]) -> cst.CSTNode:
    """Replace nodes (keyed by `id` of the original node) throughout a tree in one pass."""
    return tree.visit(_Replacer(replacements))


class SkipMembers:
    """Mixin for walks over variables: remember attribute names (`d.close`) and keywords (`f(x=1)`) to skip."""

    _members: set[int]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._members.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._members.add(id(node.keyword))

    def is_member(self, name: cst.Name) -> bool:
        """Return True when a name is an attribute or keyword name already walked past, not a variable."""
        return id(name) in self._members


class _Variables(SkipMembers, cst.CSTVisitor):
    """Collect variable names in source order (imported names excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._members = set()

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if not self.is_member(node):
            self.names.append(node.value)


class _Renamer(SkipMembers, cst.CSTTransformer):
    """Rename variables by a mapping."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        super().__init__()
        self.mapping = mapping
        self._members = set()

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if self.is_member(original_node) or original_node.value not in self.mapping:
            return updated_node
        return updated_node.with_changes(value=self.mapping[original_node.value])


class _Replacer(cst.CSTTransformer):
    """Swap in replacement nodes for originals, found by identity."""

    def __init__(self, replacements: Mapping[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        return self.replacements.get(id(original_node), updated_node)
