"""Reading a factor program's text: ProgramError, parsing with line positions, finding its `def factor`.

Every problem is a ProgramError whose message is `file:line: problem; fix`, fit to send back to an LLM.
"""
from __future__ import annotations

import libcst as cst

from factorengine.errors import FactorEngineError
from factorengine.program import nodes


class ProgramError(FactorEngineError, ValueError):
    """A factor program that cannot be used; the message names file, line, problem and fix."""


def parse_source(source: str, filename: str) -> tuple[cst.Module, nodes.Positions]:
    """Check syntax with the compiler, then parse with libcst and resolve line positions."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
        module = cst.parse_module(source)
    except SyntaxError as exc:
        raise syntax_error(exc, filename) from None
    except cst.ParserSyntaxError as exc:
        raise program_error(filename, exc.raw_line, f"libcst cannot parse this: {exc.message}; "
                            "rewrite the construct in plainer Python") from None
    return module, nodes.positions(module)


def find_factor(module: cst.Module, positions: nodes.Positions, filename: str) -> cst.FunctionDef:
    """Return the single module-level `def factor`."""
    found = [s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "factor"]
    if not found:
        raise program_error(filename, None, "no module-level function `factor`; "
                            "define `def factor(d, window=10): ...` at the top level")
    lines = [positions[fn].start.line for fn in found]
    if len(found) > 1:
        raise program_error(filename, lines[-1], f"`factor` is defined {len(found)} times (lines "
                            f"{', '.join(map(str, lines))}); keep one definition")
    if found[0].asynchronous is not None:
        raise program_error(filename, lines[0], "`factor` is async; make it a plain `def factor(d, ...)`")
    return found[0]


def syntax_error(exc: SyntaxError, filename: str) -> ProgramError:
    """Turn a compiler SyntaxError into a ProgramError with the offending line."""
    near = f" near `{exc.text.strip()}`" if exc.text and exc.text.strip() else ""
    return program_error(filename, exc.lineno, f"syntax error: {exc.msg}{near}; fix the Python syntax")


def program_error(filename: str, line: int | None, message: str) -> ProgramError:
    """Return a ProgramError prefixed with `file:line:`."""
    return ProgramError(f"{filename}:{line}: {message}" if line else f"{filename}: {message}")
