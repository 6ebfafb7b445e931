"""The card form's messages for the browser: each Stripe decline or error code, in the page's language."""

from django import template
from django.utils.html import json_script

from billing.stripe_gateway import DECLINE_MESSAGES, GENERIC_DECLINE

register = template.Library()


@register.simple_tag
def card_error_messages():
    """A JSON script element (id "card-error-messages"): code -> sentence, "" -> the generic one."""
    table = {code: str(message) for code, message in DECLINE_MESSAGES.items()}
    table[""] = str(GENERIC_DECLINE)
    return json_script(table, "card-error-messages")
