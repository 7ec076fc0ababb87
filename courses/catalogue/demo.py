"""The catalogue's part of ``flask lms demo``."""


def build(ctx) -> None:
    """Programmes, courses, cohorts, sessions and enrolments of the demo (idempotent)."""
