"""Text written into a CSV or XLSX file that staff open in a spreadsheet program.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) is taken
as a formula by Excel, LibreOffice and Google Sheets: a customer name such as
`=HYPERLINK("http://…","Click")` would run when the tax collector opens the list (OWASP "CSV
injection"). Text cells that start so get a leading apostrophe, which the spreadsheet shows as
plain text. Amount columns are written as numbers and are never passed through here.
"""

import datetime as dt
import io
import re
import zipfile

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text value safe to open in a spreadsheet: as given, or with a leading apostrophe."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def xlsx_table(
    *,
    title: str,
    columns: list[str],
    rows: list[list],
    money_columns: set[int] = frozenset(),
    text_columns: set[int] = frozenset(),
    totals_label: str | None = None,
    stamp,
) -> bytes:
    """One sheet: a bold, frozen header row, columns as wide as their contents, amounts as numbers
    shown with two decimals, text cells stored as text (never a formula), and, with
    `totals_label`, a last row summing each amount column. The file is stamped with `stamp` (a
    datetime), so the same rows always give the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(columns)
    for row in rows:
        sheet.append([float(v) if i in money_columns else v for i, v in enumerate(row)])
    if totals_label is not None:
        last = len(rows) + 1
        totals = [""] * len(columns)
        totals[0] = totals_label
        for index in money_columns:
            letter = get_column_letter(index + 1)
            totals[index] = f"=SUM({letter}2:{letter}{last})" if rows else 0
        sheet.append(totals)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for cells in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(cells):
            if index in money_columns:
                cell.number_format = "#,##0.00"
            elif index in text_columns and cell.row <= len(rows) + 1:
                cell.data_type = "s"
    for index, name in enumerate(columns):
        longest = max(
            [
                len(name),
                *(len(f"{row[index]:,.2f}" if index in money_columns else str(row[index])) for row in rows),
            ]
        )
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(longest + 2, 8), 60)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    raw = io.BytesIO()
    workbook.save(raw)
    return zip_with_fixed_times(raw.getvalue(), stamp)


def zip_with_fixed_times(data: bytes, when) -> bytes:
    """openpyxl stamps each zip entry, and the workbook's "modified" property, with the time of
    saving; stamp them all with `when` instead, so the same rows give the same bytes."""
    when = max(when, dt.datetime(1980, 1, 1))  # a zip file holds no earlier date
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()
