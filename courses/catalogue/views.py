"""Catalogue pages: programmes, courses, content, cohorts, sessions, enrolment, lessons, staff and calendar.

Views stay thin: they load, check access (``@requires``), call a service and render. Learners and
trainers reach a course through their cohort membership, so course and lesson pages check access
against the course *as reached by the viewer* (``Reached``), whose path adds the viewer's cohorts.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms import access
from lms.access import can, requires
from lms.auth.services import find_account
from lms.database import utcnow
from lms.extensions import db
from lms.models import Membership, Organisation, User
from lms.page_cache import cached_page
from lms.plugins import flat, hook
from lms.security import safe_next

from . import services
from .forms import (
    ApplyForm,
    AttachmentForm,
    CohortForm,
    ConfirmForm,
    CourseForm,
    EnrolForm,
    LessonSettingsForm,
    LessonVersionForm,
    MarkCompletedForm,
    ModuleForm,
    NewLessonForm,
    ProgrammeForm,
    SessionForm,
    SponsorEnrolForm,
    StatusForm,
    WithdrawApplicationForm,
)
from .models import (
    SEAT_STATUSES,
    Cohort,
    Course,
    Enrolment,
    Lesson,
    LessonAttachment,
    LessonProgress,
    LessonVersion,
    Module,
    Programme,
    Session,
    session_trainer,
)

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue", template_folder="templates")


@bp.app_template_filter("catalogue_local")
def local_time(utc: datetime, tz_name: str) -> datetime:
    """A stored UTC time as wall-clock time in a programme's zone (templates format it)."""
    return services.to_local(utc, tz_name)


@bp.app_context_processor
def status_labels() -> dict:
    """``catalogue_status(status)`` for templates: an enrolment status in the page's language.

    A roster shows a status on every row; each label is translated once per page instead of once per row.
    """
    labels = {}

    def catalogue_status(status: str) -> str:
        if status not in labels:
            labels[status] = services.status_label(status)
        return labels[status]

    return {"catalogue_status": catalogue_status}


# --- loaders -----------------------------------------------------------------------------------------


@dataclass
class Reached:
    """An object of a course as the viewer reaches it: its own path plus the viewer's cohorts of that course."""

    obj: object
    cohort_ids: tuple

    def access_path(self):
        """The viewer's cohorts of the course come first, then the object's own scopes."""
        return [*(("cohort", cid) for cid in self.cohort_ids), *self.obj.access_path()]


def viewer_cohort_ids(course_id: int) -> tuple:
    """The cohorts of a course in which the signed-in person holds any role (one query, none if they hold none)."""
    ids = {sid for _role, st, sid in access.grants(current_user) if st == "cohort"}
    if not ids:
        return ()
    return tuple(
        db.session.execute(select(Cohort.id).where(Cohort.course_id == course_id, Cohort.id.in_(ids))).scalars()
    )


def load_programme(programme_id):
    """The programme named in the URL."""
    return db.session.get(Programme, programme_id)


def load_course(course_id):
    """The course named in the URL, with its programme."""
    return db.session.get(Course, course_id, options=[joinedload(Course.programme)])


def load_reached_course(course_id):
    """The course as the viewer reaches it."""
    course = load_course(course_id)
    return Reached(course, viewer_cohort_ids(course.id)) if course else None


def load_module(module_id):
    """The module named in the URL, with its course."""
    return db.session.get(Module, module_id, options=[joinedload(Module.course)])


def load_lesson(lesson_id):
    """The lesson named in the URL, with its module and course."""
    return db.session.get(
        Lesson, lesson_id, options=[joinedload(Lesson.module), joinedload(Lesson.course).joinedload(Course.programme)]
    )


def load_reached_lesson(lesson_id):
    """The lesson as the viewer reaches it."""
    lesson = load_lesson(lesson_id)
    return Reached(lesson, viewer_cohort_ids(lesson.course_id)) if lesson else None


def load_reached_attachment(attachment_id):
    """An attachment as the viewer reaches it."""
    attachment = db.session.get(LessonAttachment, attachment_id, options=[joinedload(LessonAttachment.lesson)])
    return Reached(attachment, viewer_cohort_ids(attachment.lesson.course_id)) if attachment else None


def load_cohort(cohort_id):
    """The cohort named in the URL (its course and programme load when a page uses them, not for the access
    check, which is all a page served from the page cache needs)."""
    return db.session.get(Cohort, cohort_id)


def load_enrolment(enrolment_id):
    """The enrolment named in the URL, with its cohort."""
    return db.session.get(Enrolment, enrolment_id, options=[joinedload(Enrolment.cohort)])


def load_organisation(organisation_id):
    """The organisation named in the URL."""
    return db.session.get(Organisation, organisation_id)


def _fail(error: services.CatalogueError) -> None:
    flash(str(error), "error")


# --- programmes --------------------------------------------------------------------------------------


