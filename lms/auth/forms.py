"""Sign-in and account forms."""

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..admin.services import identifier_taken
from ..i18n import LANGUAGE_NAMES
from .passwords import check_password, password_problem
from .totp import normalise_code


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


class AcceptablePassword:
    """WTForms validator: the password rules of ``passwords.password_problem``, with a translated message.

    The form's ``account`` attribute (the person choosing the password, when known) lets the rule
    refuse their own username or e-mail address.
    """

    def __call__(self, form, field):
        account = getattr(form, "account", None)
        problem = password_problem(
            field.data or "",
            username=account.username if account is not None else "",
            email=account.email if account is not None else None,
        )
        if problem:
            raise ValidationError(str(problem))


class NewPasswordForm(FlaskForm):
    """Choose a password (invitation, reset, after a code sign-in), typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter a new password.")), AcceptablePassword()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Type the new password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account


class ChangePasswordForm(NewPasswordForm):
    """Change one's password: the current one first, so a browser left open is not enough."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )

    def validate_current(self, field):
        """The current password must be right."""
        if not check_password(self.account.password_hash, field.data or ""):
            raise ValidationError(_("This is not your current password."))


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    login = StringField(
        _l("E-mail, username or phone number"),
        validators=[DataRequired(message=_l("Enter your e-mail, username or phone number.")), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


class CodeLoginForm(FlaskForm):
    """Sign in with a printed one-time code (the username is optional)."""

    login = StringField(
        _l("Username (if you know it)"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    code = StringField(
        _l("Sign-in code"),
        validators=[DataRequired(message=_l("Enter the code from your sheet.")), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )


class TotpCodeForm(FlaskForm):
    """A six-digit code from the authenticator app."""

    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(message=_l("Enter the six-digit code.")), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

    def validate_code(self, field):
        """Six digits (spaces allowed, as apps show them)."""
        code = normalise_code(field.data)
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError(_("The code has six digits."))


class ProfileForm(FlaskForm):
    """The person's own details: names in both scripts, e-mail, phone, language."""

    first_name = StringField(
        _l("First name"), validators=[DataRequired(message=_l("Enter your first name.")), Length(max=120)]
    )
    last_name = StringField(
        _l("Last name"), validators=[DataRequired(message=_l("Enter your last name.")), Length(max=120)]
    )
    first_name_alt = StringField(_l("First name in the other script"), validators=[Optional(), Length(max=120)])
    last_name_alt = StringField(_l("Last name in the other script"), validators=[Optional(), Length(max=120)])
    email = EmailField(
        _l("E-mail address (optional)"),
        validators=[Optional(), Length(max=254), Email(message=_l("Enter an e-mail address like name@example.org."))],
        render_kw={"autocomplete": "email"},
    )
    phone = TelField(
        _l("Phone number (optional)"),
        validators=[
            Optional(),
            Length(max=32),
            Regexp(
                r"^\+?[\d\s\-().]{6,}$", message=_l("Enter a phone number using digits, for example +389 70 123 456.")
            ),
        ],
        render_kw={"autocomplete": "tel"},
    )
    locale = SelectField(_l("Language"), choices=[])

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.locale.choices = [(code, LANGUAGE_NAMES[code]) for code in current_app.config["LANGUAGES"]]

    def validate_email(self, field):
        """No other account may use the address."""
        if identifier_taken("email", field.data, exclude_id=self.account.id):
            raise ValidationError(_("Another account already uses this e-mail address."))

    def validate_phone(self, field):
        """No other account may use the number."""
        if identifier_taken("phone", field.data, exclude_id=self.account.id):
            raise ValidationError(_("Another account already uses this phone number."))


class IssueCodesForm(FlaskForm):
    """Choose the people to print sign-in codes for."""

    people = SelectMultipleField(
        _l("People"),
        coerce=int,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate_people(self, field):
        """At least one person, and only people from the list."""
        if not field.data:
            raise ValidationError(_("Choose at least one person."))
        if not set(field.data) <= {value for value, _label in field.choices}:
            raise ValidationError(_("Choose people from the list only."))
