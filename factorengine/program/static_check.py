"""The static check of factor programs: what a program may import, name and touch, checked with libcst.

Refusals name the line and the rule in words fit to send back to an LLM. The same walk flags code that
reads the future (negative windows, `np.roll`, reversed slices, reductions over the time axis); the
lookahead probe catches what a static check cannot see.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from factorengine.program.nodes import SkipMembers

ALLOWED_IMPORTS = ("numpy", "math", "factorengine.ops")
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "breakpoint", "input", "help", "exit", "quit", "memoryview", "type", "object", "super",
    "classmethod", "staticmethod", "property", "__builtins__", "__loader__", "__spec__",
})
# numpy entry points to files, C code or the machine; none has a use in a factor.
FORBIDDEN_ATTRIBUTES = frozenset({
    "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile", "tofile",
    "memmap", "fromregex", "DataSource", "ctypeslib", "ctypes", "f2py", "distutils", "testing", "lib",
    "setflags", "flags", "base", "frombuffer", "system", "popen",
})
# frames, code objects and tracebacks lead back to the interpreter's globals and builtins.
INTROSPECTION_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_back", "f_globals", "f_locals",
    "f_builtins", "f_code", "tb_frame", "tb_next", "co_code", "co_consts",
})
FUTURE_ATTRIBUTES = frozenset({"roll", "flip", "flipud", "rot90"})
TIME_AXIS_REDUCTIONS = frozenset({
    "mean", "nanmean", "sum", "nansum", "std", "nanstd", "var", "nanvar", "max", "nanmax", "min", "nanmin",
    "median", "nanmedian", "sort", "argsort", "percentile", "nanpercentile", "quantile", "nanquantile",
    "argmax", "argmin", "nanargmax", "nanargmin", "ptp", "average", "any", "all",
})
FORBIDDEN_STATEMENTS = {
    cst.ClassDef: "class definitions", cst.Global: "global statements", cst.Nonlocal: "nonlocal statements",
    cst.Yield: "generators", cst.Await: "async code", cst.Lambda: None,
}


@dataclass(frozen=True)
class Violation:
    """One refusal: the 1-based line, the rule's short name and a message for people and LLMs."""

    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def check_policy(source: str) -> tuple[Violation, ...]:
    """Return every distinct policy violation in `source`, in order (empty when the program may run)."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return (Violation(exc.raw_line, "syntax", f"syntax error: {exc.message}"),)
    checker = _Checker()
    MetadataWrapper(module).visit(checker)
    return tuple(dict.fromkeys(checker.violations))  # the same rule twice on one line is said once


def _allowed(module: str) -> bool:
    return any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED_IMPORTS
               if allowed != "math" or module == "math")


class _Checker(SkipMembers, cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[Violation] = []
        self._members = set()

    def _refuse(self, node: cst.CSTNode, rule: str, message: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.violations.append(Violation(line, rule, message))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._check_module(node, get_full_name_for_node(alias.name) or "")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative:
            self._refuse(node, "import", "relative imports are not allowed")
            return
        module = get_full_name_for_node(node.module) or ""
        if module == "factorengine":
            names = [] if isinstance(node.names, cst.ImportStar) else [a.evaluated_name for a in node.names]
            module = "factorengine.ops" if names == ["ops"] else "factorengine"
        self._check_module(node, module)
        if isinstance(node.names, cst.ImportStar):
            self._refuse(node, "import", "star imports are not allowed; name what you import")
        else:
            for alias in node.names:
                if alias.evaluated_name in FORBIDDEN_ATTRIBUTES | FUTURE_ATTRIBUTES:
                    self._refuse(node, "import", f"importing {alias.evaluated_name!r} is not allowed")

    def _check_module(self, node: cst.CSTNode, module: str) -> None:
        if not _allowed(module) or FORBIDDEN_ATTRIBUTES.intersection(module.split(".")):
            self._refuse(node, "import", f"importing {module!r} is not allowed; a factor may import "
                                         f"only {', '.join(ALLOWED_IMPORTS)}")

    def visit_Name(self, node: cst.Name) -> None:
        if self.is_member(node):
            return
        if node.value in FORBIDDEN_NAMES:
            self._refuse(node, "name", f"the name {node.value!r} is not allowed in a factor program")
        elif node.value.startswith("__") and node.value.endswith("__"):
            self._refuse(node, "dunder", f"dunder names like {node.value!r} are not allowed")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        super().visit_Attribute(node)
        attr = node.attr.value
        if attr.startswith("_"):
            self._refuse(node, "dunder", f"private or dunder attributes like {attr!r} are not allowed")
        elif attr in INTROSPECTION_ATTRIBUTES:
            self._refuse(node, "attribute", f"the attribute {attr!r} (frames, code, tracebacks) is not allowed")
        elif attr in FORBIDDEN_ATTRIBUTES:
            self._refuse(node, "attribute", f"the attribute {attr!r} (files, C code or memory) is not allowed")
        elif attr in FUTURE_ATTRIBUTES:
            self._refuse(node, "lookahead", f"{attr!r} moves later rows onto earlier ones (reads the "
                                            "future); use delay(x, n) with n >= 1")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._check_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check_target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._check_target(node.target)

    def _check_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute):
            self._refuse(target, "assignment", "assigning to attributes (e.g. of numpy or ops) is not allowed; "
                                               "use local variables")

    def visit_Call(self, node: cst.Call) -> None:
        name = get_full_name_for_node(node.func) or ""
        short = name.rsplit(".", 1)[-1]
        if short in TIME_AXIS_REDUCTIONS and any(_is_axis_zero(arg) for arg in node.args):
            self._refuse(node, "lookahead", f"{name}(..., axis=0) summarizes every day, including later "
                                            "ones; use a rolling ts_* operator")
        if name.split(".")[0] != "np" and (short.startswith("ts_") or short in {"delay", "delta", "pct_change"}):
            for arg in node.args[1:]:
                if _is_negative_number(arg.value):
                    self._refuse(node, "lookahead", f"{short} with a negative window reads the future; "
                                                    "windows and shifts must be >= 1")

    def visit_Slice(self, node: cst.Slice) -> None:
        if node.step is not None and _is_negative_number(node.step):
            self._refuse(node, "lookahead", "a reversed slice ([::-1]) puts later rows first (reads the future)")

    def on_visit(self, node: cst.CSTNode) -> bool:
        for kind, what in FORBIDDEN_STATEMENTS.items():
            if isinstance(node, kind) and what:
                self._refuse(node, "statement", f"{what} are not allowed in a factor program")
        return super().on_visit(node)


def _is_axis_zero(arg: cst.Arg) -> bool:
    keyword = arg.keyword.value if arg.keyword else None
    return keyword == "axis" and isinstance(arg.value, cst.Integer) and arg.value.evaluated_value == 0


def _is_negative_number(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus)
            and isinstance(node.expression, (cst.Integer, cst.Float)))
