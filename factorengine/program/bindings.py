"""What the names and expressions of a factor program stand for: ops calls, imports, locals, panel data.

A binding is (kind, detail): ("ops", op), ("ops_module", ""), ("import", code), ("module", ""), ("local", "").
"""
from __future__ import annotations

import inspect
from typing import Mapping, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from factorengine import ops
from factorengine.program.nodes import call_name, collect, factor_def, panel_name, referenced_names

OPS_MODULE = "factorengine.ops"
OPS_NAMES = tuple(ops.__all__)
Binding = tuple[str, str]
_PAIR_OPERATORS = (cst.Subtract, cst.Divide, cst.FloorDivide, cst.Modulo)
_PAIR_CALLS = frozenset({"safe_div", "ts_corr", "ts_cov", "ts_regression_slope", "ts_regression_resid",
                         "maximum", "minimum", "where"})
_POSITIVE_FIELDS = frozenset({"open", "high", "low", "close", "vwap", "volume"})
_POSITIVE_OPERATORS = (cst.Add, cst.Multiply, cst.Divide)
# ops that keep a positive input positive; ops positive (or >= 0) whatever the input
_POSITIVE_OPS = frozenset({"delay", "ts_mean", "ts_ema", "ts_decay_linear", "ts_median", "ts_max", "ts_min",
                           "ts_sum", "sqrt", "safe_div", "maximum", "minimum", "ts_product", "ts_cumsum",
                           "ts_mean_where", "group_mean"})
_POSITIVE_PAIR_OPS = frozenset({"safe_div", "maximum", "minimum"})
_NONNEGATIVE_OPS = frozenset({"rank", "ts_rank", "abs", "sqrt", "ts_std", "ts_var", "ts_argmax", "ts_argmin",
                              "exp", "group_rank"})


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


def degenerate_pairs(node: cst.CSTNode) -> int:
    """Count `x - x`, `x / x` and `f(x, x)` for pairwise ops (constant or meaningless results)."""
    count = 0
    for found in collect(node, (cst.BinaryOperation, cst.Call)):
        if isinstance(found, cst.BinaryOperation):
            count += isinstance(found.operator, _PAIR_OPERATORS) and found.left.deep_equals(found.right)
        else:
            pair = [a.value for a in found.args[:2]]
            count += call_name(found) in _PAIR_CALLS and len(pair) == 2 and pair[0].deep_equals(pair[1])
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


def import_module(node: cst.ImportFrom) -> str:
    """Return the dotted module an ImportFrom reads from ("" for relative imports)."""
    return "" if node.relative or node.module is None else get_full_name_for_node(node.module) or ""


def _unique(names: Sequence[str]) -> list[str]:
    """Return names without repeats, first occurrence first."""
    return list(dict.fromkeys(names))


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    """Return every named parameter of a signature."""
    stars = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [*params.posonly_params, *params.params, *stars, *params.kwonly_params]


def _import_bindings(node: cst.Import | cst.ImportFrom) -> dict[str, Binding]:
    """Return the names an import statement binds and what they are bound to."""
    if isinstance(node.names, cst.ImportStar):
        return {}
    module = import_module(node) if isinstance(node, cst.ImportFrom) else ""
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
