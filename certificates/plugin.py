"""Hook implementations of the certificates plugin."""

from lms.plugins import hookimpl


@hookimpl
def lms_permissions():
    """Actions of the certificates plugin."""
    return {}
