"""Reading the CSV files utility staff import: one shape of errors for every import.

Every import checks the whole file first and reports each problem with its line
number; only a file with no problems is written, in one transaction.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from kernel.errors import ApplicationError


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


class CsvStream:
    """A CSV file read row by row, in constant memory: the header is checked when it is opened;
    iterating yields (line number, stripped values in header order) and skips blank lines.

    Problems found while iterating (a row with too many values, a quoting error) go to `problems`
    as (line, message) and iteration goes on where it can, so one pass reports every problem. Use as a context
    manager, so the file is closed.
    """

    def __init__(self, path: str | Path, *, required: list[str], optional: list[str]):
        self.path = path
        self.problems: list[tuple[int, str]] = []
        try:
            # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
            self._handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed by __exit__)
        except OSError as exc:
            raise CsvImportError([f"cannot open {path}: {exc.strerror}"]) from exc
        self._physical_line = 0
        self._reader = csv.reader(self._lines())
        try:
            header = self._next_row()
        except BaseException:
            self._handle.close()
            raise
        if not header or not any(cell.strip() for cell in header):
            self._handle.close()
            raise CsvImportError(["line 1: the header row is missing"])
        self.columns = [cell.strip() for cell in header]
        errors = []
        seen = set()
        for name in self.columns:
            if name in seen:
                errors.append(f"line 1: column {name!r} appears twice")
            seen.add(name)
        missing = [name for name in required if name not in seen]
        if missing:
            errors.append(f"line 1: missing required column(s): {', '.join(missing)}")
        if errors:
            self._handle.close()
            raise CsvImportError(errors)
        known = set(required) | set(optional)
        self.ignored_columns = [name for name in self.columns if name not in known]

    @property
    def errors(self) -> list[str]:
        return [f"line {line}: {text}" for line, text in self.problems]

    def index(self, column: str) -> int | None:
        """Where a column sits in each row, or None when the file does not have it."""
        return self.columns.index(column) if column in self.columns else None

    def _lines(self):
        try:
            for text in self._handle:
                self._physical_line += 1
                if "\x00" in text:
                    # PostgreSQL cannot store it, and no real export holds one: a binary file or a bad save.
                    raise CsvImportError(
                        [f"line {self._physical_line}: a NUL character; the file is not plain CSV text"]
                    )
                yield text
        except UnicodeDecodeError as exc:
            raise CsvImportError(["the file is not UTF-8 text; save it as CSV UTF-8"]) from exc

    def _next_row(self):
        try:
            return next(self._reader, None)
        except csv.Error as exc:
            raise CsvImportError([f"line 1: {exc}"]) from exc

    def __iter__(self):
        width = len(self.columns)
        reader = self._reader
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.problems.append((reader.line_num, str(exc)))
                return
            if not any(cells) or not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width:
                self.problems.append((reader.line_num, f"{len(cells)} values for {width} columns"))
                continue
            values = [cell.strip() for cell in cells]
            if len(values) < width:
                values += [""] * (width - len(values))
            yield reader.line_num, values

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()


def read_csv(path: str | Path, *, required: list[str], optional: list[str]) -> CsvFile:
    """Read a whole UTF-8 CSV with a header row (for the small files: rates, services). Values
    are stripped; blank lines are skipped.

    Raises CsvImportError for a file that cannot be read as the expected table.
    Checking the values is the caller's work.
    """
    with CsvStream(path, required=required, optional=optional) as stream:
        rows = [
            CsvRow(line=line, values=dict(zip(stream.columns, values, strict=True)))
            for line, values in stream
        ]
    if stream.errors:
        raise CsvImportError(stream.errors)
    return CsvFile(rows=rows, ignored_columns=stream.ignored_columns, columns=stream.columns)


def csv_stage(
    stream: CsvStream,
    *,
    table: str,
    columns: list[tuple[str, str]],
    rows,
    problems: list[tuple[int, int, str]],
    checks_sql: str = "",
    params: dict | None = None,
    empty: str = "",
) -> int:
    """The streamed imports' first half: COPY the rows (each checked on its own by the `rows`
    generator, which adds to `problems`) into a staging table, run the checks across rows
    (`checks_sql`, if any, gives (line, order, message) rows), and raise every problem in line
    order, or `empty` (if given) when the file has no rows. Returns how many rows were staged. The
    caller holds the transaction the staging table lives in."""
    from django.db import connection

    from kernel.db import copy_rows, staging_table

    count = copy_rows(staging_table(table, columns), [name for name, _ in columns], rows)
    problems += [(line, 0, text) for line, text in stream.problems]
    if checks_sql:
        with connection.cursor() as cursor:
            cursor.execute(checks_sql, params)
            problems += cursor.fetchall()
    if problems:
        problems.sort(key=lambda problem: problem[:2])  # by line; a line's problems as found
        raise CsvImportError([f"line {line}: {text}" for line, _, text in problems])
    if not count and empty:
        raise CsvImportError([empty])
    return count
