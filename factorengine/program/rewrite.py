"""Edit building blocks for factor programs: ops imports, new parameters, new statements, new expressions.

Every rewrite takes and returns a `libcst.Module` (or builds a node) and leaves untouched statements byte for
byte. New code is laid out as PEP 8 would: blank lines around inserted statements, operands parenthesized
only where precedence needs it.
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import libcst as cst

from factorengine.program.bindings import OPS_MODULE, import_module, module_bindings
from factorengine.program.nodes import TIGHT_EQUAL, Number, factor_def, referenced_names
from factorengine.program.space import search_space_values

MAX_LINE = 100  # new code is laid out to stay within this many characters a line
_Item = TypeVar("_Item", cst.Param, cst.DictElement, cst.ImportAlias)
_LOW_PRECEDENCE = (cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.Lambda, cst.NamedExpr)
_OPERATOR_RANK = {cst.BitOr: 1, cst.BitXor: 2, cst.BitAnd: 3, cst.LeftShift: 4, cst.RightShift: 4,
                  cst.Add: 5, cst.Subtract: 5, cst.Multiply: 6, cst.Divide: 6, cst.FloorDivide: 6,
                  cst.Modulo: 6, cst.MatrixMultiply: 6, cst.Power: 8}
_UNARY_RANK = 7


def add_ops_imports(module: cst.Module, names: Sequence[str]) -> cst.Module:
    """Import `names` from factorengine.ops: merge into the first such line (sorted, unique) or add one."""
    bindings = module_bindings(module)
    missing = sorted({n for n in names if bindings.get(n) != ("ops", n)})
    if not missing:
        return module
    for stmt in module.body:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if isinstance(small, cst.ImportFrom) and import_module(small) == OPS_MODULE \
                and not isinstance(small.names, cst.ImportStar):
            return module.deep_replace(small, small.with_changes(names=_merged_aliases(small, missing)))
    line = cst.parse_statement(f"from {OPS_MODULE} import {', '.join(missing)}\n")
    return module.with_changes(body=_insert(module.body, _after_imports(module), line))


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
        if isinstance(small, cst.ImportFrom) and import_module(small) == OPS_MODULE \
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
    param = cst.Param(name=cst.Name(name), default=cst.parse_expression(repr(default)), equal=TIGHT_EQUAL)
    field = "kwonly_params" if fn.params.kwonly_params else "params"
    params = fn.params.with_changes(**{field: append_item(getattr(fn.params, field), param)})
    module = module.deep_replace(fn.params, params)
    return module if bounds is None else declare_range(module, name, bounds)


def declare_range(module: cst.Module, name: str, bounds: tuple[Number, Number]) -> cst.Module:
    """Append `"name": bounds` to SEARCH_SPACE (created just before factor if absent)."""
    pair = f"({bounds[0]!r}, {bounds[1]!r})"
    space = next((v for v in search_space_values(module) if isinstance(v, cst.Dict)), None)
    if space is not None:
        entry = cst.DictElement(cst.SimpleString(f'"{name}"'), cst.parse_expression(pair))
        grown = _append_entry(space, entry)
        code = module.code_for_node(grown)
        if "\n" not in code and len("SEARCH_SPACE = " + code) > MAX_LINE:  # one entry a line from here on
            items = "".join(f"    {module.code_for_node(e.with_changes(comma=cst.MaybeSentinel.DEFAULT))},\n"
                            for e in grown.elements)
            grown = cst.parse_expression("{\n" + items + "}")
        return module.deep_replace(space, grown)
    at = module.body.index(factor_def(module))
    line = cst.parse_statement(f'SEARCH_SPACE = {{"{name}": {pair}}}\n')
    return module.with_changes(body=_insert(module.body, at, line.with_changes(
        leading_lines=[cst.EmptyLine()] if at else [])))


def _append_entry(space: cst.Dict, entry: cst.DictElement) -> cst.Dict:
    """Append an entry to a dict literal; on a line of its own when the closing brace has one (comments kept)."""
    closing = space.rbrace.whitespace_before
    if not isinstance(closing, cst.ParenthesizedWhitespace) or not space.elements:
        return space.with_changes(elements=append_item(space.elements, entry))
    opening = space.lbrace.whitespace_after
    indent = opening.last_line if isinstance(opening, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace("    ")
    separator = cst.ParenthesizedWhitespace(first_line=closing.first_line, indent=True, last_line=indent)
    last = space.elements[-1].with_changes(comma=cst.Comma(whitespace_after=separator))
    return space.with_changes(elements=[*space.elements[:-1], last, entry.with_changes(comma=cst.Comma())],
                              rbrace=space.rbrace.with_changes(
                                  whitespace_before=closing.with_changes(first_line=cst.TrailingWhitespace())))


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


def append_item(items: Sequence[_Item], new: _Item) -> list[_Item]:
    """Append to a comma-separated list, keeping its layout: the new item takes the last item's comma."""
    if not items:
        return [new]
    last = items[-1]
    comma = items[-2].comma if len(items) > 1 and isinstance(items[-2].comma, cst.Comma) \
        else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [*items[:-1], last.with_changes(comma=comma), new.with_changes(comma=last.comma)]


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


def _precedence(expr: cst.BaseExpression) -> int:
    """Return how tightly an expression binds (0 loosest; 9 atoms and calls)."""
    if isinstance(expr, _LOW_PRECEDENCE):
        return 0
    if isinstance(expr, cst.BinaryOperation):
        return _OPERATOR_RANK[type(expr.operator)]
    if isinstance(expr, cst.UnaryOperation):
        return 0 if isinstance(expr.operator, cst.Not) else _UNARY_RANK
    return 9


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
