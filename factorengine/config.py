"""The run configuration: one frozen dataclass per concern, loaded from TOML; unknown keys are errors."""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Mapping

import tomllib

from factorengine.errors import FactorEngineError

PROPOSERS = ("mutate", "llm")
SELECTIONS = ("uct", "random")
REFLECTIONS = ("inline", "call")
ON_EXHAUSTED = ("mutate", "stop")
# USD per million prompt and completion tokens; list prices when written, check yours.
PRICES = {"gpt-4o-mini": [0.15, 0.6], "gpt-4o": [2.5, 10.0], "gpt-4.1-mini": [0.4, 1.6], "gpt-4.1": [2.0, 8.0],
          "deepseek-chat": [0.27, 1.1], "deepseek-reasoner": [0.55, 2.19]}
TOPOLOGIES = ("ring", "all")
BACKENDS = ("multiprocess", "ray")


def _field(default: Any, doc: str) -> Any:
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


class ConfigError(FactorEngineError, ValueError):
    """A configuration that cannot be used; the message names the file, the key and the fix."""


def _check_choice(section: str, key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"[{section}] {key} = {value!r}: choose one of {', '.join(choices)}")


def _check_date(section: str, key: str, value: str) -> None:
    if value:
        try:
            valid = date.fromisoformat(value).isoformat() == value
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(f"[{section}] {key} = {value!r}: not a date; write it as YYYY-MM-DD, or leave it "
                              "empty")


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Where the panel comes from, what the label is, and how its days are cut into train, valid and test."""

    path: str = _field("", "panel file or directory; empty: $FACTORENGINE_DATA, else the synthetic market")
    horizon: int = _field(1, "label: close[t+1+horizon] / close[t+1] - 1")
    synthetic_seed: int = _field(0, "seed of the built-in synthetic market")
    valid_start: str = _field("", "YYYY-MM-DD: train ends before it, valid begins after the horizon gap (empty: "
                                  "by train_fraction)")
    test_start: str = _field("", "YYYY-MM-DD: valid ends before it, test begins after the horizon gap (empty: by "
                                 "train_fraction + valid_fraction)")
    train_fraction: float = _field(0.6, "without valid_start, valid begins after this share of the days")
    valid_fraction: float = _field(0.2, "without test_start, test begins after train_fraction + this share of the "
                                        "days")
    folds: int = _field(5, "walk-forward folds train is cut into; the search ranks programs by their fold FS mean "
                           "less its standard error")
    min_coverage: float = _field(0.5, "a program scored on fewer than this share of a segment's days has no FS "
                                      "there")

    def __post_init__(self) -> None:
        for name in ("valid_start", "test_start"):
            _check_date("data", name, getattr(self, name))
        for name in ("train_fraction", "valid_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"[data] {name} = {getattr(self, name)}: must be between 0 and 1 (exclusive)")
        if self.train_fraction + self.valid_fraction >= 1:
            raise ConfigError(f"[data] train_fraction = {self.train_fraction}, valid_fraction = "
                              f"{self.valid_fraction}: their sum must be under 1 to leave days for test")
        if self.folds < 1:
            raise ConfigError(f"[data] folds = {self.folds}: must be 1 or more")
        if not 0 <= self.min_coverage <= 1:
            raise ConfigError(f"[data] min_coverage = {self.min_coverage}: must be between 0 and 1")


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """The tree search of one island."""

    iterations: int = _field(100, "search iterations after the seeds")
    seed: int = _field(0, "every random stream derives from (seed, island, iteration)")
    seeds_dir: str = _field("seeds", "seed factor programs, one per *.py file")
    proposer: str = _field("mutate", "how new programs are proposed: mutate (offline CST edits) or llm ([llm])")
    selection: str = _field("uct", "which program is edited next: uct (the tree) or random (a random seed: the "
                                   "random-search baseline)")
    exploration: float = _field(math.sqrt(2), "UCT constant c")
    widening_k: float = _field(1.0, "a node with N visits may have floor(k * N ** alpha) children")
    widening_alpha: float = _field(0.5, "progressive widening exponent alpha")
    reward_scale: float = _field(0.1, "reward = 1 - exp(-max(train FS, 0) / reward_scale)")
    context_paths: int = _field(3, "chain-of-experience paths handed to the proposer")
    patience: int = _field(0, "stop after this many iterations without a better best valid FS (0 = never)")
    max_minutes: float = _field(0.0, "wall-clock budget of one evolve/resume call (0 = none)")
    max_evaluations: int = _field(0, "stop an island after this many sandbox evaluations (tuning trials; 0 = none)")

    def __post_init__(self) -> None:
        _check_choice("search", "proposer", self.proposer, PROPOSERS)
        _check_choice("search", "selection", self.selection, SELECTIONS)


@dataclass(frozen=True, kw_only=True)
class EvaluationConfig:
    """How each program runs in the sandbox."""

    timeout_s: float = _field(120.0, "wall-clock limit of one run")
    memory_mb: int = _field(4096, "address space a run may add")
    n_workers: int = _field(0, "sandbox children at once per island (0 = the machine's cores shared by the islands)")
    probe: bool = _field(True, "run the lookahead probe on every new program")


@dataclass(frozen=True, kw_only=True)
class TuningConfig:
    """Optuna TPE over each new program's numeric parameters (the micro half of the search)."""

    n_trials: int = _field(32, "trials per new program, its current defaults first (0 = no tuning)")
    n_parallel: int = _field(2, "trials asked and run at once (constant liar)")
    patience: int = _field(12, "stop a study after this many trials without a better train FS (0 = never)")
    lift_knobs: bool = _field(True, "turn hidden numeric literals (windows, thresholds) into parameters first")
    trial_stocks: int = _field(250, "trials compute and score every k-th stock, k the largest that keeps this many "
                                    "(a cheaper, noisier estimate; 0: every stock); the tuned program's score reads "
                                    "every stock")

    def __post_init__(self) -> None:
        for name in ("n_trials", "patience", "trial_stocks"):
            if getattr(self, name) < 0:
                raise ConfigError(f"[tuning] {name} = {getattr(self, name)}: must be 0 or more")
        if self.n_parallel < 1:
            raise ConfigError(f"[tuning] n_parallel = {self.n_parallel}: must be 1 or more")


