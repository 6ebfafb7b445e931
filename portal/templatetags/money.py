from decimal import Decimal

from django import template

from portal.money import money as format_dollars

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.56, or -$5.00 for a credit."""
    if value is None or value == "":
        return ""
    return format_dollars(Decimal(value))
