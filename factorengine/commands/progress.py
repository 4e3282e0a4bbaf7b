"""What a search shows while it runs: the live progress line of each island, and its supervisor's events."""
from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from typing import Callable

from factorengine.search.island import Standing, StepResult
from islands import IslandEvent

logger = logging.getLogger(__name__)


class Progress:
    """Prints one line per iteration to stderr (rewritten in place on a terminal unless `prefix` is set).

    The best programs start from those the island had stored (so a resumed run does not start over), and the
    time left is estimated from the iterations done since this process started.
    """

    def __init__(self, standing: Standing, prefix: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.standing, self.prefix, self.clock, self.start = standing, prefix, clock, clock()
        self.best_robust, self.best_valid = standing.best_robust, standing.best_valid
        self.evaluations, self.trials, self.failures, self.shown = 0, 0, Counter(), 0

    def show(self, result: StepResult) -> None:
        """Fold in one iteration and print the line."""
        now = self.clock()
        if not self.shown:  # the line may be made when its island's first iteration ends
            self.start = min(self.start, now - result.seconds)
        self.shown += 1
        if result.node_id is not None:
            self.evaluations += 1
        self.trials += result.trials
        if result.failure:
            self.failures[result.failure] += 1
        if result.robust_fs > self.best_robust[0]:  # NaN compares False: an unscored program never leads
            self.best_robust = (result.robust_fs, result.node_id)
        if result.valid_fs > self.best_valid[0]:
            self.best_valid = (result.valid_fs, result.node_id)
        elapsed = max(now - self.start, 1e-9)
        done, left = result.iteration + 1 - self.standing.first, self.standing.total - result.iteration - 1
        failed = ", ".join(f"{kind} {n}" for kind, n in sorted(self.failures.items())) or "none"
        line = (f"{self.prefix}iter {result.iteration + 1}/{self.standing.total}  {self._best()}  "
                f"{self.evaluations / elapsed * 60:.1f} programs/min  {self.trials / elapsed:.2f} trials/s  "
                f"failures: {failed}  {_duration(elapsed)} elapsed, ~{_duration(elapsed / max(done, 1) * left)} left")
        in_place = sys.stderr.isatty() and not self.prefix  # several islands share the terminal
        print(line.ljust(100), end="\r" if in_place else "\n", file=sys.stderr, flush=True)

    def _best(self) -> str:
        """The best train and valid FS, naming their nodes (one node when the same program holds both)."""
        (train, train_node), (valid, valid_node) = self.best_robust, self.best_valid
        if train_node is None and valid_node is None:
            return "best FS: none scored yet"
        if train_node == valid_node:
            return f"best robust train FS {train:.4f} valid FS {valid:.4f} (node {train_node})"
        return f"best robust train FS {train:.4f} (node {train_node}), best valid FS {valid:.4f} (node {valid_node})"


class ProgressLines:
    """Watches the islands of a search: one Progress per island and start (a restarted island starts anew)."""

    def __init__(self, several: bool) -> None:
        self.several = several
        self._lines: dict[int, tuple[Standing, Progress]] = {}

    def __call__(self, island: int, standing: Standing, result: StepResult) -> None:
        """Show one iteration of `island` (`standing`: where it stood when it started)."""
        if island not in self._lines or self._lines[island][0] != standing:
            self._lines[island] = standing, Progress(standing, prefix=f"island {island}: " if self.several else "")
        self._lines[island][1].show(result)


def _duration(seconds: float) -> str:
    """`seconds` as 42s, 12m05s or 3h07m."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def report_island_event(event: IslandEvent) -> None:
    """Print what a user must see (a restart, a failure, a stall); log the rest."""
    if event.kind in ("restarted", "failed", "stalled"):
        print(f"island {event.island} {event.kind}: {event.detail}", file=sys.stderr, flush=True)
    else:
        logger.info("island %d %s: %s", event.island, event.kind, event.detail)
