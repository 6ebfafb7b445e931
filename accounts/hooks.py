"""Places where apps built on accounts add to its pages, without accounts importing them."""

from collections.abc import Callable

# Each provider: () -> [{"label": ..., "url": ..., "hint": ...}, ...]: links on Login settings
# (for example the saved cards and bank accounts autopay keeps for the login).
LOGIN_SETTINGS_LINKS: list[Callable] = []


def register_login_settings_links(provider: Callable) -> None:
    if provider not in LOGIN_SETTINGS_LINKS:
        LOGIN_SETTINGS_LINKS.append(provider)


def login_settings_links() -> list[dict]:
    return [link for provider in LOGIN_SETTINGS_LINKS for link in provider()]
