"""CST surgery on factor programs: names and bindings, data expressions, ops imports, new parameters.

Every rewrite takes and returns a `libcst.Module` and leaves untouched statements byte for byte. Nodes are
found by identity (`deep_replace`), never by text. Orders are traversal orders or sorted lists, so the
same input always gives the same output.
"""
from __future__ import annotations

import inspect
import re
from typing import Mapping, Sequence, TypeVar

import libcst as cst
from libcst.helpers import get_full_name_for_node

from factorengine import ops

OPS_MODULE = "factorengine.ops"
OPS_NAMES = tuple(ops.__all__)
MAX_LINE = 100  # new code is laid out to stay within this many characters a line
# a binding is (kind, detail): ("ops", op), ("ops_module", ""), ("import", code), ("module", ""), ("local", "")
Binding = tuple[str, str]
Number = int | float
_Item = TypeVar("_Item", cst.Param, cst.DictElement, cst.ImportAlias)
_EMPTY = cst.Module(body=[])
_TIGHT = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
_LOW_PRECEDENCE = (cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.Lambda, cst.NamedExpr)
_OPERATOR_RANK = {cst.BitOr: 1, cst.BitXor: 2, cst.BitAnd: 3, cst.LeftShift: 4, cst.RightShift: 4,
                  cst.Add: 5, cst.Subtract: 5, cst.Multiply: 6, cst.Divide: 6, cst.FloorDivide: 6,
                  cst.Modulo: 6, cst.MatrixMultiply: 6, cst.Power: 8}
_UNARY_RANK = 7
_PAIR_OPERATORS = (cst.Subtract, cst.Divide, cst.FloorDivide, cst.Modulo)
_PAIR_CALLS = frozenset({"safe_div", "ts_corr", "ts_cov", "ts_regression_slope", "ts_regression_resid",
                         "maximum", "minimum", "where"})
_POSITIVE_FIELDS = frozenset({"open", "high", "low", "close", "vwap", "volume"})
_POSITIVE_OPERATORS = (cst.Add, cst.Multiply, cst.Divide)
# ops that keep a positive input positive; ops positive (or >= 0) whatever the input
_POSITIVE_OPS = frozenset({"delay", "ts_mean", "ts_ema", "ts_decay_linear", "ts_median", "ts_max", "ts_min",
                           "ts_sum", "sqrt", "safe_div", "maximum", "minimum", "ts_product"})
_POSITIVE_PAIR_OPS = frozenset({"safe_div", "maximum", "minimum"})
_NONNEGATIVE_OPS = frozenset({"rank", "ts_rank", "abs", "sqrt", "ts_std", "ts_var", "ts_argmax", "ts_argmin"})


def render(node: cst.CSTNode, limit: int = 60) -> str:
    """Return a node's code on one line, shortened to `limit` characters."""
    text = " ".join(_EMPTY.code_for_node(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


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


def bound_names(fn: cst.FunctionDef) -> list[str]:
    """Return the names factor binds: its parameters, then every assignment-like target in its body."""
    targets: list[cst.CSTNode] = []
    for node in collect(fn.body, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor,
                                   cst.NamedExpr, cst.AsName, cst.Param, cst.FunctionDef)):
        targets.append(node.name if isinstance(node, (cst.AsName, cst.Param, cst.FunctionDef))
                       else node.target)
    params = [p.name.value for p in _all_params(fn.params)]
    return _unique(params + [name for target in targets for name in referenced_names(target)])


def module_bindings(module: cst.Module) -> dict[str, Binding]:
    """Return the names bound at module level and by factor, each with what binds it."""
    bindings: dict[str, Binding] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                bindings.update(_import_bindings(small) if isinstance(small, (cst.Import, cst.ImportFrom))
                                else {n: ("module", "") for n in _statement_targets(small)})
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bindings[stmt.name.value] = ("module", "")
    bindings.update({name: ("local", "") for name in bound_names(factor_def(module))})
    return bindings


def data_names(fn: cst.FunctionDef) -> frozenset[str]:
    """Return the panel name plus every local computed (directly or not) from it, loops included."""
    names = {panel_name(fn)}
    binders = collect(fn.body, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr))
    changed = True
    while changed:
        changed = False
        for node in binders:
            value = node.iter if isinstance(node, (cst.For, cst.CompFor)) else node.value
            if value is None or not names.intersection(referenced_names(value)):
                continue
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            new = {n for t in targets for n in referenced_names(t)} - names
            changed, names = changed or bool(new), names | new
    return frozenset(names)


