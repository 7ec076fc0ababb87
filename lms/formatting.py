"""Jinja filters that show dates, times, numbers and hours the way the page's language writes them.

Times are stored as naive UTC datetimes and shown in a time zone: the programme's when a template passes it
(``session.starts_at|datetime(programme.time_zone)``), else the request's (``BABEL_DEFAULT_TIMEZONE``).
Hours are always derived from minutes (``record.minutes|hours``), never stored or summed as hours.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import flask_babel
from flask import Flask

# One decimal, grouped: "1,234.5" in English, "1.234,5" in Macedonian; the locale supplies the symbols.
HOURS_PATTERN = "#,##0.0"


def in_zone(value: datetime, zone: str | None = None) -> datetime:
    """A stored datetime (naive means UTC) as an aware datetime in ``zone`` or the request's time zone."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone) if zone else flask_babel.get_timezone())


def format_datetime(value: datetime | None, zone: str | None = None, format: str | None = None) -> str:
    """Date and time in ``zone``; by default the locale's medium date with its short time ("23 Nov 2026, 14:30")."""
    if value is None:
        return ""
    local = in_zone(value, zone)
    if format:
        return flask_babel.format_datetime(local, format, rebase=False)
    pattern = flask_babel.get_locale().datetime_formats["medium"]
    return (
        str(pattern)
        .replace("'", "")  # quoted literals, as Babel's own format_datetime strips them
        .replace("{0}", flask_babel.format_time(local, "short", rebase=False))
        .replace("{1}", flask_babel.format_date(local, "medium", rebase=False))
    )


def format_date(value: date | datetime | None, zone: str | None = None, format: str = "medium") -> str:
    """The calendar date; a datetime is first moved to ``zone``, so a late-evening UTC time keeps its local day."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = in_zone(value, zone)
    return flask_babel.format_date(value, format, rebase=False)


def format_time(value: datetime | None, zone: str | None = None, format: str = "short") -> str:
    """The time of day in ``zone`` ("14:30", "2:30 PM")."""
    if value is None:
        return ""
    return flask_babel.format_time(in_zone(value, zone), format, rebase=False)


def format_number(value) -> str:
    """A whole number with the locale's grouping ("1.234" in Slovenian)."""
    return "" if value is None else flask_babel.format_number(value)


def format_decimal(value, format: str | None = None) -> str:
    """A decimal number with the locale's separators ("1.234,5" in Romanian)."""
    return "" if value is None else flask_babel.format_decimal(value, format)


def format_percent(value, format: str | None = None) -> str:
    """A ratio as a percentage: 0.85 -> "85%" (or "85 %" where the locale spaces it)."""
    return "" if value is None else flask_babel.format_percent(value, format)


def format_hours(minutes: int | None) -> str:
    """Minutes shown as hours with one decimal: 90 -> "1.5" in English, "1,5" in Serbian."""
    if minutes is None:
        return ""
    return flask_babel.format_decimal(Decimal(minutes) / 60, HOURS_PATTERN)


FILTERS = {
    "datetime": format_datetime,
    "date": format_date,
    "time": format_time,
    "number": format_number,
    "decimal": format_decimal,
    "percent": format_percent,
    "hours": format_hours,
}


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(FILTERS)
