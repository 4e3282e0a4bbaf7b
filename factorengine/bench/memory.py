"""Peak memory of a process tree, counting pages shared between processes once."""
from __future__ import annotations

import os
import threading
from pathlib import Path


class PeakMemory:
    """Samples the summed PSS of a process (default: this one) and its descendants in a thread; `peak_mib` is the
    maximum."""

    def __init__(self, interval_s: float = 0.2, root: int | None = None) -> None:
        self.interval_s, self.peak_mib, self.root = interval_s, 0.0, root or os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mib = max(self.peak_mib, sum(map(_pss_kib, _process_tree(self.root))) / 1024)


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _pss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)
