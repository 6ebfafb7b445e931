"""The kinds of email assistance sends that a customer can switch off (accounts.notification_kinds)."""

from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_register

ASSISTANCE_STATUS = notification_kind_register(
    "assistance_status", _("My assistance application changed status")
)
