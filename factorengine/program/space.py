"""A factor's search space: its parameters, their SEARCH_SPACE or derived ranges, and setting new defaults.

Numeric keyword defaults of the top-level `def factor(d, ...)` are the parameters; an optional literal
`SEARCH_SPACE = {"name": (low, high)}` declares inclusive ranges (int bounds for ints; int bounds of a float
parameter are taken as floats).
Derived ranges for undeclared parameters (they always contain the default):
  int n >= 1 -> (max(1, n // 4), max(4 * n, n + 2))   a window: a quarter to four times
  int 0 -> (0, 4);  int n <= -1 -> the mirror of the rule for -n
  float x > 0 -> (x / 4, 4 * x);  x < 0 -> (4 * x, x / 4);  0.0 -> (-1.0, 1.0)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, Mapping

import libcst as cst
import libcst.matchers as m

from factorengine.program.nodes import Number, Positions, number, render, source_of
from factorengine.program.parsing import find_factor, parse_source, program_error

_SEARCH_SPACE = (m.Assign(targets=[m.AssignTarget(target=m.Name("SEARCH_SPACE"))])
                 | m.AnnAssign(target=m.Name("SEARCH_SPACE"),
                               value=m.MatchIfTrue(lambda value: value is not None)))


@dataclass(frozen=True)
class Param:
    """A tunable parameter: a numeric keyword default of `factor` and its inclusive range."""

    name: str
    default: Number
    kind: Literal["int", "float"]
    low: Number
    high: Number
    declared: bool  # True when the range comes from SEARCH_SPACE, False when derived


def search_space_values(module: cst.Module) -> list[cst.BaseExpression]:
    """Return the value of every module-level `SEARCH_SPACE = ...` assignment, in order."""
    return [small.value for stmt in module.body if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body if m.matches(small, _SEARCH_SPACE)]


def read_params(module: cst.Module, fn: cst.FunctionDef, positions: Positions,
                filename: str) -> tuple[Param, ...]:
    """Return factor's parameters with their ranges; raise ProgramError naming the problem and fix."""
    signature = _signature(fn, positions, filename)
    space = _declared_ranges(module, positions, filename)
    names = [param.name.value for param, _ in signature]
    for name, (_, _, line) in space.items():
        if name not in names:
            known = ", ".join(names) or "none"
            raise program_error(filename, line, f"SEARCH_SPACE names {name!r}, which is not a parameter "
                                f"of factor (parameters: {known}); fix the name or remove the entry")
    return tuple(_make_param(param.name.value, default, space.get(param.name.value), filename)
                 for param, default in signature)


def set_defaults(source: str, values: Mapping[str, Number], filename: str = "<program>") -> str:
    """Return the source with factor's parameter defaults set to `values`, formatting kept."""
    module, positions = parse_source(source, filename)
    fn = find_factor(module, positions, filename)
    kinds = {p.name: p.kind for p in read_params(module, fn, positions, filename)}
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise program_error(filename, None, f"cannot set {', '.join(map(repr, unknown))}: not parameters "
                            f"of factor (parameters: {', '.join(kinds) or 'none'}); use those names")

    def rewrite(param: cst.Param) -> cst.Param:
        name = param.name.value
        if name not in values or param.default is None:
            return param
        literal = _literal(name, values[name], kinds[name], filename)
        return param.with_changes(default=literal.with_changes(
            lpar=param.default.lpar, rpar=param.default.rpar))

    params = fn.params.with_changes(
        posonly_params=tuple(map(rewrite, fn.params.posonly_params)),
        params=tuple(map(rewrite, fn.params.params)),
        kwonly_params=tuple(map(rewrite, fn.params.kwonly_params)))
    result = module.deep_replace(fn.params, params).code
    module, positions = parse_source(result, filename)  # new defaults must still fit SEARCH_SPACE
    read_params(module, find_factor(module, positions, filename), positions, filename)
    return result


def _signature(fn: cst.FunctionDef, positions: Positions, filename: str) -> list[tuple[cst.Param, Number]]:
    """Return factor's parameters after `d` with their numeric defaults."""
    p, line = fn.params, positions[fn].start.line
    star = (f"*{p.star_arg.name.value}" if isinstance(p.star_arg, cst.Param)
            else f"**{p.star_kwarg.name.value}" if p.star_kwarg is not None else None)
    if star:
        raise program_error(filename, line, f"factor takes {star}; parameters must be named keywords "
                            "with numeric defaults, e.g. `def factor(d, window=10)`")
    positional = [*p.posonly_params, *p.params]
    first = positional[0].name.value if positional else None
    if first != "d" or positional[0].default is not None:
        got = f"`{render(positional[0].with_changes(comma=cst.MaybeSentinel.DEFAULT), 80)}`" \
            if positional else "nothing"
        raise program_error(filename, line, f"the first parameter of factor must be `d` (the panel) "
                            f"without a default, got {got}; write `def factor(d, ...)`")
    result = []
    for param in [*positional[1:], *p.kwonly_params]:
        name, at = param.name.value, positions[param].start.line
        if param.default is None:
            raise program_error(filename, at, f"parameter {name!r} has no default; give it a numeric "
                                f"default, e.g. `{name}=10`")
        value = number(param.default)
        if value is None:
            code = source_of(param.default)
            hint = " (a bool is not a parameter)" if code in ("True", "False") else ""
            raise program_error(filename, at, f"default of {name!r} must be an int or float literal, got "
                                f"`{code}`{hint}; write a plain number such as `{name}=10` and compute "
                                "anything else inside the body")
        result.append((param, value))
    return result


