"""The form macros tie every field to its label, hint and error, and group choices in a fieldset."""

import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

PAGE = """{% from "macros.html" import field, form_errors %}{{ form_errors(form) }}
{{ field(form.name, hint="As on your ID card.") }}{{ field(form.mode) }}{{ field(form.days, hint="Pick any.") }}
{{ field(form.agree) }}"""


class ExampleForm(FlaskForm):
    """A field of each kind the macro treats differently."""

    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired(message="Enter a name.")])
    mode = RadioField(
        "Mode", choices=[("online", "Online"), ("room", "In a room")], validators=[DataRequired("Pick one.")]
    )
    days = SelectMultipleField(
        "Days", choices=[("mon", "Monday"), ("tue", "Tuesday")], widget=ListWidget(), option_widget=CheckboxInput()
    )
    agree = BooleanField("I agree")


def _render(app, data=None):
    with app.test_request_context(method="POST" if data is not None else "GET", data=data or {}):
        form = ExampleForm()
        if data is not None:
            form.validate()
        return render_template_string(PAGE, form=form)


def _tag(html, pattern):
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def test_fields_without_errors_have_labels_and_hints(app):
    html = _render(app)
    assert 'role="alert"' not in html
    assert '<label for="name">Name</label>' in html
    assert 'aria-describedby="name-hint"' in _tag(html, r"<input[^>]*id=\"name\"[^>]*>")
    assert 'id="name-hint"' in html and "aria-invalid" not in html
    assert '<label for="agree">I agree</label>' in html


def test_choices_are_a_fieldset_with_a_legend_and_a_label_per_option(app):
    html = _render(app)
    for name, legend, options in (("mode", "Mode", ("Online", "In a room")), ("days", "Days", ("Monday", "Tuesday"))):
        fieldset = _tag(html, rf'<fieldset[^>]*id="{name}"[^>]*>\s*<legend>{legend}</legend>')
        assert "choices" in fieldset
        for i, option in enumerate(options):
            assert f'<label for="{name}-{i}">{option}</label>' in html
    assert 'aria-describedby="days-hint"' in _tag(html, r'<fieldset[^>]*id="days"[^>]*>')


def test_errors_are_summarised_linked_and_described(app):
    html = _render(app, data={"name": ""})
    summary = _tag(html, r'<div class="error-summary" role="alert">.*?</div>')
    assert '<a href="#name">Name</a>: Enter a name.' in summary.replace("\n", "")
    assert '<a href="#mode">Mode</a>: Pick one.' in summary.replace("\n", "")
    name_input = _tag(html, r"<input[^>]*id=\"name\"[^>]*>")
    assert 'aria-describedby="name-hint name-error"' in name_input and 'aria-invalid="true"' in name_input
    assert '<p class="error" id="name-error">Enter a name.</p>' in html
    mode = _tag(html, r'<fieldset[^>]*id="mode"[^>]*>')
    assert 'aria-describedby="mode-error"' in mode and "field-error" in mode
