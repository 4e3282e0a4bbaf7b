"""The in-child guard: an audit hook and an `__import__` that refuse what a program may not do.

Audit hooks cannot be removed, so the guard is installed in each forked child just before
the program's own code runs and stays for the rest of that short-lived process. It is one
layer: the process limits (rlimits, own session, no secrets in the server, sealed inputs)
hold even when a determined program gets past it.
"""
from __future__ import annotations

import builtins
import importlib.util
import os
import sys
from typing import Any, NoReturn

from sandbox.policy import Policy

__all__ = ["Guard", "Refused", "read_roots"]

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
}
_REFUSED_EVENTS = {
    "builtins.input": "reading standard input",
    "builtins.breakpoint": "the debugger",
    "code.__new__": "building code objects",
    "sys.addaudithook": "adding audit hooks",
    "cpython.PyInterpreterState_New": "creating sub-interpreters",
}
_LISTING_EVENTS = frozenset({"os.listdir", "os.scandir"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Refused(PermissionError):
    """Raised inside a run when the guard refuses an operation."""


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
    return tuple(sorted({os.path.realpath(root) for root in roots}))


def _describe(value: object) -> str:
    if isinstance(value, (str, bytes, int)):
        return repr(value)
    return type(value).__name__


class Guard:
    """Refuses events for one run; `violations` lists what it refused, oldest first."""

    def __init__(self, policy: Policy, roots: tuple[str, ...]) -> None:
        self.violations: list[str] = []
        self._policy = policy
        self._roots = roots
        self._import = builtins.__import__

    def builtins(self) -> dict[str, Any]:
        """A builtins namespace for the program whose `__import__` enforces the allow-list."""
        namespace = dict(builtins.__dict__)
        namespace["__import__"] = self.guarded_import
        return namespace

    def refuse(self, what: str) -> NoReturn:
        """Record a violation and raise it into the program."""
        self.violations.append(what)
        raise Refused(what)

    def guarded_import(self, name: str, globals: Any = None, locals: Any = None,
                       fromlist: Any = (), level: int = 0) -> Any:
        """`__import__` for program code: only allowed names, loaded or not."""
        if level:
            self.refuse("relative imports are not allowed: the program is a single module")
        allowed = self._policy.allows(name) or bool(fromlist) and all(
            isinstance(item, str) and self._policy.allows(f"{name}.{item}") for item in fromlist)
        if not allowed:
            self._refuse_import(name)
        return self._import(name, globals, locals, fromlist, level)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """The audit hook: return to allow `event`, raise `Refused` to refuse it."""
        if event == "open":
            self._check_open(*args[:3])
        elif event == "import":
            if not self._policy.allows(args[0]):
                self._refuse_import(args[0])
        elif event in _LISTING_EVENTS:
            if not self._readable(args[0]):
                self.refuse(f"not allowed in a program: listing directories ({event}({_describe(args[0])}))")
        else:
            what = _REFUSED_EVENTS.get(event) or _REFUSED_FAMILIES.get(event.partition(".")[0])
            if what is not None:
                self.refuse(f"not allowed in a program: {what} (refused audit event {event!r})")

    def _refuse_import(self, name: str) -> NoReturn:
        allowed = ", ".join(self._policy.allowed_imports) or "nothing"
        self.refuse(f"import of {name!r} is not allowed; a program may import only: {allowed}")

    def _check_open(self, path: object, mode: object, flags: object) -> None:
        if isinstance(flags, int):
            read_only = not flags & _WRITE_FLAGS
        else:
            read_only = mode is None or (isinstance(mode, str) and set(mode) <= set("rbt"))
        if not (read_only and self._readable(path)):
            self.refuse(f"not allowed in a program: opening files (open({_describe(path)}, {_describe(mode)}))")

    def _readable(self, path: object) -> bool:
        """Whether `path` lies inside an allowed module's directory (for lazy imports)."""
        if not isinstance(path, (str, bytes)):
            return False
        real = os.path.realpath(os.fsdecode(path))
        return any(real == root or real.startswith(root + os.sep) for root in self._roots)