@bp.route("/programmes")
@requires("catalogue.programme.list")
def programmes():
    """The programmes the person builds or audits (filtered in SQL)."""
    ids = access.scope_ids(current_user, "catalogue.programme.view", "programme")
    query = select(Programme).order_by(Programme.start_date.desc().nulls_last(), Programme.name)
    if ids is not None:
        query = query.where(Programme.id.in_(ids))
    rows = db.session.execute(query).scalars().all()
    return render_template("catalogue/programmes.html", programmes=rows,
                           may_create=can(current_user, "catalogue.programme.create"))  # fmt: skip


def _organisations():
    return db.session.execute(select(Organisation).order_by(Organisation.name)).scalars().all()


def _programme_values(form: ProgrammeForm) -> dict:
    return {
        "code": form.code.data.strip(), "name": form.name.data.strip(), "funder": form.funder.data or "",
        "region": form.region.data or "", "country": (form.country.data or "").upper() or None,
        "time_zone": form.time_zone.data.strip(), "start_date": form.start_date.data, "end_date": form.end_date.data,
        "languages": " ".join(form.languages.data), "targets": form.targets.data or "{}",
    }  # fmt: skip


def _save_programme_form(form, programme=None):
    partners = [org for org in _organisations() if org.id in set(form.partners.data or [])]
    try:
        return services.save_programme(_programme_values(form), current_user, programme, partners=partners)
    except services.CatalogueError as error:
        _fail(error)
        return None


@bp.route("/programmes/new", methods=["GET", "POST"])
@requires("catalogue.programme.create")
def programme_new():
    """An administrator creates a programme."""
    form = ProgrammeForm(organisations=_organisations())
    if form.validate_on_submit() and (programme := _save_programme_form(form)):
        flash(_("The programme was created."), "success")
        return redirect(url_for(".programme", programme_id=programme.id))
    return render_template("catalogue/form.html", form=form, title=_("New programme"), submit=_("Create programme"))


@bp.route("/programmes/<int:programme_id>")
@requires("catalogue.programme.view", load=load_programme)
def programme(programme):
    """A programme: its details, courses and cohorts."""
    cohorts = db.session.execute(
        select(Cohort).where(Cohort.programme_id == programme.id).options(joinedload(Cohort.course))
        .order_by(Cohort.start_date)
    ).scalars().all()  # fmt: skip
    return render_template("catalogue/programme.html", programme=programme, cohorts=cohorts,
                           may_manage=can(current_user, "catalogue.programme.manage", programme))  # fmt: skip


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@requires("catalogue.programme.manage", load=load_programme)
def programme_edit(programme):
    """Change a programme's details and partners."""
    form = ProgrammeForm(obj=programme, organisations=_organisations())
    if request.method == "GET":
        form.languages.data = programme.language_list
        form.partners.data = [org.id for org in programme.partners]
    if form.validate_on_submit() and _save_programme_form(form, programme):
        flash(_("The programme was saved."), "success")
        return redirect(url_for(".programme", programme_id=programme.id))
    return render_template("catalogue/form.html", form=form, title=_("Edit programme"), submit=_("Save"))


# --- courses and content -----------------------------------------------------------------------------


def _course_values(form: CourseForm) -> dict:
    return {name: (getattr(form, name).data.strip() if isinstance(getattr(form, name).data, str)
                   else getattr(form, name).data) for name in services.COURSE_FIELDS}  # fmt: skip


@bp.route("/programmes/<int:programme_id>/courses/new", methods=["GET", "POST"])
@requires("catalogue.programme.manage", load=load_programme)
def course_new(programme):
    """A programme manager adds a course."""
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = services.save_course(programme, _course_values(form), current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The course was created. Now add its modules."), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template("catalogue/form.html", form=form, title=_("New course in %(name)s", name=programme.name),
                           submit=_("Create course"))  # fmt: skip


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_course)
def course_edit(course):
    """Change what a course is."""
    form = CourseForm(obj=course)
    if form.validate_on_submit():
        try:
            services.save_course(course.programme, _course_values(form), current_user, course)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The course was saved."), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template("catalogue/form.html", form=form, title=_("Edit course"), submit=_("Save"))


def lesson_titles(lesson_ids, language: str, default_language: str, published_only: bool = True) -> dict[int, str]:
    """Each lesson's title in ``language``, else the course default, else any other version (one query).

    Only published versions count unless ``published_only`` is false (people who edit the course see drafts);
    a lesson with none has no title here.
    """
    if not lesson_ids:
        return {}
    rows = db.session.execute(
        select(LessonVersion.lesson_id, LessonVersion.language, LessonVersion.title, LessonVersion.published).where(
            LessonVersion.lesson_id.in_(list(lesson_ids))
        )
    ).all()
    rank = {language: 0, default_language: 1}
    best: dict[int, tuple[tuple[int, str], str]] = {}
    for lesson_id, lang, title, published in rows:
        if published_only and not published:
            continue
        score = (rank.get(lang, 2), lang)  # among other languages the lowest code, as ``pick_version`` does
        if lesson_id not in best or score < best[lesson_id][0]:
            best[lesson_id] = (score, title)
    return {lesson_id: title for lesson_id, (_score, title) in best.items()}


