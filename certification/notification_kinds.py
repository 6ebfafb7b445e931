"""The kinds of email certification sends that a customer can switch off
(accounts.notification_kinds)."""

from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_register

PRECERTIFICATION = notification_kind_register(
    "precertification", _("Notice before certification to the tax roll")
)
