"""Turn research text into seed programs: the LLM extracts factor ideas, writes each as a program, and fixes it
from the policy's, the sandbox's and the probe's own words until it runs (at most `rounds` answers per idea).
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from factorengine.llm.answer import AnswerError, parse_answer, parse_object
from factorengine.llm.client import BudgetExhausted, LLMClient, LLMUnavailable
from factorengine.program import ProgramError, check_policy, parse_program, set_docstring
from factorengine.proposers import prompt
from factorengine.score.evaluate import Evaluator

Messages = list[dict[str, str]]
DOCSTRING_WIDTH = 100


@dataclass(frozen=True)
class Idea:
    """One factor idea as extracted from a document."""

    name: str
    hypothesis: str
    pseudo_code: str
    source: str


@dataclass(frozen=True)
class Bootstrapped:
    """What became of one idea: the seed file written (None if none), the answers it took, and the last error."""

    idea: Idea
    path: Path | None
    rounds: int
    train_fs: float | None = None
    valid_fs: float | None = None
    error: str | None = None


class Bootstrapper:
    """Seeds from documents through `client`; programs are checked and scored by `evaluator` (train, valid)."""

    def __init__(self, client: LLMClient, evaluator: Evaluator, fields: Sequence[str], horizon: int,
                 rounds: int = 3) -> None:
        self.client, self.evaluator, self.rounds = client, evaluator, rounds
        self.contract = prompt.contract(fields, horizon)

    def extract(self, source: str, text: str) -> list[Idea]:
        """The factor ideas in one document (one repair round for an unreadable answer); [] when there are none."""
        messages = self._messages(prompt.render("extract", source=source, text=text))
        answer = self.client.complete(messages, purpose="extract", seed=0)
        try:
            return _ideas(answer, source)
        except AnswerError as exc:
            repair = prompt.repair_messages(messages, answer, str(exc))
            try:
                return _ideas(self.client.complete(repair, purpose="repair", seed=0), source)
            except AnswerError:
                return []

    def implement(self, idea: Idea, out: Path) -> Bootstrapped:
        """Write `idea` as a program that passes the policy, the probe and an evaluation, into `out`."""
        messages = self._messages(prompt.render("implement", contract=self.contract, name=idea.name,
                                                hypothesis=idea.hypothesis, pseudo_code=idea.pseudo_code,
                                                answer=prompt.answer_format(False)))
        error = None
        for round in range(1, self.rounds + 1):
            purpose = "implement" if round == 1 else "repair"
            try:
                answer = self.client.complete(messages, purpose=purpose, seed=round)
            except (LLMUnavailable, BudgetExhausted) as exc:
                return Bootstrapped(idea, None, round - 1, error=f"no answer: {exc}")
            result = self._try(idea, answer, out, round)
            if result.path is not None:
                return result
            error = result.error
            messages = prompt.repair_messages(messages, answer, error)
        return Bootstrapped(idea, None, self.rounds, error=error)

    def _try(self, idea: Idea, answer: str, out: Path, round: int) -> Bootstrapped:
        try:
            code = parse_answer(answer).code
            violations = check_policy(code)
            if violations:
                raise ProgramError(f"policy: {violations[0]}")
            program = parse_program(code)
        except (AnswerError, ProgramError) as exc:
            return Bootstrapped(idea, None, round, error=str(exc))
        [evaluation] = self.evaluator.evaluate(program, [program.defaults], name=idea.name)
        if evaluation.fitness is None:
            return Bootstrapped(idea, None, round, error=f"{evaluation.failure}: {evaluation.error}")
        train, valid = evaluation.fitness.train.fs, evaluation.fitness.valid.fs
        path = out / f"{idea.name}.py"
        provenance = [idea.hypothesis, f"Bootstrapped from {idea.source}, idea {idea.name!r}: {idea.pseudo_code}",
                      f"Written by {self.client.models[0]} in {round} answer(s); train FS {train:.4f}, "
                      f"valid FS {valid:.4f} when written."]
        path.write_text(set_docstring(code, "\n\n".join(textwrap.fill(p, DOCSTRING_WIDTH) for p in provenance)))
        return Bootstrapped(idea, path, round, train, valid)

    def _messages(self, user: str) -> Messages:
        return [{"role": "system", "content": prompt.render("system")}, {"role": "user", "content": user}]


def _ideas(answer: str, source: str) -> list[Idea]:
    items: Any = parse_object(answer).get("ideas")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise AnswerError('the answer needs an "ideas" list of objects with name, hypothesis and pseudo_code')
    ideas = [Idea(_name(item.get("name")), str(item.get("hypothesis") or "").strip(),
                  str(item.get("pseudo_code") or "").strip(), source) for item in items]
    return [idea for idea in ideas if idea.name and idea.pseudo_code]


def _name(value: Any) -> str:
    """A file stem from an idea's name: lower-case words joined by underscores."""
    return "_".join(re.findall(r"[a-z0-9]+", str(value or "").lower()))[:60]


def unique_names(ideas: Sequence[Idea]) -> list[Idea]:
    """The ideas with names made unique (a second `momentum` becomes `momentum_2`), so no file overwrites another."""
    seen: dict[str, int] = {}
    named = []
    for idea in ideas:
        seen[idea.name] = seen.get(idea.name, 0) + 1
        named.append(idea if seen[idea.name] == 1 else replace(idea, name=f"{idea.name}_{seen[idea.name]}"))
    return named