def _viewer_language() -> str:
    from flask_babel import get_locale

    return str(get_locale())


def course_tabs(course) -> list[dict]:
    """The course page's tabs from every plugin, in order, with their URLs."""
    tabs = sorted(flat(hook().lms_course_tabs(course=course, user=current_user)), key=lambda t: t.get("order", 100))
    return [{**tab, "url": url_for(tab["endpoint"], **tab.get("values", {}))} for tab in tabs]


@bp.route("/courses/<int:course_id>")
@requires("catalogue.course.view", load=load_reached_course)
def course(reached):
    """A course: tabs, modules and lessons (with the viewer's progress), cohorts for those who manage them.

    Learners see published lessons only; those who manage the course see drafts too, to edit them.
    """
    course = reached.obj
    may_manage = can(current_user, "catalogue.course.manage", course)
    lessons = Module.lessons if may_manage else Module.lessons.and_(services.lesson_published())
    modules = db.session.execute(
        select(Module).where(Module.course_id == course.id).options(selectinload(lessons))
        .order_by(Module.position)
    ).scalars().all()  # fmt: skip
    lesson_ids = [lesson.id for module in modules for lesson in module.lessons]
    # Progress counts published lessons, for managers too: it is what a learner has to do.
    published_ids = set(lesson_ids)
    if may_manage:
        published_ids = set(
            db.session.execute(
                select(Lesson.id).where(Lesson.course_id == course.id, services.lesson_published())
            ).scalars()
        )
    done = set(
        db.session.execute(
            select(LessonProgress.lesson_id).where(
                LessonProgress.user_id == current_user.id, LessonProgress.course_id == course.id,
                LessonProgress.done_at.is_not(None),
            )
        ).scalars()
    )  # fmt: skip
    cohorts = []
    if may_manage or can(current_user, "catalogue.programme.view", course):
        cohorts = db.session.execute(
            select(Cohort, func.count(Enrolment.id))
            .outerjoin(Enrolment, and_(Enrolment.cohort_id == Cohort.id, Enrolment.status.in_(SEAT_STATUSES)))
            .where(Cohort.course_id == course.id)
            .group_by(Cohort.id)
            .order_by(Cohort.start_date)
        ).all()
    open_cohorts = []
    if course.self_application and not reached.cohort_ids:
        open_cohorts = db.session.execute(
            select(Cohort).where(Cohort.course_id == course.id, Cohort.status == "open")
        ).scalars().all()  # fmt: skip
    return render_template(
        "catalogue/course.html", course=course, modules=modules, done=done, tabs=course_tabs(course),
        titles=lesson_titles(lesson_ids, _viewer_language(), course.default_language, published_only=not may_manage),
        cohorts=cohorts, may_manage=may_manage, apply_form=ApplyForm(cohorts=open_cohorts) if open_cohorts else None,
        lesson_count=len(published_ids), done_count=len(done & published_ids),
    )  # fmt: skip


@bp.route("/courses/<int:course_id>/modules/new", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_course)
def module_new(course):
    """Add a module to a course."""
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            services.add_module(course, form.title.data, form.summary.data, current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The module was added."), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template("catalogue/form.html", form=form, title=_("New module in %(title)s", title=course.title),
                           submit=_("Add module"))  # fmt: skip


@bp.route("/modules/<int:module_id>/lessons/new", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_module)
def lesson_new(module):
    """Add a lesson to a module, with its text in one language."""
    form = NewLessonForm()
    if request.method == "GET":
        form.language.data = module.course.default_language
    if form.validate_on_submit():
        try:
            lesson = services.add_lesson(
                module, language=form.language.data, title=form.title.data, body_html=form.body.data or "",
                by=current_user, estimated_minutes=form.estimated_minutes.data or 0, video_url=form.video_url.data,
                published=form.published.data,
            )  # fmt: skip
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The lesson was added."), "success")
            return redirect(url_for(".lesson_edit", lesson_id=lesson.id))
    return render_template("catalogue/form.html", form=form, title=_("New lesson in %(title)s", title=module.title),
                           submit=_("Add lesson"),
                           hint=_("Headings, lists, links, images and tables are kept; anything else is removed."))  # fmt: skip


