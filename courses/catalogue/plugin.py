"""Hook implementations of the catalogue plugin."""

from lms.plugins import hookimpl


@hookimpl
def lms_permissions():
    """Actions of the catalogue."""
    return {}
