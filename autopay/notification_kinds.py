"""The kinds of email autopay sends that a customer can switch off (accounts.notification_kinds)."""

from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_register

AUTOPAY_SCHEDULED = notification_kind_register("autopay_scheduled", _("An autopay draft is coming up"))
AUTOPAY_CHANGED = notification_kind_register("autopay_changed", _("Autopay was set up or cancelled"))
PAYMENT_FAILED = notification_kind_register("payment_failed", _("A payment failed"))