def _declared_ranges(module: cst.Module, positions: Positions,
                  filename: str) -> dict[str, tuple[Number, Number, int]]:
    """Return SEARCH_SPACE as name -> (low, high, line); {} when the module has none."""
    values = search_space_values(module)
    if not values:
        return {}
    if len(values) > 1:
        raise program_error(filename, positions[values[-1]].start.line,
                            "SEARCH_SPACE is assigned more than once; keep one literal dict")
    node, space = values[0], {}
    if not isinstance(node, cst.Dict):
        raise program_error(filename, positions[node].start.line, "SEARCH_SPACE must be a literal dict "
                            "like {\"window\": (3, 40)}; write the ranges out as a dict literal")
    for element in node.elements:
        line = positions[element].start.line
        key = getattr(element, "key", None)
        name = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        if not isinstance(name, str):
            raise program_error(filename, line, "SEARCH_SPACE keys must be parameter names as string "
                                "literals; write {\"window\": (3, 40)}")
        bounds = _bounds(element.value)
        if bounds is None:
            raise program_error(filename, line, f"SEARCH_SPACE[{name!r}] must be a (low, high) tuple of "
                                f"numbers, got `{render(element.value, 80)}`; write e.g. (3, 40)")
        if name in space:
            raise program_error(filename, line, f"SEARCH_SPACE names {name!r} twice; keep one entry")
        space[name] = (*bounds, line)
    return space


def _bounds(node: cst.BaseExpression) -> tuple[Number, Number] | None:
    """Return (low, high) from a literal 2-tuple of numbers, else None."""
    if not isinstance(node, cst.Tuple) or len(node.elements) != 2:
        return None
    low, high = (number(e.value) if isinstance(e, cst.Element) else None for e in node.elements)
    return None if low is None or high is None else (low, high)


def _make_param(name: str, default: Number, declared: tuple[Number, Number, int] | None,
                filename: str) -> Param:
    """Build a Param from its default and declared range, deriving the range when absent."""
    kind: Literal["int", "float"] = "int" if isinstance(default, int) else "float"
    if declared is None:
        return Param(name, default, kind, *_derived_range(default), declared=False)
    low, high, line = declared
    where = f"SEARCH_SPACE[{name!r}] = ({low!r}, {high!r})"
    if low >= high:
        raise program_error(filename, line, f"{where}: low must be below high; fix or swap the bounds")
    if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
        raise program_error(filename, line, f"{where}: {name!r} is an int parameter (default {default}) "
                            f"but the range has a float bound; use int bounds, or make the default a "
                            f"float ({float(default)!r})")
    if kind == "float":
        low, high = float(low), float(high)
    if not low <= default <= high:
        raise program_error(filename, line, f"{where} does not contain the default {name}={default!r}; "
                            "widen the range or change the default")
    return Param(name, default, kind, low, high, declared=True)


def _derived_range(default: Number) -> tuple[Number, Number]:
    """Return the range for an undeclared parameter (see the module docstring)."""
    if isinstance(default, int):
        n = abs(default)
        if n == 0:
            return 0, 4
        low, high = max(1, n // 4), max(4 * n, n + 2)
        return (low, high) if default > 0 else (-high, -low)
    if default == 0:
        return -1.0, 1.0
    return (default / 4, default * 4) if default > 0 else (default * 4, default / 4)


def _literal(name: str, value: object, kind: str, filename: str) -> cst.BaseExpression:
    """Return the CST literal for a new default: ints rounded, floats by repr, `-x` negated."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise program_error(filename, None, f"new default for {name!r} must be a finite number, "
                            f"got {value!r}; pass an int or float")
    rounded: Number = int(round(float(value))) if kind == "int" else float(value)
    text = str(abs(rounded)) if kind == "int" else repr(abs(rounded))
    node: cst.BaseExpression = cst.Integer(text) if kind == "int" else cst.Float(text)
    return cst.UnaryOperation(operator=cst.Minus(), expression=node) if rounded < 0 else node
