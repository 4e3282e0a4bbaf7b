"""Factor programs: parse, check, rewrite, identify and load `factor(d, **params)` modules.

Numeric keyword defaults of the top-level `def factor(d, ...)` are the parameters; an
optional literal `SEARCH_SPACE = {"name": (low, high)}` declares inclusive ranges (int
bounds for ints; int bounds of a float parameter are taken as floats).
Derived ranges for undeclared parameters (they always contain the default):
  int n >= 1 -> (max(1, n // 4), max(4 * n, n + 2))   a window: a quarter to four times
  int 0 -> (0, 4);  int n <= -1 -> the mirror of the rule for -n
  float x > 0 -> (x / 4, 4 * x);  x < 0 -> (4 * x, x / 4);  0.0 -> (-1.0, 1.0)

Hidden knobs are literals in factor's body (defaults excluded) a tuner could move:
  window     an int >= 2 passed to a call: `ts_mean(x, 20)`
  threshold  a literal passed to clip/where/winsorize/maximum/minimum/quantile-like calls,
             a literal in a comparison (`x > 0.02`, `v > 3`), any other float (`0.7 * a`)
Never knobs: 0, 1, -1, +-0.5, |x| < 1e-6 (epsilons), 2 as exponent or divisor (`x ** 2`,
`x / 2`, `np.power(x, 2)`), `axis=`/`ddof=` arguments, other ints (`x * 100`, `x[5:]`).
`find_knob_sites` returns the literal nodes, so a transformer can replace them by identity.

program_id hashes `ast.unparse` of the module with docstrings removed: comments, layout
and docstrings drop out; code and defaults stay in. Stable for a given Python minor version.
shape_id is the same hash with factor's defaults left out: a tuned program keeps its shape.
"""
from __future__ import annotations

import ast
import hashlib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from factorengine.errors import FactorEngineError

__all__ = ["HiddenKnob", "KnobSite", "Param", "Program", "ProgramError", "find_knob_sites",
           "load_factor", "parse_program", "program_id", "set_defaults", "set_docstring", "shape_id"]

Number = int | float
_TRIVIAL = (0, 1, -1, 0.5, -0.5)
_THRESHOLD_CALLS = frozenset({"clip", "where", "winsorize", "maximum", "minimum", "fmax", "fmin",
                              "quantile", "nanquantile", "percentile", "nanpercentile"})
_EXPONENT_CALLS = frozenset({"pow", "power"})
_STRUCTURAL_KEYWORDS = frozenset({"axis", "ddof"})
_CONTEXT_NODES = (cst.Call, cst.Comparison, cst.BinaryOperation, cst.BooleanOperation)
_EMPTY = cst.Module(body=[])
_SEARCH_SPACE = (m.Assign(targets=[m.AssignTarget(target=m.Name("SEARCH_SPACE"))])
                 | m.AnnAssign(target=m.Name("SEARCH_SPACE"),
                               value=m.MatchIfTrue(lambda value: value is not None)))


class ProgramError(FactorEngineError, ValueError):
    """A factor program that cannot be used; the message names file, line, problem and fix."""


@dataclass(frozen=True)
class Param:
    """A tunable parameter: a numeric keyword default of `factor` and its inclusive range."""

    name: str
    default: Number
    kind: Literal["int", "float"]
    low: Number
    high: Number
    declared: bool  # True when the range comes from SEARCH_SPACE, False when derived


@dataclass(frozen=True)
class HiddenKnob:
    """A numeric literal in factor's body that looks tunable (1-based source line)."""

    value: Number
    line: int
    context: str  # the enclosing expression, e.g. "ts_mean(d.volume, 20)"
    reason: Literal["window", "threshold"]


@dataclass(frozen=True)
class KnobSite:
    """A hidden knob as CST nodes: `literal` (Integer, Float or negated) inside `context`."""

    literal: cst.BaseExpression
    value: Number
    context: cst.CSTNode
    reason: Literal["window", "threshold"]


@dataclass(frozen=True)
class Program:
    """A parsed, checked factor program."""

    source: str
    params: tuple[Param, ...]
    hidden_knobs: tuple[HiddenKnob, ...]
    docstring: str  # the module docstring, "" when absent
    program_id: str

    @property
    def defaults(self) -> dict[str, Number]:
        """Return parameter name -> default, in signature order."""
        return {p.name: p.default for p in self.params}


