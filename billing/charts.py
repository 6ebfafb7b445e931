"""A server-drawn SVG bar chart of water use: no script, readable by everyone."""

from dataclasses import dataclass
from decimal import Decimal

from billing.selectors import UsageMonth

WIDTH, HEIGHT = 720, 240
LEFT, BOTTOM, TOP = 48, 36, 16


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    axis_y: float
    ticks: list[tuple[float, str]]


def usage_chart(months: list[UsageMonth]) -> Chart:
    values = [m.consumption_ccf or Decimal(0) for m in months]
    top = max(values + [Decimal(1)])
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(months), 1)
    bars = []
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        height = float(value / top) * plot_height
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=HEIGHT - BOTTOM - height,
                width=slot * 0.7,
                height=height,
                label=f"{month.period:%b %y}",
                value="no read" if month.consumption_ccf is None else f"{month.consumption_ccf:g}",
            )
        )
    ticks = [(HEIGHT - BOTTOM - plot_height * f, f"{float(top) * f:.0f}") for f in (0, 0.5, 1)]
    return Chart(width=WIDTH, height=HEIGHT, bars=bars, axis_y=HEIGHT - BOTTOM, ticks=ticks)
