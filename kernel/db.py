"""Database helpers shared by the apps."""

import csv
import io
import itertools

from django.db import connection
from django.db.models.expressions import RawSQL

BIGINT_MAX = 2**63 - 1


def record_id(text) -> int | None:
    """A record id someone sent (a form field, a query string, a JSON value): plain ASCII digits
    that fit a bigint, else None. ("²" is a digit to Python but not to int(), and a 30-digit
    number would make PostgreSQL refuse the query.)"""
    text = str(text if text is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or int(text) > BIGINT_MAX:
        return None
    return int(text)


def id_list(ids) -> RawSQL:
    """Ids for a `field__in=` lookup as one array parameter: a chunk of thousands of ids costs
    Django and PostgreSQL one value to handle, not thousands of placeholders."""
    return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))


NULL_MARK = "\\N"  # how copy_rows writes None; COPY reads it as NULL only unquoted


def _quoted(value) -> str:
    if value is None:
        return NULL_MARK
    return '"' + str(value).replace('"', '""') + '"'


class _CsvText:
    """Rows as CSV text, written as COPY reads it: a few thousand rows in memory at a time,
    however many there are."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)
        self._pending = ""
        self.count = 0
        self.error: Exception | None = None

    def _more(self) -> bool:
        try:
            return self._write_some()
        except Exception as exc:
            # Raised to the caller after COPY ends: psycopg2 would turn it into a database error.
            self.error = exc
            return False

    def _write_some(self) -> bool:
        for row in itertools.islice(self._rows, 2000):
            if NULL_MARK in row:
                # A cell that reads \N (some exports write it for "nothing") must stay text: quoted,
                # COPY does not take it for NULL.
                self._buffer.write(",".join(_quoted(value) for value in row) + "\r\n")
            else:
                self._writer.writerow([NULL_MARK if value is None else value for value in row])
            self.count += 1
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending += text
        return bool(text)

    def read(self, size: int = -1) -> str:
        while (size < 0 or len(self._pending) < size) and self._more():
            pass
        if size < 0:
            size = len(self._pending)
        text, self._pending = self._pending[:size], self._pending[size:]
        return text


def copy_rows(table: str, columns: list[str], rows) -> int:
    """Insert rows with PostgreSQL's COPY: many times faster than INSERT, and streamed, so a
    generator of millions of rows takes no more memory than a few thousand. Runs inside the
    caller's transaction; returns how many rows went in."""
    text = _CsvText(rows)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", text, size=65536
        )
    if text.error is not None:
        raise text.error  # the rows COPYed so far go with the caller's transaction
    return text.count


def staging_table(
    name: str, columns: list[tuple[str, str]] | None = None, *, query: str = "", params=None
) -> str:
    """A temporary table for one import's rows (COPYed in, checked set-based, then written),
    dropped when the caller's transaction ends: `columns` as (name, PostgreSQL type) pairs, or the
    rows of `query` (with `params`)."""
    if query:
        create = f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {query}"
    else:
        shape = ", ".join(f"{column} {kind}" for column, kind in columns or [])
        create = f"CREATE TEMP TABLE {name} ({shape}) ON COMMIT DROP"
    with connection.cursor() as cursor:
        # An earlier import in the same outer transaction (a test's) may have left one.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(create, params)
    return name


def insert_values(model, given: dict[str, str]) -> tuple[list[str], list[str], dict]:
    """The column list and SELECT expressions of an `INSERT ... SELECT` of `model` rows: the
    expressions `given` by column name, and each other column's model default (the current time
    for auto_now fields) as a parameter: a set-based insert misses none that Django would set.
    Returns (columns, expressions, params)."""
    from django.utils import timezone

    now = timezone.now()
    columns, expressions, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in given:
            continue
        columns.append(field.column)
        if field.column in given:
            expressions.append(given[field.column])
            continue
        name = f"default_{field.column}"
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            params[name] = now
        else:
            params[name] = field.get_db_prep_save(field.get_default(), connection)
        expressions.append(f"%({name})s")
    return columns, expressions, params


def rows_update(model, objects, fields: list[str]) -> int:
    """Save `fields` of many model instances in one `UPDATE ... FROM unnest(...)`: what Django's
    bulk_update does, without the CASE per row and field it builds (a quarter of a second for a
    hundred rows of six fields). Returns how many rows changed."""
    objects = list(objects)
    if not objects:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    arrays = [[obj.pk for obj in objects]] + [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objects]
        for field in columns
    ]
    types = [pk.rel_db_type(connection)] + [
        field.rel_db_type(connection) if field.is_relation else field.db_type(connection) for field in columns
    ]
    names = [pk.column] + [field.column for field in columns]
    # The model's own table, column names and types: nothing from input.
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    arrays_sql = ", ".join(f"%s::{kind}[]" for kind in types)
    sql = f"UPDATE {meta.db_table} t SET {assignments} FROM unnest({arrays_sql}) AS v({', '.join(names)}) "  # noqa: S608
    sql += f"WHERE t.{pk.column} = v.{pk.column}"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
