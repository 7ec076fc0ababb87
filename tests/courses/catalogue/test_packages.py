"""Course packages: a round trip keeps the structure and file hashes; malicious archives are refused before
anything is extracted or created."""

import io
import json
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from courses.catalogue import packages, services
from courses.catalogue.models import Course, Lesson, LessonAttachment, Programme
from lms.extensions import db
from lms.models import User
from tests.courses.catalogue.factories import build_course


@pytest.fixture
def exported(app, make_user):
    """A course with two modules, a lesson in two languages and a PDF, exported; and an empty target programme."""
    admin = make_user("pkg_admin", roles=[("administrator", "site", None)])
    with app.app_context():
        by = db.session.get(User, admin.id)
        _programme, course, _cohort = build_course(by, code="PKG-1", modules=2, lessons=2)
        lesson = db.session.execute(select(Lesson).where(Lesson.course_id == course.id)).scalars().first()
        services.save_lesson_version(lesson, "mk", "Лекција", "<p>Текст</p>", True, by)
        services.add_attachment(lesson, "handout.pdf", b"%PDF-1.4 handout", by)
        target = Programme(code="TARGET", name="Target programme", time_zone="Europe/Belgrade")
        db.session.add(target)
        db.session.commit()
        return {"data": packages.export_course(db.session.get(Course, course.id)), "course": course.id,
                "target": target.id, "admin": admin.id}  # fmt: skip


def _structure(course_id):
    course = db.session.get(Course, course_id)
    return (
        {name: getattr(course, name) for name in services.COURSE_FIELDS if name != "code"},
        [(m.position, m.title, [(lesson.position, sorted((v.language, v.title, v.body_html) for v in lesson.versions),
                                 sorted(a.sha256 for a in lesson.attachments)) for lesson in m.lessons])
         for m in course.modules],
    )  # fmt: skip


def _import(app, exported, data):
    with app.app_context():
        return packages.import_course(db.session.get(Programme, exported["target"]), data,
                                      db.session.get(User, exported["admin"])).id  # fmt: skip


def test_round_trip_keeps_structure_and_files(app, exported):
    with zipfile.ZipFile(io.BytesIO(exported["data"])) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["schema"] == 1 and len(manifest["modules"]) == 2
    new_id = _import(app, exported, exported["data"])
    with app.app_context():
        assert _structure(new_id) == _structure(exported["course"])
        assert db.session.get(Course, new_id).programme_id == exported["target"]
        for attachment in db.session.execute(select(LessonAttachment)).scalars():
            assert services.attachment_path(attachment).read_bytes() == b"%PDF-1.4 handout"


