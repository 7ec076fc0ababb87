"""Staff import pages: upload, preview with column mapping, confirmation (all or nothing), result.

The uploaded file stays on the server between the preview and the confirmation, named by a random
id carried in the form (never in the URL or the cookie).
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField

from lms.access import requires

from . import imports
from .services import CatalogueError
from .views import bp, load_organisation

ENCODING_NAMES = {
    "utf-8": _l("UTF-8"),
    "utf-8-sig": _l("UTF-8 with BOM"),
    "utf-16": _l("UTF-16 (Unicode text)"),
    "cp1251": _l("Windows-1251 (Cyrillic)"),
    "cp1250": _l("Windows-1250 (Central European)"),
    "xlsx": _l("Excel workbook"),
}
DELIMITER_NAMES = {",": _l("comma"), ";": _l("semicolon"), "\t": _l("tab"), None: _l("none (spreadsheet)")}


class UploadForm(FlaskForm):
    """The staff file."""

    file = FileField(_l("Staff file (CSV or Excel .xlsx)"), validators=[FileRequired(_l("Choose a file."))])


def mapping_form(table: imports.Table, proposed: dict[int, str]) -> FlaskForm:
    """One select per column of the file, each offering the fields, preset to ``proposed``."""

    class MappingForm(FlaskForm):
        upload = HiddenField()

    choices = [(name, imports.FIELD_LABELS[name]) for name in imports.FIELDS]
    for index, header in enumerate(table.header):
        label = _l("Column %(number)s: %(name)s", number=index + 1, name=header or "—")
        setattr(MappingForm, f"column_{index}", SelectField(label, choices=choices, default=proposed.get(index)))
    return MappingForm()


def chosen_mapping(form, table: imports.Table) -> dict[int, str]:
    """The mapping the manager chose on the preview page."""
    return {index: form[f"column_{index}"].data for index in range(len(table.header))}


def _preview(organisation, table, form, upload_id, *, remembered=False, errors=(), status=200):
    form.upload.data = upload_id
    return render_template(
        "catalogue/import_preview.html", organisation=organisation, table=table, form=form,
        rows=table.rows[: imports.PREVIEW_ROWS], total=len(table.rows), remembered=remembered, errors=errors,
        encoding=ENCODING_NAMES.get(table.encoding, table.encoding), delimiter=DELIMITER_NAMES.get(table.delimiter),
        column_fields=[form[f"column_{i}"] for i in range(len(table.header))],
    ), status  # fmt: skip


@bp.route("/organisations/<int:organisation_id>/import", methods=["GET", "POST"])
@requires("catalogue.staff.import", load=load_organisation)
def staff_import(organisation):
    """Upload a staff file; the preview shows what was detected and proposes a column for each field."""
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            table = imports.read_table(data)
        except CatalogueError as error:
            form.file.errors.append(str(error))
        else:
            upload_id = imports.keep_upload(organisation, current_user, data)
            proposed, remembered = imports.proposed_mapping(organisation, table)
            return _preview(organisation, table, mapping_form(table, proposed), upload_id, remembered=remembered)
    status = 400 if form.errors else 200
    return render_template("catalogue/import_upload.html", organisation=organisation, form=form), status


@bp.route("/organisations/<int:organisation_id>/import/confirm", methods=["POST"])
@requires("catalogue.staff.import", load=load_organisation)
def staff_import_confirm(organisation):
    """Import the kept file with the chosen mapping: everyone, or nobody and every bad row listed."""
    upload_id = request.form.get("upload", "")
    data = imports.load_upload(upload_id, organisation, current_user)
    if data is None:
        flash(_("The uploaded file is no longer available. Upload it again."), "error")
        return redirect(url_for(".staff_import", organisation_id=organisation.id))
    table = imports.read_table(data)
    form = mapping_form(table, {})
    if not form.validate_on_submit():
        return _preview(organisation, table, form, upload_id, status=400)
    mapping = chosen_mapping(form, table)
    if len(table.rows) > imports.sync_limit():
        # Checked here, so the manager sees every bad row now; a smaller file is checked by import_staff itself.
        if errors := imports.check_staff(organisation, table, mapping):
            return _preview(organisation, table, form, upload_id, errors=errors, status=422)
        task = imports.queue_import(organisation, upload_id, mapping, current_user)
        flash(_("Every row is correct. The import runs in the background: this page shows its progress."), "success")
        return redirect(url_for("tasks.status", public_id=task.public_id))
    try:
        result = imports.import_staff(organisation, table, mapping, current_user)
    except CatalogueError as error:
        return _preview(organisation, table, form, upload_id, errors=[imports.RowError(1, str(error))], status=422)
    if not result.ok:
        return _preview(organisation, table, form, upload_id, errors=result.errors, status=422)
    imports.discard_upload(upload_id)
    return render_template("catalogue/import_done.html", organisation=organisation, result=result)
