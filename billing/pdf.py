"""Bills as PDF, drawn by WeasyPrint from an HTML template.

A bill does not change once issued, so its PDF is drawn once and kept under
PRIVATE_MEDIA_ROOT/bills/: drawing takes a few hundred milliseconds of CPU, reading the file
almost none, and the customer gets the same document every time they open it.
"""

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from billing.models import Bill
from portal.pdf import html_to_pdf


def bill_pdf(*, bill: Bill) -> bytes:
    html = render_to_string(
        "billing/bill_pdf.html",
        {
            "bill": bill,
            "account": bill.service_account,
            "lines": list(bill.lines.all()),
            "utility": {
                "name": settings.UTILITY_NAME,
                "phone": settings.UTILITY_PHONE,
                "email": settings.UTILITY_EMAIL,
                "remit_to": settings.UTILITY_REMIT_TO,
                "address": settings.UTILITY_ADDRESS,
                "portal": settings.PORTAL_BASE_URL,
            },
        },
    )
    return html_to_pdf(html)


def bill_pdf_path(*, bill: Bill) -> Path:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return Path(settings.PRIVATE_MEDIA_ROOT) / "bills" / f"{bill.period:%Y-%m}" / f"{bill.pk}-{language}.pdf"


def bill_pdf_cached(*, bill: Bill) -> bytes:
    """The bill's PDF, drawn on first request. Two requests racing both draw it; the file is
    replaced whole (write to a temporary name, then rename), so a reader never sees half of it."""
    path = bill_pdf_path(bill=bill)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    content = bill_pdf(bill=bill)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    os.replace(temporary, path)
    return content
