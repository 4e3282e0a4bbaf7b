"""The parent's end of a fork server: start it in a fresh interpreter, exchange messages, stop it."""
from __future__ import annotations

import os
import select
import sys
import time
from typing import TYPE_CHECKING

from sandbox import protocol
from sandbox.protocol import Ready, ServerConfig

if TYPE_CHECKING:
    import subprocess

__all__ = ["SandboxError", "ServerConnection"]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class SandboxError(RuntimeError):
    """The sandbox machinery itself failed (server died, misbehaved or could not start)."""


def _server_environment() -> dict[str, str]:
    """A minimal environment: the import path and one BLAS thread per run; no parent secrets."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = dict.fromkeys(os.path.abspath(p) for p in [package_root, *sys.path] if os.path.exists(p))
    environment = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                   "PYTHONPATH": os.pathsep.join(paths)}
    # runs are the unit of parallelism (n_workers); BLAS threads would also trip RLIMIT_NPROC
    environment.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
    return environment


class ServerConnection:
    """One running server process and the two pipes to it."""

    def __init__(self, process: subprocess.Popen[bytes], request_fd: int, response_fd: int,
                 pid: int) -> None:
        self._process = process
        self._request_fd = request_fd
        self._response_fd = response_fd
        self.pid = pid

    @classmethod
    def start(cls, config: ServerConfig, pass_fds: tuple[int, ...], timeout_s: float) -> ServerConnection:
        """Spawn `python -m sandbox._server`, send `config`, wait until it is Ready."""
        # imported in the functions, not at the top: the server imports this package, and a
        # loaded subprocess module hands run children _posixsubprocess.fork_exec, which no
        # audit event covers
        import subprocess

        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "sandbox._server", str(request_read), str(response_write)],
                pass_fds=(request_read, response_write, *pass_fds), env=_server_environment(),
                cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(request_read)
            os.close(response_write)
        connection = cls(process, request_write, response_read, process.pid)
        connection.send(config)
        ready = connection.receive(timeout_s)
        if not isinstance(ready, Ready) or ready.error:
            connection.stop()
            detail = ready.error if isinstance(ready, Ready) else f"no answer in {timeout_s:g} s"
            raise SandboxError(f"the sandbox server did not start: {detail}")
        return connection

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self._process.poll() is None

    def send(self, message: object) -> None:
        """Send one message; SandboxError if the server is gone."""
        try:
            protocol.send(self._request_fd, message)
        except BrokenPipeError:
            raise SandboxError("the sandbox server died (its request pipe is closed)") from None

    def receive(self, timeout_s: float | None) -> object | None:
        """The next message, or None if none arrives within `timeout_s`; SandboxError at EOF."""
        readable, _, _ = select.select([self._response_fd], [], [], timeout_s)
        if not readable:
            return None
        message = protocol.recv(self._response_fd)
        if message is None:
            raise SandboxError(f"the sandbox server (pid {self.pid}) died; exit status "
                               f"{self._process.poll()}")
        return message

    def stop(self, grace_s: float = 5.0) -> None:
        """Close the request pipe (the server kills its children and exits), reap it, close fds."""
        if self._request_fd >= 0:
            os.close(self._request_fd)
            self._request_fd = -1
        deadline = time.monotonic() + grace_s
        while self._process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if self._process.poll() is None:
            self._process.kill()  # its children follow through PR_SET_PDEATHSIG
            self._process.wait()
        if self._response_fd >= 0:
            os.close(self._response_fd)
            self._response_fd = -1
