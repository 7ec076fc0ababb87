"""Administration: people, organisations, role grants, invitations and the outbox; organisation managers' people pages."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "learner": _l("Learner"),
    "trainer": _l("Trainer"),
    "mentor": _l("Mentor"),
    "supervisor": _l("Workplace supervisor"),
    "organisation_manager": _l("Organisation manager"),
    "programme_manager": _l("Programme manager"),
    "auditor": _l("Auditor"),
    "administrator": _l("Administrator"),
    "member": _l("Member of staff"),
}

ORGANISATION_KIND_LABELS = {
    "employment_centre": _l("Employment centre"),
    "social_work_centre": _l("Centre for social work"),
    "ngo": _l("Non-governmental organisation (NGO)"),
    "employer": _l("Employer"),
    "training_provider": _l("Training provider"),
    "public_authority": _l("Public authority"),
}

SCOPE_LABELS = {
    "site": _l("Whole site"),
    "organisation": _l("Organisation"),
    "programme": _l("Programme"),
    "cohort": _l("Cohort"),
}
