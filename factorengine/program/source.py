"""Factor programs: parse and check a `factor(d, **params)` module, identify it, load it, set its docstring.

A program is a module with one top-level `def factor(d, ...)`; its parameters and their ranges are read
by `space`, its hidden knobs by `knobs`.

program_id hashes `ast.unparse` of the module with docstrings removed: comments, layout
and docstrings drop out; code and defaults stay in. Stable for a given Python minor version.
shape_id is the same hash with factor's defaults left out: a tuned program keeps its shape.
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import libcst as cst

from factorengine.program.knobs import HiddenKnob, hidden_knobs
from factorengine.program.nodes import Number
from factorengine.program.parsing import find_factor, parse_source, program_error, syntax_error
from factorengine.program.space import Param, read_params


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
    module, positions = parse_source(source, filename)
    fn = find_factor(module, positions, filename)
    params = read_params(module, fn, positions, filename)
    return Program(source, params, hidden_knobs(fn, positions), module.get_docstring() or "", program_id(source))


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


def load_factor(source: str, filename: str = "<program>") -> Callable[..., Any]:
    """Execute the program in a fresh namespace, in this process, and return its `factor`."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise syntax_error(exc, filename) from None
    namespace: dict[str, Any] = {"__name__": "factor_program", "__file__": filename}
    exec(code, namespace)  # noqa: S102 - trusted callers only; the sandbox runs untrusted text
    factor = namespace.get("factor")
    if not callable(factor):
        raise program_error(filename, None, "defines no function `factor`; add `def factor(d, ...)`")
    return factor


def _parse_ast(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise syntax_error(exc, "<program>") from None


def _digest(tree: ast.Module) -> str:
    """Hash the module's code with docstrings removed."""
    for node in list(ast.walk(tree)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()[:16]
