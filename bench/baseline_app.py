"""The floor the pages are measured against: a bare Flask app whose one route runs ``SELECT 1``.

Served exactly like Pathways (``gunicorn bench.baseline_app:app``, 2 sync workers) on the same database,
named by ``LMS_DATABASE_URL``; no extensions, no templates, no session.
"""

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from lms.config import database_uri

engine = create_engine(database_uri(os.environ["LMS_DATABASE_URL"], Path(".")))
app = Flask(__name__)


@app.route("/")
def trivial_query():
    """One trivial query through SQLAlchemy, the least any database-backed page does."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT 1")).scalar_one())
