"""The report's verdict line and opening summary: what the run found in a few sentences, the segments' dates, and
what the data can and cannot say (the chance level when `factorengine null` ran, survivorship on a real panel)."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Mapping, Sequence

from factorengine.harvest.chance import NULL_RESULTS
from factorengine.harvest.markup import number, percent, table
from factorengine.harvest.results import HarvestResults, read_json
from factorengine.segments import SegmentRange

SURVIVORSHIP = ("A panel of stocks still listed today, chosen by liquidity over its whole window (like the shipped "
                "US panel, see its README), leaves out the companies that failed or were bought: absolute "
                "backtest returns are overstated, so compare factors with each other, not with what a fund earns.")
SYNTHETIC = "The data is the built-in synthetic market: these figures test the pipeline, not a real market."


def summary_section(data: Mapping[str, object], segments: Sequence[SegmentRange], run_dir: Path,
                    harvest: HarvestResults | None) -> str:
    """The summary of a run whose [data] config is `data`: harvest verdicts, segment dates, chance and caveats."""
    findings = harvest_findings(harvest) if harvest else [
        "No harvest yet: run <code>" + html.escape(f"factorengine harvest {run_dir}") + "</code> to choose elites, "
        "combine them and backtest them on test, then write this report again."]
    findings += chance_findings(read_json(run_dir / NULL_RESULTS), run_dir)
    findings.append(SURVIVORSHIP if data.get("path") else SYNTHETIC)
    items = "\n".join(f"<li>{finding}</li>" for finding in findings)
    return f"<h2>Summary</h2>\n<ul>\n{items}\n</ul>\n" + (segments_table(segments) if segments else "")


def verdict_paragraph(harvest: HarvestResults | None) -> str:
    """The harvest's verdict line, or why there is none."""
    if harvest is None:
        return ""
    if harvest.verdict is None:
        return ('<p class="note">This harvest has no verdict, since it was written before FactorEngine judged the '
                "elites' models against the seeds'; run <code>factorengine harvest</code> again.</p>\n")
    return f'<p class="verdict">{html.escape(harvest.verdict.line(), quote=False)}</p>\n'


def harvest_findings(harvest: HarvestResults) -> list[str]:
    """Sentences on the elites, their models against the seeds' on test, and the portfolio against its benchmark."""
    m = harvest.backtest.metrics
    combiners = dict.fromkeys(key.combiner for key in harvest.models)
    rank_ics = "; ".join(f"{combiner} {number(harvest.models['elites', combiner].metrics['test'].rank_ic)} on the "
                         f"elites against {number(harvest.models['seeds', combiner].metrics['test'].rank_ic)} on "
                         "the seeds" for combiner in combiners)
    return [
        (f"{harvest.cleared} program(s) cleared valid FS {number(harvest.threshold, 2)}; "
         f"{len(harvest.elites)} elite(s) were kept"
         + ("." if harvest.cleared else " (the best by valid FS, since none cleared it).")
         + f" {percent(harvest.held_sign_share)} of them held their sign on test."),
        f"Test RankIC of the combinations: {rank_ics}.",
        (f"The elites' LightGBM in a TopkDropout portfolio returned {percent(m.annual_return)} a year on test net of "
         f"{harvest.backtest.cost_bps:g} bps costs, {percent(m.excess_annual_return)} a year "
         f"{'above' if m.excess_annual_return > 0 else 'relative to'} the equal-weight benchmark: it "
         f"{'beat' if m.excess_annual_return > 0 else 'did not beat'} it (information ratio "
         f"{number(m.information_ratio, 2)})."),
    ]


def chance_findings(null: Mapping | None, run_dir: Path) -> list[str]:
    """The chance level of `factorengine null` in one sentence, or a pointer to the command when it did not run."""
    if null is None:
        command = html.escape(f"factorengine null {run_dir}")
        return [f"The chance level is unknown: <code>{command}</code> measures it."]
    chance, programs = null["chance"], null["programs"]
    above = sum(p["above_chance"] > 0 for p in programs)
    significant = sum(p["significant"] for p in programs)
    return [f"By chance (labels shuffled within each day) the best of {chance['tries']} tries reaches valid FS "
            f"{number(chance['level'])}; {above} of the {len(programs)} best programs are above it and "
            f"{significant} stay significant once deflated for the tries."]


def segments_table(segments: Sequence[SegmentRange]) -> str:
    """First and last day, day count and walk-forward folds of each segment."""
    return table(["segment", "first day", "last day", "days", "folds"],
                 [(s.segment, s.first, s.last, s.days, s.folds or "") for s in segments])
