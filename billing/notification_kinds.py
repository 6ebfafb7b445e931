"""The kinds of email billing sends that a customer can switch off (accounts.notification_kinds)."""

from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_register

BILL_READY = notification_kind_register("bill_ready", _("My bill is ready"))
PAYMENT_RECEIVED = notification_kind_register("payment_received", _("A payment was received"))
PAST_DUE = notification_kind_register("past_due", _("My account is past due"))
HIGH_USAGE = notification_kind_register(
    "high_usage", _("My water use is much higher than usual, or may be a leak")
)
