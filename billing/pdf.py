"""Bills as PDF, drawn by WeasyPrint from an HTML template.

A bill does not change once issued, so its PDF is drawn once and kept under
PRIVATE_MEDIA_ROOT/bills/: drawing takes a few hundred milliseconds of CPU, reading the file
almost none, and the customer gets the same document every time they open it.
"""

import os
import tempfile
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from billing.layout import LAYOUT, remit_to_lines
from billing.models import Bill, UsageAlert
from billing.scanline import scan_line
from billing.selectors import bill_statement
from kernel.money import ZERO
from kernel.pdf import html_to_pdf


def utility_context() -> dict:
    """Who the utility is, as printed on bills and letters."""
    return {
        "name": settings.UTILITY_NAME,
        "phone": settings.UTILITY_PHONE,
        "email": settings.UTILITY_EMAIL,
        "remit_to": settings.UTILITY_REMIT_TO,
        "remit_to_lines": remit_to_lines(),
        "address": settings.UTILITY_ADDRESS,
        "portal": settings.PORTAL_BASE_URL,
        "county": settings.CERTIFICATION_COUNTY,
    }


def return_stub(*, account, date_label, date, amount_label, amount: Decimal, to_lines=None) -> dict:
    """What the return stub of a bill or letter shows (templates/includes/return_stub.html):
    addressed to the account's mail_to, or to `to_lines` (a door hanger: the service address)."""
    amount = max(amount, ZERO)
    return {
        "account": account,
        "to_lines": to_lines or account.mail_to,
        "date_label": date_label,
        "date": date,
        "amount_label": amount_label,
        "amount": amount,
        "scan_line": scan_line(account_number=account.account_number, amount=amount),
    }


def bill_pdf(*, bill: Bill) -> bytes:
    html = render_to_string(
        "billing/bill_pdf.html",
        {
            "bill": bill,
            "account": bill.service_account,
            "lines": list(bill.lines.all()),
            "statement": bill_statement(bill=bill),
            "layout": LAYOUT,
            "stub": return_stub(
                account=bill.service_account,
                date_label=_("Due date"),
                date=bill.due_date,
                amount_label=_("Amount due"),
                amount=bill.total_due,
            ),
            "utility": utility_context(),
            "high_use": UsageAlert.objects.filter(
                service_account_id=bill.service_account_id, kind=UsageAlert.Kind.HIGH_USE, period=bill.period
            ).first(),
        },
    )
    return html_to_pdf(html)


def bill_pdf_path(*, bill: Bill) -> Path:
    # The access code is printed on the bill and can be replaced: a new code is a new file.
    language = translation.get_language() or settings.LANGUAGE_CODE
    code = bill.service_account.access_code
    return (
        Path(settings.PRIVATE_MEDIA_ROOT)
        / "bills"
        / f"{bill.period:%Y-%m}"
        / f"{bill.pk}-{language}-{code}.pdf"
    )


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
