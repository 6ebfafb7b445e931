from decimal import Decimal

from django import template

from kernel.money import money as format_dollars

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.56, or -$5.00 for a credit."""
    if value is None or value == "":
        return ""
    return format_dollars(Decimal(value))


@register.filter
def unit_price(value) -> str:
    """A rate as printed on a bill: $51.25, $4.05, $4.0525 (cents always, more only when it has them)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).normalize()
    places = max(2, -amount.as_tuple().exponent)
    return f"${amount:,.{places}f}"


@register.filter
def quantity(value) -> str:
    """1, 2.5, 10: no trailing zeros."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).normalize()
    return f"{amount:f}" if amount != amount.to_integral() else f"{amount.to_integral():f}"
