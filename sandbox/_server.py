"""The fork server: a fresh interpreter that preloads modules, maps the inputs and forks one child per run.

Started by `ServerConnection.start` as `python -m sandbox._server REQUEST_FD RESPONSE_FD`
with a minimal environment. It holds nothing of the parent but the policy and the
inputs, dies with the parent (PR_SET_PDEATHSIG, and EOF on its request pipe), and is
the only process that forks, kills and reaps run children.
"""
from __future__ import annotations

import ast
import ctypes
import gc
import importlib
import os
import selectors
import signal
import sys
import time
from dataclasses import dataclass, field
from types import CodeType

from sandbox import protocol
from sandbox.child import PROGRAM_FILENAME, ChildContext, parse_report, run_child
from sandbox.fields import Fields
from sandbox.guard import read_roots
from sandbox.lifetime import die_with_parent
from sandbox.protocol import (ChildReport, Finished, KillRequest, Ready, RunRequest, ServerConfig,
                              Started)
from sandbox.shm import Slot, map_inputs

_MAX_REPORT_BYTES = 1 << 18


@dataclass
class _Child:
    """A running child and what it has written so far."""

    run_id: int
    pid: int
    pidfd: int
    status_fd: int
    started: float
    report: bytearray = field(default_factory=bytearray)
    killed: bool = False


def _prepare(config: ServerConfig, libc: ctypes.CDLL) -> ChildContext:
    """Import the preload modules and map the inputs read-only."""
    for name in config.policy.preload:
        importlib.import_module(name)
    inputs = config.inputs
    arrays = map_inputs(inputs.fd, inputs.size, inputs.specs)
    os.close(inputs.fd)  # the mapping stays; children need no descriptor
    return ChildContext(policy=config.policy, limits=config.limits, fields=Fields(arrays),
                        read_roots=read_roots(config.policy), server_pid=os.getpid(),
                        devnull_fd=os.open(os.devnull, os.O_RDWR), libc=libc)


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


class Server:
    """The request loop: fork a child per run, kill on request, reap and report every child."""

    def __init__(self, context: ChildContext, slots: list[Slot], request_fd: int,
                 response_fd: int) -> None:
        self._context = context
        self._slots = slots
        self._request_fd = request_fd
        self._response_fd = response_fd
        self._selector = selectors.DefaultSelector()
        self._children: dict[int, _Child] = {}
        self._compiled: tuple[str, CodeType | ChildReport] | None = None
        self._tried_imports: set[str] = set()
        self._serving = True

    def serve(self) -> None:
        """Serve until the parent closes the request pipe, then kill and reap all children."""
        self._selector.register(self._request_fd, selectors.EVENT_READ, self._on_request)
        while self._serving:
            for key, _ in self._selector.select():
                key.data(key)
        for child in list(self._children.values()):
            self._kill(child)
            self._reap(child)

    def _on_request(self, key: selectors.SelectorKey) -> None:
        message = protocol.recv(self._request_fd)
        if message is None:  # the parent closed the pipe or died
            self._serving = False
        elif isinstance(message, RunRequest):
            self._start(message)
        elif isinstance(message, KillRequest):
            child = self._children.get(message.run_id)
            if child is not None:
                self._kill(child)
        else:
            raise TypeError(f"unexpected request {message!r}")

    def _compile(self, source: str) -> CodeType | ChildReport:
        """Compile once per distinct source; import its allowed imports here so children start warm."""
        if self._compiled is not None and self._compiled[0] == source:
            return self._compiled[1]
        try:
            tree = ast.parse(source, PROGRAM_FILENAME)
            result: CodeType | ChildReport = compile(tree, PROGRAM_FILENAME, "exec", dont_inherit=True)
        except SyntaxError as exc:
            result = ChildReport("syntax", message=f"{exc.msg} (line {exc.lineno})", line=exc.lineno or 0)
        except (ValueError, RecursionError, MemoryError) as exc:
            result = ChildReport("syntax", message=f"the source cannot be compiled: {exc}")
        else:
            self._preimport(_imported_names(tree))
        self._compiled = (source, result)
        return result

    def _preimport(self, names: set[str]) -> None:
        policy = self._context.policy
        for name in sorted(names - self._tried_imports):
            self._tried_imports.add(name)
            if policy.allows(name) and name not in sys.modules:
                try:
                    importlib.import_module(name)
                except ImportError:
                    pass  # `from numpy import mean` names no module; a real miss fails in the child

    def _start(self, request: RunRequest) -> None:
        code = self._compile(request.source)
        if isinstance(code, ChildReport):
            protocol.send(self._response_fd, Finished(request.run_id, code, None, None, False, 0.0, 0.0))
            return
        status_read, status_write = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(status_read)
            run_child(self._context, request, code, self._slots[request.slot], status_write)
        os.close(status_write)
        os.set_blocking(status_read, False)
        child = _Child(request.run_id, pid, os.pidfd_open(pid), status_read, started)
        self._children[request.run_id] = child
        self._selector.register(status_read, selectors.EVENT_READ, lambda key: self._on_status(child))
        self._selector.register(child.pidfd, selectors.EVENT_READ, lambda key: self._on_exit(child))
        protocol.send(self._response_fd, Started(request.run_id, pid))

    def _on_status(self, child: _Child) -> None:
        # a handler earlier in the same select round may have reaped this child
        if child.status_fd >= 0 and not self._drain(child):
            self._selector.unregister(child.status_fd)
            os.close(child.status_fd)
            child.status_fd = -1

    def _drain(self, child: _Child) -> bool:
        """Read what the child wrote; False at end of file."""
        while True:
            try:
                data = os.read(child.status_fd, 1 << 16)
            except BlockingIOError:
                return True
            if not data:
                return False
            if len(child.report) < _MAX_REPORT_BYTES:
                child.report += data

    def _kill(self, child: _Child) -> None:
        child.killed = True
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _on_exit(self, child: _Child) -> None:
        if child.pidfd < 0:
            return
        seconds = time.monotonic() - child.started
        killed = child.killed
        self._kill(child)  # the whole group, while the zombie leader still pins the group id
        status, cpu_s = self._reap(child)
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        signal_number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        protocol.send(self._response_fd, Finished(child.run_id, parse_report(bytes(child.report)),
                                                  exit_code, signal_number, killed, cpu_s, seconds))

    def _reap(self, child: _Child) -> tuple[int, float]:
        _, status, usage = os.wait4(child.pid, 0)
        if child.status_fd >= 0:
            self._drain(child)
            self._selector.unregister(child.status_fd)
            os.close(child.status_fd)
            child.status_fd = -1
        self._selector.unregister(child.pidfd)
        os.close(child.pidfd)
        child.pidfd = -1
        del self._children[child.run_id]
        return status, usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> None:
    """Receive the config, get warm, say Ready, serve."""
    request_fd, response_fd = int(argv[1]), int(argv[2])
    config = protocol.recv(request_fd)
    if not isinstance(config, ServerConfig):
        raise SystemExit("sandbox server: expected a ServerConfig first")
    libc = ctypes.CDLL(None, use_errno=True)
    die_with_parent(config.parent_pid)
    try:
        context = _prepare(config, libc)
    except ImportError as exc:
        protocol.send(response_fd, Ready(os.getpid(), error=f"preloading failed: {exc}"))
        return
    slots = [Slot(fd, size) for fd, size in config.slots]
    gc.collect()
    gc.freeze()  # children's collections then skip (and do not copy-on-write) the server's objects
    protocol.send(response_fd, Ready(os.getpid()))
    Server(context, slots, request_fd, response_fd).serve()


if __name__ == "__main__":
    main(sys.argv)
