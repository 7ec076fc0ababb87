"""Course packages: a course (settings, accreditation, modules, lessons in every language, files) as a ZIP
with ``manifest.json``, and its import into another programme.

An import trusts nothing in the archive: before anything is extracted it refuses absolute paths, ``..``,
symbolic links, entries the manifest does not list, too many files, too many bytes once uncompressed and
suspicious compression ratios; then every file is checked against its SHA-256 and by content, and every
lesson text is sanitised again. The course is created in one transaction, or not at all.
"""

import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import audit
from lms.database import begin_write
from lms.extensions import db
from lms.models import User

from .models import Course, Lesson, LessonAttachment, LessonVersion, Module, Programme
from .services import (
    COURSE_FIELDS,
    CatalogueError,
    attachment_path,
    detect_content_type,
    sanitise_html,
    store_content,
)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_MAX_FILES = 500
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_RATIO = 100  # uncompressed / compressed, beyond which an entry is treated as a zip bomb
MANIFEST_MAX_BYTES = 10 * 1024 * 1024


class PackageError(CatalogueError):
    """A refused package; the message says why in the user's language."""


def _limit(name: str, default: int) -> int:
    return current_app.config.get(name, default)


# --- export -------------------------------------------------------------------------------------------


def export_course(course: Course) -> bytes:
    """The course as a ZIP: ``manifest.json`` and ``files/<sha256>`` for each attachment."""
    lessons = selectinload(Module.lessons)
    modules = db.session.execute(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
        .options(lessons.selectinload(Lesson.versions), lessons.selectinload(Lesson.attachments))
    ).scalars().all()  # fmt: skip
    files: dict[str, Path] = {}
    manifest = {
        "schema": SCHEMA_VERSION,
        "course": {name: getattr(course, name) for name in COURSE_FIELDS},
        "modules": [],
    }
    for module in modules:
        entry = {"position": module.position, "title": module.title, "summary": module.summary, "lessons": []}
        for lesson in module.lessons:
            attachments = []
            for attachment in lesson.attachments:
                path = f"files/{attachment.sha256}"
                files[path] = attachment_path(attachment)
                attachments.append({"path": path, "filename": attachment.filename, "size": attachment.size,
                                    "content_type": attachment.content_type, "sha256": attachment.sha256})  # fmt: skip
            entry["lessons"].append({
                "position": lesson.position, "estimated_minutes": lesson.estimated_minutes,
                "video_url": lesson.video_url, "required": lesson.required,
                "versions": [{"language": v.language, "title": v.title, "body_html": v.body_html,
                              "published": v.published} for v in sorted(lesson.versions, key=lambda v: v.language)],
                "attachments": attachments,
            })  # fmt: skip
        manifest["modules"].append(entry)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
        for path, source in sorted(files.items()):
            archive.write(source, path)
    return buffer.getvalue()


# --- import -------------------------------------------------------------------------------------------


def _unsafe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return any(part in ("..", "") for part in PurePosixPath(name).parts) or ".." in name.split("/")


