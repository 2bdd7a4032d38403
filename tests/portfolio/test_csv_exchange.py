"""CSV export and import: a preview with per-row errors, and all-or-nothing writes."""

import pytest

from opsdesk.portfolio.csv_exchange import (
    providers_import,
    providers_to_csv,
    services_import,
    services_to_csv,
)
from opsdesk.portfolio.models import Provider, Service
from opsdesk.portfolio.services import service_create
from tests.portfolio.factories import ProviderFactory

pytestmark = pytest.mark.django_db

GOOD = b"""name,type,stage,owner,criticality,depends_on,channels
Directory,technical,catalogue,,1,,api
E-mail,business,catalogue,owner1,2,Directory,portal;email
Mobile mail,business,pipeline,,3,E-mail;Directory,
"""


@pytest.fixture
def manager(make_user):
    make_user(role="service_owner", username="owner1")
    return make_user(role="manager")


def test_a_preview_writes_nothing_and_names_the_action_per_row(manager):
    result = services_import(actor=manager, data=GOOD)
    assert result.ok and not result.applied
    assert [(row.line, row.name, row.action) for row in result.rows] == [
        (2, "Directory", "create"),
        (3, "E-mail", "create"),
        (4, "Mobile mail", "create"),
    ]
    assert not Service.objects.exists()


def test_applying_a_valid_file_creates_services_with_their_dependencies(manager):
    assert services_import(actor=manager, data=GOOD, apply=True).applied
    mail = Service.objects.get(name="E-mail")
    assert mail.owner.username == "owner1" and mail.channels == ["portal", "email"]
    assert [s.name for s in Service.objects.get(name="Mobile mail").depends_on.order_by("name")] == [
        "Directory",
        "E-mail",
    ]


def test_bad_rows_are_reported_per_row_and_field_and_nothing_is_written(manager):
    data = b"""name,type,owner,criticality,depends_on,channels
Directory,technical,,1,,
E-mail,businesss,nobody,9,Nowhere,fax
directory,technical,,1,,
,business,,1,,
"""
    result = services_import(actor=manager, data=data, apply=True)
    assert not result.applied and not Service.objects.exists()
    errors = {row.line: row.errors for row in result.rows}
    assert errors[2] == {}
    assert set(errors[3]) == {"type", "owner", "criticality", "depends_on", "channels"}
    assert "first on line 2" in errors[4]["name"]
    assert errors[5] == {"name": "Every row needs a name."}


def test_a_cycle_found_while_writing_rolls_back_the_whole_file(manager):
    data = b"""name,depends_on
Alpha,Beta
Beta,Alpha
"""
    result = services_import(actor=manager, data=data, apply=True)
    assert not result.applied
    assert "dependency cycle" in result.errors[0]
    assert not Service.objects.exists()


def test_files_that_are_not_csv_utf8_or_have_unknown_columns_are_refused(manager):
    assert "not UTF-8" in services_import(actor=manager, data=b"name\n\xff\xfe\n").errors[0]
    assert "Unknown columns: colour" in services_import(actor=manager, data=b"name,colour\nA,red\n").errors[0]
    assert "including 'name'" in services_import(actor=manager, data=b"title\nA\n").errors[0]


def test_export_then_import_is_a_round_trip_that_updates_in_place(manager):
    services_import(actor=manager, data=GOOD, apply=True)
    exported = services_to_csv(Service.objects.all())
    assert exported.splitlines()[0].startswith("name,description,type,stage,owner")
    result = services_import(actor=manager, data=exported.encode(), apply=True)
    assert result.applied and {row.action for row in result.rows} == {"update"}
    assert Service.objects.count() == 3


def test_export_defuses_spreadsheet_formulas(manager):
    service_create(actor=manager, data={"name": "=HYPERLINK(evil)", "description": "+1"})
    assert "'=HYPERLINK(evil)" in services_to_csv(Service.objects.all())


def test_providers_import_links_services_and_validates_fields(manager):
    service_create(actor=manager, data={"name": "Hosting"})
    ProviderFactory(name="Old Name Ltd")
    data = b"""name,kind,email,services
Acme Cloud,cloud,sales@acme.example,Hosting
Old Name Ltd,vendor,not-an-email,
"""
    result = providers_import(actor=manager, data=data, apply=True)
    assert not result.applied and result.rows[1].errors == {"email": "Enter a valid email address."}
    fixed = data.replace(b"not-an-email", b"help@old.example")
    assert providers_import(actor=manager, data=fixed, apply=True).applied
    assert [s.name for s in Provider.objects.get(name="Acme Cloud").services.all()] == ["Hosting"]
    assert "Acme Cloud,cloud" in providers_to_csv(Provider.objects.all())


def test_requesters_cannot_import(make_user):
    from opsdesk.core.exceptions import NotAllowed

    with pytest.raises(NotAllowed):
        services_import(actor=make_user(), data=GOOD)


def test_an_update_changes_only_the_columns_in_the_file(manager):
    services_import(actor=manager, data=GOOD, apply=True)
    before = Service.objects.get(name="E-mail")
    result = services_import(actor=manager, data=b"name,criticality\nE-mail,1\n", apply=True)
    assert result.applied
    after = Service.objects.get(name="E-mail")
    assert after.criticality == 1
    assert (after.owner, after.channels, list(after.depends_on.all())) == (
        before.owner,
        before.channels,
        list(before.depends_on.all()),
    )
    assert after.version == before.version + 1
