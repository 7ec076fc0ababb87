"""``make bench``: Pathways' figures measured against floors taken in the same run, printed as one table.

Web pages are served by gunicorn (2 sync workers) on a fresh migrated database with the demo loaded and
driven by ``wrk``; each is compared with a bare Flask route running one trivial query on the same
database, served the same way. ``flask lms audit verify`` is compared with selecting the same rows and
hashing them in one loop. Settings: ``BENCH_SECONDS`` (wrk duration per page, default 10),
``BENCH_AUDIT_EVENTS`` (default 1,000,000), ``BENCH_IMPORT_ROWS`` (default 1,000), ``BENCH_POSTGRES_URL``
(server to create the ``lms_bench`` database on; default ``postgresql://postgres@127.0.0.1:5432/``).
"""
