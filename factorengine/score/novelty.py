"""How new a program is: a fingerprint of its values, its exposure to price and volume levels, and the
structural similarity of its code to other programs.

The fingerprint is the program's daily ranks on fixed sample cells (days spread over train and valid, a
fixed sample of stocks): two programs whose fingerprints correlate at |r| >= 0.99 rank stocks alike and are
duplicates whatever their code. Level exposure is the mean daily rank correlation with log price, log
volume and log dollar volume: on back-adjusted data the levels encode later splits and dividends, so a
factor that mostly bets on them looks good in the past for the wrong reason. Structural similarity is the
size of the largest common subtree of the two normalized ASTs (variables renamed by first use, numbers
blanked) over the size of the first, as AlphaAgent measures originality against an alpha zoo.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from factorengine.config import NoveltyConfig
from factorengine.data import Dataset
from factorengine.ops import rank
from factorengine.score.fitness import MIN_STOCKS, daily_correlation

SAMPLE_DAYS = 32
SAMPLE_STOCKS = 256
LEVELS = ("price", "volume", "dollar_volume")


@dataclass(frozen=True, eq=False)
class Profile:
    """A program's fingerprint (float32 ranks centred on 0, 0 where missing) and level exposures."""

    fingerprint: np.ndarray
    exposures: Mapping[str, float]  # LEVELS -> mean daily rank correlation, NaN when it cannot be measured

    @property
    def level_exposure(self) -> tuple[str, float]:
        """The level the values follow most closely, and the absolute correlation (0.0 when unknown)."""
        name = max(LEVELS, key=lambda level: _magnitude(self.exposures[level]))
        return name, _magnitude(self.exposures[name])


class Profiler:
    """Profiles factor values [T, N] of one dataset on fixed sample cells (train and valid days only)."""

    def __init__(self, dataset: Dataset) -> None:
        panel, end = dataset.panel, dataset.splits.days("valid").stop
        self.days = np.unique(np.linspace(0, end - 1, SAMPLE_DAYS).round().astype(int))
        close, volume = panel.close[self.days], panel.volume[self.days]
        candidates = np.flatnonzero(np.mean(~np.isnan(close), axis=0) >= 0.5)
        chosen = np.random.default_rng(0).choice(candidates, min(SAMPLE_STOCKS, len(candidates)), replace=False)
        self.stocks = np.sort(chosen)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.levels = {"price": rank(np.log(close)), "volume": rank(np.log(volume)),
                           "dollar_volume": rank(np.log(close * volume))}

    @property
    def rows(self) -> int:
        """The leading days of factor values a profile reads."""
        return int(self.days[-1]) + 1

    def profile(self, values: np.ndarray) -> Profile:
        """The fingerprint and level exposures of `values`."""
        ranks = rank(np.where(np.isfinite(values[self.days]), values[self.days], np.nan))
        exposures = {}
        for name, level in self.levels.items():
            daily = daily_correlation(ranks, level, MIN_STOCKS)
            exposures[name] = float(np.nanmean(daily)) if np.any(~np.isnan(daily)) else math.nan
        sample = ranks[:, self.stocks]
        known = ~np.isnan(sample)
        mean = np.nansum(sample, axis=1, keepdims=True) / np.maximum(known.sum(axis=1, keepdims=True), 1)
        return Profile(np.where(known, sample - mean, 0.0).astype(np.float32).ravel(), exposures)


def value_correlation(a: Profile, b: Profile) -> float:
    """|correlation| of two fingerprints: 1.0 when the programs rank the sample cells alike (or exactly opposite)."""
    norm = float(np.linalg.norm(a.fingerprint) * np.linalg.norm(b.fingerprint))
    return abs(float(a.fingerprint @ b.fingerprint)) / norm if norm > 0 else 0.0


def most_correlated(profile: Profile, others: Mapping[int, Profile]) -> tuple[int | None, float]:
    """The node whose fingerprint correlates most with `profile`, and that |correlation| (None, 0.0 if none)."""
    best: tuple[int | None, float] = (None, 0.0)
    for node_id, other in others.items():
        corr = value_correlation(profile, other)
        if corr > best[1]:
            best = (node_id, corr)
    return best


@dataclass(frozen=True)
class Shape:
    """Every subtree of factor's normalized body (hash -> size) and the body's size."""

    subtrees: Mapping[int, int]
    size: int


def shape(source: str) -> Shape:
    """The normalized shape of a program's factor: its locals renamed by first use, numbers blanked."""
    tree = ast.parse(source)
    fn = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "factor"), None)
    if fn is None:
        return Shape({}, 0)
    local = {arg.arg for arg in fn.args.args + fn.args.kwonlyargs}
    local |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    renamed: dict[str, str] = {}
    found: dict[int, int] = {}
    statements = [_subtree(statement, local, renamed, found) for statement in fn.body]
    size = 1 + sum(s for _, s in statements)  # the body is the root: identical bodies share all of it
    found[hash(("body", tuple(h for h, _ in statements)))] = size
    return Shape(found, size)


