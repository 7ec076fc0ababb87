"""Sign-in and account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """E-mail address, username or phone number, and password."""

    login = StringField(
        _l("E-mail, username or phone number"),
        validators=[
            DataRequired(message=_l("Enter your e-mail, username or phone number.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Signing out is a POST with a CSRF token, so another site cannot sign a person out."""
