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
    marked: bool = False


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    axis_y: float
    ticks: list[tuple[float, str]]


def nice_ceiling(value: Decimal) -> Decimal:
    """The axis's top: the value rounded up to 1, 2, 2.5 or 5 times a power of ten, so the middle
    tick is a round number too."""
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def bar_chart(
    points: list[tuple[str, Decimal, str]],
    *,
    tick_format=lambda v: f"{v:.0f}",
    marked: frozenset[int] = frozenset(),
) -> Chart:
    """One bar per (label, value, value as text); the axis from zero to the largest value. The
    bars at the `marked` positions are drawn apart (high water use)."""
    values = [max(value or Decimal(0), Decimal(0)) for _, value, _ in points]
    top = nice_ceiling(max(values + [Decimal(1)]))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(points), 1)
    bars = []
    for index, ((label, _, text), value) in enumerate(zip(points, values, strict=True)):
        height = float(value / top) * plot_height
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=HEIGHT - BOTTOM - height,
                width=slot * 0.7,
                height=height,
                label=label,
                value=text,
                marked=index in marked,
            )
        )
    ticks = [(HEIGHT - BOTTOM - plot_height * f, tick_format(float(top) * f)) for f in (0, 0.5, 1)]
    return Chart(width=WIDTH, height=HEIGHT, bars=bars, axis_y=HEIGHT - BOTTOM, ticks=ticks)


def usage_chart(months: list[UsageMonth], *, high: frozenset = frozenset()) -> Chart:
    """The months' use; the months in `high` (service months with a high-use alert) marked."""
    return bar_chart(
        [
            (
                f"{month.period:%b %y}",
                month.consumption_ccf or Decimal(0),
                "no read" if month.consumption_ccf is None else f"{month.consumption_ccf:g}",
            )
            for month in months
        ],
        marked=frozenset(i for i, month in enumerate(months) if month.period in high),
    )
