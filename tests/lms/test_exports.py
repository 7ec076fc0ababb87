"""Exports: the formula-injection rule (one table of cases for Python and SQL), streamed CSV, XLSX."""

import csv
import io

import openpyxl
import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, select

from lms.exports import attachment_header, csv_response, neutralise, neutralise_sql, stream_csv, write_xlsx
from lms.extensions import db

# (cell as stored, cell as exported): the one table both versions of the rule answer to.
CASES = [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
    ("+38970123456", "'+38970123456"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Ана Петровска", "Ана Петровска"),
    ("Mira-Test = 2", "Mira-Test = 2"),
    ("'already quoted", "'already quoted"),
    ("", ""),
    (None, None),
    (42, 42),
    (-3, -3),
    (-2.5, -2.5),
]

cells = Table(
    "test_export_cell",
    MetaData(),  # not the application's metadata: the migration drift check never sees it
    Column("id", Integer, primary_key=True),
    Column("text_value", String(200)),
    Column("number_value", Float),
)


@pytest.mark.parametrize(("stored", "exported"), CASES)
def test_python_rule(stored, exported):
    assert neutralise(stored) == exported


@pytest.fixture
def cell_table(app):
    with app.app_context():
        cells.create(db.engine)
        with db.engine.begin() as conn:
            conn.execute(
                cells.insert(),
                [
                    {
                        "id": i,
                        "text_value": None if isinstance(stored, int | float) else stored,
                        "number_value": stored if isinstance(stored, int | float) else None,
                    }
                    for i, (stored, _) in enumerate(CASES)
                ],
            )
    yield
    with app.app_context():
        cells.drop(db.engine)


def test_sql_rule_matches_the_same_table(app, cell_table):
    query = select(neutralise_sql(cells.c.text_value), neutralise_sql(cells.c.number_value)).order_by(cells.c.id)
    with app.app_context(), db.engine.connect() as conn:
        got = [text if number is None else number for text, number in conn.execute(query)]
    assert got == [exported for _, exported in CASES]


def test_sql_rule_in_a_postgresql_copy(app, cell_table):
    """COPY is PostgreSQL's; on SQLite the same expression is checked above."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            assert conn.dialect.name == "sqlite"
            return
        query = select(neutralise_sql(cells.c.text_value)).where(cells.c.text_value.is_not(None)).order_by(cells.c.id)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        data = io.StringIO()
        with conn.connection.cursor().copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                data.write(bytes(chunk).decode())
    exported = [row[0] for row in csv.reader(io.StringIO(data.getvalue(), newline=""))]
    assert exported == [exported for stored, exported in CASES if isinstance(stored, str)]


def test_csv_streams_in_chunks_with_bom_and_neutralised_cells():
    rows = ([i, "=cmd", "Јована Јовановска"] for i in range(1200))
    chunks = stream_csv(["#", "note", "name"], rows)
    first = next(chunks)
    assert first == "\ufeff#,note,name\r\n".encode()
    rest = list(chunks)
    assert len(rest) == 3  # 500 + 500 + 200 rows: never the whole file at once
    text = b"".join([first, *rest]).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["0", "'=cmd", "Јована Јовановска"] and len(parsed) == 1201


def test_csv_response_is_a_streamed_download(app):
    with app.test_request_context():
        response = csv_response("присуство.csv", ["name"], [["Ана"]])
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == attachment_header("присуство.csv")
    assert "filename*=UTF-8''%D0%BF" in response.headers["Content-Disposition"]
    assert b"".join(response.response).decode("utf-8-sig") == "name\r\nАна\r\n"


def test_xlsx_writes_text_as_text_and_numbers_as_numbers(tmp_path):
    calls = []
    rows = [["=1+1", 5, "Ана"], ["-risk", -2.5, None]] * 5000
    path = write_xlsx(
        tmp_path / "out.xlsx", ["a", "b", "c"], rows, total=len(rows), progress=lambda p, n: calls.append(p)
    )
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["a", "b", "c"]
    assert [c.value for c in sheet[2]] == ["'=1+1", 5, "Ана"]
    assert sheet["A2"].data_type == "s" and sheet["B3"].value == -2.5 and sheet["C3"].value is None
    assert calls == [50, 99]