@bp.route("/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_lesson)
def lesson_edit(lesson):
    """Edit a lesson: its settings, its text in any language, its files."""
    versions = {v.language: v for v in lesson.versions}
    language = request.values.get("language") or lesson.course.default_language
    version = versions.get(language)
    version_form = LessonVersionForm(prefix="v", obj=version)
    settings_form = LessonSettingsForm(prefix="s", obj=lesson)
    if request.method == "GET":
        version_form.language.data = language
        version_form.body.data = version.body_html if version else ""
    if request.method == "POST":
        try:
            if "v-title" in request.form and version_form.validate_on_submit():
                services.save_lesson_version(lesson, version_form.language.data, version_form.title.data,
                                             version_form.body.data or "", version_form.published.data,
                                             current_user)  # fmt: skip
                flash(_("The text was saved."), "success")
                return redirect(url_for(".lesson_edit", lesson_id=lesson.id, language=version_form.language.data))
            if "s-estimated_minutes" in request.form and settings_form.validate_on_submit():
                services.update_lesson(lesson, estimated_minutes=settings_form.estimated_minutes.data or 0,
                                       video_url=settings_form.video_url.data, by=current_user)  # fmt: skip
                flash(_("The lesson was saved."), "success")
                return redirect(url_for(".lesson_edit", lesson_id=lesson.id, language=language))
        except services.CatalogueError as error:
            _fail(error)
    return render_template("catalogue/lesson_edit.html", lesson=lesson, versions=versions,
                           version_form=version_form, settings_form=settings_form,
                           attachment_form=AttachmentForm(prefix="a"))  # fmt: skip


@bp.route("/lessons/<int:lesson_id>/attachments", methods=["POST"])
@requires("catalogue.course.manage", load=load_lesson)
def attachment_upload(lesson):
    """Attach a file to a lesson; its type is checked by content."""
    form = AttachmentForm(prefix="a")
    if form.validate_on_submit():
        upload = form.file.data
        try:
            services.add_attachment(lesson, upload.filename, upload.read(), current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The file was attached."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for(".lesson_edit", lesson_id=lesson.id))


@bp.route("/attachments/<int:attachment_id>")
@requires("catalogue.attachment.download", load=load_reached_attachment)
def attachment(reached):
    """Download a lesson's file, always as a download with the type found at upload."""
    item = reached.obj
    path = services.attachment_path(item)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename)


# --- lessons as learners see them --------------------------------------------------------------------


def pick_version(versions, language: str, default_language: str, published_only: bool = True):
    """The version in the viewer's language, else the course default, else any other, else None.

    The last fallback keeps a lesson published only in a third language readable, since learners see it listed.
    """
    usable = {v.language: v for v in versions if v.published or not published_only}
    other = usable[min(usable)] if usable else None  # the same one ``lesson_titles`` takes its title from
    return usable.get(language) or usable.get(default_language) or other


@bp.route("/lessons/<int:lesson_id>")
@requires("catalogue.course.view", load=load_reached_lesson)
def lesson(reached):
    """A lesson page: text in the learner's language, files, previous/next, mark as done."""
    lesson = reached.obj
    course = lesson.course
    may_manage = can(current_user, "catalogue.course.manage", course)
    versions = db.session.execute(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)).scalars().all()
    version = pick_version(versions, _viewer_language(), course.default_language, published_only=not may_manage)
    if version is None and not may_manage:
        abort(404)
    query = (
        select(Lesson.id).join(Module, Module.id == Lesson.module_id).where(Lesson.course_id == course.id)
        .order_by(Module.position, Lesson.position)
    )  # fmt: skip
    if not may_manage:
        # Previous, next and the position skip drafts, which a learner could not open.
        query = query.where(services.lesson_published())
    ordered = db.session.execute(query).scalars().all()
    index = ordered.index(lesson.id)
    neighbours = [i for i in (ordered[index - 1] if index else None,
                              ordered[index + 1] if index + 1 < len(ordered) else None) if i]  # fmt: skip
    titles = lesson_titles(neighbours, _viewer_language(), course.default_language, published_only=not may_manage)
    progress = db.session.execute(
        select(LessonProgress).where(LessonProgress.user_id == current_user.id, LessonProgress.lesson_id == lesson.id)
    ).scalar_one_or_none()
    attachments = db.session.execute(
        select(LessonAttachment).where(LessonAttachment.lesson_id == lesson.id).order_by(LessonAttachment.filename)
    ).scalars().all()  # fmt: skip
    enrolment = _own_enrolment(course.id)
    if enrolment is not None:
        services.record_view(current_user, lesson)
    return render_template(
        "catalogue/lesson.html", lesson=lesson, course=course, version=version, attachments=attachments,
        previous_id=ordered[index - 1] if index else None,
        next_id=ordered[index + 1] if index + 1 < len(ordered) else None, titles=titles,
        done=bool(progress and progress.done_at), may_record=enrolment is not None, form=ConfirmForm(),
        position=index + 1, total=len(ordered), may_manage=may_manage,
    )  # fmt: skip


def _own_enrolment(course_id: int) -> Enrolment | None:
    """The signed-in person's current seat in a cohort of the course, if any."""
    return db.session.execute(
        select(Enrolment).join(Cohort, Cohort.id == Enrolment.cohort_id).where(
            Enrolment.user_id == current_user.id, Cohort.course_id == course_id, Enrolment.status.in_(SEAT_STATUSES)
        ).options(joinedload(Enrolment.cohort)).limit(1)
    ).scalar_one_or_none()  # fmt: skip


def load_own_enrolment_for_lesson(lesson_id):
    """The signed-in learner's enrolment in the lesson's course (the object ``mark as done`` is checked on)."""
    lesson = load_lesson(lesson_id)
    if lesson is None:
        return None
    enrolment = _own_enrolment(lesson.course_id)
    return (enrolment, lesson) if enrolment else None


