"""Training records and certifications: who sees and records what, skill levels, bad input,
and the daily expiry sweep with its reminder e-mail."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import AgentSkill
from opsdesk.core.exceptions import NotAllowed
from opsdesk.learning import services
from opsdesk.learning.models import Certification, TrainingRecord
from tests.accounts.factories import SkillFactory, TeamFactory, TeamMembershipFactory
from tests.learning.factories import CertificationFactory, TrainingRecordFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def people(make_user):
    lead = make_user(role=Role.TEAM_LEAD, email="lead@example.com")
    team = TeamFactory(lead=lead, name="Network")
    member = make_user(role=Role.AGENT, email="member@example.com")
    outsider = make_user(role=Role.AGENT)
    TeamMembershipFactory(team=team, user=member)
    TeamMembershipFactory(team=team, user=lead)
    return {
        "lead": lead,
        "member": member,
        "outsider": outsider,
        "manager": make_user(role=Role.MANAGER),
        "admin": make_user(role=Role.ADMIN),
        "requester": make_user(),
        "team": team,
    }


# --- the permissions matrix --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("member", {"member"}),
        ("outsider", {"outsider"}),
        ("lead", {"member", "lead"}),
        ("manager", {"member", "outsider", "lead"}),
        ("admin", {"member", "outsider", "lead"}),
        ("requester", set()),
    ],
)
def test_who_sees_training_and_certifications_in_the_api(people, api_as, who, sees):
    for name in ("member", "outsider", "lead"):
        TrainingRecordFactory(user=people[name], title=f"{name} course")
        CertificationFactory(user=people[name], name=f"{name} cert")
    client = api_as(people[who])
    for url, key, suffix in (
        ("/api/v1/training-records/", "title", " course"),
        ("/api/v1/certifications/", "name", " cert"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert {row[key].removesuffix(suffix) for row in response.json()["results"]} == sees


def test_agents_record_their_own_leads_their_members_and_nobody_else(people, api_as):
    body = {"title": "CCNA prep", "completed_on": str(TODAY()), "hours": 12.5}
    member, lead, outsider = people["member"], people["lead"], people["outsider"]
    assert (
        api_as(member)
        .post("/api/v1/training-records/", {**body, "user": member.pk}, format="json")
        .status_code
        == 201
    )
    refused = api_as(member).post("/api/v1/training-records/", {**body, "user": outsider.pk}, format="json")
    assert refused.status_code == 403
    assert (
        api_as(lead).post("/api/v1/training-records/", {**body, "user": member.pk}, format="json").status_code
        == 201
    )
    assert (
        api_as(lead)
        .post("/api/v1/training-records/", {**body, "user": outsider.pk}, format="json")
        .status_code
        == 403
    )
    assert (
        api_as(people["requester"])
        .post("/api/v1/training-records/", {**body, "user": member.pk}, format="json")
        .status_code
        == 403
    )
    assert TrainingRecord.objects.filter(user=outsider).count() == 0
    # Another agent's record is simply not there for an outsider.
    record = TrainingRecord.objects.filter(user=member).first()
    assert api_as(outsider).get(f"/api/v1/training-records/{record.pk}/").status_code == 404


# --- skill levels ---------------------------------------------------------------------------------
def test_a_lead_recording_training_raises_the_members_skill_level_never_lowers_it(people):
    skill = SkillFactory(name="Cisco")
    AgentSkill.objects.create(user=people["member"], skill=skill, level=2)
    record = services.training_record_create(
        actor=people["lead"],
        data={
            "user": people["member"],
            "title": "CCNP",
            "completed_on": TODAY(),
            "hours": 40,
            "skill": skill,
            "level_reached": 4,
        },
    )
    assert AgentSkill.objects.get(user=people["member"], skill=skill).level == 4
    assert record.skill_applied_at is not None
    services.training_record_create(
        actor=people["lead"],
        data={
            "user": people["member"],
            "title": "Basics",
            "completed_on": TODAY(),
            "hours": 2,
            "skill": skill,
            "level_reached": 1,
        },
    )
    assert AgentSkill.objects.get(user=people["member"], skill=skill).level == 4


def test_an_agents_own_level_waits_for_the_lead_to_confirm(people):
    skill = SkillFactory(name="Linux")
    record = services.training_record_create(
        actor=people["member"],
        data={
            "user": people["member"],
            "title": "LPIC-1",
            "completed_on": TODAY(),
            "hours": 30,
            "skill": skill,
            "level_reached": 3,
        },
    )
    assert record.skill_pending and not AgentSkill.objects.filter(user=people["member"], skill=skill).exists()
    with pytest.raises(NotAllowed):
        services.training_record_apply_skill(actor=people["member"], record=record)
    services.training_record_apply_skill(actor=people["lead"], record=record)
    assert AgentSkill.objects.get(user=people["member"], skill=skill).level == 3
    record.refresh_from_db()
    assert not record.skill_pending


# --- bad input ------------------------------------------------------------------------------------
def test_expiry_before_issue_and_negative_hours_are_clear_400s(people, api_as):
    client = api_as(people["member"])
    response = client.post(
        "/api/v1/certifications/",
        {"user": people["member"].pk, "name": "ITIL", "issued_on": "2024-05-01", "expires_on": "2024-04-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "expire after the day it was issued" in response.json()["errors"]["expires_on"][0]
    response = client.post(
        "/api/v1/training-records/",
        {"user": people["member"].pk, "title": "X", "completed_on": str(TODAY()), "hours": -3},
        format="json",
    )
    assert response.status_code == 400 and "hours" in response.json()["errors"]
    assert not Certification.objects.exists() and not TrainingRecord.objects.exists()


def test_the_web_form_keeps_input_and_explains_a_bad_expiry(people, client):
    client.force_login(people["member"])
    response = client.post(
        reverse("learning:certification_add"),
        {
            "user": people["member"].pk,
            "name": "ITIL 4",
            "issued_on": "2024-05-01",
            "expires_on": "2024-05-01",
        },
    )
    assert response.status_code == 400
    assert b"must expire after the day it was issued" in response.content and b"ITIL 4" in response.content


def test_evidence_must_be_a_real_document(people, client):
    client.force_login(people["member"])
    fake = SimpleUploadedFile("cert.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(
        reverse("learning:trainingrecord_add"),
        {
            "user": people["member"].pk,
            "title": "AWS",
            "completed_on": str(TODAY()),
            "hours": "4",
            "evidence": fake,
        },
    )
    assert response.status_code == 400 and b"not really a .pdf file" in response.content
    good = SimpleUploadedFile("cert.pdf", b"%PDF-1.4 certificate", content_type="application/pdf")
    response = client.post(
        reverse("learning:trainingrecord_add"),
        {
            "user": people["member"].pk,
            "title": "AWS",
            "completed_on": str(TODAY()),
            "hours": "4",
            "evidence": good,
        },
    )
    assert response.status_code == 302
    assert TrainingRecord.objects.get(title="AWS").evidence.name.endswith(".pdf")


def test_a_stale_edit_is_refused_with_409(people, api_as):
    cert = services.certification_create(
        actor=people["member"],
        data={"user": people["member"], "name": "ITIL", "issued_on": TODAY() - datetime.timedelta(days=5)},
    )
    client = api_as(people["member"])
    assert (
        client.patch(
            f"/api/v1/certifications/{cert.pk}/", {"issuer": "Axelos", "version": 1}, format="json"
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/api/v1/certifications/{cert.pk}/", {"issuer": "Peoplecert", "version": 1}, format="json"
        ).status_code
        == 409
    )


# --- the expiry sweep and its reminder ---------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_expiry_reminder_goes_once_per_window_to_agent_and_lead(smtp_server, people, settings):
    from opsdesk.learning.tasks import sweep_certifications
    from tests.core.test_jobs_and_scheduler import run_queued_tasks

    soon = CertificationFactory(
        user=people["member"],
        name="CCNA\r\nBcc: x@evil.test",
        expires_on=TODAY() + datetime.timedelta(days=20),
    )
    CertificationFactory(
        user=people["member"], name="Far away", expires_on=TODAY() + datetime.timedelta(days=200)
    )
    gone = CertificationFactory(
        user=people["outsider"], name="Old", expires_on=TODAY() - datetime.timedelta(days=1)
    )
    sweep_certifications.enqueue()
    run_queued_tasks()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert sorted(message["X-Envelope-To"].split(", ")) == ["lead@example.com", "member@example.com"]
    assert "\n" not in message["Subject"] and "CCNA Bcc: x@evil.test" in message["Subject"]
    assert reverse("learning:certification_detail", args=[soon.pk]) in message.get_content()
    soon.refresh_from_db(), gone.refresh_from_db()
    assert (soon.status, gone.status) == ("expiring", "expired")
    # The next day's sweep sends nothing again for the same expiry date…
    sweep_certifications.enqueue()
    run_queued_tasks()
    assert len(smtp_server.messages) == 1
    # …but a renewal that comes close to its new expiry is reminded in its own window.
    Certification.objects.filter(pk=soon.pk).update(expires_on=TODAY() + datetime.timedelta(days=10))
    sweep_certifications.enqueue()
    run_queued_tasks()
    assert len(smtp_server.messages) == 2


def test_expiring_soon_list_shows_what_the_reader_may_see(people, client):
    CertificationFactory(
        user=people["member"], name="Mine soon", expires_on=TODAY() + datetime.timedelta(days=3)
    )
    CertificationFactory(
        user=people["outsider"], name="Theirs soon", expires_on=TODAY() + datetime.timedelta(days=3)
    )
    services.certifications_refresh_status(today=TODAY())
    client.force_login(people["lead"])
    page = client.get(reverse("learning:certification_list") + "?expiring=1").content.decode()
    assert "Mine soon" in page and "Theirs soon" not in page
    client.force_login(people["requester"])
    assert client.get(reverse("learning:certification_list")).status_code == 403
