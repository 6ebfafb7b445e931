"""Files in tests: small samples (a one-page PDF, a PNG, an upload as a form receives it) and
the rows of a CSV a page sends."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, header first."""
    return list(csv.reader(io.StringIO(response.content.decode())))
