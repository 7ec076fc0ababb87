"""Forms of the personal access token pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .auth import scopes
from .services import MAX_DAYS, NAME_MAX_LENGTH


class TokenForm(FlaskForm):
    """A new token: a name to recognise it by, its scopes and how many days it lasts."""

    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(message=_l("Give the token a name, for example the script that will use it.")),
            Length(max=NAME_MAX_LENGTH),
        ],
    )
    scopes = SelectMultipleField(
        _l("What the token may do"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    days = IntegerField(
        _l("Days until it expires"),
        default=90,
        validators=[
            InputRequired(message=_l("Enter a number of days.")),
            NumberRange(min=1, max=MAX_DAYS, message=_l("Enter a number from 1 to %(max)s.", max=MAX_DAYS)),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = list(scopes().items())

    def validate_scopes(self, field):
        """At least one scope (checked here: a ``required`` flag would mark every checkbox as required)."""
        if not field.data:
            raise ValidationError(_l("Choose at least one scope."))


class RevokeForm(FlaskForm):
    """Revoking is a POST with a CSRF token, so another site cannot revoke a person's tokens."""
