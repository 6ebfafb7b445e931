"""PDF pages as the tests read them: text with its place on the sheet (in inches from the
top-left corner), and pictures (PNG), drawn with pdfium."""

import io
from dataclasses import dataclass

import pypdfium2 as pdfium


@dataclass(frozen=True)
class Found:
    left: float
    top: float
    right: float
    bottom: float


def find_text(pdf: bytes, text: str, *, page: int = 0) -> Found | None:
    """Where `text` first appears on the page, or None."""
    document = pdfium.PdfDocument(pdf)
    sheet = document[page]
    height = sheet.get_height()
    textpage = sheet.get_textpage()
    searcher = textpage.search(text, match_case=True)
    hit = searcher.get_next()
    if hit is None:
        return None
    start, count = hit
    boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
    left = min(b[0] for b in boxes)
    bottom = min(b[1] for b in boxes)
    right = max(b[2] for b in boxes)
    top = max(b[3] for b in boxes)
    return Found(left=left / 72, top=(height - top) / 72, right=right / 72, bottom=(height - bottom) / 72)


def find_all_text(pdf: bytes, text: str, *, page: int = 0) -> list[Found]:
    """Every place `text` appears on the page, in the page's text order."""
    document = pdfium.PdfDocument(pdf)
    sheet = document[page]
    height = sheet.get_height()
    textpage = sheet.get_textpage()
    searcher = textpage.search(text, match_case=True)
    found = []
    while (hit := searcher.get_next()) is not None:
        start, count = hit
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        found.append(
            Found(
                left=min(b[0] for b in boxes) / 72,
                top=(height - max(b[3] for b in boxes)) / 72,
                right=max(b[2] for b in boxes) / 72,
                bottom=(height - min(b[1] for b in boxes)) / 72,
            )
        )
    return found


def page_text(pdf: bytes, *, page: int = 0) -> str:
    document = pdfium.PdfDocument(pdf)
    return document[page].get_textpage().get_text_range()


def page_count(pdf: bytes) -> int:
    return len(pdfium.PdfDocument(pdf))


def page_png(pdf: bytes, *, page: int = 0, dpi: int = 100) -> bytes:
    image = pdfium.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
