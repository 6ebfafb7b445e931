"""The apps' layers hold in templates too (import-linter checks the Python, in `make lint`): an
app's templates link only to its own pages and those of the apps it builds on; links to the apps
built on it come through billing's hooks."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

# Which apps each app may use, itself included (as in .importlinter).
MAY_USE = {
    "accounts": {"accounts", "kernel"},
    "billing": {"billing", "accounts", "kernel"},
    "autopay": {"autopay", "billing", "accounts", "kernel"},
    "assistance": {"assistance", "billing", "accounts", "kernel"},
    "certification": {"certification", "billing", "accounts", "kernel"},
}
URL_TAG = re.compile(r"""\{%\s*url\s+['"]([\w-]+)['"]""")


def url_owners() -> dict[str, str]:
    """Each URL name, with the top-level package of the view it calls."""
    owners = {}

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                owners.setdefault(pattern.name, pattern.callback.__module__.split(".")[0])

    walk(get_resolver().url_patterns)
    return owners


def test_no_app_template_links_to_an_app_built_on_it():
    owners = url_owners()
    templates = Path(settings.BASE_DIR) / "templates"
    crossings = [
        f"{path.relative_to(templates)} links to {name} ({owners[name]})"
        for app, allowed in MAY_USE.items()
        for path in sorted((templates / app).rglob("*.*"))
        for name in URL_TAG.findall(path.read_text())
        if owners.get(name, app) not in allowed and owners[name] not in ("django", "allauth")
    ]
    assert crossings == []
    # The check sees links at all: billing's templates name its own pages.
    assert owners["bill_detail"] == "billing"
