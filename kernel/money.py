"""Money is Decimal with two places everywhere; integer cents only at the Stripe boundary."""

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Amounts are kept as numeric(12, 2): anything from ten billion dollars up is not an amount here.
LARGEST = Decimal("9999999999.99")


def quantize_money(value: Decimal) -> Decimal:
    """Round to cents, half up: the one place the portal rounds money."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# Digits, thousands grouped by commas or not, at most two decimals: "1,234.50", "45.1", "45",
# ".50". Python's Decimal would also take "1_0", "1e3", "NaN" and "-5": none is an amount here.
_AMOUNT_EN = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d{1,2})?$")
# The Spanish way: dots group thousands, a comma starts the cents ("1.234,50", "2,00").
_AMOUNT_ES = re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d{1,2})?$")


def parse_money(text: str) -> Decimal | None:
    """A positive or zero amount with at most two decimals, as written in the portal's files
    ("1,234.50"); else None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not re.search(r"\d", text) or not _AMOUNT_EN.match(text):
        return None
    return _in_range(Decimal(text.replace(",", "")).quantize(CENT))


def _in_range(amount: Decimal) -> Decimal | None:
    return amount if amount <= LARGEST else None


def parse_money_typed(text, *, language: str = "en") -> Decimal | None:
    """An amount a person typed, in their language: an optional dollar sign and spaces around,
    "2,00" is two dollars in Spanish and "2.50" still reads as two and a half, as does the US
    "2,500.00" (a dot after the comma can only be cents). "2,005" in Spanish is refused: it could
    be either. Else None."""
    text = re.sub(r"^\$\s*|\s+$", "", str(text if text is not None else "").strip())
    if not language.startswith("es"):
        return parse_money(text)
    if re.fullmatch(r"\d*\.\d{1,2}", text):  # "2.50": cents after a dot, as on the bill
        return parse_money(text)
    if re.search(r"\d", text) and _AMOUNT_ES.match(text):
        return _in_range(Decimal(text.replace(".", "").replace(",", ".")).quantize(CENT))
    if re.fullmatch(r"[\d,]+,\d{3}\.\d{1,2}", text):  # "2,500.00": a comma, then the cents after a dot
        return parse_money(text)
    return None


def format_money(value: Decimal) -> str:
    """Two decimals, no currency sign: the form the CSV files use."""
    return f"{quantize_money(value):.2f}"


def money(value: Decimal) -> str:
    """Dollars as customers read them, the same in English and Spanish: $1,234.50."""
    value = quantize_money(value)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
