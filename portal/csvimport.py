"""Reading the CSV files utility staff import: one shape of errors for every import.

Every import checks the whole file first and reports each problem with its line
number; only a file with no problems is written, in one transaction.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from portal.errors import ApplicationError


class CsvImportError(ApplicationError):
    """The file has problems; nothing was written. `errors` holds one line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        count = len(errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found; nothing was imported.")


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class ImportSummary:
    """What an import did: rows created, updated and found unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class CsvFile:
    rows: list[CsvRow]
    ignored_columns: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the header, as given


def read_csv(path: str | Path, *, required: list[str], optional: list[str]) -> CsvFile:
    """Read a UTF-8 CSV with a header row. Values are stripped; blank lines are skipped.

    Raises CsvImportError for a file that cannot be read as the expected table.
    Checking the values is the caller's work.
    """
    try:
        # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise CsvImportError(["the file is not UTF-8 text; save it as CSV UTF-8"]) from exc
    except OSError as exc:
        raise CsvImportError([f"cannot open {path}: {exc.strerror}"]) from exc
    if "\x00" in text:
        # PostgreSQL cannot store it, and no real export holds one: a binary file or a bad save.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvImportError([f"line {line}: a NUL character; the file is not plain CSV text"])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvImportError([f"line 1: {exc}"]) from exc
    if not header or not any(cell.strip() for cell in header):
        raise CsvImportError(["line 1: the header row is missing"])
    header = [cell.strip() for cell in header]
    errors = []
    seen = set()
    for name in header:
        if name in seen:
            errors.append(f"line 1: column {name!r} appears twice")
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        errors.append(f"line 1: missing required column(s): {', '.join(missing)}")
    if errors:
        raise CsvImportError(errors)

    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                errors.append(f"line {line}: {len(cells)} values for {len(header)} columns")
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
            rows.append(CsvRow(line=line, values=values))
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: {exc}")
    if errors:
        raise CsvImportError(errors)
    known = set(required) | set(optional)
    return CsvFile(rows=rows, ignored_columns=[name for name in header if name not in known], columns=header)
