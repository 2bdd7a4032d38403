"""The portfolio REST API: its rules hold on this path too; requesters see only what is theirs."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models import Service
from opsdesk.portfolio.services import policy_version_create, policy_version_publish, service_create
from tests.portfolio.factories import ContractFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(role="manager")


def test_a_manager_creates_a_service_with_dependencies(api_as, manager):
    directory = ServiceFactory(name="Directory")
    response = api_as(manager).post(
        "/api/v1/services/",
        {"name": "Mail", "type": "business", "depends_on": [directory.pk], "channels": ["email"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["depends_on"] == [directory.pk]
    assert response.json()["stage"] == "pipeline"
    assert response["ETag"] == '"1"'


def test_a_dependency_cycle_is_a_400_naming_depends_on(api_as, manager):
    mail = service_create(actor=manager, data={"name": "Mail"})
    directory = service_create(actor=manager, data={"name": "Directory"}, depends_on=[mail])
    response = api_as(manager).patch(
        f"/api/v1/services/{mail.pk}/",
        {"depends_on": [directory.pk]},
        format="json",
        HTTP_IF_MATCH=f'"{mail.version}"',
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Mail → Directory → Mail" in response.json()["errors"]["depends_on"][0]


def test_stage_changes_go_through_the_stage_action(api_as, manager):
    service = service_create(actor=manager, data={"name": "VPN"})
    client = api_as(manager)
    refused = client.patch(
        f"/api/v1/services/{service.pk}/", {"stage": "retired"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert refused.status_code == 400
    moved = client.post(
        f"/api/v1/services/{service.pk}/stage/", {"stage": "catalogue", "note": "Go live"}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["stage"] == "catalogue"
    illegal = client.post(f"/api/v1/services/{service.pk}/stage/", {"stage": "catalogue"}, format="json")
    assert illegal.status_code == 400 and "allowed" in illegal.json()["detail"]


def test_requesters_list_only_catalogue_services_and_cannot_see_others(api_as, make_user):
    live, planned = ServiceFactory(name="Live"), ServiceFactory(name="Planned", stage=Stage.PIPELINE)
    client = api_as(make_user())
    names = [row["name"] for row in client.get("/api/v1/services/").json()["results"]]
    assert names == ["Live"]
    assert client.get(f"/api/v1/services/{planned.pk}/").status_code == 404
    assert client.get(f"/api/v1/services/{live.pk}/").status_code == 200
    assert client.post("/api/v1/services/", {"name": "Mine"}, format="json").status_code == 403


def test_service_owners_change_only_their_own_services(api_as, make_user):
    alice, bob = make_user(role="service_owner"), make_user(role="service_owner")
    mine = service_create(actor=alice, data={"name": "Alice's"})
    patch = {"description": "New words"}
    assert (
        api_as(bob)
        .patch(f"/api/v1/services/{mine.pk}/", patch, format="json", HTTP_IF_MATCH='"1"')
        .status_code
        == 403
    )
    assert (
        api_as(alice)
        .patch(f"/api/v1/services/{mine.pk}/", patch, format="json", HTTP_IF_MATCH='"1"')
        .status_code
        == 200
    )


def test_calendars_keep_the_documented_shape(api_as, manager):
    body = {
        "name": "Berlin office",
        "timezone": "Europe/Berlin",
        "working_hours": {
            "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "holiday_country": "DE",
        "holiday_subdivision": "BE",
        "closures": ["2026-12-24"],
        "extra_working_days": [],
    }
    response = api_as(manager).post("/api/v1/calendars/", body, format="json")
    assert response.status_code == 201, response.json()
    assert {key: response.json()[key] for key in body} == body
    bad = api_as(manager).post(
        "/api/v1/calendars/", {**body, "name": "Bad", "closures": ["24.12.2026"]}, format="json"
    )
    assert bad.status_code == 400 and "closures" in bad.json()["errors"]


def test_evaluations_rank_candidates_and_refuse_senseless_weights(api_as, manager):
    cheap, good = ProviderFactory(name="Cheap"), ProviderFactory(name="Good")
    client = api_as(manager)
    zero = client.post(
        "/api/v1/evaluations/", {"name": "X", "criteria": [{"name": "Cost", "weight": "0"}]}, format="json"
    )
    assert zero.status_code == 400 and "above zero" in zero.json()["detail"]
    created = client.post(
        "/api/v1/evaluations/",
        {
            "name": "Hosting",
            "providers": [cheap.pk, good.pk],
            "criteria": [{"name": "Cost", "weight": "1"}, {"name": "Quality", "weight": "3"}],
        },
        format="json",
    ).json()
    url = f"/api/v1/evaluations/{created['id']}/"
    for provider, criterion, score in [
        (cheap, "Cost", 10),
        (cheap, "Quality", 4),
        (good, "Cost", 5),
        (good, "Quality", 9),
    ]:
        assert (
            client.post(
                url + "scores/",
                {"provider": provider.pk, "criterion": criterion, "score": score},
                format="json",
            ).status_code
            == 200
        )
    ranking = client.get(url).json()["ranking"]
    assert [(row["rank"], row["provider_name"], row["weighted_score"]) for row in ranking] == [
        (1, "Good", "8.00"),
        (2, "Cheap", "5.50"),
    ]
    decided = client.post(url + "decide/", {"provider": good.pk, "reasons": "Quality"}, format="json")
    assert decided.json()["status"] == "decided"


def test_contract_documents_are_checked_stored_under_random_names_and_downloaded_as_attachments(
    api_as, manager, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    contract = ContractFactory()
    client = api_as(manager)
    url = f"/api/v1/contracts/{contract.pk}/documents/"
    refused = client.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ")}, format="multipart")
    assert refused.status_code == 400 and "file" in refused.json()["errors"]
    uploaded = client.post(
        url, {"file": SimpleUploadedFile("Master agreement.pdf", b"%PDF-1.4 test")}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.json()
    stored = list((tmp_path / "contracts" / str(contract.pk)).iterdir())
    assert len(stored) == 1 and "Master" not in stored[0].name
    download = client.get(uploaded.json()["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="Master agreement.pdf"')
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_requesters_cannot_see_contracts_or_their_documents(api_as, make_user):
    contract = ContractFactory()
    client = api_as(make_user())
    assert client.get("/api/v1/contracts/").json()["results"] == []
    assert client.get(f"/api/v1/contracts/{contract.pk}/").status_code == 404


def test_requesters_see_a_published_policy_from_its_effective_date(api_as, make_user, manager):
    from opsdesk.portfolio.models import SupportPolicy

    policy = SupportPolicy.objects.create(name="Standard")
    text = {
        "support_hours": "8–18",
        "coverage": "All",
        "priority_definitions": "P1",
        "escalation_rules": "L2",
    }
    draft = policy_version_create(
        actor=manager, policy=policy, data={**text, "effective_from": date(2026, 1, 1)}
    )
    requester = api_as(make_user())
    assert requester.get("/api/v1/support-policies/").json()["results"] == []
    policy_version_publish(actor=manager, version=draft)
    listed = requester.get("/api/v1/support-policies/").json()["results"]
    assert [(row["name"], row["current_version"]) for row in listed] == [("Standard", draft.pk)]
    edit = api_as(manager).patch(
        f"/api/v1/support-policy-versions/{draft.pk}/",
        {"coverage": "None"},
        format="json",
        HTTP_IF_MATCH=f'"{draft.version + 1}"',
    )
    assert edit.status_code in (400, 409)


def test_the_service_list_query_count_does_not_grow_with_rows(api_as, manager, django_assert_max_num_queries):
    for index in range(30):
        service_create(actor=manager, data={"name": f"S{index}"})
    client = api_as(manager)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/services/?page_size=50")
    assert len(response.json()["results"]) == 30
    assert Service.objects.count() == 30


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("invoice.png", b"MZ\x90\x00 an executable", "not really a .png"),
        ("../../etc/passwd.txt", b"root:x:0:0", None),
        ("report\u202egnp.exe", b"MZ", "files only"),
        ("notes.txt", b"\x00\x01binary", "not a text file"),
    ],
)
def test_uploads_are_checked_by_content_and_name(api_as, manager, settings, tmp_path, name, content, reason):
    settings.MEDIA_ROOT = tmp_path
    contract = ContractFactory()
    response = api_as(manager).post(
        f"/api/v1/contracts/{contract.pk}/documents/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    if reason is None:
        assert response.status_code == 201
        assert response.json()["original_name"] == "passwd.txt"
    else:
        assert response.status_code == 400
        assert reason in response.json()["errors"]["file"][0]


def test_requesters_see_neither_internal_teams_nor_costs_nor_hidden_dependencies(api_as, make_user, manager):
    from tests.portfolio.factories import OfferingFactory

    planned = ServiceFactory(name="Planned backend", stage=Stage.PIPELINE)
    directory = ServiceFactory(name="Directory")
    mail = service_create(
        actor=manager, data={"name": "Mail", "stage": Stage.CATALOGUE}, depends_on=[planned, directory]
    )
    OfferingFactory(service=mail, name="Mailbox")
    requester = api_as(make_user())
    service = requester.get(f"/api/v1/services/{mail.pk}/").json()
    assert service["depends_on"] == [directory.pk]
    assert not {"support_tiers", "escalation_teams", "owner"} & set(service)
    offering = requester.get("/api/v1/offerings/").json()["results"][0]
    assert "cost" not in offering and offering["price"] == "55.00"
    staff_view = api_as(manager).get(f"/api/v1/services/{mail.pk}/").json()
    assert (
        sorted(staff_view["depends_on"]) == sorted([planned.pk, directory.pk])
        and "support_tiers" in staff_view
    )