def inspect_archive(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    """Open a package and check its directory and manifest without extracting anything; raises ``PackageError``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise PackageError(_("This file is not a course package (a ZIP file).")) from error
    if len(entries) > _limit("CATALOGUE_PACKAGE_MAX_FILES", DEFAULT_MAX_FILES):
        raise PackageError(_("The package has too many files."))
    if sum(entry.file_size for entry in entries) > _limit("CATALOGUE_PACKAGE_MAX_BYTES", DEFAULT_MAX_BYTES):
        raise PackageError(_("The package is too large once unpacked."))
    ratio = _limit("CATALOGUE_PACKAGE_MAX_RATIO", DEFAULT_MAX_RATIO)
    for entry in entries:
        if _unsafe_name(entry.filename):
            raise PackageError(_("The package contains an unsafe path: %(name)s", name=entry.filename[:200]))
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise PackageError(_("The package contains a link: %(name)s", name=entry.filename[:200]))
        if entry.file_size > 1024 * 1024 and entry.file_size > ratio * max(entry.compress_size, 1):
            raise PackageError(_("The package contains a file that unpacks to far more than its size."))
    names = {entry.filename for entry in entries}
    if MANIFEST not in names:
        raise PackageError(_("The package has no manifest.json."))
    if archive.getinfo(MANIFEST).file_size > MANIFEST_MAX_BYTES:
        raise PackageError(_("The package's manifest is too large."))
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        listed = {a["path"] for m in manifest["modules"] for lesson in m["lessons"] for a in lesson["attachments"]}
    except (ValueError, KeyError, TypeError) as error:
        raise PackageError(_("The package's manifest cannot be read.")) from error
    if manifest.get("schema") != SCHEMA_VERSION:
        raise PackageError(_("This package was made by another version (schema %(version)s).",
                             version=manifest.get("schema")))  # fmt: skip
    unlisted = sorted(name for name in names - listed - {MANIFEST} if not name.endswith("/"))
    if unlisted:
        raise PackageError(_("The package contains files its manifest does not list: %(names)s",
                             names=", ".join(unlisted)[:300]))  # fmt: skip
    if missing := sorted(listed - names):
        raise PackageError(_("Files listed in the manifest are missing: %(names)s", names=", ".join(missing)[:300]))
    return archive, manifest


def _checked_file(archive: zipfile.ZipFile, item: dict) -> bytes:
    data = archive.read(item["path"])
    if hashlib.sha256(data).hexdigest() != item.get("sha256") or len(data) != item.get("size"):
        raise PackageError(_("The file %(name)s does not match its checksum.", name=item.get("filename", "")))
    if detect_content_type(data) is None:
        raise PackageError(_("The file %(name)s is of a kind that cannot be attached.", name=item.get("filename", "")))
    return data


def import_course(programme: Programme, data: bytes, by: User, code: str | None = None) -> Course:
    """Create the packaged course in ``programme`` (under ``code`` if given), with everything checked first."""
    archive, manifest = inspect_archive(data)
    values = {name: manifest["course"].get(name) for name in COURSE_FIELDS}
    values["code"] = (code or values.get("code") or "").strip()[:60]
    if not values["code"] or not values.get("title"):
        raise PackageError(_("The package's course has no code or title."))
    if db.session.execute(
        select(Course.id).where(Course.programme_id == programme.id, Course.code == values["code"])
    ).first():  # fmt: skip
        raise PackageError(_("Another course of this programme already has the code %(code)s.", code=values["code"]))
    files = {item["path"]: (item, _checked_file(archive, item))
             for m in manifest["modules"] for lesson in m["lessons"] for item in lesson["attachments"]}  # fmt: skip
    begin_write()
    course = Course(programme_id=programme.id, **values)
    db.session.add(course)
    db.session.flush()
    for m in manifest["modules"]:
        module = Module(course_id=course.id, position=int(m["position"]), title=str(m["title"])[:300],
                        summary=str(m.get("summary") or ""))  # fmt: skip
        db.session.add(module)
        db.session.flush()
        for item in m["lessons"]:
            lesson = Lesson(module_id=module.id, course_id=course.id, position=int(item["position"]),
                            estimated_minutes=int(item.get("estimated_minutes") or 0),
                            video_url=item.get("video_url") if str(item.get("video_url") or "").startswith(
                                ("https://", "http://")) else None,
                            required=bool(item.get("required", True)))  # fmt: skip
            db.session.add(lesson)
            db.session.flush()
            for version in item["versions"]:
                db.session.add(LessonVersion(lesson_id=lesson.id, language=str(version["language"])[:10],
                                             title=str(version["title"])[:300],
                                             body_html=sanitise_html(version.get("body_html") or ""),
                                             published=bool(version.get("published"))))  # fmt: skip
            for attachment in item["attachments"]:
                meta, content = files[attachment["path"]]
                digest, relative = store_content(content)  # the digest _checked_file compared with the manifest
                db.session.add(LessonAttachment(
                    lesson_id=lesson.id, filename=Path(str(meta.get("filename") or "file")).name[:255] or "file",
                    content_type=detect_content_type(content), size=len(content), sha256=digest,
                    storage_path=relative, uploaded_by_id=by.id,
                ))  # fmt: skip
    db.session.flush()
    audit.append("catalogue.course.imported", course, actor=by,
                 after={"programme": programme.id, "code": course.code, "modules": len(manifest["modules"]),
                        "files": len(files)})  # fmt: skip
    db.session.commit()
    return course