def is_data(expr: cst.BaseExpression, data: frozenset[str]) -> bool:
    """Return True when an expression reads the panel (a [T, N] array rather than a number)."""
    return not data.isdisjoint(referenced_names(expr))


def call_op(call: cst.Call, bindings: Mapping[str, Binding]) -> str | None:
    """Return the ops function a call invokes (`rank(x)` or `ops.rank(x)`), else None."""
    func = call.func
    if isinstance(func, cst.Name) and bindings.get(func.value, ("", ""))[0] == "ops":
        return bindings[func.value][1]
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
            and bindings.get(func.value.value) == ("ops_module", "") and func.attr.value in OPS_NAMES:
        return func.attr.value
    return None


def op_reference(op: str, bindings: Mapping[str, Binding], taken: frozenset[str]) -> str | None:
    """Return the name to call an ops function by (imported, or free to import), else None."""
    aliases = sorted(name for name, binding in bindings.items() if binding == ("ops", op))
    if aliases:
        return op if op in aliases else aliases[0]
    return op if op not in taken else None


def fits_signature(op: str, call: cst.Call) -> bool:
    """Return True when the call's arguments (count and keywords) bind to the ops function's signature."""
    if any(arg.star for arg in call.args):
        return False
    positional = [None for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: None for arg in call.args if arg.keyword is not None}
    try:
        inspect.signature(getattr(ops, op)).bind(*positional, **keywords)
    except TypeError:
        return False
    return True


def add_ops_imports(module: cst.Module, names: Sequence[str]) -> cst.Module:
    """Import `names` from factorengine.ops: merge into the first such line (sorted, unique) or add one."""
    bindings = module_bindings(module)
    missing = sorted({n for n in names if bindings.get(n) != ("ops", n)})
    if not missing:
        return module
    for stmt in module.body:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if isinstance(small, cst.ImportFrom) and _import_module(small) == OPS_MODULE \
                and not isinstance(small.names, cst.ImportStar):
            return module.deep_replace(small, small.with_changes(names=_merged_aliases(small, missing)))
    line = cst.parse_statement(f"from {OPS_MODULE} import {', '.join(missing)}\n")
    return module.with_changes(body=_insert(module.body, _after_imports(module), line))