def parse_program(source: str, filename: str = "<program>") -> Program:
    """Parse and check a factor program; raise ProgramError naming the problem and fix."""
    module, positions = _parse(source, filename)
    fn = _find_factor(module, positions, filename)
    signature = _signature(fn, positions, filename)
    space = _search_space(module, positions, filename)
    names = [param.name.value for param, _ in signature]
    for name, (_, _, line) in space.items():
        if name not in names:
            known = ", ".join(names) or "none"
            raise _error(filename, line, f"SEARCH_SPACE names {name!r}, which is not a parameter "
                         f"of factor (parameters: {known}); fix the name or remove the entry")
    params = tuple(_make_param(param.name.value, default, space.get(param.name.value), filename)
                   for param, default in signature)
    knobs = tuple(HiddenKnob(site.value, positions[site.literal].start.line,
                             _render(site.context), site.reason)
                  for site in find_knob_sites(fn))
    return Program(source, params, knobs, module.get_docstring() or "", program_id(source))


def set_defaults(source: str, values: Mapping[str, Number], filename: str = "<program>") -> str:
    """Return the source with factor's parameter defaults set to `values`, formatting kept."""
    kinds = {p.name: p.kind for p in parse_program(source, filename).params}
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise _error(filename, None, f"cannot set {', '.join(map(repr, unknown))}: not parameters "
                     f"of factor (parameters: {', '.join(kinds) or 'none'}); use those names")
    module, positions = _parse(source, filename)
    fn = _find_factor(module, positions, filename)

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
    parse_program(result, filename)  # new defaults must still fit SEARCH_SPACE
    return result


