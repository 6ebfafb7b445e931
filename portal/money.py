"""Money is Decimal with two places everywhere; integer cents only at the Stripe boundary."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize_money(value: Decimal) -> Decimal:
    """Round to cents, half up: the one place the portal rounds money."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(text: str) -> Decimal | None:
    """A positive or zero amount with at most two decimals, as typed or imported; else None."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        return None
    return value.quantize(CENT)


def format_money(value: Decimal) -> str:
    """Two decimals, no currency sign: the form the CSV files use."""
    return f"{quantize_money(value):.2f}"


def money(value: Decimal) -> str:
    """Dollars as customers read them, the same in English and Spanish: $1,234.50."""
    value = quantize_money(value)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
