"""Ask an OpenAI-compatible endpoint: every call stored under the hash of its request, replayable, budgeted,
retried with backoff, and behind a circuit breaker.

A request already answered in this run's store is answered from there (a resumed iteration asks again and
gets the same answer); with a replay store, answers come only from that store. The key is read from the
environment variable the config names and is never stored, logged or put in an error message.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any, Callable, Mapping, Sequence

import openai

from factorengine.config import BudgetConfig, LLMConfig
from factorengine.errors import FactorEngineError
from factorengine.store import Event, LLMCallRow, LLMFault, LLMTotals, Store

logger = logging.getLogger(__name__)

MAX_WAIT_S = 120.0  # the longest one Retry-After (or backoff) may hold a run
Message = Mapping[str, str]


class LLMUnavailable(FactorEngineError):
    """No answer: the endpoint failed every retry, the breaker is open, or a replay has no such request."""


class BudgetExhausted(FactorEngineError):
    """A [budget] limit is reached; the message names it."""


class LLMClient:
    """Chat completions for one island (or command), accounted in `store`."""

    def __init__(self, config: LLMConfig, budget: BudgetConfig, store: Store, *, island: int | None = None,
                 replay: Store | None = None, spent: Callable[[], LLMTotals] | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.config, self.budget, self.store, self.island, self.replay = config, budget, store, island, replay
        self._spent = spent or store.llm_totals  # the whole run's calls, which an island's replica does not hold
        self._sleep, self._clock = sleep, clock
        self._open_until = -float("inf")
        self.routes = {route.name: route for route in config.routes}
        self._keys = {route.name: os.environ.get(route.api_key_env, "") for route in config.routes}
        self._apis = {} if replay is not None else {
            route.name: openai.OpenAI(base_url=route.base_url or None, api_key=self._keys[route.name] or "none",
                                      timeout=config.timeout_s, max_retries=0) for route in config.routes}
        for route in config.routes:
            if replay is None and not self._keys[route.name]:
                logger.info("$%s is not set: requests go without a key (fine for local servers)", route.api_key_env)
            if not config.models and route.name not in config.prices:
                logger.warning("[llm] prices has no entry for %r: its cost is counted as 0 and max_cost_usd cannot "
                               "stop it", route.name)

    @property
    def models(self) -> tuple[str, ...]:
        """The models this client may ask, the default first."""
        return tuple(self.routes)

    def request(self, messages: Sequence[Message], seed: int, model: str | None = None) -> dict[str, Any]:
        """Return the request body for `messages` to `model` (default: the first configured); the `seed` also tells
        apart repeated identical prompts."""
        c = self.config
        return {"model": model or self.models[0], "messages": [dict(m) for m in messages],
                "temperature": c.temperature, "max_tokens": c.max_tokens, "seed": seed, **c.extra_body}

    def complete(self, messages: Sequence[Message], *, purpose: str, seed: int, model: str | None = None) -> str:
        """Return the answer's text; raise LLMUnavailable or BudgetExhausted when there is none."""
        return self.ask(messages, purpose=purpose, seed=seed, model=model).content

    def ask(self, messages: Sequence[Message], *, purpose: str, seed: int, model: str | None = None) -> LLMCallRow:
        """Return the stored call that answers `messages` (its content, model and cost); raise LLMUnavailable
        when there is no answer, BudgetExhausted when a limit is reached."""
        body = self.request(messages, seed, model)
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        stored = self.store.llm_call(key)
        if stored is not None and (stored.content is not None or self.replay is not None):
            return _answered(stored)
        if self._clock() < self._open_until:
            raise LLMUnavailable(f"the LLM failed recently; trying it again in "
                                 f"{self._open_until - self._clock():.0f} s")
        self._check_budget()
        if self.replay is not None:
            recorded = self.replay.llm_call(key)
            if recorded is None:
                raise LLMUnavailable("the replayed run made no such request")
            self._save(recorded)
            return _answered(recorded)
        row = self._call(key, purpose, body)
        self._save(row)
        if row.content is None:
            self._open_until = self._clock() + self.config.cooldown_s
        return _answered(row)

    def totals_line(self) -> str:
        """One line on what the run's LLM calls have cost so far."""
        t = self.store.llm_totals()
        return f"{t.calls} LLM calls ({t.failed} failed), {t.tokens:,} tokens, ${t.cost_usd:.4f}"

    def _check_budget(self) -> None:
        b, t = self.budget, self._spent()
        for limit, used, what in ((b.max_calls, t.calls, "calls"), (b.max_tokens, t.tokens, "tokens"),
                                  (b.max_cost_usd, t.cost_usd, "USD")):
            if limit and used >= limit:
                raise BudgetExhausted(f"the LLM budget is spent: {used:g} of max {limit:g} {what} ([budget])")

    def _call(self, key: str, purpose: str, body: dict[str, Any]) -> LLMCallRow:
        """Send `body`, retrying faults with backoff; a call that failed every retry comes back with no content."""
        start, fault = time.monotonic(), ""
        api_body = {k: body[k] for k in ("model", "messages", "temperature", "max_tokens", "seed")}
        extra = {k: v for k, v in body.items() if k not in api_body}
        for attempt in range(self.config.max_retries + 1):
            try:
                response = self._apis[body["model"]].chat.completions.create(**api_body, extra_body=extra or None)
                content, finish, fault = _read(response)
                wait = None
            except openai.APIStatusError as exc:
                fault, wait = self._scrub(f"HTTP {exc.status_code}: {exc.message}"), _retry_after(exc)
                if exc.status_code < 500 and exc.status_code not in (408, 409, 429):
                    break  # a bad key, model or request: asking again cannot help
            except openai.APITimeoutError:
                fault, wait = f"no answer within {self.config.timeout_s:g} s", None
            except openai.OpenAIError as exc:  # refused connections and malformed responses
                fault, wait = self._scrub(f"{type(exc).__name__}: {exc}"), None
            if not fault:
                return self._row(key, purpose, body, content, finish, None, response.usage, start)
            logger.warning("LLM %s request, attempt %d: %s", purpose, attempt + 1, fault)
            self.note(LLMFault(purpose, attempt + 1, fault))
            if attempt < self.config.max_retries:
                self._sleep(min(MAX_WAIT_S, wait if wait is not None else self.config.backoff_s * 2 ** attempt))
        error = f"{fault} (gave up after {attempt + 1} attempt{'s' if attempt else ''})"
        return self._row(key, purpose, body, None, None, error, None, start)

    def _row(self, key: str, purpose: str, body: dict[str, Any], content: str | None, finish: str | None,
             error: str | None, usage: Any, start: float) -> LLMCallRow:
        if usage is not None:
            prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
        else:  # servers that do not count: about four characters a token
            prompt = sum(len(m["content"]) for m in body["messages"]) // 4 if content is not None else 0
            completion = len(content or "") // 4
        price_in, price_out = self.routes[body["model"]].price
        cost = (prompt * price_in + completion * price_out) / 1e6
        return LLMCallRow(key, purpose, self.island, body["model"], body, content, finish, error, prompt,
                          completion, cost, time.monotonic() - start)

    def _save(self, row: LLMCallRow) -> None:
        with self.store.transaction():
            self.store.add_llm_call(row)

    def note(self, event: Event) -> None:
        """Record an event about the LLM (a fault, a fallback) in the run store."""
        with self.store.transaction():
            self.store.add_event(event, island=self.island)

    def _scrub(self, text: str) -> str:
        """Remove the keys from text that may echo them (some endpoints quote the key they refused)."""
        for key in filter(None, self._keys.values()):
            text = text.replace(key, "***")
        return text


def _answered(row: LLMCallRow) -> LLMCallRow:
    """The call, when it holds an answer."""
    if row.content is None:
        raise LLMUnavailable(row.error or "the LLM gave no answer")
    return row


def _read(response: Any) -> tuple[str, str | None, str]:
    """Return (content, finish reason, fault or "") of a 200 answer: empty, cut and refused ones are faults."""
    if not getattr(response, "choices", None):
        return "", None, "an answer with no choices"
    choice = response.choices[0]
    content, finish = choice.message.content or "", choice.finish_reason
    if getattr(choice.message, "refusal", None) or finish == "content_filter":
        return content, finish, f"refused: {choice.message.refusal or finish}"
    if finish == "length":
        return content, finish, "the answer was cut at max_tokens"
    if not content.strip():
        return content, finish, "an empty answer"
    return content, finish, ""


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """The wait a 429 or 503 asks for (Retry-After seconds or Retry-After-Ms), None when it names none."""
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) * scale)
        except (KeyError, ValueError):
            continue
    return None
