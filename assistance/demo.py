"""Demo data for assistance: an application waiting for review, and what staff may do."""

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ServiceAccount


def _sample_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _sample_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "lightgray").save(buffer, format="PNG")
    return buffer.getvalue()


def seed(*, users: dict, **context) -> dict:
    """The demo customer has applied for the account that is behind."""
    from assistance.services.applications import Income, Member, application_submit

    behind = ServiceAccount.objects.get(account_number="100001-01")
    application_submit(
        applicant=users["customer"],
        service_account=behind,
        members=[
            Member("Demo Customer", "self"),
            Member("Sam Customer", "child"),
            Member("Ari Customer", "child"),
        ],
        incomes=[Income("wages", Decimal("1850.00")), Income("child_support", Decimal("300.00"))],
        phone="503-555-0188",
        preferred_contact_time="afternoon",
        attestation_name="Demo Customer",
        documents={
            "photo_id": [SimpleUploadedFile("photo-id.png", _sample_png())],
            "income_proof": [SimpleUploadedFile("pay-stubs.pdf", _sample_pdf())],
        },
    )
    return {}
