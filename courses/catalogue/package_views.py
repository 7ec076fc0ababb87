"""Course package pages: download a course as a ZIP; import one into a programme."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import Length, Optional

from lms.access import requires
from lms.exports import attachment_header

from . import packages
from .forms import ConfirmForm
from .views import bp, load_course, load_programme


class PackageForm(FlaskForm):
    """A course package to import, and optionally a new course code."""

    file = FileField(_l("Course package (.zip)"), validators=[FileRequired(_l("Choose a file."))])
    code = StringField(_l("Course code in this programme (leave empty to keep the package's)"),
                       validators=[Optional(), Length(max=60)])  # fmt: skip


@bp.route("/courses/<int:course_id>/package.zip", methods=["POST"])
@requires("catalogue.course.manage", load=load_course)
def course_package(course):
    """The course as a package other programmes can import (a POST: building it reads every file)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return Response(packages.export_course(course), mimetype="application/zip",
                    headers={"Content-Disposition": attachment_header(f"course-{course.code}.zip")})  # fmt: skip


@bp.route("/programmes/<int:programme_id>/import-course", methods=["GET", "POST"])
@requires("catalogue.programme.manage", load=load_programme)
def course_package_import(programme):
    """A programme manager imports a course package into their programme."""
    form = PackageForm()
    status = 200
    if form.validate_on_submit():
        try:
            course = packages.import_course(programme, form.file.data.read(), current_user, form.code.data or None)
        except packages.PackageError as error:
            form.file.errors.append(str(error))
            status = 422
        else:
            flash(_("The course was imported."), "success")
            return redirect(url_for(".course", course_id=course.id))
    title = _("Import a course into %(name)s", name=programme.name)
    return render_template("catalogue/form.html", form=form, title=title, submit=_("Import course"),
                           multipart=True), status  # fmt: skip