@dataclass
class LessonOfEnrolment:
    """A lesson together with the enrolment through which the learner records progress on it."""

    enrolment: Enrolment
    lesson: Lesson

    def access_path(self):
        """Progress is the learner's own: checked on the enrolment."""
        return self.enrolment.access_path()


def load_progress_target(lesson_id):
    """The lesson and the signed-in learner's enrolment in its course (404 without one)."""
    if not current_user.is_authenticated:
        return load_lesson(lesson_id)  # refused by the check, which sends the visitor to sign in
    found = load_own_enrolment_for_lesson(lesson_id)
    return LessonOfEnrolment(*found) if found else None


@bp.route("/lessons/<int:lesson_id>/done", methods=["POST"])
@requires("catalogue.progress.record", load=load_progress_target)
def lesson_done(target):
    """Mark a lesson done (or not done) and go on to the next one."""
    form = ConfirmForm()
    if form.validate_on_submit():
        done = request.form.get("done", "1") == "1"
        services.mark_done(current_user, target.lesson, done)
        flash(_("Marked as done.") if done else _("Marked as not done."), "success")
        next_id = request.form.get("next", type=int)
        if done and next_id:
            return redirect(url_for(".lesson", lesson_id=next_id))
    return redirect(url_for(".lesson", lesson_id=target.lesson.id))


# --- cohorts, sessions, enrolment --------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_course)
def cohort_new(course):
    """Schedule a run of a course."""
    form = CohortForm()
    if request.method == "GET":
        form.language.data = course.default_language
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.COHORT_FIELDS}
        try:
            cohort = services.save_cohort(course, values, current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The cohort was created."), "success")
            return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("catalogue/form.html", form=form, title=_("New cohort of %(title)s", title=course.title),
                           submit=_("Create cohort"))  # fmt: skip


def cohort_trainers_of(cohort_id: int) -> list[User]:
    """The cohort's trainers, by name."""
    ids = services.cohort_trainer_ids([cohort_id]).get(cohort_id, [])
    return db.session.execute(
        select(User).where(User.id.in_(ids)).order_by(User.last_name, User.first_name)
    ).scalars().all()  # fmt: skip


@dataclass(frozen=True)
class RosterEntry:
    """One enrolment as a cohort's roster shows it."""

    id: int
    status: str
    reason: str
    name: str
    sponsor_name: str


def roster_of(cohort_id: int) -> list[RosterEntry]:
    """A cohort's enrolments with the learner's name and sponsor, in one query of plain columns.

    Loading a hundred enrolments with their people and organisations as ORM objects took seven times as long.
    """
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.status, Enrolment.reason, User.first_name, User.last_name, User.username,
               Organisation.name)
        .join(User, User.id == Enrolment.user_id).outerjoin(Organisation, Organisation.id == Enrolment.sponsor_id)
        .where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.status, Enrolment.id)
    ).all()  # fmt: skip
    return [RosterEntry(id, status, reason, User.name_from(first, last, username), sponsor or "")
            for id, status, reason, first, last, username, sponsor in rows]  # fmt: skip


@dataclass(frozen=True)
class SessionEntry:
    """One session as a cohort's page shows it, its times already in the programme's zone."""

    starts: datetime
    ends: datetime
    title: str
    kind: str
    place: str
    meeting_url: str | None
    trainer_names: str


def sessions_of(cohort_id: int, tz_name: str) -> list[SessionEntry]:
    """A cohort's sessions with their module's title and trainers' names, in two queries of plain columns
    (as ``roster_of``: a few dozen sessions with their trainers as ORM objects cost more than the rest of the page)."""
    rows = db.session.execute(
        select(Session.id, Session.starts_at, Session.ends_at, Session.title, Module.title, Session.kind,
               Session.place, Session.meeting_url)
        .outerjoin(Module, Module.id == Session.module_id).where(Session.cohort_id == cohort_id)
        .order_by(Session.starts_at)
    ).all()  # fmt: skip
    names: dict[int, list[str]] = {}
    for session_id, first, last, username in db.session.execute(
        select(session_trainer.c.session_id, User.first_name, User.last_name, User.username)
        .join(User, User.id == session_trainer.c.user_id).join(Session, Session.id == session_trainer.c.session_id)
        .where(Session.cohort_id == cohort_id).order_by(User.last_name, User.first_name)
    ):  # fmt: skip
        names.setdefault(session_id, []).append(User.name_from(first, last, username))
    return [SessionEntry(services.to_local(starts, tz_name), services.to_local(ends, tz_name), title or module or "",
                         kind, place, url, ", ".join(names.get(id, [])))
            for id, starts, ends, title, module, kind, place, url in rows]  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>")
