"""Scoring factor values in processes of their own, forked from the evaluator's so they share its dataset.

Scoring holds the GIL for long stretches (bottleneck's rankdata), so scoring threads would keep the search
process from dispatching the next sandbox runs; processes score beside it instead, and beside each other.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Sequence

import numpy as np

from factorengine.data.dataset import Dataset
from factorengine.data.label import Label, make_label
from factorengine.score.fitness import Fitness, score
from factorengine.score.novelty import Profile, Profiler
from sandbox.lifetime import die_with_parent

Scored = tuple[Fitness, Profile | None, float]  # the fitness, the profile of a full run, seconds spent scoring


class Scorer:
    """Fitness of factor values on one dataset, on every stock or on every k-th, and the profile of full runs."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.profiler = Profiler(dataset)
        self._labels: dict[int, Label] = {1: dataset.label}

    def score(self, values: np.ndarray, segments: Sequence[str], every: int) -> Scored:
        """Score `values` (of every stock, or already of every `every`-th) on `segments` on every `every`-th
        stock; values of every stock over the sample days also get their profile."""
        start = time.perf_counter()
        every_stock = values.shape[1] == self.dataset.panel.shape[1]
        profile = self.profiler.profile(values) if every_stock and len(values) >= self.profiler.rows else None
        if every_stock and every > 1:
            values = values[:, ::every]
        fitness = score(values, self._label(every), self.dataset.splits, segments=segments)
        return fitness, profile, time.perf_counter() - start

    def _label(self, every: int) -> Label:
        """The label of every `every`-th stock, ranked among those stocks."""
        if every not in self._labels:
            self._labels[every] = make_label(self.dataset.label.values[:, ::every])
        return self._labels[every]


_scorer: Scorer | None = None  # in a scoring process: the scorer it was forked with


def _adopt(scorer: Scorer, parent_pid: int) -> None:
    global _scorer
    die_with_parent(parent_pid)  # else a killed island's scorers would live on, holding its pipes open
    _scorer = scorer


def _score(values: np.ndarray, segments: Sequence[str], every: int) -> Scored:
    assert _scorer is not None
    return _scorer.score(values, segments, every)


class ScoringPool:
    """`n` processes that score values on `dataset`, forked from this one when the first values arrive."""

    def __init__(self, dataset: Dataset, n: int) -> None:
        self._pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"), initializer=_adopt,
                                         initargs=(Scorer(dataset), os.getpid()))

    def submit(self, values: np.ndarray, segments: Sequence[str], every: int = 1) -> Future[Scored]:
        """Score `values` in a scoring process (see `Scorer.score`)."""
        return self._pool.submit(_score, values, tuple(segments), every)

    def close(self) -> None:
        """Stop the scoring processes."""
        self._pool.shutdown(cancel_futures=True)
