"""Catalogue forms: each field labelled, each refusal a translated message."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.i18n import LANGUAGE_NAMES

REQUIRED = _l("This field is required.")


def _required():
    return DataRequired(message=REQUIRED)


def language_choices():
    """The site's languages as select choices."""
    return [(code, LANGUAGE_NAMES[code]) for code in current_app.config["LANGUAGES"]]


COURSE_KIND_CHOICES = [
    ("mentor_training", _l("Mentor training")),
    ("pre_employment", _l("Pre-employment training")),
    ("vocational_qualification", _l("Vocational qualification")),
    ("informal", _l("Informal training")),
]
COHORT_STATUS_CHOICES = [
    ("planned", _l("Planned")),
    ("open", _l("Open for enrolment")),
    ("closed", _l("Closed")),
    ("cancelled", _l("Cancelled")),
]
MODE_CHOICES = [("in_person", _l("In person")), ("online", _l("Online")), ("hybrid", _l("Hybrid"))]
SESSION_KIND_CHOICES = [("theory", _l("Theory")), ("practice", _l("Practice"))]


class ProgrammeForm(FlaskForm):
    """A funded programme."""

    code = StringField(_l("Code (SMIS, EaSI or contract number)"), validators=[_required(), Length(max=60)])
    name = StringField(_l("Name"), validators=[_required(), Length(max=300)])
    funder = StringField(_l("Funder"), validators=[Optional(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country code (two letters)"), validators=[Optional(), Length(min=2, max=2)])
    time_zone = StringField(_l("Time zone"), default="Europe/Skopje", validators=[_required(), Length(max=64)])
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    languages = SelectMultipleField(_l("Languages"), choices=[], validators=[_required()])
    targets = TextAreaField(_l("Targets"), default="{}", validators=[Optional(), Length(max=5000)])
    partners = SelectMultipleField(_l("Partner organisations"), coerce=int, choices=[], validators=[Optional()])

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices()
        self.partners.choices = [(org.id, org.name) for org in organisations]


class CourseForm(FlaskForm):
    """What a course is: kind, language, accreditation."""

    code = StringField(_l("Code"), validators=[_required(), Length(max=60)])
    title = StringField(_l("Title"), validators=[_required(), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])
    kind = SelectField(_l("Kind of course"), choices=COURSE_KIND_CHOICES)
    default_language = SelectField(_l("Default language"), choices=[])
    self_application = BooleanField(_l("People may apply themselves"))
    accreditation_authority = StringField(_l("Accrediting authority"), validators=[Optional(), Length(max=200)])
    qualification_code = StringField(_l("Qualification code"), validators=[Optional(), Length(max=60)])
    eqf_level = IntegerField(_l("EQF level"), validators=[Optional(), NumberRange(min=1, max=8)])
    theory_hours = IntegerField(_l("Required theory hours"), validators=[Optional(), NumberRange(min=0, max=10000)])
    practice_hours = IntegerField(_l("Required practice hours"), validators=[Optional(), NumberRange(min=0, max=10000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_language.choices = language_choices()


class ModuleForm(FlaskForm):
    """A module of a course."""

    title = StringField(_l("Title"), validators=[_required(), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])


class LessonSettingsForm(FlaskForm):
    """A lesson's length and video link."""

    estimated_minutes = IntegerField(_l("Estimated minutes"), default=0,
                                     validators=[Optional(), NumberRange(min=0, max=1000)])  # fmt: skip
    video_url = StringField(_l("Video link"), validators=[Optional(), Length(max=500)])


class LessonVersionForm(FlaskForm):
    """A lesson's text in one language."""

    language = SelectField(_l("Language"), choices=[])
    title = StringField(_l("Title"), validators=[_required(), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=200_000)], render_kw={"rows": 18})
    published = BooleanField(_l("Published (learners can read it)"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class NewLessonForm(LessonVersionForm, LessonSettingsForm):
    """A new lesson: its first language version and its settings."""


class AttachmentForm(FlaskForm):
    """A file for a lesson."""

    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])


class CohortForm(FlaskForm):
    """A run of a course."""

    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    language = SelectField(_l("Language"), choices=[])
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    capacity = IntegerField(_l("Places (empty for no limit)"), validators=[Optional(), NumberRange(min=1, max=100000)])
    status = SelectField(_l("Status"), choices=COHORT_STATUS_CHOICES, default="open")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class SessionForm(FlaskForm):
    """A scheduled session; times in the programme's time zone."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(message=_l("Enter a date and time."))])  # fmt: skip
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired(message=_l("Enter a date and time."))])  # fmt: skip
    mode = SelectField(_l("How"), choices=MODE_CHOICES)
    kind = SelectField(_l("Theory or practice"), choices=SESSION_KIND_CHOICES)
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    meeting_url = StringField(_l("Meeting link"), validators=[Optional(), Length(max=500)])
    module = SelectField(_l("Module"), coerce=int, choices=[])
    trainers = SelectMultipleField(_l("Trainers"), coerce=int, choices=[], validators=[Optional()])

    def __init__(self, *args, modules=(), trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.module.choices = [(0, _l("No module")), *[(m.id, m.title) for m in modules]]
        self.trainers.choices = [(u.id, u.display_name) for u in trainers]


class EnrolForm(FlaskForm):
    """A programme manager enrols a person found by username, e-mail or phone number."""

    login = StringField(_l("Username, e-mail or phone number of the learner"),
                        validators=[_required(), Length(max=254)])  # fmt: skip
    reason = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class WithdrawApplicationForm(FlaskForm):
    """An applicant takes back their own application; the reason is theirs to give or not."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])
    next = HiddenField()


class StatusForm(FlaskForm):
    """Move an enrolment along its lifecycle."""

    status = SelectField(
        _l("New status"),
        choices=[("selected", _l("Selected")), ("enrolled", _l("Enrolled")), ("waitlisted", _l("Waiting list")),
                 ("withdrawn", _l("Withdrawn"))],
    )  # fmt: skip
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class MarkCompletedForm(FlaskForm):
    """A programme manager marks completion by hand."""

    reason = StringField(_l("Reason"), validators=[_required(), Length(max=500)])


class SponsorEnrolForm(FlaskForm):
    """An organisation manager enrols one of their staff in an open cohort."""

    learner = SelectField(_l("Staff member"), coerce=int, choices=[])
    cohort = SelectField(_l("Cohort"), coerce=int, choices=[])

    def __init__(self, *args, staff=(), cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.learner.choices = [(u.id, u.display_name) for u in staff]
        self.cohort.choices = [(c.id, f"{c.course.title} – {c.name}") for c in cohorts]


class ApplyForm(FlaskForm):
    """A person applies to a cohort of a course that allows it."""

    cohort = SelectField(_l("Cohort"), coerce=int, choices=[])

    def __init__(self, *args, cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort.choices = [(c.id, f"{c.name} ({c.city})") for c in cohorts]


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (mark as done, and the like)."""


class TrainerForm(FlaskForm):
    """A programme manager makes a person a trainer of a cohort."""

    login = StringField(_l("Username, e-mail or phone number of the trainer"),
                        validators=[_required(), Length(max=254)])  # fmt: skip


SENSITIVE_KIND_CHOICES = [("ethnicity", _l("Ethnicity")), ("disability", _l("Disability")), ("health", _l("Health"))]


class SensitiveForm(FlaskForm):
    """Sensitive information about an applicant, recorded only together with their consent."""

    kind = SelectField(_l("Kind of information"), choices=SENSITIVE_KIND_CHOICES)
    value = TextAreaField(_l("Information"), validators=[_required(), Length(max=2000)], render_kw={"rows": 3})
    consent_given = BooleanField(_l("The person gave their consent to recording this information"))
    consent_text_version = StringField(_l("Version of the consent text they agreed to"),
                                       validators=[_required(), Length(max=40)])  # fmt: skip
    given_at = DateField(_l("Date the consent was given"), validators=[_required()])