@requires("catalogue.cohort.view", load=load_cohort)
@cached_page
def cohort(cohort):
    """A cohort: trainers, sessions, and the roster with each enrolment's status."""
    sessions = sessions_of(cohort.id, cohort.programme.time_zone)
    roster = roster_of(cohort.id)
    may_manage = can(current_user, "catalogue.cohort.manage", cohort)
    seats = sum(1 for e in roster if e.status in SEAT_STATUSES)
    return render_template(
        "catalogue/cohort.html", cohort=cohort, sessions=sessions, roster=roster, trainers=cohort_trainers_of(cohort.id),
        may_manage=may_manage, seats=seats, enrol_form=EnrolForm(), status_form=StatusForm(),
        complete_form=MarkCompletedForm(), tz=cohort.programme.time_zone,
    )  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@requires("catalogue.cohort.manage", load=load_cohort)
def session_new(cohort):
    """Schedule a session; the times are entered in the programme's time zone."""
    modules = db.session.execute(
        select(Module).where(Module.course_id == cohort.course_id).order_by(Module.position)
    ).scalars().all()  # fmt: skip
    trainers = cohort_trainers_of(cohort.id)
    form = SessionForm(modules=modules, trainers=trainers)
    if form.validate_on_submit():
        module = next((m for m in modules if m.id == form.module.data), None)
        try:
            services.schedule_session(
                cohort, starts_local=form.starts_at.data, ends_local=form.ends_at.data, by=current_user,
                mode=form.mode.data, kind=form.kind.data, place=form.place.data, meeting_url=form.meeting_url.data,
                module=module, title=form.title.data, trainers=[t for t in trainers if t.id in form.trainers.data],
            )  # fmt: skip
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The session was scheduled."), "success")
            return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template(
        "catalogue/form.html", form=form, title=_("New session of %(name)s", name=cohort.name), submit=_("Schedule"),
        hint=_("Times are in the programme's time zone: %(zone)s.", zone=cohort.programme.time_zone),
    )  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/enrol", methods=["POST"])
@requires("catalogue.enrolment.create", load=load_cohort)
def cohort_enrol(cohort):
    """A programme manager enrols a person found by username, e-mail or phone number."""
    form = EnrolForm()
    if form.validate_on_submit():
        learner = find_account(form.login.data)
        if learner is None:
            flash(_("No account has that username, e-mail or phone number."), "error")
        else:
            try:
                enrolment = services.enrol(learner, cohort, current_user, reason=form.reason.data or "")
            except services.CatalogueError as error:
                _fail(error)
            else:
                flash(_("%(name)s: %(status)s.", name=learner.display_name,
                        status=services.status_label(enrolment.status)), "success")  # fmt: skip
    return redirect(url_for(".cohort", cohort_id=cohort.id))


@bp.route("/enrolments/<int:enrolment_id>/status", methods=["POST"])
@requires("catalogue.enrolment.manage", load=load_enrolment)
def enrolment_status(enrolment):
    """Select, enrol, waitlist or withdraw; a withdrawal promotes the first on the waiting list."""
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(enrolment, form.status.data, current_user, form.reason.data or "")
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The enrolment was updated."), "success")
    return redirect(url_for(".cohort", cohort_id=enrolment.cohort_id))


@bp.route("/enrolments/<int:enrolment_id>/complete", methods=["POST"])
@requires("catalogue.enrolment.manage", load=load_enrolment)
def enrolment_complete(enrolment):
    """Complete by the rules when they allow it; otherwise a programme manager marks it with a reason."""
    form = MarkCompletedForm()
    if form.validate_on_submit():
        try:
            services.mark_completed(enrolment, current_user, form.reason.data)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The enrolment was marked completed."), "success")
    else:
        flash(_("Give a reason for marking the enrolment completed."), "error")
    return redirect(url_for(".cohort", cohort_id=enrolment.cohort_id))


@bp.route("/enrolments/<int:enrolment_id>/withdraw-application", methods=["POST"])
@requires("catalogue.application.withdraw", load=load_enrolment)
def withdraw_application(enrolment):
    """The applicant takes back their own application, from the dashboard."""
    form = WithdrawApplicationForm()
    if not form.validate_on_submit():
        flash(_("The reason is too long: at most 500 characters."), "error")
    else:
        try:
            services.withdraw_application(enrolment, current_user, form.reason.data or "")
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("Your application was withdrawn."), "success")
    return redirect(safe_next(form.next.data))


@bp.route("/courses/<int:course_id>/apply", methods=["POST"])
@requires("catalogue.enrolment.apply")
def apply(course_id):
    """A person applies to an open cohort of a course that allows self-application."""
    course = load_course(course_id)
    if course is None or not course.self_application:
        abort(404)
    cohorts = db.session.execute(
        select(Cohort).where(Cohort.course_id == course.id, Cohort.status == "open")
    ).scalars().all()  # fmt: skip
    form = ApplyForm(cohorts=cohorts)
    if form.validate_on_submit():
        cohort = next(c for c in cohorts if c.id == form.cohort.data)
        try:
            services.enrol(current_user, cohort, current_user, apply_only=True)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("Your application was sent. You will hear when it has been decided."), "success")
            return redirect(url_for("core.dashboard"))
    return redirect(url_for("core.dashboard"))


# --- organisation managers ---------------------------------------------------------------------------