@dataclass(frozen=True, kw_only=True)
class NoveltyConfig:
    """Steering the search away from duplicates, crowding and bets on price or volume levels."""

    duplicate_correlation: float = _field(0.99, "a program ranking stocks like an existing one at |r| >= this is a "
                                                "duplicate and is not tuned")
    elites: int = _field(10, "a new program is compared with the island's this many best by train FS")
    structural_penalty: float = _field(0.1, "reward x (1 - this x largest common subtree share with an elite)")
    correlation_penalty: float = _field(0.1, "reward x (1 - this x largest |value correlation| with an elite)")
    level_threshold: float = _field(0.5, "|mean daily rank correlation| with log price, volume or dollar volume "
                                         "that makes a program a level bet")
    level_penalty: float = _field(0.5, "a level bet's reward x (1 - this)")

    def __post_init__(self) -> None:
        for name in ("duplicate_correlation", "structural_penalty", "correlation_penalty", "level_threshold",
                     "level_penalty"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"[novelty] {name} = {getattr(self, name)}: must be between 0 and 1")
        if self.elites < 0:
            raise ConfigError(f"[novelty] elites = {self.elites}: must be 0 or more")


@dataclass(frozen=True, kw_only=True)
class IslandsConfig:
    """Islands searching in parallel processes and exchanging their best programs."""

    n_islands: int = _field(1, "island processes; each runs its own tree")
    migration_interval: int = _field(7, "search iterations between migrations")
    migrants: int = _field(3, "programs each island sends its neighbours per migration (its top by train FS)")
    topology: str = _field("ring", "who receives whom: ring (from the previous island) or all")
    split_seeds: bool = _field(True, "deal the seeds out among the islands instead of giving each all of them")
    backend: str = _field("multiprocess", "what runs the islands: multiprocess (this machine) or ray (Ray actors)")
    address: str = _field("", "with backend = ray: the Ray cluster to join (empty: start a local Ray instance)")

    def __post_init__(self) -> None:
        if self.n_islands < 1 or self.migration_interval < 1 or self.migrants < 0:
            raise ConfigError(f"[islands] n_islands = {self.n_islands}, migration_interval = "
                              f"{self.migration_interval}, migrants = {self.migrants}: the first two must be 1 or "
                              "more, migrants 0 or more")
        _check_choice("islands", "topology", self.topology, TOPOLOGIES)
        _check_choice("islands", "backend", self.backend, BACKENDS)


