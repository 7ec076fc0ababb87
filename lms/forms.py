"""Core forms."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from .i18n import LANGUAGE_NAMES


class LanguageForm(FlaskForm):
    """The language switcher in every page's header."""

    locale = SelectField(_l("Language"), choices=[])
    next = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [(code, LANGUAGE_NAMES[code]) for code in current_app.config["LANGUAGES"]]
