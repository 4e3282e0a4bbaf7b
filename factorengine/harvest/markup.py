"""The report's HTML pieces: escaped tables, figures embedded as PNG data URIs, and numbers as text."""
from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_to_data_uri(fig: Figure) -> str:
    """Render `fig` as a PNG data URI and release its artists."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image(fig: Figure, alt: str) -> str:
    """`fig` as an <img> with its PNG inline."""
    return f'<img src="{figure_to_data_uri(fig)}" alt="{html.escape(alt)}">'


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, escape: bool = True) -> str:
    """An HTML table, headed by `columns` unless empty; cells escaped unless `escape` is False (then HTML already)."""
    head = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>\n" if columns else ""
    body = []
    for row in rows:
        cells = (html.escape(str(cell)) if escape else str(cell) for cell in row)
        body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table>\n{head}" + "\n".join(body) + "\n</table>"


def value(x: float | None) -> float:
    """`x` as a float, NaN for None."""
    return math.nan if x is None else float(x)


def number(x: float | None, digits: int = 4) -> str:
    """`x` with `digits` decimals; a dash when unknown."""
    x = value(x)
    return "–" if math.isnan(x) else f"{x:.{digits}f}"


def percent(x: float | None) -> str:
    """`x` as a percentage with two decimals; a dash when unknown."""
    x = value(x)
    return "–" if math.isnan(x) else f"{x:.2%}"