@dataclass(frozen=True, kw_only=True)
class LLMConfig:
    """The OpenAI-compatible endpoint the llm proposer asks; the key is read from the environment only."""

    base_url: str = _field("", "endpoint, e.g. http://127.0.0.1:11434/v1 (empty: OpenAI's)")
    model: str = _field("gpt-4o-mini", "model name sent with every request")
    api_key_env: str = _field("OPENAI_API_KEY", "name of the environment variable holding the key")
    temperature: float = _field(0.8, "sampling temperature")
    max_tokens: int = _field(4096, "longest answer per request, in tokens")
    timeout_s: float = _field(120.0, "wait for one answer at most this long")
    max_retries: int = _field(3, "retries of a failed request (timeouts, 429, 5xx, empty or cut answers)")
    backoff_s: float = _field(2.0, "wait before the first retry; doubles each time (a 429's Retry-After wins)")
    cooldown_s: float = _field(300.0, "after a request failed every retry, propose with mutate this long")
    reflect: str = _field("inline", "lessons: inline (asked for in the next answer) or call (one more request)")
    extra_body: dict = _field({}, "extra request fields passed through, e.g. {reasoning_effort = \"low\"}")
    replay: str = _field("", "a run database whose recorded answers are replayed; no request is sent")
    prices: dict = _field(PRICES, "USD per million [prompt, completion] tokens, per model")
    models: list = _field([], "several models, one chosen per proposal by a bandit over FS gain per dollar: "
                              "[{name = \"a\", base_url = \"...\", api_key_env = \"...\", price = [0.4, 1.6]}, ...] "
                              "(only name is required; empty: model alone)")

    @property
    def routes(self) -> tuple[ModelRoute, ...]:
        """The models the llm proposer may ask, in the configured order (`model` alone when `models` is empty)."""
        entries = self.models or [{"name": self.model}]
        return tuple(ModelRoute(e["name"], e.get("base_url", self.base_url), e.get("api_key_env", self.api_key_env),
                                tuple(e.get("price", self.prices.get(e["name"], (0.0, 0.0)))))
                     for e in entries)

    def __post_init__(self) -> None:
        _check_choice("llm", "reflect", self.reflect, REFLECTIONS)
        for entry in self.models:
            _check_model(entry)
        names = [entry["name"] for entry in self.models]
        if len(set(names)) < len(names):
            raise ConfigError(f"[llm] models names {', '.join(names)}: each model may appear once")
        if self.max_retries < 0 or self.max_tokens < 1 or self.timeout_s <= 0:
            raise ConfigError(f"[llm] max_retries = {self.max_retries}, max_tokens = {self.max_tokens}, timeout_s = "
                              f"{self.timeout_s}: retries must be 0 or more, the others more than 0")
        for model, price in self.prices.items():
            if not _is_price(price):
                raise ConfigError(f"[llm] prices: {model} = {price!r} should be [prompt, completion] USD per "
                                  "million tokens, like [0.15, 0.6]")


@dataclass(frozen=True)
class ModelRoute:
    """One model the llm proposer may ask: its name, endpoint, key variable and [prompt, completion] USD per
    million tokens."""

    name: str
    base_url: str
    api_key_env: str
    price: tuple[float, float]


_MODEL_KEYS = ("name", "base_url", "api_key_env", "price")


def _is_price(price: Any) -> bool:
    return (isinstance(price, (list, tuple)) and len(price) == 2
            and all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0 for p in price))


def _check_model(entry: Any) -> None:
    """Refuse an [llm] models entry that is not a table with a name and known, well-typed keys."""
    example = '{name = "gpt-4.1-mini", price = [0.4, 1.6]}'
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ConfigError(f"[llm] models: {entry!r} should be a table with a name, like {example}")
    unknown = sorted(set(entry) - set(_MODEL_KEYS))
    if unknown:
        raise ConfigError(f"[llm] models: {entry['name']} has unknown key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(_MODEL_KEYS)}")
    if not all(isinstance(entry.get(key, ""), str) for key in ("base_url", "api_key_env")) \
            or not _is_price(entry.get("price", [0, 0])):
        raise ConfigError(f"[llm] models: {entry['name']} = {entry!r}: base_url and api_key_env are strings and "
                          f"price is [prompt, completion] USD per million tokens, like {example}")