def structural_similarity(new: Shape, other: Shape) -> float:
    """Size of the largest subtree the two programs share over the size of `new`."""
    largest = max((size for key, size in new.subtrees.items() if key in other.subtrees), default=0)
    return largest / new.size if new.size else 0.0


_OPERATORS = (ast.operator, ast.cmpop, ast.unaryop, ast.boolop, ast.expr_context)


def _subtree(node: ast.AST, local: set[str], renamed: dict[str, str], found: dict[int, int]) -> tuple[int, int]:
    """(hash, size) of a normalized subtree; every subtree's is recorded in `found`."""
    if isinstance(node, ast.Name):  # operators and modules keep their names, locals get v0, v1, ...
        label = renamed.setdefault(node.id, f"v{len(renamed)}") if node.id in local else node.id
    elif isinstance(node, ast.Constant):
        label = "number" if isinstance(node.value, (int, float)) else repr(node.value)
    elif isinstance(node, ast.Attribute):
        label = node.attr
    else:
        label = ""
    children = [_subtree(c, local, renamed, found) for c in ast.iter_child_nodes(node) if not isinstance(c, _OPERATORS)]
    operators = tuple(type(c).__name__ for c in ast.iter_child_nodes(node) if isinstance(c, _OPERATORS)
                      and not isinstance(c, ast.expr_context))
    key = hash((type(node).__name__, label, operators, tuple(h for h, _ in children)))
    size = 1 + sum(s for _, s in children)
    found[key] = size
    return key, size


def _magnitude(value: float) -> float:
    return 0.0 if math.isnan(value) else abs(value)


@dataclass(frozen=True)
class Assessment:
    """How a new program stands against the island's best: level exposure, similarity, and the reward factor."""

    level: str
    exposure: float
    level_bet: bool
    structural: float  # largest structural similarity to an elite (0 when there is none)
    correlation: float  # largest |value correlation| with an elite
    penalty: float  # the reward is multiplied by this
    parent: float = math.nan  # |value correlation| with the edited program
    best: float = math.nan  # |value correlation| with the island's best program

    def describe(self) -> str:
        """The assessment in words, for the experience record the proposers read."""
        notes = []
        kin = [f"{value:.2f} with {whose}" for value, whose in ((self.parent, "parent"), (self.best, "best"))
               if not math.isnan(value)]
        if kin:
            notes.append(f"corr {', '.join(kin)}")
        if self.level_bet:
            notes.append(f"a level bet: its ranks follow log {self.level.replace('_', ' ')} "
                         f"(|rank correlation| {self.exposure:.2f}), which back-adjusted data make look good")
        if self.penalty < 1:
            notes.append(f"crowding -{1 - self.penalty:.0%}")
        return "; ".join(notes)


class Crowd:
    """The programs of an island a new one is compared with: value fingerprints and code shapes by node."""

    def __init__(self, settings: NoveltyConfig) -> None:
        self.settings = settings
        self.profiles: dict[int, Profile] = {}
        self._shapes: dict[int, Shape] = {}

    def add(self, node_id: int, profile: Profile, code: str) -> None:
        """Remember a node's profile and shape."""
        self.profiles[node_id] = profile
        self._shapes[node_id] = shape(code)

    def duplicate(self, profile: Profile) -> tuple[int, float] | None:
        """(node, |correlation|) of a program this one duplicates by its values, or None."""
        node, corr = most_correlated(profile, self.profiles)
        return (node, corr) if node is not None and corr >= self.settings.duplicate_correlation else None

    def assess(self, code: str, profile: Profile, elites: Sequence[int], parent: int | None = None) -> Assessment:
        """Compare a new program with `elites` (node ids, best first) and its `parent`, and flag it when it bets on
        a level."""
        s = self.settings
        new = shape(code)
        known = [n for n in elites if n in self.profiles]
        structural = max((structural_similarity(new, self._shapes[n]) for n in known), default=0.0)
        correlation = max((value_correlation(profile, self.profiles[n]) for n in known), default=0.0)
        level, exposure = profile.level_exposure
        level_bet = exposure >= s.level_threshold
        penalty = max(0.0, 1 - s.structural_penalty * structural - s.correlation_penalty * correlation)
        penalty *= (1 - s.level_penalty) if level_bet else 1.0
        kin = [value_correlation(profile, self.profiles[n]) if n in self.profiles else math.nan
               for n in (parent, elites[0] if elites else None)]
        return Assessment(level, exposure, level_bet, structural, correlation, penalty, *kin)
