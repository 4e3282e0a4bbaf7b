"""The in-child guard: an audit hook and an `__import__` that refuse what a program may not do.

Audit hooks cannot be removed, so `arm` installs the hook in each forked child just before
the program's own code runs; it stays for the rest of that short-lived process. Its state
lives in closure cells that only the hook and the trusted `Guard` handle reference, and
frame introspection (the way from a program to its caller's locals) is refused, so a
program cannot reach the hook's rules to change them. The guard is one layer: the
process limits (rlimits, own session, no secrets in the server, sealed inputs) hold even
when a determined program gets past it.
"""
from __future__ import annotations

import builtins
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from sandbox.policy import Policy

__all__ = ["Guard", "Refused", "arm", "read_roots"]

# Audit event families (text before the first dot) refused outright, with what to tell the author.
_REFUSED_FAMILIES = {
    "os": "file system and process operations",
    "socket": "network access",
    "ssl": "network access",
    "http": "network access",
    "urllib": "network access",
    "ftplib": "network access",
    "smtplib": "network access",
    "imaplib": "network access",
    "poplib": "network access",
    "nntplib": "network access",
    "telnetlib": "network access",
    "webbrowser": "starting programs",
    "subprocess": "starting processes",
    "pty": "starting processes",
    "ctypes": "ctypes (raw memory and native calls)",
    "mmap": "mapping memory or files",
    "fcntl": "file descriptor control",
    "resource": "changing resource limits",
    "signal": "sending signals",
    "shutil": "file system operations",
    "tempfile": "creating files",
    "glob": "listing files",
    "sqlite3": "databases",
    "syslog": "the system log",
    "pdb": "the debugger",
    "ensurepip": "installing packages",
    "_thread": "starting threads",
    "gc": "walking the garbage collector's objects",
}
_REFUSED_EVENTS = {
    "builtins.input": "reading standard input",
    "builtins.breakpoint": "the debugger",
    "code.__new__": "building code objects",
    "sys.addaudithook": "adding audit hooks",
    "sys.settrace": "tracing",
    "sys.setprofile": "profiling hooks",
    "cpython.PyInterpreterState_New": "creating sub-interpreters",
}
_FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames"})
# the attributes CPython audits as "object.__getattr__" that lead to frames
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_LISTING_EVENTS = frozenset({"os.listdir", "os.scandir"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Refused(PermissionError):
    """Raised inside a run when the guard refuses an operation."""


@dataclass(frozen=True)
class Guard:
    """Trusted code's handle on an armed guard; the program never receives it."""

    builtins: dict[str, Any]  # the program's builtins, with the allow-list `__import__`
    allow_frames: Callable[[], None]  # once the program is over: let trusted code read tracebacks
    _hook_violations: list[str]
    _import_violations: list[str]

    def first_violation(self) -> str | None:
        """What was refused first (audit hook before import statement), or None."""
        refused = self._hook_violations + self._import_violations
        return refused[0] if refused else None


def read_roots(policy: Policy) -> tuple[str, ...]:
    """Directories of the allowed modules, which a run may read to import them lazily."""
    roots = []
    for name in policy.allowed_imports:
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if module is None and "." not in name:  # find_spec would import a parent package
            spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            roots.extend(spec.submodule_search_locations)
        elif spec.has_location and spec.origin:
            roots.append(os.path.dirname(spec.origin))
    spelled = {os.path.abspath(root) for root in roots}
    return tuple(sorted(spelled | {os.path.realpath(root) for root in spelled}))


def arm(policy: Policy, roots: tuple[str, ...]) -> Guard:
    """Install the audit hook for the rest of this process and return the trusted handle."""
    hook_violations: list[str] = []
    audit, allow_frames = _audit_hook(tuple(policy.allowed_imports), roots, hook_violations)
    program_builtins, import_violations = _program_builtins(tuple(policy.allowed_imports))
    sys.addaudithook(audit)
    return Guard(program_builtins, allow_frames, hook_violations, import_violations)


def _allows(allowed: tuple[str, ...], module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in allowed)


def _import_refusal(name: str, allowed: tuple[str, ...]) -> str:
    return f"import of {name!r} is not allowed; a program may import only: {', '.join(allowed) or 'nothing'}"


def _program_builtins(allowed: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """Builtins whose `__import__` refuses names outside `allowed`, loaded or not.

    Its own closure and violations list: a program that rewrites them only loosens its own
    import statements, never the audit hook.
    """
    violations: list[str] = []
    real_import = builtins.__import__

    def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                       level: int = 0) -> Any:
        if level:
            violations.append("relative imports are not allowed: the program is a single module")
            raise Refused(violations[-1])
        if not (_allows(allowed, name) or bool(fromlist) and all(
                isinstance(item, str) and _allows(allowed, f"{name}.{item}") for item in fromlist)):
            violations.append(_import_refusal(name, allowed))
            raise Refused(violations[-1])
        return real_import(name, globals, locals, fromlist, level)

    namespace = dict(builtins.__dict__)
    namespace["__import__"] = guarded_import
    return namespace, violations


def _audit_hook(allowed: tuple[str, ...], roots: tuple[str, ...],
                violations: list[str]) -> tuple[Callable[[str, tuple[Any, ...]], None], Callable[[], None]]:
    """The hook and its one switch.

    A program can rebind any module global or builtin (through a function's __globals__),
    so every name the hook decides with is bound here, in closure cells only the hook and
    `allow_frames` reference, and paths are checked with str methods alone. Anything that
    goes wrong inside the hook raises, and a raising hook refuses the event: it fails closed.
    """
    str_, int_, type_, refused = str, int, type, Refused
    families, events = dict(_REFUSED_FAMILIES), dict(_REFUSED_EVENTS)
    frame_events, frame_attributes, listing_events = _FRAME_EVENTS, _FRAME_ATTRIBUTES, _LISTING_EVENTS
    write_flags, allowed_text = _WRITE_FLAGS, ", ".join(allowed) or "nothing"
    frames_allowed = False

    def refuse(what: str) -> NoReturn:
        violations.append(what)
        raise refused(what)

    def shown(value: object) -> str:
        return repr(value) if type_(value) in (str_, int_) else type_(value).__name__

    def allows(module: object) -> bool:
        if type_(module) is not str_:
            return False
        for name in allowed:
            if module == name or module.startswith(name + "."):
                return True
        return False

    def inside_roots(path: object) -> bool:
        """An absolute str path with no ".." under an allowed module's directory."""
        if type_(path) is not str_ or not path.startswith("/") or "/.." in path:
            return False
        for root in roots:
            if path.startswith(root + "/"):
                return True
        return False

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            if type_(flags) is not int_ or flags & write_flags or not inside_roots(path):
                refuse(f"not allowed in a program: opening files (open({shown(path)}, {shown(mode)}))")
        elif event == "import":
            if not allows(args[0]):
                refuse(f"import of {shown(args[0])} is not allowed; "
                       f"a program may import only: {allowed_text}")
        elif event in listing_events:
            if not inside_roots(args[0]):
                refuse(f"not allowed in a program: listing directories ({event}({shown(args[0])}))")
        elif event in frame_events or event == "object.__getattr__" and args[1] in frame_attributes:
            if not frames_allowed:
                refuse(f"not allowed in a program: frame introspection (refused audit event {event!r})")
        else:
            what = events.get(event) or families.get(event.partition(".")[0])
            if what is not None:
                refuse(f"not allowed in a program: {what} (refused audit event {event!r})")

    def allow_frames() -> None:
        nonlocal frames_allowed
        frames_allowed = True

    return audit, allow_frames