@dataclass(frozen=True, kw_only=True)
class BudgetConfig:
    """Limits on what the LLM may cost a run (replayed calls count too; 0 = no limit)."""

    max_calls: int = _field(0, "requests to the LLM, repairs and reflections included")
    max_tokens: int = _field(0, "prompt plus completion tokens")
    max_cost_usd: float = _field(0.0, "cost by the [llm] price table")
    on_exhausted: str = _field("mutate", "when a limit is reached: mutate (go on offline) or stop the run")

    def __post_init__(self) -> None:
        _check_choice("budget", "on_exhausted", self.on_exhausted, ON_EXHAUSTED)
        if min(self.max_calls, self.max_tokens, self.max_cost_usd) < 0:
            raise ConfigError("[budget] limits must be 0 (none) or more")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a run needs; every field has a default."""

    data: DataConfig = field(default_factory=DataConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    novelty: NoveltyConfig = field(default_factory=NoveltyConfig)
    islands: IslandsConfig = field(default_factory=IslandsConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)


DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")


def load_config(path: Path | None) -> RunConfig:
    """Read a TOML run config (None: all defaults)."""
    if path is None:
        return RunConfig()
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from None
    return config_from_dict(document, str(path))


def config_from_dict(document: Mapping[str, Any], source: str = "<config>") -> RunConfig:
    """Build a RunConfig from nested tables, refusing unknown sections and keys (all in one error) and wrong types."""
    sections = {f.name: f.default_factory for f in fields(RunConfig)}
    unknown = sorted(set(document) - set(sections))
    problems = [f"{source}: unknown section{'s' if len(unknown) > 1 else ''} {', '.join(f'[{u}]' for u in unknown)}; "
                f"sections are {', '.join(sections)}"] if unknown else []
    problems += [problem for name, cls in sections.items()
                 if (problem := _unknown_keys(cls, document.get(name, {}), f"{source} [{name}]"))]
    if problems:
        raise ConfigError(". ".join(problems))
    return RunConfig(**{name: _section(cls, document.get(name, {}), f"{source} [{name}]")
                        for name, cls in sections.items()})


def _unknown_keys(cls: type, table: Mapping[str, Any], where: str) -> str | None:
    """The sentence naming every key of `table` that `cls` does not have; None when all are known."""
    known = [f.name for f in fields(cls)]
    unknown = [key for key in table if key not in known]
    if not unknown:
        return None
    return (f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"keys are {', '.join(known)}")


def _section(cls: type, table: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key, value in table.items():
        default = _default(known[key])
        if not _same_kind(value, default):
            kind = type(default).__name__
            raise ConfigError(f"{where}: {key} = {value!r} should be {'an' if kind[0] in 'aeiou' else 'a'} {kind} "
                              f"like {default!r}")
    return cls(**{k: (float(v) if isinstance(known[k].default, float) else v) for k, v in table.items()})


def _default(item: dataclasses.Field) -> Any:
    return item.default_factory() if item.default is dataclasses.MISSING else item.default


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def override(config: RunConfig, section: str, **values: Any) -> RunConfig:
    """Return `config` with the given fields of one section replaced (None values are ignored)."""
    changes = {k: v for k, v in values.items() if v is not None}
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})


def dump_config(config: RunConfig) -> str:
    """Write `config` as TOML, one commented key per line (the comments are the field docs)."""
    lines = ["# FactorEngine run configuration: every key is optional; these are the defaults.", ""]
    for section in fields(RunConfig):
        lines.append(f"[{section.name}]")
        for item in fields(section.default_factory):
            value = _toml(getattr(getattr(config, section.name), item.name))
            lines.append(f"{item.name} = {value}  # {item.metadata['doc']}")
        lines.append("")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return repr(value)


def as_dict(config: RunConfig) -> dict[str, dict[str, Any]]:
    """The config as nested plain dicts (for the run store)."""
    return dataclasses.asdict(config)
