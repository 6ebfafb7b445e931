"""Database helpers shared by the apps."""

import csv
import io

from django.db import connection

BIGINT_MAX = 2**63 - 1


def record_id(text) -> int | None:
    """A record id someone sent (a form field, a query string, a JSON value): plain ASCII digits
    that fit a bigint, else None. ("²" is a digit to Python but not to int(), and a 30-digit
    number would make PostgreSQL refuse the query.)"""
    text = str(text if text is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or int(text) > BIGINT_MAX:
        return None
    return int(text)


def copy_rows(table: str, columns: list[str], rows) -> int:
    """Insert many rows with PostgreSQL's COPY: for large runs (the bill run's lines), it is many
    times faster than INSERT. Runs inside the caller's transaction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    return count


def sequence_next_values(table: str, count: int) -> list[int]:
    """`count` ids from the table's id sequence, for rows about to be COPYed with their ids."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]
