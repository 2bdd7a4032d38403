"""The portfolio's web screens: who may open what, what each page shows, and the flows that
write (stage changes, CSV import, documents, evaluations, policy versions)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.portfolio import services
from opsdesk.portfolio.choices import EvaluationStatus, PolicyStatus, Stage
from opsdesk.portfolio.models import (
    Contract,
    ContractDocument,
    Kpi,
    Provider,
    Service,
    ServiceDependency,
    ServiceObjective,
    SupportPolicy,
    SupportPolicyVersion,
)
from tests.accounts.factories import UserFactory
from tests.portfolio.factories import (
    CalendarFactory,
    ContractFactory,
    ObjectiveFactory,
    OfferingFactory,
    ProviderFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

ANONYMOUS = None


def _policy(name: str, *, published: bool, services_: list[Service]) -> SupportPolicy:
    policy = SupportPolicy.objects.create(name=name)
    policy.services.set(services_)
    SupportPolicyVersion.objects.create(
        policy=policy,
        number=1,
        status=PolicyStatus.PUBLISHED if published else PolicyStatus.DRAFT,
        effective_from=timezone.localdate() - timedelta(days=1),
        support_hours="Weekdays 08:00 to 18:00.",
        coverage="Laptops and phones.",
        priority_definitions="P1: nobody can work.",
        escalation_rules="Call the duty manager after 4 hours.",
    )
    return policy


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    people = SimpleNamespace(
        requester=UserFactory(username="rita", role=Role.REQUESTER),
        agent=UserFactory(username="anna", role=Role.AGENT),
        owner=UserFactory(username="olivia", role=Role.SERVICE_OWNER),
        other_owner=UserFactory(username="oscar", role=Role.SERVICE_OWNER),
        manager=UserFactory(username="mia", role=Role.MANAGER),
        admin=UserFactory(username="ada", role=Role.ADMIN),
    )
    calendar = CalendarFactory(name="Office hours")
    catalogue = ServiceFactory(
        name="Email", owner=people.owner, service_hours=calendar, channels=["portal", "email"]
    )
    pipeline = ServiceFactory(name="New CRM", stage=Stage.PIPELINE, owner=people.owner)
    retired = ServiceFactory(name="Fax", stage=Stage.RETIRED, owner=people.other_owner)
    other = ServiceFactory(name="Printing", owner=people.other_owner)
    ServiceDependency.objects.create(service=catalogue, depends_on=pipeline)
    offering = OfferingFactory(service=catalogue, name="Mailbox", cost=Decimal("3.00"), price=Decimal("4.50"))
    provider = ProviderFactory(name="Contoso")
    provider.services.add(catalogue)
    contract = ContractFactory(provider=provider, reference="C-EMAIL", owner=people.manager)
    contract.services.add(catalogue)
    objective = ObjectiveFactory(name="Work from anywhere", owner=people.owner)
    ServiceObjective.objects.create(service=catalogue, objective=objective)
    kpi = Kpi.objects.create(objective=objective, name="Uptime", unit="%", target=99, actual=Decimal("99.5"))
    published = _policy("Standard support", published=True, services_=[catalogue])
    draft = _policy("Premium support", published=False, services_=[catalogue])
    evaluation = services.evaluation_create(
        actor=people.admin, name="Mail hosting 2027", service=catalogue, providers=[provider]
    )
    return SimpleNamespace(
        **vars(people),
        calendar=calendar,
        catalogue=catalogue,
        pipeline=pipeline,
        retired=retired,
        other=other,
        offering=offering,
        provider=provider,
        contract=contract,
        objective=objective,
        kpi=kpi,
        published=published,
        draft=draft,
        draft_version=draft.versions.get(),
        evaluation=evaluation,
    )


# (url name, target attribute or None, who asks, expected status)
MATRIX = [
    # --- services -----------------------------------------------------------------------------
    ("portfolio:service_list", None, ANONYMOUS, 302),
    ("portfolio:service_list", None, "requester", 200),
    ("portfolio:service_list", None, "agent", 200),
    ("portfolio:service_detail", "catalogue", ANONYMOUS, 302),
    ("portfolio:service_detail", "catalogue", "requester", 200),
    ("portfolio:service_detail", "pipeline", "requester", 404),
    ("portfolio:service_detail", "retired", "requester", 404),
    ("portfolio:service_detail", "pipeline", "agent", 200),
    ("portfolio:service_add", None, "requester", 403),
    ("portfolio:service_add", None, "agent", 403),
    ("portfolio:service_add", None, "owner", 200),
    ("portfolio:service_add", None, "manager", 200),
    ("portfolio:service_edit", "catalogue", "requester", 403),
    ("portfolio:service_edit", "pipeline", "requester", 404),
    ("portfolio:service_edit", "catalogue", "agent", 403),
    ("portfolio:service_edit", "catalogue", "owner", 200),
    ("portfolio:service_edit", "other", "owner", 403),
    ("portfolio:service_edit", "other", "manager", 200),
    ("portfolio:service_delete", "catalogue", "owner", 403),
    ("portfolio:service_delete", "catalogue", "admin", 200),
    ("portfolio:service_graph", "catalogue", ANONYMOUS, 302),
    ("portfolio:service_graph", "catalogue", "requester", 403),
    ("portfolio:service_graph", "catalogue", "agent", 200),
    ("portfolio:service_export", None, ANONYMOUS, 302),
    ("portfolio:service_export", None, "requester", 403),
    ("portfolio:service_export", None, "agent", 200),
    ("portfolio:service_import", None, "requester", 403),
    ("portfolio:service_import", None, "agent", 403),
    ("portfolio:service_import", None, "owner", 200),
    # --- parts of a service -------------------------------------------------------------------
    ("portfolio:offering_edit", "offering", "requester", 403),
    ("portfolio:offering_edit", "offering", "agent", 403),
    ("portfolio:offering_edit", "offering", "owner", 200),
    ("portfolio:offering_edit", "offering", "other_owner", 403),
    ("portfolio:offering_delete", "offering", "manager", 200),
    # --- strategy ------------------------------------------------------------------------------
    ("portfolio:objective_list", None, "requester", 403),
    ("portfolio:objective_list", None, "agent", 200),
    ("portfolio:objective_detail", "objective", "requester", 404),
    ("portfolio:objective_detail", "objective", "agent", 200),
    ("portfolio:objective_edit", "objective", "agent", 403),
    ("portfolio:objective_edit", "objective", "owner", 200),
    ("portfolio:kpi_edit", "kpi", "other_owner", 403),
    ("portfolio:kpi_edit", "kpi", "owner", 200),
    ("portfolio:alignment", None, ANONYMOUS, 302),
    ("portfolio:alignment", None, "requester", 403),
    ("portfolio:alignment", None, "agent", 200),
    ("portfolio:costs", None, "requester", 403),
    ("portfolio:costs", None, "agent", 200),
    ("portfolio:calendar_list", None, "requester", 403),
    ("portfolio:calendar_list", None, "agent", 200),
    ("portfolio:calendar_detail", "calendar", "requester", 404),
    ("portfolio:calendar_detail", "calendar", "agent", 200),
    ("portfolio:calendar_edit", "calendar", "agent", 403),
    ("portfolio:calendar_edit", "calendar", "manager", 200),
    ("portfolio:calendar_add", None, "manager", 200),
    ("portfolio:policy_list", None, ANONYMOUS, 302),
    ("portfolio:policy_list", None, "requester", 200),
    ("portfolio:policy_detail", "published", "requester", 200),
    ("portfolio:policy_detail", "draft", "requester", 404),
    ("portfolio:policy_detail", "draft", "agent", 200),
    ("portfolio:policy_edit", "published", "agent", 403),
    ("portfolio:policy_edit", "published", "manager", 200),
    ("portfolio:policyversion_edit", "draft_version", "requester", 404),
    ("portfolio:policyversion_edit", "draft_version", "owner", 403),
    ("portfolio:policyversion_edit", "draft_version", "manager", 200),
    # --- sourcing --------------------------------------------------------------------------------
    ("portfolio:provider_list", None, "requester", 403),
    ("portfolio:provider_list", None, "agent", 200),
    ("portfolio:provider_detail", "provider", "requester", 404),
    ("portfolio:provider_detail", "provider", "agent", 200),
    ("portfolio:provider_edit", "provider", "agent", 403),
    ("portfolio:provider_edit", "provider", "manager", 200),
    ("portfolio:provider_export", None, "requester", 403),
    ("portfolio:provider_export", None, "agent", 200),
    ("portfolio:provider_import", None, "owner", 403),
    ("portfolio:provider_import", None, "manager", 200),
    ("portfolio:contract_list", None, "requester", 403),
    ("portfolio:contract_list", None, "agent", 200),
    ("portfolio:contract_detail", "contract", "requester", 404),
    ("portfolio:contract_detail", "contract", "agent", 200),
    ("portfolio:contract_edit", "contract", "owner", 403),
    ("portfolio:contract_edit", "contract", "manager", 200),
    ("portfolio:evaluation_list", None, "requester", 403),
    ("portfolio:evaluation_list", None, "agent", 200),
    ("portfolio:evaluation_detail", "evaluation", "requester", 404),
    ("portfolio:evaluation_detail", "evaluation", "agent", 200),
    ("portfolio:evaluation_add", None, "agent", 403),
    ("portfolio:evaluation_add", None, "owner", 200),
    # --- the portal ----------------------------------------------------------------------------
    ("portal", None, "requester", 200),
]


def _id(row):
    name, target, who, status = row
    return f"{name}[{target or '-'}]-as-{who or 'anonymous'}-{status}"


@pytest.mark.parametrize(("name", "target", "who", "status"), MATRIX, ids=[_id(row) for row in MATRIX])
def test_portfolio_page_answers_each_visitor_as_designed(client, world, name, target, who, status):
    url = reverse(name, args=[getattr(world, target).pk] if target else [])
    if who is not None:
        client.force_login(getattr(world, who))
    response = client.get(url)
    assert response.status_code == status, response.content[:400]
    if who is None:
        assert response["Location"].startswith(reverse("login"))


# --- what requesters see -------------------------------------------------------------------------
def test_requester_lists_only_catalogue_services(client, world):
    client.force_login(world.requester)
    response = client.get(reverse("portfolio:service_list"))
    assert {service.name for service in response.context["object_list"]} == {"Email", "Printing"}


def test_requester_service_page_has_no_costs_contracts_or_teams(client, world):
    client.force_login(world.requester)
    response = client.get(reverse("portfolio:service_detail", args=[world.catalogue.pk]))
    body = response.content.decode()
    assert "Mailbox" in body and "Weekdays 08:00 to 18:00." in body
    assert "4.50" not in body and "3.00" not in body
    assert "C-EMAIL" not in body and "Contoso" not in body
    assert "New CRM" not in body  # a pipeline dependency stays hidden
    assert "Premium support" not in body  # draft-only policy


def test_portal_lists_services_with_the_policy_in_force(client, world):
    client.force_login(world.requester)
    response = client.get(reverse("portal"))
    body = response.content.decode()
    assert "Services you can use" in body
    assert "Email" in body and "Printing" in body and "New CRM" not in body
    email = next(service for service in response.context["services"] if service.name == "Email")
    policy, version = email.policy_in_force
    assert policy == world.published and version.status == PolicyStatus.PUBLISHED
    assert "Call the duty manager after 4 hours." in body


def test_sidebar_shows_portfolio_only_to_staff(client, world):
    client.force_login(world.requester)
    assert b'href="/portfolio/providers/"' not in client.get(reverse("portal")).content
    client.force_login(world.agent)
    body = client.get(reverse("portfolio:service_list")).content
    assert b'href="/portfolio/providers/"' in body and b'href="/portfolio/costs/"' in body


# --- the service sheet --------------------------------------------------------------------------
def test_service_sheet_shows_every_part(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("portfolio:service_detail", args=[world.catalogue.pk]))
    body = response.content.decode()
    for text in (
        "Mailbox",
        "4.50",
        "C-EMAIL",
        "Contoso",
        "New CRM",
        "Work from anywhere",
        "Standard support",
        "Office hours",
        "Monday",
    ):
        assert text in body, text
    assert response.context["stage_form"] is None  # agents read, they do not change


def test_stage_form_offers_only_allowed_next_stages(client, world):
    client.force_login(world.owner)
    response = client.get(reverse("portfolio:service_detail", args=[world.catalogue.pk]))
    choices = [value for value, _ in response.context["stage_form"].fields["to_stage"].choices]
    assert sorted(choices) == [Stage.PIPELINE, Stage.RETIRED]


def test_owner_moves_own_service_to_the_catalogue(client, world):
    client.force_login(world.owner)
    response = client.post(
        reverse("portfolio:service_stage", args=[world.pipeline.pk]), {"to_stage": "catalogue", "note": "Go"}
    )
    assert response.status_code == 302
    world.pipeline.refresh_from_db()
    assert world.pipeline.stage == Stage.CATALOGUE
    assert world.pipeline.stage_history.last().note == "Go"


def test_stage_change_of_someone_elses_service_is_refused(client, world):
    client.force_login(world.owner)
    response = client.post(reverse("portfolio:service_stage", args=[world.other.pk]), {"to_stage": "retired"})
    assert response.status_code == 403
    world.other.refresh_from_db()
    assert world.other.stage == Stage.CATALOGUE


def test_stale_service_edit_is_a_conflict_not_a_merge(client, world):
    client.force_login(world.owner)
    url = reverse("portfolio:service_edit", args=[world.catalogue.pk])
    stale = world.catalogue.version
    services.service_update(actor=world.manager, service=world.catalogue, data={"description": "Newer"})
    response = client.post(
        url,
        {
            "version": stale,
            "name": "Email",
            "description": "Mine",
            "type": "business",
            "criticality": 3,
            "delivery_type": "in_house",
            "support_mode": "remote",
        },
    )
    assert response.status_code == 409
    world.catalogue.refresh_from_db()
    assert world.catalogue.description == "Newer"


def test_owner_creates_a_service_with_dependencies(client, world):
    client.force_login(world.owner)
    response = client.post(
        reverse("portfolio:service_add"),
        {
            "name": "Video calls",
            "description": "Meet anyone.",
            "type": "business",
            "stage": "pipeline",
            "owner": world.owner.pk,
            "criticality": 2,
            "delivery_type": "cloud",
            "support_mode": "remote",
            "channels": ["portal", "chat"],
            "support_languages": "en, de",
            "depends_on": [world.catalogue.pk],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    service = Service.objects.get(name="Video calls")
    assert service.owner == world.owner
    assert service.channels == ["portal", "chat"] and service.support_languages == ["en", "de"]
    assert list(service.depends_on.all()) == [world.catalogue]


def test_dependency_graph_draws_nodes_as_links(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("portfolio:service_graph", args=[world.catalogue.pk]))
    body = response.content.decode()
    assert "<svg" in body and 'class="graph-node graph-node-center' in body
    assert reverse("portfolio:service_graph", args=[world.pipeline.pk]) in body
    assert "marker-end" in body


# --- query bounds ------------------------------------------------------------------------------
MAX_LIST_QUERIES = 12
MAX_SHEET_QUERIES = 30


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_service_list_with_30_services_stays_bounded(client, world, who, django_assert_max_num_queries):
    for _ in range(30):
        ServiceFactory(owner=world.owner, service_hours=world.calendar)
    client.force_login(getattr(world, who))
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(reverse("portfolio:service_list"), {"sort": "owner"})
    assert len(response.context["object_list"]) == 25


def test_service_sheet_stays_bounded(client, world, django_assert_max_num_queries):
    for index in range(10):
        OfferingFactory(service=world.catalogue)
        ServiceDependency.objects.create(service=ServiceFactory(), depends_on=world.catalogue)
        ServiceObjective.objects.create(service=world.catalogue, objective=ObjectiveFactory())
        contract = ContractFactory(provider=world.provider, reference=f"X-{index}")
        contract.services.add(world.catalogue)
    client.force_login(world.manager)
    with django_assert_max_num_queries(MAX_SHEET_QUERIES):
        response = client.get(reverse("portfolio:service_detail", args=[world.catalogue.pk]))
    assert response.status_code == 200


def test_portal_stays_bounded(client, world, django_assert_max_num_queries):
    for _ in range(20):
        _policy(f"Policy for {ServiceFactory().pk}", published=True, services_=[ServiceFactory()])
    client.force_login(world.requester)
    with django_assert_max_num_queries(12):
        client.get(reverse("portal"))


# --- CSV export and import --------------------------------------------------------------------------
def test_export_is_an_attachment_honouring_the_filters(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("portfolio:service_export"), {"stage": "pipeline"})
    assert response["Content-Disposition"] == 'attachment; filename="services.csv"'
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("name,") and [line.split(",")[0] for line in lines[1:]] == ["New CRM"]


GOOD_CSV = b"name,type,criticality,channels\nChat,business,2,portal;chat\nEmail,business,1,email\n"
BAD_CSV = b"name,type,criticality\nWiki,business,2\nBroken,nonsense,9\n"


def test_import_preview_shows_per_row_errors_and_writes_nothing(client, world):
    client.force_login(world.manager)
    upload = SimpleUploadedFile("services.csv", BAD_CSV, content_type="text/csv")
    response = client.post(reverse("portfolio:service_import"), {"step": "preview", "file": upload})
    body = response.content.decode()
    assert "1 problem:" in body  # one row is fine, one row has two field errors
    assert (
        "import-row-error" in body and "nonsense" in body and "A number from 1 (critical) to 4 (low)." in body
    )
    assert "Import 2 rows" not in body
    assert not Service.objects.filter(name__in=["Wiki", "Broken"]).exists()


def test_applying_a_bad_file_writes_nothing(client, world):
    client.force_login(world.manager)
    response = client.post(
        reverse("portfolio:service_import"), {"step": "apply", "content": BAD_CSV.decode()}
    )
    assert response.status_code == 200
    assert not response.context["applied"]
    assert not Service.objects.filter(name="Wiki").exists()


def test_good_file_previews_then_imports(client, world):
    client.force_login(world.manager)
    upload = SimpleUploadedFile("services.csv", GOOD_CSV, content_type="text/csv")
    preview = client.post(reverse("portfolio:service_import"), {"step": "preview", "file": upload})
    assert "Import 2 rows" in preview.content.decode()
    assert [row.action for row in preview.context["result"].rows] == ["create", "update"]
    assert not Service.objects.filter(name="Chat").exists()
    response = client.post(
        reverse("portfolio:service_import"), {"step": "apply", "content": preview.context["content"]}
    )
    assert response.context["applied"]
    assert Service.objects.get(name="Chat").channels == ["portal", "chat"]
    world.catalogue.refresh_from_db()
    assert world.catalogue.criticality == 1


def test_provider_import_through_the_ui(client, world):
    client.force_login(world.manager)
    content = "name,kind,services\nFabrikam,cloud,Email\n"
    response = client.post(reverse("portfolio:provider_import"), {"step": "apply", "content": content})
    assert response.context["applied"]
    assert list(Provider.objects.get(name="Fabrikam").services.all()) == [world.catalogue]


# --- contracts and documents -------------------------------------------------------------------------
def test_contract_document_upload_and_download(client, world):
    client.force_login(world.manager)
    upload = SimpleUploadedFile("Signed <contract>.pdf", b"%PDF-1.4 test", content_type="text/html")
    response = client.post(
        reverse("portfolio:contract_document_add", args=[world.contract.pk]), {"file": upload}
    )
    assert response.status_code == 302
    document = ContractDocument.objects.get()
    assert document.content_type == "application/pdf"
    client.force_login(world.agent)
    download = client.get(reverse("portfolio:contract_document_download", args=[document.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Signed" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_requester_cannot_download_contract_documents(client, world):
    document = services.contract_document_add(
        actor=world.manager,
        contract=world.contract,
        upload=SimpleUploadedFile("terms.txt", b"secret terms"),
    )
    client.force_login(world.requester)
    assert client.get(reverse("portfolio:contract_document_download", args=[document.pk])).status_code == 404


def test_agent_cannot_attach_to_a_contract_they_do_not_own(client, world):
    client.force_login(world.agent)
    upload = SimpleUploadedFile("x.pdf", b"%PDF")
    response = client.post(
        reverse("portfolio:contract_document_add", args=[world.contract.pk]), {"file": upload}
    )
    assert response.status_code == 403
    assert not ContractDocument.objects.exists()


def test_contract_page_shows_notice_and_reminder_dates(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("portfolio:contract_detail", args=[world.contract.pk]))
    body = response.content.decode()
    assert world.contract.notice_date.strftime("%d %b %Y") in body
    assert world.contract.reminder_date.strftime("%d %b %Y") in body


# --- evaluations -----------------------------------------------------------------------------------
def test_evaluation_criteria_scores_ranking_and_decision(client, world):
    second = ProviderFactory(name="Fabrikam")
    world.evaluation.candidates.create(provider=second)
    client.force_login(world.admin)
    url = reverse("portfolio:evaluation_criteria", args=[world.evaluation.pk])
    response = client.post(url, {"name_0": "Price", "weight_0": "60", "name_1": "Quality", "weight_1": "40"})
    assert response.status_code == 302
    assert sorted(world.evaluation.criteria.values_list("name", flat=True)) == ["Price", "Quality"]
    price, quality = (
        world.evaluation.criteria.get(name="Price"),
        world.evaluation.criteria.get(name="Quality"),
    )
    contoso = world.evaluation.candidates.get(provider=world.provider)
    fabrikam = world.evaluation.candidates.get(provider=second)
    scores = {
        f"score_{contoso.pk}_{price.pk}": "4",
        f"score_{contoso.pk}_{quality.pk}": "9",
        f"score_{fabrikam.pk}_{price.pk}": "8",
        f"score_{fabrikam.pk}_{quality.pk}": "7",
    }
    assert (
        client.post(reverse("portfolio:evaluation_scores", args=[world.evaluation.pk]), scores).status_code
        == 302
    )
    page = client.get(reverse("portfolio:evaluation_detail", args=[world.evaluation.pk]))
    ranking = page.context["ranking"]
    assert [row.candidate.provider.name for row in ranking] == ["Fabrikam", "Contoso"]
    assert ranking[0].weighted_score == Decimal("7.60")
    response = client.post(
        reverse("portfolio:evaluation_decide", args=[world.evaluation.pk]),
        {"provider": second.pk, "reasons": "Cheaper, good enough."},
    )
    assert response.status_code == 302
    world.evaluation.refresh_from_db()
    assert world.evaluation.status == EvaluationStatus.DECIDED and world.evaluation.chosen_provider == second


def test_out_of_range_score_is_refused_with_the_grid_shown_again(client, world):
    client.force_login(world.admin)
    candidate = world.evaluation.candidates.get()
    criterion = world.evaluation.criteria.first()
    response = client.post(
        reverse("portfolio:evaluation_scores", args=[world.evaluation.pk]),
        {f"score_{candidate.pk}_{criterion.pk}": "11"},
    )
    assert response.status_code == 400
    assert not candidate.scores.exists()


def test_zero_weights_are_refused(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("portfolio:evaluation_criteria", args=[world.evaluation.pk]),
        {"name_0": "Cost", "weight_0": "0"},
    )
    assert response.status_code == 400
    assert "weight above zero" in response.content.decode()


# --- policies and calendars ------------------------------------------------------------------------
def test_manager_drafts_and_publishes_a_policy_version(client, world):
    client.force_login(world.manager)
    response = client.post(
        reverse("portfolio:policyversion_add", args=[world.published.pk]),
        {
            "effective_from": timezone.localdate().isoformat(),
            "support_hours": "Around the clock.",
            "coverage": "Everything.",
            "priority_definitions": "P1 in 1 hour.",
            "escalation_rules": "Straight to the CIO.",
        },
    )
    assert response.status_code == 302
    version = world.published.versions.get(number=2)
    assert version.status == PolicyStatus.DRAFT
    client.force_login(world.requester)
    assert "Around the clock." not in client.get(reverse("portal")).content.decode()
    client.force_login(world.manager)
    client.post(reverse("portfolio:policyversion_publish", args=[version.pk]))
    client.force_login(world.requester)
    assert "Around the clock." in client.get(reverse("portal")).content.decode()


def test_published_version_cannot_be_edited(client, world):
    version = world.published.versions.get()
    client.force_login(world.manager)
    response = client.post(
        reverse("portfolio:policyversion_edit", args=[version.pk]),
        {
            "version": version.version,
            "effective_from": version.effective_from.isoformat(),
            "support_hours": "Changed",
            "coverage": "x",
            "priority_definitions": "x",
            "escalation_rules": "x",
        },
    )
    assert response.status_code == 400
    version.refresh_from_db()
    assert version.support_hours == "Weekdays 08:00 to 18:00."


def test_calendar_week_is_readable_and_editable(client, world):
    client.force_login(world.manager)
    page = client.get(reverse("portfolio:calendar_detail", args=[world.calendar.pk]))
    assert page.context["week"][0] == {"day": "Monday", "hours": "09:00–17:00", "open": True}
    assert page.context["week"][6]["open"] is False
    data = {
        "version": world.calendar.version,
        "name": "Office hours",
        "time_zone": "Europe/Berlin",
        "holiday_country": "",
        "holiday_subdivision": "",
        "closures": "2030-12-24",
        "extra_working_days": "",
        **{f"hours_{day}": "08:00-12:00, 13:00–17:00" for day in ("mon", "tue", "wed", "thu", "fri")},
        "hours_sat": "",
        "hours_sun": "",
    }
    response = client.post(reverse("portfolio:calendar_edit", args=[world.calendar.pk]), data)
    assert response.status_code == 302, response.content[:3000]
    world.calendar.refresh_from_db()
    assert world.calendar.working_hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert world.calendar.closures == ["2030-12-24"]


def test_calendar_edit_refuses_overlapping_hours(client, world):
    client.force_login(world.manager)
    data = {
        "version": world.calendar.version,
        "name": "Office hours",
        "time_zone": "UTC",
        "hours_mon": "09:00–12:00, 11:00–13:00",
    }
    response = client.post(reverse("portfolio:calendar_edit", args=[world.calendar.pk]), data)
    assert response.status_code == 400
    assert "overlap" in response.content.decode()


# --- strategy overviews ------------------------------------------------------------------------------
def test_alignment_lists_orphans_and_unserved_objectives(client, world):
    lonely = ObjectiveFactory(name="Paperless office")
    client.force_login(world.agent)
    alignment = client.get(reverse("portfolio:alignment")).context["alignment"]
    assert world.other in alignment.orphan_services and world.retired not in alignment.orphan_services
    assert lonely in alignment.unserved_objectives
    assert alignment.by_objective[0][0] == world.objective


def test_cost_view_carries_chart_data_as_json(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("portfolio:costs"))
    body = response.content.decode()
    assert '<script id="cost-data" type="application/json">' in body
    assert response.context["chart_data"]["services"]["labels"] == ["Email"]
    assert response.context["chart_data"]["services"]["price"] == [54.0]


def test_objective_page_shows_kpis_on_target(client, world):
    client.force_login(world.agent)
    body = client.get(reverse("portfolio:objective_detail", args=[world.objective.pk])).content.decode()
    assert "Uptime" in body and "On target" in body


def test_owner_adds_an_offering_to_own_service_only(client, world):
    client.force_login(world.owner)
    url = reverse("portfolio:offering_add")
    assert client.get(url, {"service": world.other.pk}).status_code == 403
    data = {
        "service": world.catalogue.pk,
        "name": "Shared mailbox",
        "cost": "1",
        "price": "2",
        "currency": "EUR",
        "period": "month",
    }
    response = client.post(f"{url}?service={world.catalogue.pk}", data)
    assert response.status_code == 302
    assert response["Location"].endswith("#offerings")
    forged = {**data, "service": world.other.pk, "name": "Sneaky"}
    assert client.post(url, forged).status_code == 403
    assert not world.other.offerings.exists()


def test_contract_requires_a_provider_the_user_can_see(client, world):
    client.force_login(world.manager)
    data = {
        "provider": world.provider.pk,
        "reference": "C-NEW",
        "start_date": "2026-01-01",
        "end_date": "2028-12-31",
        "notice_period_days": 90,
        "reminder_days": 30,
        "cost": "1200",
        "currency": "EUR",
        "cost_period": "year",
    }
    response = client.post(reverse("portfolio:contract_add"), data)
    assert response.status_code == 302, response.content[:3000]
    assert Contract.objects.get(reference="C-NEW").notice_date.isoformat() == "2028-10-02"


def test_delivery_by_site_shows_each_location_with_its_services_and_how(client, make_user):
    from opsdesk.accounts.models import Location
    from opsdesk.portfolio.models import ServiceLocation
    from tests.accounts.factories import TeamFactory
    from tests.portfolio.factories import ServiceFactory

    berlin, remote_site = Location.objects.create(name="Berlin"), Location.objects.create(name="Outpost")
    ServiceLocation.objects.create(
        service=ServiceFactory(name="Laptops"),
        location=berlin,
        delivery="on_site_team",
        on_site_team=TeamFactory(name="Desk Berlin"),
    )
    ServiceLocation.objects.create(service=ServiceFactory(name="E-mail"), location=remote_site)
    client.force_login(make_user(role="agent"))
    page = client.get("/portfolio/locations/").content.decode()
    assert "Laptops" in page and "Desk Berlin" in page and "Remote only" in page
    client.force_login(make_user())
    assert client.get("/portfolio/locations/").status_code == 403