def _rebuild(exported, change):
    """The exported package rewritten by ``change(entries, manifest)`` (entries: list of (ZipInfo, bytes))."""
    with zipfile.ZipFile(io.BytesIO(exported["data"])) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist() if info.filename != "manifest.json"]
        manifest = json.loads(archive.read("manifest.json"))
    change(entries, manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(entries, manifest):
    info = zipfile.ZipInfo("files/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries.append((info, b"/etc/passwd"))
    manifest["modules"][0]["lessons"][0]["attachments"].append({"path": "files/link", "sha256": "", "size": 11})


def _listed(name):
    def change(entries, manifest):
        entries.append((zipfile.ZipInfo(name), b"%PDF-1.4 x"))
        manifest["modules"][0]["lessons"][0]["attachments"].append({"path": name, "sha256": "", "size": 10})

    return change


def _bomb(entries, manifest):
    entries.append((zipfile.ZipInfo("files/bomb", date_time=(2024, 1, 1, 0, 0, 0)), b"\x00" * (5 * 1024 * 1024)))
    entries[-1][0].compress_type = zipfile.ZIP_DEFLATED
    manifest["modules"][0]["lessons"][0]["attachments"].append({"path": "files/bomb", "sha256": "", "size": 1})


def _bad_hash(entries, manifest):
    manifest["modules"][0]["lessons"][0]["attachments"][0]["sha256"] = "0" * 64


def _html_file(entries, manifest):
    import hashlib

    body = b"<html><script>alert(1)</script></html>"
    entries.append((zipfile.ZipInfo("files/page"), body))
    manifest["modules"][0]["lessons"][0]["attachments"].append(
        {"path": "files/page", "sha256": hashlib.sha256(body).hexdigest(), "size": len(body), "filename": "x.html"}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_listed("../evil.pdf"), "unsafe path"),
        (_listed("files/../../evil.pdf"), "unsafe path"),
        (_listed("/etc/evil.pdf"), "unsafe path"),
        (_listed("C:/evil.pdf"), "unsafe path"),
        (_symlink, "a link"),
        (lambda entries, manifest: entries.append((zipfile.ZipInfo("extra.txt"), b"hello")), "does not list"),
        (_bomb, "unpacks to far more"),
        (_bad_hash, "does not match its checksum"),
        (_html_file, "cannot be attached"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink", "unlisted", "bomb", "checksum", "html"],
)
def test_malicious_packages_are_refused_and_nothing_is_created(app, exported, change, message):
    data = _rebuild(exported, change)
    with app.test_request_context(), pytest.raises(packages.PackageError, match=message):
        packages.import_course(db.session.get(Programme, exported["target"]), data,
                               db.session.get(User, exported["admin"]))  # fmt: skip
    with app.app_context():
        assert db.session.execute(select(func.count(Course.id)).where(Course.programme_id == exported["target"])
                                  ).scalar_one() == 0  # fmt: skip


def test_limits_on_file_count_and_total_size(app, exported):
    app.config["CATALOGUE_PACKAGE_MAX_FILES"] = 1
    with app.test_request_context(), pytest.raises(packages.PackageError, match="too many files"):
        packages.inspect_archive(exported["data"])
    app.config["CATALOGUE_PACKAGE_MAX_FILES"] = 100
    app.config["CATALOGUE_PACKAGE_MAX_BYTES"] = 100
    with app.test_request_context(), pytest.raises(packages.PackageError, match="too large"):
        packages.inspect_archive(exported["data"])


def test_lesson_html_is_sanitised_again(app, exported):
    def inject(entries, manifest):
        manifest["modules"][0]["lessons"][0]["versions"][0]["body_html"] = (
            '<p onclick="x()">Hi</p><script>bad()</script>'
        )

    new_id = _import(app, exported, _rebuild(exported, inject))
    with app.app_context():
        bodies = [v.body_html for m in db.session.get(Course, new_id).modules for lesson in m.lessons
                  for v in lesson.versions]  # fmt: skip
    assert "<p>Hi</p>" in bodies and not any("script" in b or "onclick" in b for b in bodies)


def test_not_a_zip(app, exported):
    with app.test_request_context(), pytest.raises(packages.PackageError, match="not a course package"):
        packages.inspect_archive(b"plain text")


def test_pages_export_and_import(app, client, login, exported, make_user):
    with app.app_context():
        programme_id = db.session.get(Course, exported["course"]).programme_id
    manager = make_user("pkg_pm", roles=[("programme_manager", "programme", programme_id),
                                         ("programme_manager", "programme", exported["target"])])  # fmt: skip
    login(manager)
    from tests.helpers import csrf_token

    course_page = f"/catalogue/courses/{exported['course']}"
    download = client.post(f"{course_page}/package.zip", data={"csrf_token": csrf_token(client, course_page)})
    assert download.status_code == 200 and download.data.startswith(b"PK")

    path = f"/catalogue/programmes/{exported['target']}/import-course"
    refused = client.post(path, data={"csrf_token": csrf_token(client, path), "file": (io.BytesIO(b"nope"), "x.zip")},
                          content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 422 and "not a course package" in refused.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_token(client, path), "code": "COPY-1",
                                   "file": (io.BytesIO(download.data), "course.zip")},
                       content_type="multipart/form-data")  # fmt: skip
    assert done.status_code == 302
    with app.app_context():
        assert (
            db.session.execute(select(Course).where(Course.code == "COPY-1")).scalar_one().programme_id
            == exported["target"]
        )
