"""The kinds of email a customer can switch off, each on its own (all start at yes), and may
also have by text (all start at no).

The app that sends a kind registers it (its `notification_kinds` module, imported by its
AppConfig.ready), so this app need not know the apps built on it. The preferences pages list the
kinds in the order they were registered: the apps' order in INSTALLED_APPS."""

from django.utils.functional import Promise

_KINDS: dict[str, str | Promise] = {}


def notification_kind_register(value: str, label: str | Promise) -> str:
    """Register a kind of email (`value` is stored, `label` is what a customer reads); returns
    `value`, for the sending app's constant."""
    _KINDS.setdefault(value, label)
    return value


def notification_kinds() -> list[str]:
    return list(_KINDS)


def notification_kind_choices() -> list[tuple[str, str | Promise]]:
    return list(_KINDS.items())