def staff_of(organisation_id: int) -> list[User]:
    """People with a ``member`` membership of the organisation."""
    return db.session.execute(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.role == "member", Membership.scope_type == "organisation",
            Membership.scope_id == organisation_id,
        ).order_by(User.last_name, User.first_name)
    ).scalars().all()  # fmt: skip


def course_progress(pairs) -> dict[tuple[int, int], tuple[int, int]]:
    """``(user_id, course_id) -> (lessons done, lessons)`` for many people and courses in two queries.

    Only published lessons count: a draft is neither to do nor done.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    course_ids = {course_id for _user_id, course_id in pairs}
    user_ids = {user_id for user_id, _course_id in pairs}
    totals = dict(
        db.session.execute(
            select(Lesson.course_id, func.count(Lesson.id))
            .where(Lesson.course_id.in_(course_ids), services.lesson_published())
            .group_by(Lesson.course_id)
        ).all()
    )  # fmt: skip
    done = {
        (user_id, course_id): count
        for user_id, course_id, count in db.session.execute(
            select(LessonProgress.user_id, LessonProgress.course_id, func.count(LessonProgress.id))
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id.in_(user_ids), LessonProgress.course_id.in_(course_ids),
                   LessonProgress.done_at.is_not(None), services.lesson_published())
            .group_by(LessonProgress.user_id, LessonProgress.course_id)
        ).all()
    }  # fmt: skip
    return {(u, c): (done.get((u, c), 0), totals.get(c, 0)) for u, c in pairs}


@bp.route("/organisations/<int:organisation_id>/staff")
@requires("catalogue.staff.view", load=load_organisation)
def staff(organisation):
    """An organisation manager's view of their own staff: enrolments and progress."""
    people = staff_of(organisation.id)
    ids = [person.id for person in people]
    enrolments = db.session.execute(
        select(Enrolment).where(Enrolment.user_id.in_(ids))
        .options(joinedload(Enrolment.cohort).joinedload(Cohort.course))
        .order_by(Enrolment.id)
    ).scalars().all() if ids else []  # fmt: skip
    by_person: dict[int, list[Enrolment]] = {}
    for enrolment in enrolments:
        by_person.setdefault(enrolment.user_id, []).append(enrolment)
    progress = course_progress({(e.user_id, e.cohort.course_id) for e in enrolments})
    open_cohorts = db.session.execute(
        select(Cohort).where(Cohort.status == "open").options(joinedload(Cohort.course)).order_by(Cohort.start_date)
    ).scalars().all()  # fmt: skip
    form = SponsorEnrolForm(staff=people, cohorts=open_cohorts)
    may_enrol = can(current_user, "catalogue.enrolment.sponsor", organisation)
    return render_template("catalogue/staff.html", organisation=organisation, people=people, by_person=by_person,
                           progress=progress, form=form, may_enrol=may_enrol and bool(open_cohorts))  # fmt: skip


@bp.route("/organisations/<int:organisation_id>/enrol", methods=["POST"])
@requires("catalogue.enrolment.sponsor", load=load_organisation)
def staff_enrol(organisation):
    """An organisation manager enrols one of their own staff; anyone else is refused."""
    people = staff_of(organisation.id)
    open_cohorts = db.session.execute(
        select(Cohort).where(Cohort.status == "open").options(joinedload(Cohort.course))
    ).scalars().all()  # fmt: skip
    form = SponsorEnrolForm(staff=people, cohorts=open_cohorts)
    if not form.validate_on_submit():
        # A person or cohort outside the choices: never enrol someone who is not this organisation's staff.
        access.deny("catalogue.enrolment.sponsor", organisation)
    learner = next(p for p in people if p.id == form.learner.data)
    cohort = next(c for c in open_cohorts if c.id == form.cohort.data)
    try:
        enrolment = services.enrol(learner, cohort, current_user, sponsor=organisation)
    except services.CatalogueError as error:
        _fail(error)
    else:
        flash(_("%(name)s: %(status)s.", name=learner.display_name, status=services.status_label(enrolment.status)),
              "success")  # fmt: skip
    return redirect(url_for(".staff", organisation_id=organisation.id))


# --- calendar ----------------------------------------------------------------------------------------


def _calendar_sessions(user, start: datetime, end: datetime):
    """Sessions of the person's cohorts (as learner with a seat, or as trainer) between two UTC times."""
    trainer_cohorts = select(Membership.scope_id).where(
        Membership.user_id == user.id, Membership.role == "trainer", Membership.scope_type == "cohort"
    )
    learner_cohorts = select(Enrolment.cohort_id).where(
        Enrolment.user_id == user.id, Enrolment.status.in_(SEAT_STATUSES)
    )
    return db.session.execute(
        select(Session)
        .where(or_(Session.cohort_id.in_(trainer_cohorts), Session.cohort_id.in_(learner_cohorts)),
               Session.starts_at >= start, Session.starts_at < end)
        .options(joinedload(Session.cohort).joinedload(Cohort.programme),
                 joinedload(Session.cohort).joinedload(Cohort.course), joinedload(Session.module))
        .order_by(Session.starts_at)
    ).scalars().all()  # fmt: skip


