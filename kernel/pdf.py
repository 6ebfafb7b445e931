"""Bills and letters are drawn by WeasyPrint from the portal's own templates. Left to itself,
WeasyPrint fetches any URL a page names (http, https, ftp, file): a stray or injected address
would make the server call out, or read a file of its own into a customer's PDF. The fetcher
here serves `data:` URLs and the portal's static files, and refuses everything else.
"""

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings


def _static_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)]
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry))
    return [root.resolve() for root in roots]


def portal_url_fetcher():
    """A WeasyPrint URL fetcher for `data:` URLs and files under the portal's static folders."""
    from weasyprint.urls import URLFetcher  # imported here: loading pango takes a moment

    class PortalOnlyFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)

        def fetch(self, url, headers=None):
            if url.lower().startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if not any(path.is_relative_to(root) for root in _static_roots()):
                    raise ValueError(f"not one of the portal's static files: {url}")
            return super().fetch(url, headers)

    return PortalOnlyFetcher()


def html_to_pdf(html: str, target=None):
    """The PDF of a rendered template (bytes, or written to `target`), fetching nothing else."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=portal_url_fetcher()).write_pdf(target)
