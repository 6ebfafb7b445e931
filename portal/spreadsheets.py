"""Text written into a CSV or XLSX file that staff open in a spreadsheet program.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) is taken
as a formula by Excel, LibreOffice and Google Sheets: a customer name such as
`=HYPERLINK("http://…","Click")` would run when the tax collector opens the list (OWASP "CSV
injection"). Text cells that start so get a leading apostrophe, which the spreadsheet shows as
plain text. Amount columns are written as numbers and are never passed through here.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text value safe to open in a spreadsheet: as given, or with a leading apostrophe."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