def _merged_aliases(line: cst.ImportFrom, names: Sequence[str]) -> list[cst.ImportAlias]:
    """Return the line's and the new import names sorted, laid out like the line (one per line or not)."""
    old = list(line.names) if not isinstance(line.names, cst.ImportStar) else []
    aliases = sorted([*old, *(cst.ImportAlias(name=cst.Name(n)) for n in names)],
                     key=lambda a: (a.evaluated_name, a.evaluated_alias or ""))
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(old) > 1 and isinstance(old[0].comma, cst.Comma):
        separator = old[0].comma
    elif line.lpar and isinstance(line.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        separator = cst.Comma(whitespace_after=line.lpar.whitespace_after)
    return [a.with_changes(comma=separator) for a in aliases[:-1]] + [aliases[-1].with_changes(comma=old[-1].comma)]


def add_import_line(module: cst.Module, code: str) -> cst.Module:
    """Add an import statement (e.g. `import numpy as np`) before the first top-level import."""
    at = next((i for i, stmt in enumerate(module.body) if _is_import_line(stmt)), _after_imports(module))
    line = cst.parse_statement(code + "\n").with_changes(leading_lines=module.body[at].leading_lines)
    body = list(module.body)
    body[at] = body[at].with_changes(leading_lines=[])
    return module.with_changes(body=[*body[:at], line, *body[at:]])


def drop_ops_import(module: cst.Module, op: str) -> cst.Module:
    """Remove an un-aliased `op` from the ops import lines when nothing refers to it any more."""
    if op in referenced_names(factor_def(module)) or any(
            op in referenced_names(s) for s in module.body if not _is_import_line(s)):
        return module
    for stmt in module.body:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if isinstance(small, cst.ImportFrom) and _import_module(small) == OPS_MODULE \
                and not isinstance(small.names, cst.ImportStar):
            kept = [a for a in small.names if not (a.evaluated_name == op and a.asname is None)]
            if kept and len(kept) < len(small.names):
                kept[-1] = kept[-1].with_changes(comma=small.names[-1].comma)
                module = module.deep_replace(small, small.with_changes(names=kept))
            elif not kept:
                module = module.with_changes(body=[s for s in module.body if s is not stmt])
    return module


def add_parameter(module: cst.Module, name: str, default: Number,
                  bounds: tuple[Number, Number] | None) -> cst.Module:
    """Append `name=default` to factor's signature and `"name": bounds` to SEARCH_SPACE (created if absent)."""
    fn = factor_def(module)
    param = cst.Param(name=cst.Name(name), default=cst.parse_expression(repr(default)), equal=_TIGHT)
    field = "kwonly_params" if fn.params.kwonly_params else "params"
    params = fn.params.with_changes(**{field: append_item(getattr(fn.params, field), param)})
    module = module.deep_replace(fn.params, params)
    if bounds is None:
        return module
    pair = f"({bounds[0]!r}, {bounds[1]!r})"
    space = _search_space(module)
    if space is not None:
        entry = cst.DictElement(cst.SimpleString(f'"{name}"'), cst.parse_expression(pair))
        return module.deep_replace(space, space.with_changes(elements=append_item(space.elements, entry)))
    at = module.body.index(factor_def(module))
    line = cst.parse_statement(f'SEARCH_SPACE = {{"{name}": {pair}}}\n')
    return module.with_changes(body=_insert(module.body, at, line.with_changes(
        leading_lines=[cst.EmptyLine()] if at else [])))


def fits_return(module: cst.Module, fn: cst.FunctionDef, value: cst.BaseExpression) -> bool:
    """Return True when `return value` in factor's body fits in MAX_LINE characters (or spans lines anyway)."""
    code = module.code_for_node(value)
    indent = getattr(fn.body, "indent", None) or module.default_indent  # a one-line `def` has no indent
    return "\n" in code or len(indent + "return " + code) <= MAX_LINE


def assignment(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    """Build the statement `name = value`."""
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], bare(value))])


def assign_before_return(module: cst.Module, name: str, value: cst.BaseExpression) -> cst.Module:
    """Insert `name = value` just before factor's final (return) line."""
    fn = factor_def(module)
    body = fn.body.body
    return module.deep_replace(fn.body, fn.body.with_changes(body=[*body[:-1], assignment(name, value), body[-1]]))


def replace_nodes(tree: cst.CSTNode, replacements: Mapping[int, cst.CSTNode]) -> cst.CSTNode:
    """Replace nodes (keyed by `id` of the original node) throughout a tree in one pass."""
    return tree.visit(_Replacer(replacements))


def append_item(items: Sequence[_Item], new: _Item) -> list[_Item]:
    """Append to a comma-separated list, keeping its layout: the new item takes the last item's comma."""
    if not items:
        return [new]
    last = items[-1]
    comma = items[-2].comma if len(items) > 1 and isinstance(items[-2].comma, cst.Comma) \
        else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [*items[:-1], last.with_changes(comma=comma), new.with_changes(comma=last.comma)]


def fresh_name(base: str, taken: frozenset[str]) -> str:
    """Return `base` if free, else the first free `stem_2`, `stem_3`, ... (stem: base without a `_<n>` suffix)."""
    if base not in taken:
        return base
    stem = re.sub(r"_\d+$", "", base)
    return next(f"{stem}_{k}" for k in range(2, len(taken) + 3) if f"{stem}_{k}" not in taken)


def numbered_name(base: str, taken: frozenset[str]) -> str:
    """Return the first free `base_1`, `base_2`, ... (for parameters a mutation introduces)."""
    return next(f"{base}_{k}" for k in range(1, len(taken) + 2) if f"{base}_{k}" not in taken)


