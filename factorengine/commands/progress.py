"""What a search shows while it runs: the live progress line of each island, and its supervisor's events."""
from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter

from factorengine.search.island import StepResult
from islands import IslandEvent

logger = logging.getLogger(__name__)


class Progress:
    """Prints one line per iteration to stderr (rewritten in place on a terminal unless `prefix` is set)."""

    def __init__(self, total: int, prefix: str = "") -> None:
        self.total, self.prefix, self.start = total, prefix, time.monotonic()
        self.best_train = self.best_valid = -math.inf
        self.evaluations, self.trials, self.failures = 0, 0, Counter()

    def show(self, result: StepResult) -> None:
        """Fold in one iteration and print the line."""
        if result.node_id is not None:
            self.evaluations += 1
        self.trials += result.trials
        if result.failure:
            self.failures[result.failure] += 1
        if not math.isnan(result.train_fs):
            self.best_train = max(self.best_train, result.train_fs)
            self.best_valid = max(self.best_valid, result.valid_fs)
        elapsed = max(time.monotonic() - self.start, 1e-9)
        failed = ", ".join(f"{kind} {n}" for kind, n in sorted(self.failures.items())) or "none"
        line = (f"{self.prefix}iter {result.iteration + 1}/{self.total}  best train FS {self.best_train:.4f}  "
                f"valid FS {self.best_valid:.4f}  {self.evaluations / elapsed * 60:.1f} programs/min  "
                f"{self.trials / elapsed:.2f} trials/s  failures: {failed}")
        in_place = sys.stderr.isatty() and not self.prefix  # several islands share the terminal
        print(line.ljust(100), end="\r" if in_place else "\n", file=sys.stderr, flush=True)


class ProgressLines:
    """Watches the islands of a search: one Progress per island, made in the island's own process."""

    def __init__(self, several: bool) -> None:
        self.several = several
        self._lines: dict[int, Progress] = {}

    def __call__(self, island: int, total: int, result: StepResult) -> None:
        """Show one iteration of `island` (of `total` iterations)."""
        if island not in self._lines:
            self._lines[island] = Progress(total, prefix=f"island {island}: " if self.several else "")
        self._lines[island].show(result)


def report_island_event(event: IslandEvent) -> None:
    """Print what a user must see (a restart, a failure, a stall); log the rest."""
    if event.kind in ("restarted", "failed", "stalled"):
        print(f"island {event.island} {event.kind}: {event.detail}", file=sys.stderr, flush=True)
    else:
        logger.info("island %d %s: %s", event.island, event.kind, event.detail)
