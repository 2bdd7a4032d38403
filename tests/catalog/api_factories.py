"""A small catalogue for the API tests: two customer organisations, a requester with a manager
who approves, the service desk's teams, items with forms, approvals and task plans, and orders
placed through the real ordering service."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.models import ApprovalStep, TaskTemplate
from opsdesk.catalog.services.ordering import request_order
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.catalog.factories import LAPTOP_FORM as BASE_LAPTOP_FORM
from tests.catalog.factories import ApprovalGroupFactory, CatalogCategoryFactory, CatalogItemFactory
from tests.portfolio.factories import OfferingFactory, ServiceFactory

LAPTOP_FORM = [
    *BASE_LAPTOP_FORM,
    {"key": "quantity", "label": "How many", "type": "number", "min": 1, "max": 10, "integer": True},
    {"key": "photo", "label": "Photo of the old one", "type": "attachment"},
]


def catalog_world() -> SimpleNamespace:
    acme = OrganizationFactory(name="Acme")
    globex = OrganizationFactory(name="Globex")
    it = OrganizationFactory(name="Acme IT")
    boss = UserFactory(role=Role.REQUESTER, organization=acme, first_name="Bea", last_name="Boss")
    people = SimpleNamespace(
        boss=boss,
        requester=UserFactory(
            role=Role.REQUESTER, organization=acme, manager=boss, first_name="Ana", last_name="Lopez"
        ),
        colleague=UserFactory(role=Role.REQUESTER, organization=acme, manager=boss),
        outsider=UserFactory(role=Role.REQUESTER, organization=globex),
        agent=UserFactory(role=Role.AGENT, organization=it),
        networker=UserFactory(role=Role.AGENT, organization=it),
        manager=UserFactory(role=Role.MANAGER, organization=it),
        auditor=UserFactory(role=Role.AUDITOR, organization=it),
        admin=UserFactory(role=Role.ADMIN, organization=it),
    )
    desk = TeamFactory(name="Service desk")
    network = TeamFactory(name="Network")
    TeamMembershipFactory(team=desk, user=people.agent)
    TeamMembershipFactory(team=network, user=people.networker)
    hardware = CatalogCategoryFactory(name="Hardware", slug="hardware", position=1)
    access = CatalogCategoryFactory(name="Access", slug="access", position=2)
    offering = OfferingFactory(service=ServiceFactory(name="Workplace", owner=people.manager))
    laptop = CatalogItemFactory(
        name="New laptop",
        slug="new-laptop",
        category=hardware,
        offering=offering,
        price=Decimal("1200.00"),
        delivery_days=5,
        form=LAPTOP_FORM,
        fulfilment_team=desk,
    )
    ApprovalStep.objects.create(item=laptop, position=1, name="Manager", kind=ApproverKind.MANAGER)
    TaskTemplate.objects.create(
        item=laptop, stage=1, name="Prepare the laptop", team=desk, target_minutes=240
    )
    TaskTemplate.objects.create(item=laptop, stage=1, name="Network access", team=network, target_minutes=120)
    vpn = CatalogItemFactory(
        name="VPN token", slug="vpn-token", category=access, offering=offering, fulfilment_team=network
    )
    vpn.organizations.set([acme])
    TaskTemplate.objects.create(item=vpn, stage=1, name="Issue the token", team=network)
    finance = CatalogItemFactory(
        name="Access to the finance share", slug="finance-share", category=access, offering=offering
    )
    finance.organizations.set([globex])
    retired = CatalogItemFactory(name="Fax machine", slug="fax", category=hardware, offering=offering)
    retired.is_active = False
    retired.save()
    approvers = ApprovalGroupFactory(name="Finance approvers", members=[people.manager, people.admin])
    laptop_request = request_order(
        actor=people.requester, item=laptop, answers={"model": "Standard 14-inch", "quantity": 1}
    )
    vpn_request = request_order(actor=people.requester, item=vpn, answers={})
    outsider_request = request_order(actor=people.outsider, item=finance, answers={})
    return SimpleNamespace(
        people=people,
        acme=acme,
        globex=globex,
        desk=desk,
        network=network,
        hardware=hardware,
        access=access,
        offering=offering,
        laptop=laptop,
        vpn=vpn,
        finance=finance,
        retired=retired,
        approvers=approvers,
        laptop_request=laptop_request,
        vpn_request=vpn_request,
        outsider_request=outsider_request,
    )
