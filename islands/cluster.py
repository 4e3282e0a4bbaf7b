"""Whether a Ray cluster answers at an address, found out in seconds (`ray.init` retries one for minutes)."""
from __future__ import annotations

import socket
import subprocess
import sys

CONNECT_TIMEOUT_S = 10.0
_FIX = "start one with `ray start --head` (its last lines give the address) or give a cluster's HOST:PORT"


class ClusterUnreachable(Exception):
    """No Ray cluster answers at the address given; the message names it and says what to do."""


def check_address(address: str | None, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ClusterUnreachable unless a Ray cluster at `address` ("auto" or "HOST:PORT"; None: a local instance
    started later, nothing to check) answers within about twice `timeout_s`."""
    if address is None:
        return
    try:
        from ray._private import services  # ray.init's own reading of "auto" and of RAY_ADDRESS
    except ImportError as error:
        raise ClusterUnreachable('joining a Ray cluster needs Ray: pip install "factorengine[ray]"') from error

    try:
        resolved = services.canonicalize_bootstrap_address_or_die(address)
    except (ConnectionError, ValueError) as error:
        raise ClusterUnreachable(f"no Ray cluster at {address!r}: {str(error).rstrip('.')}; {_FIX}") from error
    host, _, port = resolved.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise ClusterUnreachable(f"nothing answers at {address} ({resolved}): {error}; {_FIX}") from error
    if not _answers_as_ray(resolved, timeout_s):
        raise ClusterUnreachable(f"{address} ({resolved}) accepts connections but is no Ray cluster (or one "
                                 f"that does not answer within {timeout_s:g} s); {_FIX}")


def _answers_as_ray(address: str, timeout_s: float) -> bool:
    """Whether Ray's control store (GCS) at `address` answers within `timeout_s`."""
    # In a child process: Ray's C++ client cannot be interrupted, and it logs each retry to stderr.
    ask = f"import ray._raylet; ray._raylet.GcsClient(address={address!r})"
    try:
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        return subprocess.run([sys.executable, "-c", ask], check=False, timeout=timeout_s, **quiet).returncode == 0
    except subprocess.TimeoutExpired:
        return False
