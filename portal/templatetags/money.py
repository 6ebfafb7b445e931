from decimal import Decimal

from django import template

from portal.money import quantize_money

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.56, or -$5.00 for a credit."""
    if value is None or value == "":
        return ""
    amount = quantize_money(Decimal(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
