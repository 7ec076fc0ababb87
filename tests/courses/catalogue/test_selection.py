"""The transparent selection: published and frozen criteria, scores, weighted ranking with ties, decisions that
move enrolments, applicants' own results, the CSV export, and who may do what."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from courses.catalogue import selection, services
from courses.catalogue.models import Cohort, Enrolment, SelectionCriterion, SelectionDecision, SelectionScore
from lms.extensions import db
from lms.models import AuditEvent, User
from tests.courses.catalogue.factories import build_course
from tests.courses.catalogue.test_views import count_queries
from tests.helpers import csrf_token, login_as, logout

APPLICANTS = {"ana": "Ana", "bojan": "Bojan", "cvetko": "Cvetko", "dragana": "Dragana"}


@pytest.fixture
def sel(app, make_user):
    """A cohort of 2 places with four applicants, its programme manager, auditor, trainer and an organisation
    manager; two criteria (motivation 0–10 ×3, no work experience 0–5 ×2) not yet published."""
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        programme, _course, cohort = build_course(admin, code="VAL", capacity=2)
        ids = {"programme_id": programme.id, "cohort_id": cohort.id}
    ids["pm"] = make_user("pm", roles=[("programme_manager", "programme", ids["programme_id"])], first_name="Milica")
    ids["auditor"] = make_user("aud", roles=[("auditor", "programme", ids["programme_id"])])
    ids["trainer"] = make_user("tr", roles=[("trainer", "cohort", ids["cohort_id"])])
    ids["orgman"] = make_user("om", roles=[("organisation_manager", "organisation", 1)])
    for username, first in APPLICANTS.items():
        ids[username] = make_user(username, first_name=first, last_name="Petrović")
    with app.app_context():
        cohort = db.session.get(Cohort, ids["cohort_id"])
        for username in APPLICANTS:
            learner = db.session.get(User, ids[username].id)
            ids[f"{username}_enrolment"] = services.enrol(learner, cohort, learner, apply_only=True).id
        pm = db.session.get(User, ids["pm"].id)
        cohort = db.session.get(Cohort, ids["cohort_id"])
        ids["motivation"] = selection.add_criterion(
            cohort, {"name": "Motivation (interview)", "description": "Readiness to attend every day.",
                     "max_score": 10, "weight": 3}, pm).id  # fmt: skip
        ids["experience"] = selection.add_criterion(
            cohort, {"name": "No previous work experience", "max_score": 5, "weight": 2}, pm).id  # fmt: skip
    return ids


def _publish(app, sel):
    with app.app_context():
        selection.publish(db.session.get(Cohort, sel["cohort_id"]), db.session.get(User, sel["pm"].id))


def _score(app, sel, who, motivation, experience):
    with app.app_context():
        enrolment = db.session.get(Enrolment, sel[f"{who}_enrolment"])
        entries = {sel["motivation"]: (str(motivation), ""), sel["experience"]: (str(experience), "")}
        selection.record_scores(enrolment, entries, db.session.get(User, sel["pm"].id))


def _decide(app, sel, who, decision, reason="Highest scores"):
    with app.app_context():
        enrolment = db.session.get(Enrolment, sel[f"{who}_enrolment"])
        selection.decide(enrolment, decision, reason, db.session.get(User, sel["pm"].id))


def _status(app, sel, who):
    with app.app_context():
        return db.session.get(Enrolment, sel[f"{who}_enrolment"]).status


def _events(app, action):
    with app.app_context():
        return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# --- criteria ----------------------------------------------------------------------------------------


def test_published_criteria_are_frozen_until_unpublished_with_a_reason(app, client, sel):
    setup = f"/catalogue/cohorts/{sel['cohort_id']}/selection/setup"
    login_as(client, sel["pm"])
    added = client.post(setup, data={"name": "Lives in Valjevo", "max_score": "5", "weight": "1",
                                     "csrf_token": csrf_token(client, setup)})  # fmt: skip
    assert added.status_code == 302
    for bad in ({"name": "Age", "max_score": "lots", "weight": "1"}, {"name": "Age", "max_score": "5", "weight": "0"},
                {"name": "", "max_score": "5", "weight": "1"}):  # fmt: skip
        refused = client.post(setup, data={**bad, "csrf_token": csrf_token(client, setup)})
        assert refused.status_code == 200 and "Please correct the following" in refused.get_data(as_text=True)
    token = csrf_token(client, setup)
    assert client.post(f"/catalogue/cohorts/{sel['cohort_id']}/selection/publish",
                       data={"csrf_token": token}).status_code == 302  # fmt: skip
    page = client.get(setup).get_data(as_text=True)
    assert "Published" in page and "Add a criterion" not in page
    with app.app_context():
        cohort = db.session.get(Cohort, sel["cohort_id"])
        criterion = db.session.get(SelectionCriterion, sel["motivation"])
        pm = db.session.get(User, sel["pm"].id)
        assert selection.publication_of(cohort).published_at is not None
        with pytest.raises(services.CatalogueError, match="published and cannot be changed"):
            selection.add_criterion(cohort, {"name": "Late idea", "max_score": 5, "weight": 1}, pm)
        with pytest.raises(services.CatalogueError, match="published and cannot be changed"):
            selection.update_criterion(criterion, {"name": "Motivation", "max_score": 20, "weight": 5}, pm)
        with pytest.raises(services.CatalogueError, match="published and cannot be changed"):
            selection.delete_criterion(criterion, pm)
        assert len(selection.criteria_of(cohort)) == 3
    # Through the page too: the edit is refused and nothing changes.
    edit = f"/catalogue/selection/criteria/{sel['motivation']}/edit"
    refused = client.post(edit, data={"name": "Changed", "max_score": "10", "weight": "3",
                                      "csrf_token": csrf_token(client, edit)})  # fmt: skip
    assert "published and cannot be changed" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SelectionCriterion, sel["motivation"]).name == "Motivation (interview)"

    unpublish = f"/catalogue/cohorts/{sel['cohort_id']}/selection/unpublish"
    client.post(unpublish, data={"reason": "", "csrf_token": csrf_token(client, setup)})
    assert "Give a reason for unpublishing" in client.get(setup).get_data(as_text=True)
    assert _events(app, "catalogue.selection.unpublished") == []
    client.post(unpublish, data={"reason": "Weight of motivation agreed with the partner",
                                 "csrf_token": csrf_token(client, setup)})  # fmt: skip
    changed = client.post(edit, data={"name": "Motivation", "max_score": "10", "weight": "4",
                                      "csrf_token": csrf_token(client, edit)})  # fmt: skip
    assert changed.status_code == 302
    with app.app_context():
        assert db.session.get(SelectionCriterion, sel["motivation"]).weight == 4
    published = _events(app, "catalogue.selection.published")
    unpublished = _events(app, "catalogue.selection.unpublished")
    assert len(published) == 1 and published[0].actor == sel["pm"].pseudonym
    assert [e.reason for e in unpublished] == ["Weight of motivation agreed with the partner"]
    assert len(_events(app, "catalogue.selection.criterion_changed")) == 1


def test_criteria_page_reads_plainly_for_applicants_and_is_closed_to_others(app, client, make_user, sel):
    page_path = f"/catalogue/cohorts/{sel['cohort_id']}/selection/criteria"
    login_as(client, sel["ana"])
    assert "have not been published yet" in client.get(page_path).get_data(as_text=True)
    _publish(app, sel)
    page = client.get(page_path).get_data(as_text=True)
    assert "Motivation (interview)" in page and "Readiness to attend every day." in page
    assert "0 to 10 points" in page and "× 3" in page and "out of 40 points" in page
    assert "higher score on the first criterion" in page and "earlier application comes first" in page
    assert f"/catalogue/enrolments/{sel['ana_enrolment']}/selection" in page
    logout(client)

    stranger = make_user("stranger")
    login_as(client, stranger)
    assert client.get(page_path).status_code == 403  # not an applicant, and the cohort takes no applications
    with app.app_context():
        cohort = db.session.get(Cohort, sel["cohort_id"])
        cohort.start_date, cohort.course.self_application = date.today() + timedelta(days=5), True
        db.session.commit()
    assert "Motivation (interview)" in client.get(page_path).get_data(as_text=True)  # open: anyone may read


# --- scoring -----------------------------------------------------------------------------------------


def test_scores_need_published_criteria_and_bad_input_changes_nothing(app, client, sel):
    form = f"/catalogue/enrolments/{sel['ana_enrolment']}/selection/score"
    motivation, experience = sel["motivation"], sel["experience"]
    with app.app_context():
        enrolment = db.session.get(Enrolment, sel["ana_enrolment"])
        with pytest.raises(services.CatalogueError, match="only against published criteria"):
            selection.record_scores(enrolment, {motivation: ("5", "")}, db.session.get(User, sel["pm"].id))
    _publish(app, sel)
    login_as(client, sel["pm"])
    for bad, message in (({f"score-{motivation}": "11"}, "enter a whole number from 0 to 10"),
                         ({f"score-{motivation}": "-1"}, "enter a whole number from 0 to 10"),
                         ({f"score-{motivation}": "seven"}, "enter a whole number from 0 to 10"),
                         ({f"score-{motivation}": "7", f"score-{experience}": "6"}, "from 0 to 5"),
                         ({f"note-{motivation}": "Very keen"}, "give a score with the note")):  # fmt: skip
        response = client.post(form, data={**bad, "csrf_token": csrf_token(client, form)})
        assert response.status_code == 422 and message in response.get_data(as_text=True), bad
    with app.app_context():
        assert db.session.execute(select(func.count(SelectionScore.id))).scalar_one() == 0
    assert _events(app, "catalogue.selection.scored") == []

    saved = client.post(form, data={f"score-{motivation}": "7", f"note-{motivation}": "Very keen",
                                    f"score-{experience}": "5", "csrf_token": csrf_token(client, form)})  # fmt: skip
    assert saved.status_code == 302
    page = client.get(form).get_data(as_text=True)
    assert "31 / 40" in page and "Scored by Milica" in page
    client.post(form, data={f"score-{motivation}": "9", f"note-{motivation}": "Very keen, second interview",
                            f"score-{experience}": "5", "csrf_token": csrf_token(client, form)})  # fmt: skip
    with app.app_context():
        scores = {s.criterion_id: s for s in db.session.execute(select(SelectionScore)).scalars()}
        assert (scores[motivation].score, scores[motivation].note, scores[motivation].by_id) == (
            9, "Very keen, second interview", sel["pm"].id)  # fmt: skip
        assert scores[motivation].at is not None
    events = _events(app, "catalogue.selection.scored")
    assert len(events) == 3  # two first scores, one change; the unchanged score is not re-recorded
    with app.app_context():
        from lms.models import AuditPayload

        change = db.session.get(AuditPayload, events[-1].seq)
        assert '"score":7' in change.before and '"score":9' in change.after
        assert events[-1].subject == sel["ana"].pseudonym


def test_a_sensitive_criterion_records_the_score_only(app, client, sel):
    with app.app_context():
        cohort = db.session.get(Cohort, sel["cohort_id"])
        pm = db.session.get(User, sel["pm"].id)
        sensitive = selection.add_criterion(cohort, {"name": "Member of the Roma community (self-declared)",
                                                     "max_score": 5, "weight": 1, "is_sensitive": True}, pm).id  # fmt: skip
        services.record_sensitive(db.session.get(Enrolment, sel["ana_enrolment"]), "ethnicity", "Romani, self-declared",
                                  consent_text_version="v1", consent_given=True, by=pm)  # fmt: skip
    _publish(app, sel)
    form = f"/catalogue/enrolments/{sel['ana_enrolment']}/selection/score"
    login_as(client, sel["pm"])
    page = client.get(form).get_data(as_text=True)
    assert "Romani, self-declared" in page  # shown to the programme manager who scores
    assert f'name="note-{sensitive}"' not in page
    refused = client.post(form, data={f"score-{sensitive}": "5", f"note-{sensitive}": "She is Roma",
                                      "csrf_token": csrf_token(client, form)})  # fmt: skip
    assert refused.status_code == 422 and "record only the score" in refused.get_data(as_text=True)
    client.post(form, data={f"score-{sensitive}": "5", "csrf_token": csrf_token(client, form)})
    with app.app_context():
        score = db.session.execute(select(SelectionScore)).scalar_one()
        assert (score.criterion_id, score.score, score.note) == (sensitive, 5, "")
    logout(client)
    login_as(client, sel["auditor"])
    sheet = client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection").get_data(as_text=True)
    export = client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection.csv").get_data(as_text=True)
    assert "Member of the Roma community" in sheet and "Romani" not in sheet and "Romani" not in export


# --- totals, ranking, decisions ----------------------------------------------------------------------


def test_weighted_totals_rank_applicants_and_ties_follow_the_published_rule(app, client, sel):
    _publish(app, sel)
    _score(app, sel, "ana", 8, 2)  # 24 + 4 = 28
    _score(app, sel, "bojan", 6, 5)  # 18 + 10 = 28: tie with Ana, who scored higher on the first criterion
    _score(app, sel, "cvetko", 10, 5)  # 40
    _score(app, sel, "dragana", 6, 5)  # 28 again, same scores as Bojan, who applied earlier
    with app.app_context():
        ranked = selection.standings(db.session.get(Cohort, sel["cohort_id"]))
        summary = [(s.enrolment.user.first_name, s.total, s.rank, s.tied) for s in ranked]
    assert summary == [("Cvetko", 40, 1, False), ("Ana", 28, 2, True), ("Bojan", 28, 3, True),
                       ("Dragana", 28, 4, True)]  # fmt: skip

    with app.app_context():
        enrolment = db.session.get(Enrolment, sel["dragana_enrolment"])
        selection.record_scores(enrolment, {sel["experience"]: ("4", "")}, db.session.get(User, sel["pm"].id))
        ranked = selection.standings(db.session.get(Cohort, sel["cohort_id"]))
        assert [(s.enrolment.user.first_name, s.total, s.rank) for s in ranked][-1] == ("Dragana", 26, 4)
        assert not ranked[-1].tied

    login_as(client, sel["pm"])
    sheet = client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection").get_data(as_text=True)
    assert sheet.index("Cvetko") < sheet.index("Ana Petrović") < sheet.index("Bojan") < sheet.index("Dragana")
    assert "tie" in sheet and "out of 40" in sheet


def test_decisions_move_enrolments_and_enrolling_respects_capacity(app, client, sel):
    _publish(app, sel)
    with pytest.raises(services.CatalogueError, match="Score every criterion"):
        _decide(app, sel, "ana", "selected")
    for who, motivation in (("ana", 9), ("bojan", 7), ("cvetko", 10), ("dragana", 2)):
        _score(app, sel, who, motivation, 5)
    with pytest.raises(services.CatalogueError, match="Give the reason"):
        _decide(app, sel, "ana", "selected", reason=" ")
    assert _status(app, sel, "ana") == "applied"

    login_as(client, sel["pm"])
    form = f"/catalogue/enrolments/{sel['dragana_enrolment']}/selection/score"
    response = client.post(f"/catalogue/enrolments/{sel['dragana_enrolment']}/selection/decision",
                           data={"decision": "rejected", "reason": "Lowest motivation score",
                                 "csrf_token": csrf_token(client, form)})  # fmt: skip
    assert response.status_code == 302
    assert _status(app, sel, "dragana") == "withdrawn"
    for who in ("ana", "bojan", "cvetko"):
        _decide(app, sel, who, "selected")
    _decide(app, sel, "bojan", "waitlisted", reason="Third place: two places only")
    _decide(app, sel, "bojan", "selected", reason="A partner employer offered a third placement")
    with app.app_context():
        decision = db.session.execute(
            select(SelectionDecision).where(SelectionDecision.enrolment_id == sel["dragana_enrolment"])
        ).scalar_one()
        assert (decision.decision, decision.total_score, decision.by_id, decision.reason) == (
            "rejected", 16, sel["pm"].id, "Lowest motivation score")  # fmt: skip
        assert decision.at is not None
    assert [_status(app, sel, w) for w in ("ana", "bojan", "cvetko")] == ["selected"] * 3

    sheet = f"/catalogue/cohorts/{sel['cohort_id']}/selection"
    response = client.post(f"{sheet}/confirm", data={"csrf_token": csrf_token(client, sheet)})
    assert "Enrolled: 2. On the waiting list because the cohort is full: 1." in client.get(
        response.headers["Location"]).get_data(as_text=True)  # fmt: skip
    # Rank order: Cvetko (40) and Ana (37) take the two places; Bojan (31) waits.
    assert [_status(app, sel, w) for w in ("cvetko", "ana", "bojan")] == ["enrolled", "enrolled", "waitlisted"]
    with pytest.raises(services.CatalogueError, match="no longer an open application"):
        _decide(app, sel, "dragana", "selected")
    assert len(_events(app, "catalogue.selection.decided")) == 6
    assert len(_events(app, "catalogue.enrolment.status_changed")) >= 7


def test_applicants_see_their_own_scores_and_decision_only(app, client, sel):
    _publish(app, sel)
    _score(app, sel, "ana", 8, 2)
    _score(app, sel, "bojan", 9, 5)
    _decide(app, sel, "ana", "waitlisted", reason="Fourth place; places may free up")
    login_as(client, sel["ana"])
    own = client.get(f"/catalogue/enrolments/{sel['ana_enrolment']}/selection")
    page = own.get_data(as_text=True)
    assert own.status_code == 200
    assert "8 / 10" in page and "2 / 5" in page and "28 / 40" in page and "rank 2 of 2" in page
    assert "waiting list" in page and "Fourth place; places may free up" in page and "Milica" in page
    assert "Bojan" not in page and "37" not in page
    assert client.get(f"/catalogue/enrolments/{sel['bojan_enrolment']}/selection").status_code == 403
    assert client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection").status_code == 403
    assert client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection.csv").status_code == 403
    assert f"/catalogue/enrolments/{sel['ana_enrolment']}/selection" in client.get("/catalogue/apply").get_data(
        as_text=True)  # fmt: skip


# --- export and access -------------------------------------------------------------------------------


def test_export_lists_the_selection_and_neutralises_formulas(app, client, make_user, sel):
    with app.app_context():
        user = db.session.get(User, sel["dragana"].id)
        user.first_name, user.last_name = '=HYPERLINK("http://evil.example","Click")', "Petrović"
        db.session.commit()
    _publish(app, sel)
    _score(app, sel, "ana", 8, 2)
    _score(app, sel, "dragana", 10, 5)
    _decide(app, sel, "dragana", "selected", reason="Highest total")
    login_as(client, sel["auditor"])  # auditors pull the evidence
    response = client.get(f"/catalogue/cohorts/{sel['cohort_id']}/selection.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"selection-cohort-{sel['cohort_id']}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Applicant", "Motivation (interview) (0–10, weight 3)",
                       "No previous work experience (0–5, weight 2)", "Weighted total", "Rank", "Decision",
                       "Decided by", "Decided at", "Reason"]  # fmt: skip
    first, second = rows[1], rows[2]
    assert first[0].startswith("'=HYPERLINK(")  # neutralised: a spreadsheet shows it as text
    assert first[1:6] == ["10", "5", "40", "1", "selected"]
    assert first[6] == "Milica Test" and first[7][:4].isdigit() and first[8] == "Highest total"
    assert second[:5] == ["Ana Petrović", "8", "2", "28", "2"] and second[5:] == ["", "", "", ""]
    assert {row[0] for row in rows[3:]} == {"Bojan Petrović", "Cvetko Petrović"}  # not scored yet: unranked


def test_only_programme_managers_score_and_decide_auditors_read(app, client, sel):
    _publish(app, sel)
    sheet = f"/catalogue/cohorts/{sel['cohort_id']}/selection"
    form = f"/catalogue/enrolments/{sel['ana_enrolment']}/selection/score"
    login_as(client, sel["auditor"])
    page = client.get(sheet)
    assert page.status_code == 200 and "Ana Petrović" in page.get_data(as_text=True)
    assert "Score and decide" not in page.get_data(as_text=True)
    token = csrf_token(client, sheet)
    assert client.get(form).status_code == 403
    assert client.post(form, data={f"score-{sel['motivation']}": "5", "csrf_token": token}).status_code == 403
    assert client.post(f"/catalogue/enrolments/{sel['ana_enrolment']}/selection/decision",
                       data={"decision": "selected", "reason": "x", "csrf_token": token}).status_code == 403  # fmt: skip
    assert client.get(f"{sheet}/setup").status_code == 403
    logout(client)
    for person in ("trainer", "orgman"):
        login_as(client, sel[person])
        assert client.get(sheet).status_code == 403
        assert client.get(f"{sheet}.csv").status_code == 403
        assert client.get(form).status_code == 403
        logout(client)
    with app.app_context():
        assert db.session.execute(select(func.count(SelectionScore.id))).scalar_one() == 0
        denials = db.session.execute(
            select(AuditEvent.reason).where(AuditEvent.action == "access.denied", AuditEvent.actor.in_(
                [sel["auditor"].pseudonym, sel["trainer"].pseudonym]))
        ).scalars().all()  # fmt: skip
    assert "catalogue.selection.manage" in denials and "catalogue.selection.view" in denials

    login_as(client, sel["pm"])
    cohort_page = client.get(f"/catalogue/cohorts/{sel['cohort_id']}").get_data(as_text=True)
    assert f'href="{sheet}"' in cohort_page


def test_sheet_and_export_run_a_constant_number_of_queries(app, make_user):
    counts = []
    for scale in (1, 8):
        with app.app_context():
            admin = db.session.get(User, make_user(f"admin{scale}", roles=[("administrator", "site", None)]).id)
            db.session.commit()
            _programme, _course, cohort = build_course(admin, code=f"Q{scale}")
            criteria = [selection.add_criterion(db.session.get(Cohort, cohort.id),
                                                {"name": f"C{n}", "max_score": 5, "weight": n + 1}, admin).id
                        for n in range(2)]  # fmt: skip
            selection.publish(db.session.get(Cohort, cohort.id), admin)
            for n in range(3 * scale):
                person = db.session.get(User, make_user(f"applicant{scale}_{n}").id)
                enrolment = services.enrol(person, db.session.get(Cohort, cohort.id), person, apply_only=True)
                selection.record_scores(enrolment, {cid: (str(n % 6), "") for cid in criteria}, admin)
                if n % 2:
                    selection.decide(enrolment, "waitlisted", "Reserve", admin)
            cohort_id, admin_login = cohort.id, admin.username
        client = app.test_client()
        login_as(client, admin_login)
        measured = []
        for path in (f"/catalogue/cohorts/{cohort_id}/selection", f"/catalogue/cohorts/{cohort_id}/selection.csv"):
            assert client.get(path).status_code == 200
            with count_queries(app) as statements:
                response = client.get(path)
                response.get_data()  # the CSV streams: count the queries its rows run too
            measured.append(len(statements))
        counts.append(measured)
    assert counts[0] == counts[1], f"{counts[0]} queries with 3 applicants, {counts[1]} with 24"


def test_api_gives_the_selection_as_json_to_auditors_and_refuses_applicants(app, client, sel):
    from tests.courses.catalogue.test_api import _token

    _publish(app, sel)
    _score(app, sel, "ana", 8, 2)
    _score(app, sel, "bojan", 9, 5)
    _decide(app, sel, "bojan", "selected", reason="Highest total")
    path = f"/api/v1/catalogue/cohorts/{sel['cohort_id']}/selection"
    body = client.get(path, headers=_token(app, sel["auditor"], "catalogue:read")).get_json()
    assert [c["name"] for c in body["criteria"]] == ["Motivation (interview)", "No previous work experience"]
    assert body["published_at"].endswith("Z")
    first, second = body["applicants"][:2]
    assert (first["name"], first["total"], first["rank"], first["decision"], first["decided_by"]) == (
        "Bojan Petrović", 37, 1, "selected", "Milica Test")  # fmt: skip
    assert (second["name"], second["scores"], second["total"], second["decision"]) == (
        "Ana Petrović", {str(sel["motivation"]): 8, str(sel["experience"]): 2}, 28, None)  # fmt: skip
    assert client.get(path, headers=_token(app, sel["ana"], "catalogue:read")).status_code == 403
    assert client.get(path, headers=_token(app, sel["trainer"], "catalogue:read")).status_code == 403
