"""Streaming CSV for pages, XLSX for tasks, and the one formula-injection rule both follow.

A spreadsheet treats a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (OWASP "CSV injection"): a learner named ``=HYPERLINK(…)`` must not run in an auditor's
Excel. Such text cells get a leading apostrophe; numbers, dates and empty cells are left alone. The
rule exists twice only because it must run in two places, Python row writers (``neutralise``) and SQL
exports such as ``COPY`` (``neutralise_sql``); one table of test cases drives both.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import xlsxwriter
from flask import Response
from sqlalchemy import String, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"  # lets Excel open UTF-8 (Cyrillic names) correctly
ROWS_PER_CHUNK = 500


def neutralise(value):
    """The cell as a spreadsheet may safely read it: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_sql(column) -> ColumnElement:
    """The same rule as an SQL expression (SQLite and PostgreSQL) for text columns; others are returned as they are."""
    if not isinstance(column.type, String):
        return column
    first = func.substr(column, 1, 1)
    return case((first.in_(FORMULA_STARTS), literal("'", String) + column), else_=column)


def _csv_text(rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def stream_csv(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    """Yield a CSV file in UTF-8 chunks (BOM and header first), a few hundred rows at a time, never all at once."""
    yield (UTF8_BOM + _csv_text([header])).encode()
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == ROWS_PER_CHUNK:
            yield _csv_text(batch).encode()
            batch = []
    if batch:
        yield _csv_text(batch).encode()


def attachment_header(filename: str) -> str:
    """A Content-Disposition that keeps a non-ASCII file name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """A streamed CSV download; ``rows`` should itself stream (a server-side cursor, ``yield_per``)."""
    return Response(
        stream_csv(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": attachment_header(filename)},
    )


def write_xlsx(path: Path, header: Iterable[str], rows: Iterable[Iterable], *, total=None, progress=None) -> Path:
    """Write one sheet with XlsxWriter in constant memory (a task's work: ~10k rows/s).

    Text is always written as a text cell, never as a formula, and follows the same rule as CSV.
    ``progress(percent, note)`` (a task's reporter) is called every few thousand rows when ``total`` is known.
    """
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet()
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [str(name) for name in header], bold)
    sheet.freeze_panes(1, 0)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(number, column, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(number, column, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(number, column, value, when)
            elif isinstance(value, date):
                sheet.write_datetime(number, column, value, day)
            else:
                sheet.write_string(number, column, neutralise(str(value)))
        if progress and total and number % 5000 == 0:
            progress(min(99, number * 100 // total), None)
    workbook.close()
    return path
