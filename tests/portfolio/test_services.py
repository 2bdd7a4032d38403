"""The portfolio's rules, as services enforce them on every path (UI, API, import)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.portfolio import selectors, services
from opsdesk.portfolio.choices import EvaluationStatus, PolicyStatus, Stage
from opsdesk.portfolio.models import Service, ServiceStageChange, SupportPolicy
from tests.portfolio.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(role="manager")


def test_a_new_service_starts_in_the_pipeline_owned_by_its_creator(make_user):
    owner = make_user(role="service_owner")
    service = services.service_create(actor=owner, data={"name": "E-mail", "type": "business"})
    assert (service.stage, service.owner, service.pipeline_at) == (Stage.PIPELINE, owner, date.today())
    assert service.stage_history.get().to_stage == Stage.PIPELINE


def test_dependency_cycles_are_refused_with_the_path(manager):
    mail = services.service_create(actor=manager, data={"name": "Mail"})
    directory = services.service_create(actor=manager, data={"name": "Directory"}, depends_on=[mail])
    network = services.service_create(actor=manager, data={"name": "Network"}, depends_on=[directory])
    with pytest.raises(ServiceError) as refused:
        services.service_update(actor=manager, service=mail, data={}, depends_on=[network])
    assert refused.value.code == "dependency_cycle"
    assert "Mail → Network → Directory → Mail" in refused.value.message
    assert list(mail.depends_on.all()) == []


def test_a_service_cannot_depend_on_itself(manager):
    mail = services.service_create(actor=manager, data={"name": "Mail"})
    with pytest.raises(ServiceError, match="Mail → Mail"):
        services.service_update(actor=manager, service=mail, data={}, depends_on=[mail])


def test_stage_moves_follow_the_lifecycle_and_keep_history(manager):
    service = services.service_create(actor=manager, data={"name": "VPN"})
    services.service_change_stage(
        actor=manager, service=service, to_stage=Stage.CATALOGUE, effective=date(2026, 2, 1), note="Launched"
    )
    services.service_change_stage(
        actor=manager, service=service, to_stage=Stage.RETIRED, effective=date(2026, 9, 1)
    )
    assert (service.catalogue_at, service.retired_at) == (date(2026, 2, 1), date(2026, 9, 1))
    history = list(ServiceStageChange.objects.filter(service=service).values_list("from_stage", "to_stage"))
    assert history == [("", "pipeline"), ("pipeline", "catalogue"), ("catalogue", "retired")]
    with pytest.raises(ServiceError, match="allowed: none"):
        services.service_change_stage(actor=manager, service=service, to_stage=Stage.CATALOGUE)


def test_the_stage_is_not_changed_by_a_plain_update(manager):
    service = services.service_create(actor=manager, data={"name": "VPN"})
    with pytest.raises(ServiceError, match="stage action"):
        services.service_update(actor=manager, service=service, data={"stage": Stage.RETIRED})


def test_service_owners_edit_their_own_services_only(make_user):
    alice, bob = make_user(role="service_owner"), make_user(role="service_owner")
    mine = services.service_create(actor=alice, data={"name": "Alice's"})
    services.service_update(actor=alice, service=mine, data={"description": "Better words"})
    with pytest.raises(NotAllowed):
        services.service_update(actor=bob, service=mine, data={"description": "Hijacked"})


def test_requesters_see_only_catalogue_services(make_user):
    ServiceFactory(name="Live", stage=Stage.CATALOGUE)
    ServiceFactory(name="Planned", stage=Stage.PIPELINE)
    ServiceFactory(name="Gone", stage=Stage.RETIRED)
    requester, agent = make_user(), make_user(role="agent")
    assert [s.name for s in Service.objects.restrict(requester, "view")] == ["Live"]
    assert Service.objects.restrict(agent, "view").count() == 3


def test_calendar_working_hours_are_validated(manager):
    from tests.portfolio.factories import CalendarFactory

    calendar = CalendarFactory.build(working_hours={"mon": [["09:00", "08:00"]]})
    with pytest.raises(ValidationError, match="must end after it starts"):
        calendar.full_clean()
    calendar.working_hours = {"mon": [["08:00", "12:00"], ["11:00", "17:00"]]}
    with pytest.raises(ValidationError, match="overlap"):
        calendar.full_clean()
    calendar.working_hours = {"mon": [["00:00", "24:00"]], "funday": []}
    with pytest.raises(ValidationError, match="funday"):
        calendar.full_clean()
    calendar.working_hours = {"mon": [["00:00", "24:00"]]}
    calendar.holiday_country, calendar.holiday_subdivision = "DE", "ZZ"
    with pytest.raises(ValidationError, match="subdivision ZZ"):
        calendar.full_clean()


def test_weights_must_make_sense(manager):
    with pytest.raises(ServiceError, match="above zero"):
        services.evaluation_create(actor=manager, name="Cloud", criteria=[("Cost", Decimal("0"))])
    with pytest.raises(ServiceError, match="negative"):
        services.evaluation_create(
            actor=manager, name="Cloud", criteria=[("Cost", Decimal("-1")), ("Fit", Decimal("5"))]
        )


def test_candidates_are_ranked_by_weighted_score_and_the_decision_is_recorded(manager):
    cheap, good = ProviderFactory(name="Cheap Ltd"), ProviderFactory(name="Good GmbH")
    evaluation = services.evaluation_create(
        actor=manager,
        name="Hosting",
        providers=[cheap, good],
        criteria=[("Cost", Decimal("1")), ("Quality", Decimal("3"))],
    )
    cost, quality = evaluation.criteria.get(name="Cost"), evaluation.criteria.get(name="Quality")
    cheap_row, good_row = evaluation.candidates.get(provider=cheap), evaluation.candidates.get(provider=good)
    for candidate, criterion, score in [
        (cheap_row, cost, 10),
        (cheap_row, quality, 4),
        (good_row, cost, 5),
        (good_row, quality, 9),
    ]:
        services.evaluation_score(
            actor=manager, candidate=candidate, criterion=criterion, score=Decimal(score)
        )
    ranking = selectors.evaluation_ranking(evaluation=evaluation)
    assert [(row.rank, row.candidate.provider.name, row.weighted_score) for row in ranking] == [
        (1, "Good GmbH", Decimal("8.00")),
        (2, "Cheap Ltd", Decimal("5.50")),
    ]
    with pytest.raises(ServiceError, match="reasons"):
        services.evaluation_decide(actor=manager, evaluation=evaluation, provider=good, reasons=" ")
    services.evaluation_decide(actor=manager, evaluation=evaluation, provider=good, reasons="Quality matters")
    assert (evaluation.status, evaluation.chosen_provider) == (EvaluationStatus.DECIDED, good)
    with pytest.raises(ServiceError, match="decided"):
        services.evaluation_score(actor=manager, candidate=cheap_row, criterion=cost, score=Decimal(1))


def test_published_policy_versions_reach_requesters_from_their_effective_date_and_never_change(
    manager, make_user
):
    policy = SupportPolicy.objects.create(name="Standard support")
    text = {
        "support_hours": "Mon–Fri 8–18",
        "coverage": "All laptops",
        "priority_definitions": "P1: down",
        "escalation_rules": "After 4 hours to L2",
    }
    current = services.policy_version_create(
        actor=manager, policy=policy, data={**text, "effective_from": date(2026, 1, 1)}
    )
    future = services.policy_version_create(
        actor=manager, policy=policy, data={**text, "effective_from": date(2099, 1, 1)}
    )
    requester = make_user()
    assert not SupportPolicy.objects.restrict(requester, "view").exists()
    services.policy_version_publish(actor=manager, version=current)
    services.policy_version_publish(actor=manager, version=future)
    assert list(SupportPolicy.objects.restrict(requester, "view")) == [policy]
    assert selectors.policy_current_version(policy=policy) == current
    assert current.status == PolicyStatus.PUBLISHED and future.number == 2
    with pytest.raises(ServiceError, match="cannot change"):
        services.policy_version_update(actor=manager, version=current, data={"coverage": "Nothing"})


def test_service_owners_open_evaluations_for_their_own_services_only(make_user):
    owner, other = make_user(role="service_owner"), make_user(role="service_owner")
    mine = services.service_create(actor=owner, data={"name": "Mine"})
    theirs = services.service_create(actor=other, data={"name": "Theirs"})
    assert services.evaluation_create(actor=owner, name="For mine", service=mine).service == mine
    with pytest.raises(NotAllowed):
        services.evaluation_create(actor=owner, name="For theirs", service=theirs)
