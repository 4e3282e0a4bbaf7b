"""The llm proposer: an LLM rewrites the selected program's logic, seeing the chain of experience.

An answer that does not hold a valid program gets one repair request with the exact error ("repair" calls
are counted apart). With several `[llm] models`, a bandit over FS gain per dollar chooses who answers
(`llm/routing.py`). When the LLM is unavailable (faults past every retry, the breaker open) the offline
`mutate` proposer stands in; when the budget is spent it stands in too, or the run stops.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

import numpy as np

from factorengine.config import RunConfig
from factorengine.llm.answer import AnswerError, parse_answer
from factorengine.llm.client import BudgetExhausted, LLMClient, LLMUnavailable
from factorengine.llm.routing import choose_model
from factorengine.program import ProgramError, parse_program
from factorengine.proposers import prompt
from factorengine.proposers.base import Context, Proposal, ProposalFailure, Proposer, Step
from factorengine.proposers.mutate import MutationProposer, check_edit
from factorengine.store import LLMFallback

logger = logging.getLogger(__name__)

KIND = "llm"
REJECTED = "the LLM's answer was rejected after one repair round"
MAX_LESSON = 800  # characters of a reflection kept for later prompts


class LLMProposer:
    """Proposals from an LLM through `client`, for programs over `fields` predicting `horizon`-day returns."""

    def __init__(self, client: LLMClient, config: RunConfig, fields: Sequence[str], *,
                 fallback: Proposer | None = None, max_params: int = 10) -> None:
        self.client, self.fields, self.max_params = client, tuple(fields), max_params
        self.horizon, self.reflect_mode = config.data.horizon, config.llm.reflect
        self.on_exhausted = config.budget.on_exhausted
        self.fallback = fallback or MutationProposer()
        self._budget_told = False

    def propose(self, context: Context, rng: np.random.Generator) -> Proposal | ProposalFailure:
        """Ask the LLM for a new program (one repair round), or fall back to `mutate` when it cannot answer."""
        seed = int(rng.integers(2 ** 31))
        try:
            parent_id = parse_program(context.parent.code).program_id
        except ProgramError as exc:
            return ProposalFailure(f"the parent program cannot be edited: {exc}")
        messages = prompt.propose_messages(context, self.fields, self.horizon, self.reflect_mode == "inline")
        model = choose_model(self.client.models, context.pulls)
        try:
            call = self.client.ask(messages, purpose="propose", seed=seed, model=model)
            proposal = self._read(call.content, parent_id)
            cost = call.cost_usd
            if isinstance(proposal, str):
                repair = prompt.repair_messages(messages, call.content, proposal)
                call = self.client.ask(repair, purpose="repair", seed=seed, model=model)
                proposal, cost = self._read(call.content, parent_id), cost + call.cost_usd
                if isinstance(proposal, str):
                    return ProposalFailure(f"{REJECTED}: {proposal}", model=model, cost_usd=cost)
            return replace(proposal, model=model, cost_usd=cost)
        except BudgetExhausted as exc:
            return self._spent(str(exc), context, rng)
        except LLMUnavailable as exc:
            return self._fall_back(f"LLM unavailable: {exc}", context, rng)

    def reflect(self, parent: Step, proposal: Proposal, outcome: str, rng: np.random.Generator) -> str:
        """With reflect = "call": the LLM's lesson on an LLM proposal's outcome ("" when it cannot answer)."""
        if self.reflect_mode != "call" or proposal.kind != KIND:
            return ""
        messages = prompt.reflect_messages(parent, proposal, outcome)
        try:
            return self.client.complete(messages, purpose="reflect", seed=int(rng.integers(2 ** 31)))[:MAX_LESSON]
        except (BudgetExhausted, LLMUnavailable) as exc:
            logger.info("no reflection: %s", exc)
            return ""

    def _read(self, text: str, parent_id: str) -> Proposal | str:
        """The proposal in an answer, or the exact reason it cannot be used."""
        try:
            answer = parse_answer(text)
        except AnswerError as exc:
            return str(exc)
        reason = check_edit(answer.code, parent_id, self.max_params)
        if reason is not None:
            return reason
        return Proposal(answer.code, answer.idea, KIND, answer.hypothesis, answer.category,
                        answer.reflection[:MAX_LESSON])

    def _spent(self, reason: str, context: Context, rng: np.random.Generator) -> Proposal | ProposalFailure:
        if self.on_exhausted == "stop":
            return ProposalFailure(reason, stop=True)
        if not self._budget_told:
            logger.warning("%s; proposing with mutate from now on", reason)
            self._budget_told = True
        return self._fall_back(reason, context, rng)

    def _fall_back(self, reason: str, context: Context, rng: np.random.Generator) -> Proposal | ProposalFailure:
        self.client.note(LLMFallback(reason))
        return self.fallback.propose(context, rng)