def set_docstring(source: str, text: str) -> str:
    """Return the source with its module docstring replaced by `text` (added when it has none)."""
    module = cst.parse_module(source)
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    docstring = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{body}\n"""'))])
    statements = list(module.body)
    if module.get_docstring(clean=False) is None:
        if statements:  # a blank line between the new docstring and the code
            statements[0] = statements[0].with_changes(leading_lines=[cst.EmptyLine(), *statements[0].leading_lines])
        statements.insert(0, docstring)
    else:
        statements[0] = docstring
    return module.with_changes(body=statements).code


def program_id(source: str) -> str:
    """Return the content id of a program: 16 hex chars of sha256 over its normalized code."""
    return _digest(_parse_ast(source))


def shape_id(source: str) -> str:
    """Return the content id of a program with factor's defaults left out (tuning moves only those)."""
    tree = _parse_ast(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "factor":
            node.args.defaults = [ast.Constant(None) for _ in node.args.defaults]
            node.args.kw_defaults = [ast.Constant(None) for _ in node.args.kw_defaults]
    return _digest(tree)


def _parse_ast(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise _syntax_error(exc, "<program>") from None


def _digest(tree: ast.Module) -> str:
    """Hash the module's code with docstrings removed."""
    for node in list(ast.walk(tree)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()[:16]


def load_factor(source: str, filename: str = "<program>") -> Callable[..., Any]:
    """Execute the program in a fresh namespace, in this process, and return its `factor`."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _syntax_error(exc, filename) from None
    namespace: dict[str, Any] = {"__name__": "factor_program", "__file__": filename}
    exec(code, namespace)  # noqa: S102 - trusted callers only; the sandbox runs untrusted text
    factor = namespace.get("factor")
    if not callable(factor):
        raise _error(filename, None, "defines no function `factor`; add `def factor(d, ...)`")
    return factor


def find_knob_sites(fn: cst.FunctionDef) -> tuple[KnobSite, ...]:
    """Return the hidden knobs in a function's body (parameter defaults excluded), in order."""
    finder = _KnobFinder()
    fn.body.visit(finder)
    return tuple(finder.sites)


class _KnobFinder(cst.CSTVisitor):
    """Walk a body keeping the path of ancestors, classifying each numeric literal."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[cst.CSTNode] = []
        self.sites: list[KnobSite] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Integer, cst.Float)):
            self._classify(node)
        self.path.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.path.pop()

    def _classify(self, number: cst.Integer | cst.Float) -> None:
        literal: cst.BaseExpression = number
        value: Number = number.evaluated_value
        depth = len(self.path) - 1
        parent = self.path[depth]
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Minus):
            literal, value, depth = parent, -value, depth - 1
        holder = self.path[depth]
        outer = self.path[depth - 1] if depth >= 1 else None
        reason = _knob_reason(value, literal, holder, outer)
        if reason is not None:
            context = next((n for n in reversed(self.path[:depth + 1])
                            if isinstance(n, _CONTEXT_NODES)), holder)
            self.sites.append(KnobSite(literal, value, context, reason))


def _knob_reason(value: Number, literal: cst.CSTNode, holder: cst.CSTNode,
                 outer: cst.CSTNode | None) -> Literal["window", "threshold"] | None:
    """Classify a literal by where it sits: call argument, comparison, arithmetic."""
    if value in _TRIVIAL or abs(value) < 1e-6:
        return None
    if isinstance(holder, cst.Arg) and isinstance(outer, cst.Call):
        if holder.keyword is not None and holder.keyword.value in _STRUCTURAL_KEYWORDS:
            return None
        name = _call_name(outer)
        if name in _EXPONENT_CALLS:
            return None if value == 2 else "threshold"
        if name in _THRESHOLD_CALLS or not isinstance(value, int) or value < 2:
            return "threshold"
        return "window"
    if isinstance(holder, (cst.Comparison, cst.ComparisonTarget)):
        return "threshold"
    if (isinstance(holder, cst.BinaryOperation) and holder.right is literal and value == 2
            and isinstance(holder.operator, (cst.Power, cst.Divide, cst.FloorDivide))):
        return None
    return "threshold" if isinstance(value, float) else None


def _call_name(call: cst.Call) -> str:
    """Return the called name without its module: `np.clip` -> "clip"."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _parse(source: str, filename: str) -> tuple[cst.Module, Mapping[cst.CSTNode, CodeRange]]:
    """Check syntax with the compiler, then parse with libcst and resolve line positions."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
        module = cst.parse_module(source)
    except SyntaxError as exc:
        raise _syntax_error(exc, filename) from None
    except cst.ParserSyntaxError as exc:
        raise _error(filename, exc.raw_line, f"libcst cannot parse this: {exc.message}; "
                     "rewrite the construct in plainer Python") from None
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return module, positions


def _find_factor(module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange],
                 filename: str) -> cst.FunctionDef:
    """Return the single module-level `def factor`."""
    found = [s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "factor"]
    if not found:
        raise _error(filename, None, "no module-level function `factor`; "
                     "define `def factor(d, window=10): ...` at the top level")
    lines = [positions[fn].start.line for fn in found]
    if len(found) > 1:
        raise _error(filename, lines[-1], f"`factor` is defined {len(found)} times (lines "
                     f"{', '.join(map(str, lines))}); keep one definition")
    if found[0].asynchronous is not None:
        raise _error(filename, lines[0], "`factor` is async; make it a plain `def factor(d, ...)`")
    return found[0]


def _signature(fn: cst.FunctionDef, positions: Mapping[cst.CSTNode, CodeRange],
               filename: str) -> list[tuple[cst.Param, Number]]:
    """Return factor's parameters after `d` with their numeric defaults."""
    p, line = fn.params, positions[fn].start.line
    star = (f"*{p.star_arg.name.value}" if isinstance(p.star_arg, cst.Param)
            else f"**{p.star_kwarg.name.value}" if p.star_kwarg is not None else None)
    if star:
        raise _error(filename, line, f"factor takes {star}; parameters must be named keywords "
                     "with numeric defaults, e.g. `def factor(d, window=10)`")
    positional = [*p.posonly_params, *p.params]
    first = positional[0].name.value if positional else None
    if first != "d" or positional[0].default is not None:
        got = f"`{_render(positional[0].with_changes(comma=cst.MaybeSentinel.DEFAULT))}`" \
            if positional else "nothing"
        raise _error(filename, line, f"the first parameter of factor must be `d` (the panel) "
                     f"without a default, got {got}; write `def factor(d, ...)`")
    result = []
    for param in [*positional[1:], *p.kwonly_params]:
        name, at = param.name.value, positions[param].start.line
        if param.default is None:
            raise _error(filename, at, f"parameter {name!r} has no default; give it a numeric "
                         f"default, e.g. `{name}=10`")
        value = _number(param.default)
        if value is None:
            code = _EMPTY.code_for_node(param.default)
            hint = " (a bool is not a parameter)" if code in ("True", "False") else ""
            raise _error(filename, at, f"default of {name!r} must be an int or float literal, got "
                         f"`{code}`{hint}; write a plain number such as `{name}=10` and compute "
                         "anything else inside the body")
        result.append((param, value))
    return result


def _search_space(module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange],
                  filename: str) -> dict[str, tuple[Number, Number, int]]:
    """Return SEARCH_SPACE as name -> (low, high, line); {} when the module has none."""
    values = [small.value for stmt in module.body if isinstance(stmt, cst.SimpleStatementLine)
              for small in stmt.body if m.matches(small, _SEARCH_SPACE)]
    if not values:
        return {}
    if len(values) > 1:
        raise _error(filename, positions[values[-1]].start.line,
                     "SEARCH_SPACE is assigned more than once; keep one literal dict")
    node, space = values[0], {}
    if not isinstance(node, cst.Dict):
        raise _error(filename, positions[node].start.line, "SEARCH_SPACE must be a literal dict "
                     "like {\"window\": (3, 40)}; write the ranges out as a dict literal")
    for element in node.elements:
        line = positions[element].start.line
        key = getattr(element, "key", None)
        name = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        if not isinstance(name, str):
            raise _error(filename, line, "SEARCH_SPACE keys must be parameter names as string "
                         "literals; write {\"window\": (3, 40)}")
        bounds = _bounds(element.value)
        if bounds is None:
            raise _error(filename, line, f"SEARCH_SPACE[{name!r}] must be a (low, high) tuple of "
                         f"numbers, got `{_render(element.value)}`; write e.g. (3, 40)")
        if name in space:
            raise _error(filename, line, f"SEARCH_SPACE names {name!r} twice; keep one entry")
        space[name] = (*bounds, line)
    return space


def _bounds(node: cst.BaseExpression) -> tuple[Number, Number] | None:
    """Return (low, high) from a literal 2-tuple of numbers, else None."""
    if not isinstance(node, cst.Tuple) or len(node.elements) != 2:
        return None
    low, high = (_number(e.value) if isinstance(e, cst.Element) else None for e in node.elements)
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
        raise _error(filename, line, f"{where}: low must be below high; fix or swap the bounds")
    if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
        raise _error(filename, line, f"{where}: {name!r} is an int parameter (default {default}) "
                     f"but the range has a float bound; use int bounds, or make the default a "
                     f"float ({float(default)!r})")
    if kind == "float":
        low, high = float(low), float(high)
    if not low <= default <= high:
        raise _error(filename, line, f"{where} does not contain the default {name}={default!r}; "
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


def _number(node: cst.BaseExpression) -> Number | None:
    """Return the value of an int/float literal, optionally negated, else None."""
    sign = 1
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        sign, node = -1, node.expression
    if isinstance(node, cst.Integer):
        return sign * int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return sign * float(node.evaluated_value)
    return None


def _literal(name: str, value: object, kind: str, filename: str) -> cst.BaseExpression:
    """Return the CST literal for a new default: ints rounded, floats by repr, `-x` negated."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise _error(filename, None, f"new default for {name!r} must be a finite number, "
                     f"got {value!r}; pass an int or float")
    number: Number = int(round(float(value))) if kind == "int" else float(value)
    text = str(abs(number)) if kind == "int" else repr(abs(number))
    node: cst.BaseExpression = cst.Integer(text) if kind == "int" else cst.Float(text)
    return cst.UnaryOperation(operator=cst.Minus(), expression=node) if number < 0 else node


def _render(node: cst.CSTNode, limit: int = 80) -> str:
    """Return a node's code on one line, shortened to `limit` characters."""
    text = " ".join(_EMPTY.code_for_node(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _syntax_error(exc: SyntaxError, filename: str) -> ProgramError:
    """Turn a compiler SyntaxError into a ProgramError with the offending line."""
    near = f" near `{exc.text.strip()}`" if exc.text and exc.text.strip() else ""
    return _error(filename, exc.lineno, f"syntax error: {exc.msg}{near}; fix the Python syntax")


def _error(filename: str, line: int | None, message: str) -> ProgramError:
    """Return a ProgramError prefixed with `file:line:`."""
    return ProgramError(f"{filename}:{line}: {message}" if line else f"{filename}: {message}")