def rename(node: cst.CSTNode, mapping: Mapping[str, str]) -> cst.CSTNode:
    """Rename variables (not attribute or keyword names) throughout a tree."""
    return node.visit(_Renamer(mapping))


def bare(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Drop an expression's outer parentheses (kept for tuples and generators, which need them)."""
    if isinstance(expr, (cst.Tuple, cst.GeneratorExp)):
        return expr
    return expr.with_changes(lpar=[], rpar=[])


def operand(expr: cst.BaseExpression, rank: int, right: bool = False) -> cst.BaseExpression:
    """Parenthesize `expr` if it binds looser than an operator of precedence `rank` (see _OPERATOR_RANK)."""
    if expr.lpar:
        return expr
    own = _precedence(expr)
    if own < rank or (right and own == rank and rank != _OPERATOR_RANK[cst.Power]):
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def times(left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BinaryOperation:
    """Build `left * right`, parenthesizing either side where precedence needs it."""
    rank = _OPERATOR_RANK[cst.Multiply]
    return cst.BinaryOperation(operand(left, rank), cst.Multiply(), operand(right, rank, right=True))


def call(name: str, *args: cst.BaseExpression) -> cst.Call:
    """Build `name(arg, ...)`, the arguments without outer parentheses."""
    return cst.Call(func=cst.Name(name), args=[cst.Arg(bare(a)) for a in args])


def negated(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Return `-expr` for a whole expression (a return value): `-x` gives `x`, `-a * b / c` gives `a * b / c`."""
    dropped = _drop_leading_minus(expr)
    return dropped if dropped is not None else cst.UnaryOperation(cst.Minus(), operand(expr, _UNARY_RANK))


def _drop_leading_minus(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """Return expr without the minus heading it or its `*` / `/` chain, or None when there is none."""
    if expr.lpar:
        return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return bare(expr.expression)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Multiply, cst.Divide)):
        left = _drop_leading_minus(expr.left)
        return None if left is None else expr.with_changes(left=operand(left, _OPERATOR_RANK[cst.Multiply]))
    return None


def degenerate_pairs(node: cst.CSTNode) -> int:
    """Count `x - x`, `x / x` and `f(x, x)` for pairwise ops (constant or meaningless results)."""
    count = 0
    for found in collect(node, (cst.BinaryOperation, cst.Call)):
        if isinstance(found, cst.BinaryOperation):
            count += isinstance(found.operator, _PAIR_OPERATORS) and found.left.deep_equals(found.right)
        else:
            name = found.func.attr.value if isinstance(found.func, cst.Attribute) else getattr(found.func, "value", "")
            pair = [a.value for a in found.args[:2]]
            count += name in _PAIR_CALLS and len(pair) == 2 and pair[0].deep_equals(pair[1])
    return count


def is_positive(expr: cst.BaseExpression, bindings: Mapping[str, Binding]) -> bool:
    """Return True when an expression is surely > 0 wherever defined (prices, volume and their averages)."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value in _POSITIVE_FIELDS and isinstance(expr.value, cst.Name)
    if isinstance(expr, (cst.Integer, cst.Float)):
        return float(expr.evaluated_value) > 0
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _POSITIVE_OPERATORS):
        return is_positive(expr.left, bindings) and is_positive(expr.right, bindings)
    if isinstance(expr, cst.Call):
        op = call_op(expr, bindings)
        data = [a.value for a in expr.args if a.keyword is None][:2 if op in _POSITIVE_PAIR_OPS else 1]
        return op in _POSITIVE_OPS and all(is_positive(a, bindings) for a in data) \
            or op in _NONNEGATIVE_OPS
    return False


def _precedence(expr: cst.BaseExpression) -> int:
    """Return how tightly an expression binds (0 loosest; 9 atoms and calls)."""
    if isinstance(expr, _LOW_PRECEDENCE):
        return 0
    if isinstance(expr, cst.BinaryOperation):
        return _OPERATOR_RANK[type(expr.operator)]
    if isinstance(expr, cst.UnaryOperation):
        return 0 if isinstance(expr.operator, cst.Not) else _UNARY_RANK
    return 9


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


def _unique(names: Sequence[str]) -> list[str]:
    """Return names without repeats, first occurrence first."""
    return list(dict.fromkeys(names))


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    """Return every named parameter of a signature."""
    stars = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [*params.posonly_params, *params.params, *stars, *params.kwonly_params]


def _import_module(node: cst.ImportFrom) -> str:
    """Return the dotted module an ImportFrom reads from ("" for relative imports)."""
    return "" if node.relative or node.module is None else get_full_name_for_node(node.module) or ""


def _import_bindings(node: cst.Import | cst.ImportFrom) -> dict[str, Binding]:
    """Return the names an import statement binds and what they are bound to."""
    if isinstance(node.names, cst.ImportStar):
        return {}
    module = _import_module(node) if isinstance(node, cst.ImportFrom) else ""
    result: dict[str, Binding] = {}
    for alias in node.names:
        full = alias.evaluated_name
        bound = alias.evaluated_alias or (full if isinstance(node, cst.ImportFrom) else full.split(".")[0])
        path = f"{module}.{full}" if module else full
        if module == OPS_MODULE:
            result[bound] = ("ops", full)
        elif path == OPS_MODULE and (alias.asname or isinstance(node, cst.ImportFrom)):
            result[bound] = ("ops_module", "")
        else:
            result[bound] = ("import", f"from {module} import {full} as {bound}" if module
                             else f"import {full} as {bound}")
    return result


def _statement_targets(small: cst.BaseSmallStatement) -> list[str]:
    """Return the names a module-level small statement assigns."""
    if isinstance(small, cst.Assign):
        return [n for t in small.targets for n in referenced_names(t.target)]
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return referenced_names(small.target)
    return []


def _search_space(module: cst.Module) -> cst.Dict | None:
    """Return the SEARCH_SPACE dict literal, or None when the module has none."""
    for stmt in module.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            targets = _statement_targets(small) if isinstance(small, (cst.Assign, cst.AnnAssign)) else []
            if targets == ["SEARCH_SPACE"] and isinstance(small.value, cst.Dict):
                return small.value
    return None


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    """Return True for a simple statement line made of imports."""
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _after_imports(module: cst.Module) -> int:
    """Return the body index just after the last top-level import (or after the docstring)."""
    at = 1 if module.get_docstring() is not None else 0
    for index, stmt in enumerate(module.body):
        if _is_import_line(stmt):
            at = index + 1
    return at


def _insert(body: Sequence[cst.BaseStatement], at: int, stmt: cst.BaseStatement) -> list[cst.BaseStatement]:
    """Return body with stmt inserted at index `at`, the next statement set off by blank lines (PEP 8)."""
    rest = list(body[at:])
    if rest and not rest[0].leading_lines:
        blank = 2 if isinstance(rest[0], (cst.FunctionDef, cst.ClassDef)) else \
            int(_is_import_line(stmt) and not _is_import_line(rest[0]))
        rest[0] = rest[0].with_changes(leading_lines=[cst.EmptyLine()] * blank)
    return [*body[:at], stmt, *rest]


class _SkipMembers:
    """Mixin for walks over variables: remember attribute names (`d.close`) and keywords (`f(x=1)`) to skip."""

    _members: set[int]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._members.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._members.add(id(node.keyword))


class _Variables(_SkipMembers, cst.CSTVisitor):
    """Collect variable names in source order (imported names excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._members = set()

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._members:
            self.names.append(node.value)


class _Renamer(_SkipMembers, cst.CSTTransformer):
    """Rename variables by a mapping."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        super().__init__()
        self.mapping = mapping
        self._members = set()

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) in self._members or original_node.value not in self.mapping:
            return updated_node
        return updated_node.with_changes(value=self.mapping[original_node.value])


class _Replacer(cst.CSTTransformer):
    """Swap in replacement nodes for originals, found by identity."""

    def __init__(self, replacements: Mapping[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        return self.replacements.get(id(original_node), updated_node)
