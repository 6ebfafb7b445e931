"""Bills as PDF, drawn by WeasyPrint from an HTML template."""

from django.conf import settings
from django.template.loader import render_to_string

from billing.models import Bill


def bill_pdf(*, bill: Bill) -> bytes:
    from weasyprint import HTML  # imported here: loading pango takes a moment

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
    return HTML(string=html).write_pdf()
