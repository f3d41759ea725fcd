"""Bar charts drawn on the server as inline SVG (no chart library, nothing from a CDN).

``bar_chart`` only computes the geometry; ``templates/scheduling/_bar_chart.html`` draws it, so every
label goes through the template's escaping. The chart is a picture of a table that the page shows next
to it: the SVG has a title and a description for screen readers, and each bar a ``<title>`` with its
figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH_PER_BAR = 28
PLOT_HEIGHT = 160
TOP = 12
LEFT = 36
BOTTOM = 28


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the table shows it
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    width: int
    height: int
    baseline: float
    maximum_text: str
    bars: tuple[Bar, ...]


def bar_chart(
    *, title: str, description: str, rows: Sequence[tuple[str, float, str]], maximum: float | None = None
) -> BarChart:
    """Geometry of a bar chart of ``rows`` (label, value, value as text). ``maximum`` fixes the top of
    the scale of a rate (1.0 is 100 %); otherwise the largest value is the top."""
    top_value = maximum if maximum is not None else max((value for _l, value, _t in rows), default=0)
    width = LEFT + WIDTH_PER_BAR * max(len(rows), 1) + 8
    baseline = TOP + PLOT_HEIGHT
    bars = []
    for index, (label, value, text) in enumerate(rows):
        height = PLOT_HEIGHT * value / top_value if top_value else 0
        x = LEFT + index * WIDTH_PER_BAR + 4
        bars.append(
            Bar(
                label=label,
                value=value,
                text=text,
                x=x,
                y=round(baseline - height, 2),
                width=WIDTH_PER_BAR - 8,
                height=round(height, 2),
                label_x=x + (WIDTH_PER_BAR - 8) / 2,
            )
        )
    # A fixed maximum is the top of a rate's scale (100 %, or more when someone is overbooked).
    maximum_text = f"{maximum:.0%}" if maximum is not None else f"{top_value:g}"
    return BarChart(
        title=title,
        description=description,
        width=width,
        height=baseline + BOTTOM,
        baseline=baseline,
        maximum_text=maximum_text,
        bars=tuple(bars),
    )
