"""Forms of the selection step: criteria, unpublishing, decisions (scores are read field by field, see the view)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .selection import MAX_SCORE_LIMIT, MAX_WEIGHT

REQUIRED = _l("This field is required.")
DECISION_CHOICES = [
    ("selected", _l("Selected")),
    ("waitlisted", _l("Waiting list")),
    ("rejected", _l("Not selected")),
]


class CriterionForm(FlaskForm):
    """One selection criterion as applicants will read it."""

    name = StringField(_l("Name"), validators=[DataRequired(message=REQUIRED), Length(max=200)])
    description = TextAreaField(_l("What it means, in plain words"), validators=[Optional(), Length(max=2000)],
                                render_kw={"rows": 3})  # fmt: skip
    max_score = IntegerField(
        _l("Maximum score"), default=10,
        validators=[DataRequired(message=REQUIRED),
                    NumberRange(1, MAX_SCORE_LIMIT, message=_l("A whole number from 1 to %(max)s.", max=MAX_SCORE_LIMIT))],
    )  # fmt: skip
    weight = IntegerField(
        _l("Weight"), default=1,
        validators=[DataRequired(message=REQUIRED),
                    NumberRange(1, MAX_WEIGHT, message=_l("A whole number from 1 to %(max)s.", max=MAX_WEIGHT))],
    )  # fmt: skip
    is_sensitive = BooleanField(_l("Depends on sensitive information (ethnicity, disability or health)"))


class UnpublishForm(FlaskForm):
    """Why published criteria are withdrawn."""

    reason = TextAreaField(_l("Reason for unpublishing"), validators=[DataRequired(message=REQUIRED),
                                                                     Length(max=2000)], render_kw={"rows": 2})  # fmt: skip


class DecisionForm(FlaskForm):
    """The decision on one application and its reason."""

    decision = RadioField(_l("Decision"), choices=DECISION_CHOICES, validators=[DataRequired(message=REQUIRED)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=REQUIRED), Length(max=2000)],
                           render_kw={"rows": 2})  # fmt: skip
