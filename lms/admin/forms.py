"""Forms of the administration pages."""

from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError

from ..auth.services import normalise_phone
from ..i18n import LANGUAGE_NAMES
from ..models import ORGANISATION_KINDS, ROLES, SCOPE_TYPES
from . import ORGANISATION_KIND_LABELS, ROLE_LABELS, SCOPE_LABELS
from .services import identifier_taken

USERNAME_PATTERN = r"^[\w.\-]+$"


class SearchForm(FlaskForm):
    """Search people by name, username or e-mail (sent by POST so that names never travel in a URL)."""

    q = StringField(_l("Name, username or e-mail"), validators=[Optional(), Length(max=120)])


class PersonForm(FlaskForm):
    """A person's identifiers and names; every identifier but the username is optional."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(message=_l("Enter a username.")),
            Length(max=80),
            Regexp(USERNAME_PATTERN, message=_l("Use letters, digits, dots, dashes and underscores only.")),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    email = StringField(
        _l("E-mail address (optional)"),
        validators=[Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
        render_kw={"type": "email", "autocapitalize": "none", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Phone number (optional)"), validators=[Optional(), Length(max=32)], render_kw={"type": "tel"}
    )
    first_name = StringField(
        _l("First name"), validators=[DataRequired(message=_l("Enter a first name.")), Length(max=120)]
    )
    last_name = StringField(
        _l("Last name"), validators=[DataRequired(message=_l("Enter a last name.")), Length(max=120)]
    )
    first_name_alt = StringField(
        _l("First name in the other script (optional)"), validators=[Optional(), Length(max=120)]
    )
    last_name_alt = StringField(
        _l("Last name in the other script (optional)"), validators=[Optional(), Length(max=120)]
    )
    locale = SelectField(_l("Language"), choices=[], validators=[Optional()])

    def __init__(self, *args, user_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_id = user_id
        self.locale.choices = [("", _l("Not chosen"))] + [
            (code, LANGUAGE_NAMES[code]) for code in current_app.config["LANGUAGES"]
        ]

    def _unique(self, field, message):
        if identifier_taken(field.name, field.data, exclude_id=self._user_id):
            raise ValidationError(message)

    def validate_username(self, field):
        """Usernames are unique regardless of case."""
        self._unique(field, _l("This username is already in use."))

    def validate_email(self, field):
        """An e-mail address signs in one account only."""
        self._unique(field, _l("This e-mail address is already in use."))

    def validate_phone(self, field):
        """A phone number signs in one account only, and must be digits with an optional leading +."""
        if field.data and not normalise_phone(field.data).removeprefix("+").isdigit():
            raise ValidationError(_l("Enter a phone number with digits only, for example +389 70 123 456."))
        self._unique(field, _l("This phone number is already in use."))


class ActiveForm(FlaskForm):
    """Deactivate or reactivate an account, with the reason recorded in the audit log."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only a CSRF token and an optional reason."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class OrganisationForm(FlaskForm):
    """An organisation's names, kind and place."""

    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=200)])
    name_alt = StringField(
        _l("Name in another language or script (optional)"), validators=[Optional(), Length(max=200)]
    )
    kind = SelectField(_l("Kind"), choices=[], validators=[DataRequired(message=_l("Choose a kind."))])
    city = StringField(_l("City (optional)"), validators=[Optional(), Length(max=120)])
    country = StringField(
        _l("Country code (optional)"),
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z]{2}$", message=_l("Enter the two-letter country code, for example MK.")),
        ],
    )
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, ORGANISATION_KIND_LABELS[kind]) for kind in ORGANISATION_KINDS]

    def values(self) -> dict:
        """The cleaned values for the service."""
        return {
            "name": self.name.data.strip(),
            "name_alt": (self.name_alt.data or "").strip() or None,
            "kind": self.kind.data,
            "city": (self.city.data or "").strip() or None,
            "country": (self.country.data or "").strip().upper() or None,
            "active": bool(self.active.data),
        }


def _midnight(day):
    return datetime.combine(day, time()) if day else None


class MembershipForm(FlaskForm):
    """A role in a scope, optionally limited in time. Programmes and cohorts are named by their number."""

    role = SelectField(_l("Role"), choices=[])
    scope_type = SelectField(_l("Where"), choices=[])
    organisation_id = SelectField(_l("Organisation"), choices=[], coerce=int, validators=[Optional()])
    scope_id = IntegerField(
        _l("Programme or cohort number"), validators=[Optional(), NumberRange(min=1, message=_l("Enter a number."))]
    )
    valid_from = DateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(role, ROLE_LABELS[role]) for role in ROLES]
        self.scope_type.choices = [(scope, SCOPE_LABELS[scope]) for scope in SCOPE_TYPES]
        self.organisation_id.choices = [(0, _l("Choose an organisation"))] + [(o.id, o.name) for o in organisations]

    def validate(self, extra_validators=None):
        """Programmes and cohorts need their number; organisation grants need an organisation.

        Checked here rather than in field validators: ``Optional`` ends a field's checks when it is empty.
        """
        valid = super().validate(extra_validators)
        if self.scope_type.data in ("programme", "cohort") and not self.scope_id.data and not self.scope_id.errors:
            self.scope_id.errors.append(_l("Enter the programme or cohort number."))
            valid = False
        if self.scope_type.data == "organisation" and not self.organisation_id.data:
            self.organisation_id.errors.append(_l("Choose an organisation."))
            valid = False
        return valid

    def scope(self) -> tuple[str, int | None]:
        """The chosen scope as ``(scope_type, scope_id)``."""
        if self.scope_type.data == "organisation":
            return "organisation", self.organisation_id.data
        if self.scope_type.data == "site":
            return "site", None
        return self.scope_type.data, self.scope_id.data

    def period(self):
        """``(valid_from, valid_until)`` as the midnights (UTC) the dates name."""
        return _midnight(self.valid_from.data), _midnight(self.valid_until.data)