@bp.route("/calendar")
@requires("catalogue.calendar.view")
def calendar():
    """The person's sessions, one week at a time (learners and trainers)."""
    try:
        start = date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        start = utcnow().date()
    start -= timedelta(days=start.weekday())
    begin = datetime.combine(start, datetime.min.time()) - timedelta(hours=14)  # zones east of UTC
    sessions = [
        s for s in _calendar_sessions(current_user, begin, begin + timedelta(days=7, hours=28))
        if start <= services.to_local(s.starts_at, s.cohort.programme.time_zone).date() < start + timedelta(days=7)
    ]  # fmt: skip
    days = {}
    for item in sessions:
        days.setdefault(services.to_local(item.starts_at, item.cohort.programme.time_zone).date(), []).append(item)
    return render_template("catalogue/calendar.html", start=start, days=days,
                           previous=start - timedelta(days=7), following=start + timedelta(days=7))  # fmt: skip


# --- dashboard and navigation ------------------------------------------------------------------------


def learner_summary(user) -> dict | None:
    """What the learner's start page answers: next session, next lesson, hours, progress per course.

    A fixed number of queries whatever the number of courses, lessons and sessions; courses, cohorts and the
    next session come as plain columns, since the page only shows them.
    """
    rows = db.session.execute(
        select(Enrolment, Cohort.name.label("cohort_name"), Cohort.course_id, Course.title.label("course_title"),
               Course.default_language)
        .join(Cohort, Cohort.id == Enrolment.cohort_id).join(Course, Course.id == Cohort.course_id)
        .where(Enrolment.user_id == user.id, Enrolment.status != "withdrawn")
        .order_by(Enrolment.id)
    ).all()  # fmt: skip
    if not rows:
        return None
    seated = [row for row in rows if row.Enrolment.status in SEAT_STATUSES]
    course_ids = {row.course_id for row in seated}
    next_session = db.session.execute(
        select(Session.starts_at, Session.ends_at, Session.title, Session.place, Session.meeting_url,
               Module.title.label("module_title"), Cohort.name.label("cohort_name"), Programme.time_zone)
        .join(Cohort, Cohort.id == Session.cohort_id).join(Programme, Programme.id == Cohort.programme_id)
        .outerjoin(Module, Module.id == Session.module_id)
        .where(Session.cohort_id.in_([row.Enrolment.cohort_id for row in seated]), Session.ends_at >= utcnow())
        .order_by(Session.starts_at).limit(1)
    ).first() if seated else None  # fmt: skip
    # The published lesson viewed last and not done yet, else the first published lesson not done, in course order.
    next_lesson, last_viewed = db.session.execute(
        select(Lesson.id, LessonProgress.last_viewed_at).join(Module, Module.id == Lesson.module_id)
        .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == user.id))
        .where(Lesson.course_id.in_(course_ids), LessonProgress.done_at.is_(None), services.lesson_published())
        .order_by(LessonProgress.last_viewed_at.is_(None), LessonProgress.last_viewed_at.desc(), Lesson.course_id,
                  Module.position, Lesson.position).limit(1)
    ).first() or (None, None) if course_ids else (None, None)  # fmt: skip
    minutes = sum(minutes for row in seated
                  for _source, _kind, minutes in flat(hook().lms_hours_sources(enrolment=row.Enrolment)))  # fmt: skip
    default_language = seated[0].default_language if seated else "en"
    return {
        "enrolments": rows,
        "progress": course_progress({(user.id, course_id) for course_id in course_ids}),
        "next_session": next_session,
        "next_lesson": next_lesson,
        "resuming": last_viewed is not None,
        "next_lesson_title": lesson_titles([next_lesson] if next_lesson else [], _viewer_language(),
                                           default_language).get(next_lesson),
        "hours": round(minutes / 60, 1),
        "withdrawable": services.APPLICATION_STATUSES,
    }  # fmt: skip


def dashboard_panels(user) -> list[dict]:
    """The catalogue's start-page panels for a person."""
    panels = []
    summary = learner_summary(user)
    if summary:
        panels.append({"template": "catalogue/panel_learner.html", "context": summary, "order": 10})
    return panels


def nav_entries(user) -> list[dict]:
    """Navigation for a signed-in person: calendar; programmes if they build or audit any; their staff."""
    items = [{"label": _l("Calendar"), "endpoint": "catalogue.calendar", "order": 30}]
    if access.scope_ids(user, "catalogue.programme.view", "programme") != set():
        items.append({"label": _l("Programmes"), "endpoint": "catalogue.programmes", "order": 20})
    for role, scope_type, scope_id in sorted(access.grants(user), key=lambda g: (g[1], g[2] or 0)):
        if role == "organisation_manager" and scope_type == "organisation":
            items.append({"label": _l("Our staff"), "endpoint": "catalogue.staff",
                          "values": {"organisation_id": scope_id}, "order": 25})  # fmt: skip
    return items
