"""The messages sent to the LLM, rendered from the template files in `templates/`.

Proposers' views never hold test metrics (a Step has train and valid FS only), so no prompt can show them.
"""
from __future__ import annotations

import ast
import functools
import inspect
import math
import re
from pathlib import Path
from string import Template
from typing import Sequence

from factorengine import ops
from factorengine.program import set_docstring
from factorengine.proposers.base import Context, Proposal, Step
from factorengine.proposers.fields import GROUP_OPERATORS, describe_fields, extra_fields, label_words

TEMPLATES = Path(__file__).with_name("templates")
Messages = list[dict[str, str]]
_TRAILING = re.compile(r" (over|within|of) the trailing `window` days")


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / f"{name}.md").read_text())


def render(template: str, **values: object) -> str:
    """Fill `template` (a file in templates/); a missing value is an error."""
    return _template(template).substitute(values).strip()


@functools.cache
def operator_catalogue(groups: bool = True) -> str:
    """One line per operator of factorengine.ops (the group operators only with `groups`): its call and the first
    line of its docstring, less the trailing window the catalogue's header names once."""
    lines = []
    for name in ops.__all__:
        if name in GROUP_OPERATORS and not groups:
            continue
        fn = getattr(ops, name)
        args = ", ".join(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name
                         + ("" if p.default is p.empty else f"={p.default!r}")
                         for p in inspect.signature(fn).parameters.values())
        lines.append(f"{name}({args}): {_TRAILING.sub('', inspect.getdoc(fn).splitlines()[0])}")
    return "\n".join(lines)


def contract(fields: Sequence[str], horizon: int) -> str:
    """The program contract, the data fields, the label and the operator catalogue (group operators when the
    panel has columns a group could come from)."""
    return render("contract", fields=describe_fields(fields), label=label_words(horizon),
                  operators=operator_catalogue(bool(extra_fields(fields))))


def answer_format(reflect_inline: bool) -> str:
    """The JSON answer format (with a `reflection` field when lessons are asked for inline)."""
    field = ('\n "reflection": "what the outcomes above teach: why changes helped or hurt, in two sentences",'
             if reflect_inline else "")
    return render("answer", reflection_field=field)


def propose_messages(context: Context, fields: Sequence[str], horizon: int, reflect_inline: bool) -> Messages:
    """The request for a new program from `context.parent`, with the chain of experience and recent failures."""
    ask = ("\nFirst reflect on the outcomes above: what helped, what hurt and why." if reflect_inline else "")
    told = Told(context.parent, "Reflection when proposed" if reflect_inline else "Lesson")
    said = experience(context, told)
    user = render("propose", contract=contract(fields, horizon), experience=said,
                  program=_program(context, told), reflection_ask=ask, answer=answer_format(reflect_inline))
    return [{"role": "system", "content": render("system")}, {"role": "user", "content": user}]


def repair_messages(messages: Messages, answer: str, error: str) -> Messages:
    """The request again, with the unusable answer and the exact reason it was refused."""
    return [*messages, {"role": "assistant", "content": answer},
            {"role": "user", "content": render("repair", error=error)}]


def reflect_messages(parent: Step, proposal: Proposal, outcome: str) -> Messages:
    """The request for a short lesson on what a change did."""
    return [{"role": "system", "content": render("system")},
            {"role": "user", "content": render("reflect", before=f"{parent.idea} ({_metrics(parent)})",
                                               idea=proposal.idea, hypothesis=proposal.hypothesis or "-",
                                               outcome=outcome)}]


class Told:
    """What a request has shown so far, so a step or program shown once is pointed to, not shown again; `lesson`
    names a step's reflection (inline reflections are written before the step's outcome is known)."""

    def __init__(self, parent: Step, lesson: str = "Lesson") -> None:
        self.codes = {parent.code.strip()}
        self.lines: dict[str, str] = {}  # a step's line -> where it was shown
        self.lesson = lesson

    def step(self, step: Step, where: str) -> str:
        """The step's idea and outcome, or its idea and where it was shown."""
        outcome = step.outcome or (f"failed: {step.failure}" if step.failure else _metrics(step))
        line = f"{step.idea}: {outcome}" + (f" {self.lesson}: {step.lesson}" if step.lesson else "")
        if line in self.lines:
            return f"{step.idea} (as in {self.lines[line]})"
        self.lines[line] = where
        return line

    def code(self, step: Step) -> str:
        """The step's program as a code block (its docstring cut to the first line), or a pointer when the request
        already shows it."""
        code = step.code.strip()
        if code in self.codes:
            return "(its code is shown elsewhere in this request)"
        self.codes.add(code)
        return f"```python\n{_brief(code)}\n```"


def experience(context: Context, told: Told | None = None) -> str:
    """The chain-of-experience paths, the island's best program, the recent failures and the program the latest
    rejected proposal repeated, as text."""
    told = told or Told(context.parent)
    parts = []
    for number, path in enumerate(context.chain, 1):
        steps = "\n".join(f"{i}. {told.step(step, f'path {number}')}" for i, step in enumerate(path, 1))
        parts.append(f"### Path {number}\n\n{steps}\n\nIts last program:\n\n{told.code(path[-1])}")
    if context.best is not None and context.best.code.strip() not in told.codes:
        parts.append(f"### The island's best program\n\n{context.best.idea} ({_metrics(context.best)})\n\n"
                     f"{told.code(context.best)}")
    if context.failures:
        parts.append("### Recent failures (learn from them)\n\n"
                     + "\n".join(f"- {told.step(step, 'the failures')}" for step in context.failures))
    if context.repeated is not None:
        parts.append(f"### The program the latest rejected proposal repeated (propose something else)\n\n"
                     f"{context.repeated.idea}:\n\n{told.code(context.repeated)}")
    return "\n\n".join(parts) or "Nothing yet: the program below is a seed."


def _brief(code: str) -> str:
    """The program with its module docstring cut to its first line."""
    try:
        docstring = ast.get_docstring(ast.parse(code), clean=True)
    except SyntaxError:
        return code
    if not docstring or "\n" not in docstring.strip():
        return code
    return set_docstring(code, docstring.strip().splitlines()[0]).strip()


def _metrics(step: Step) -> str:
    return f"robust train FS {_fs(step.robust_fs)}, train FS {_fs(step.train_fs)}, valid FS {_fs(step.valid_fs)}"


def _fs(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"


def _segments(step: Step) -> str:
    """Each scored segment's FS with its four components and coverage, one line each."""
    lines = [f"- {name}: FS {m.fs:.4f} from IC {m.ic:.4f}, ICIR {m.icir:.3f}, RankIC {m.rank_ic:.4f}, "
             f"RankICIR {m.rank_icir:.3f}; scores {m.coverage:.0%} of listed stocks"
             for name, m in (("train", step.train), ("valid", step.valid)) if m is not None and not math.isnan(m.fs)]
    return "".join(f"{line}\n" for line in lines)


def _program(context: Context, told: Told) -> str:
    """The program to improve: its metrics per segment, how it came to be (unless told already) and its whole
    code."""
    step, best = context.parent, context.best
    rank = ", the island's best" if best is not None and best.code.strip() == step.code.strip() else ""
    lineage = [*context.lineage, step] if step.outcome else list(context.lineage)
    history = "".join(f"{i}. {told.step(s, 'a path above')}\n" for i, s in enumerate(lineage, 1))
    history = f"How it came to be:\n{history}" if history else ""
    return (f"{step.idea} ({_metrics(step)}{rank})\n{_segments(step)}{history}\n```python\n{step.code.strip()}\n"
            "```\n")
