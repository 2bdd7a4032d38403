"""The order form built from an item's definition: its fields and widgets, who may be named
or ordered for, errors shown on the field they concern, and order_form.js in a real browser."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from opsdesk.accounts.choices import Role
from opsdesk.catalog.forms.order import MAX_PEOPLE_LISTED, OrderForm
from opsdesk.portfolio.choices import Stage
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.catalog.factories import LAPTOP_FORM as BASE_LAPTOP_FORM
from tests.catalog.factories import CatalogItemFactory
from tests.portfolio.factories import ServiceFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ORDER_FORM_JS = Path(__file__).resolve().parents[2] / "src/opsdesk/catalog/static/catalog/order_form.js"

LAPTOP = [
    *BASE_LAPTOP_FORM,
    {"key": "quantity", "label": "How many", "type": "number", "min": 1, "max": 10, "required": True},
    {"key": "needed_by", "label": "Needed by", "type": "date"},
    {"key": "extras", "label": "Extras", "type": "multi_choice", "choices": ["Bag", "Mouse"]},
    {"key": "colleague", "label": "Who else uses it", "type": "user"},
    {"key": "service", "label": "For which service", "type": "service"},
    {"key": "photo", "label": "Photo of the damage", "type": "attachment"},
    {"key": "note", "label": "Note", "type": "text", "placeholder": "Anything else?", "max_length": 80},
]


@pytest.fixture
def organization(db):
    return OrganizationFactory(requesters_see_organization=True)


@pytest.fixture
def requester(organization):
    return UserFactory(organization=organization, first_name="Rita", last_name="Requester")


@pytest.fixture
def item(db):
    return CatalogItemFactory(form=LAPTOP, allow_on_behalf=True)


def post(item, requester, data, files=None):
    return OrderForm(item, requester=requester, data=data, files=MultiValueDict(files or {}))


def test_one_field_per_definition_entry_with_a_widget_per_type(item, requester):
    form = OrderForm(item, requester=requester)
    assert list(form.fields) == [field["key"] for field in LAPTOP] + ["requested_for"]
    widgets = {name: type(field.widget) for name, field in form.fields.items()}
    assert widgets == {
        "model": forms.Select,
        "reason": forms.Textarea,
        "quantity": forms.NumberInput,
        "needed_by": forms.DateInput,
        "extras": forms.CheckboxSelectMultiple,
        "colleague": forms.Select,
        "service": forms.Select,
        "photo": forms.FileInput,
        "note": forms.TextInput,
        "requested_for": forms.Select,
    }
    html = str(form["quantity"])
    assert 'type="number"' in html and 'min="1"' in html and 'max="10"' in html
    assert 'type="date"' in str(form["needed_by"])
    assert 'placeholder="Anything else?"' in str(form["note"]) and 'maxlength="80"' in str(form["note"])
    assert 'accept=".csv,' in str(form["photo"])


def test_conditional_fields_carry_their_condition_and_are_not_browser_required(item, requester):
    form = OrderForm(item, requester=requester)
    assert form["model"].wrapper_attrs == ""
    assert form["reason"].wrapper_attrs == (
        ' data-show-if-field="model" data-show-if-in="[&quot;Performance 16-inch&quot;]"'
    )
    assert "required" in str(form["model"])
    assert "required" not in str(form["reason"]), "required only while shown: the server decides"
    assert form["reason"].field.required, "the label still marks it as required when shown"


def test_a_valid_order(item, requester, organization):
    colleague = UserFactory(organization=organization, first_name="Ana", last_name="Lopez")
    service = ServiceFactory(name="Design studio")
    form = post(
        item,
        requester,
        {
            "model": "Performance 16-inch",
            "reason": "Video editing",
            "quantity": "2",
            "needed_by": "2030-05-04",
            "extras": ["Mouse", "Bag"],
            "colleague": str(colleague.pk),
            "service": str(service.pk),
            "note": " Blue\x00 please ",
        },
        {"photo": [SimpleUploadedFile("damage.png", PNG)]},
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_answers == {
        "model": "Performance 16-inch",
        "reason": "Video editing",
        "quantity": 2,
        "needed_by": "2030-05-04",
        "extras": ["Mouse", "Bag"],
        "colleague": colleague.pk,
        "service": service.pk,
        "note": "Blue please",
    }
    assert list(form.cleaned_files) == ["photo"]
    assert form.cleaned_data["requested_for"] == requester


def test_a_hidden_required_field_may_be_left_out_and_its_answer_is_dropped(item, requester):
    form = post(item, requester, {"model": "Standard 14-inch", "reason": "sent anyway", "quantity": "1"})
    assert form.is_valid(), form.errors
    assert form.cleaned_answers == {"model": "Standard 14-inch", "quantity": 1}
    assert form.cleaned_files == {}


def test_errors_are_shown_on_the_field_they_concern(item, requester):
    form = post(
        item,
        requester,
        {"model": "Performance 16-inch", "quantity": "11", "needed_by": "2030-02-30", "note": "x" * 81},
    )
    assert not form.is_valid()
    assert form.errors["reason"] == ['"Why the performance model?" is required.']
    assert form.errors["quantity"] == ["The answer must be at most 10."]
    assert "needed_by" in form.errors
    assert form.errors["note"] == ["At most 80 characters; this answer has 81."]
    assert "model" not in form.errors
    with pytest.raises(ValueError, match="is_valid"):
        form.cleaned_answers  # noqa: B018 - the property refuses to hand out half-valid answers


def test_a_bad_file_is_refused_on_its_field(item, requester):
    form = post(
        item,
        requester,
        {"model": "Standard 14-inch", "quantity": "1"},
        {"photo": [SimpleUploadedFile("damage.png", b"MZ not a picture")]},
    )
    assert not form.is_valid()
    assert form.errors["photo"] == ["damage.png is not really a .png file."]


def test_an_unknown_choice_is_refused(item, requester):
    form = post(item, requester, {"model": "Gaming 18-inch", "quantity": "1", "extras": ["Dock"]})
    assert not form.is_valid()
    assert set(form.errors) == {"model", "extras"}


def test_people_listed_are_those_the_requester_may_see(item, requester, organization):
    colleague = UserFactory(organization=organization, first_name="Ana", last_name="Lopez")
    UserFactory(organization=organization, is_active=False, first_name="Gone")
    stranger = UserFactory(first_name="Stan", last_name="Ger")
    form = OrderForm(item, requester=requester)
    listed = dict(form.fields["colleague"].choices)
    assert listed == {
        "": "Choose someone…",
        str(requester.pk): "Rita Requester",
        str(colleague.pk): "Ana Lopez",
    }
    # Posting someone of another organisation anyway is refused.
    form = post(
        item, requester, {"model": "Standard 14-inch", "quantity": "1", "colleague": str(stranger.pk)}
    )
    assert not form.is_valid() and "colleague" in form.errors


def test_a_requester_of_a_private_organisation_names_only_themselves(db):
    private = OrganizationFactory(requesters_see_organization=False)
    requester = UserFactory(organization=private)
    UserFactory(organization=private)
    item = CatalogItemFactory(form=[{"key": "who", "label": "Who", "type": "user"}])
    assert [value for value, _ in OrderForm(item, requester=requester).fields["who"].choices] == [
        "",
        str(requester.pk),
    ]


def test_staff_get_a_bounded_list_of_their_organisation(db, django_assert_max_num_queries):
    it = OrganizationFactory(name="IT")
    agent = UserFactory(role=Role.AGENT, organization=it)
    UserFactory.create_batch(MAX_PEOPLE_LISTED + 5, organization=it)
    outsider = UserFactory()
    item = CatalogItemFactory(
        form=[
            {"key": "who", "label": "Who", "type": "user"},
            {"key": "backup", "label": "Backup", "type": "user"},
            {"key": "svc", "label": "Service", "type": "service"},
        ]
    )
    with django_assert_max_num_queries(4):
        form = OrderForm(item, requester=agent)
    values = [value for value, _ in form.fields["who"].choices if value]
    assert len(values) == MAX_PEOPLE_LISTED
    assert str(outsider.pk) not in values
    assert "Lists up to 200" in form.fields["who"].help_text


def test_only_catalogue_services_are_listed(db, requester):
    offered = ServiceFactory(name="Mail", stage=Stage.CATALOGUE)
    retired = ServiceFactory(name="Fax", stage=Stage.RETIRED)
    item = CatalogItemFactory(form=[{"key": "svc", "label": "Service", "type": "service"}])
    values = [value for value, _ in OrderForm(item, requester=requester).fields["svc"].choices]
    assert str(offered.pk) in values and str(retired.pk) not in values
    form = post(item, requester, {"svc": str(retired.pk)})
    assert not form.is_valid() and "svc" in form.errors


def test_ordering_for_a_colleague_when_the_item_allows_it(item, requester, organization):
    colleague = UserFactory(organization=organization)
    stranger = UserFactory()
    form = OrderForm(item, requester=requester)
    assert form.on_behalf
    values = [value for value, _ in form.fields["requested_for"].choices]
    assert values[0] == str(requester.pk) and str(colleague.pk) in values and str(stranger.pk) not in values

    form = post(
        item, requester, {"model": "Standard 14-inch", "quantity": "1", "requested_for": str(colleague.pk)}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["requested_for"] == colleague
    form = post(
        item, requester, {"model": "Standard 14-inch", "quantity": "1", "requested_for": str(stranger.pk)}
    )
    assert not form.is_valid() and "requested_for" in form.errors


def test_no_one_else_when_the_item_does_not_allow_it(requester, organization):
    item = CatalogItemFactory(form=[], allow_on_behalf=False)
    colleague = UserFactory(organization=organization)
    form = OrderForm(item, requester=requester)
    assert not form.on_behalf and form["requested_for"].is_hidden
    assert post(item, requester, {}).is_valid()
    form = post(item, requester, {"requested_for": str(colleague.pk)})
    assert not form.is_valid()


def test_staff_may_order_for_anyone(db):
    agent = UserFactory(role=Role.AGENT)
    anyone = UserFactory()
    item = CatalogItemFactory(form=[], allow_on_behalf=False)
    form = post(item, agent, {"requested_for": str(anyone.pk)})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["requested_for"] == anyone
    assert form.cleaned_answers == {} and form.cleaned_files == {}


def test_an_empty_form_orders_with_no_answers(requester):
    item = CatalogItemFactory(form=[])
    form = post(item, requester, {})
    assert form.is_valid()
    assert form.cleaned_answers == {}
    assert form.cleaned_data["requested_for"] == requester


def test_a_saved_form_that_no_longer_passes_shows_and_refuses_orders(requester):
    item = CatalogItemFactory(form=[{"key": "a", "label": "A", "type": "text"}, {"key": "a", "label": "B"}])
    form = OrderForm(item, requester=requester)
    assert list(form.fields) == ["requested_for"]
    form = post(item, requester, {})
    assert not form.is_valid()
    assert (
        "needs repair" in form.non_field_errors()[0] and '"a" is already used' in form.non_field_errors()[0]
    )


# --- order_form.js in a real browser ------------------------------------------------------------

CHROMIUM = os.environ.get("OPSDESK_CHROMIUM", "/usr/bin/chromium")


@contextmanager
def chromium_page():
    """A page in headless Chromium. Open it after the test's database work: inside Playwright's
    event loop Django hands out another connection, which the test's transaction would lock."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("OPSDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        try:
            yield page
        finally:
            browser.close()


def order_page(form: OrderForm) -> str:
    rows = "".join(
        f'<div class="catalog-field"{field.wrapper_attrs}>'
        f'<label for="{field.id_for_label}">{field.label}</label>{field}</div>'
        for field in form
    )
    return (
        "<!doctype html><html><head>"
        '<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
        '<script src="/static/catalog/order_form.js" defer></script></head><body>'
        f'<form method="post" data-catalog-order-form>{rows}<button type="submit">Order</button></form>'
        "</body></html>"
    )


@pytest.mark.e2e
def test_order_form_js_shows_conditional_fields_as_the_user_answers(db, requester):
    item = CatalogItemFactory(
        form=[
            *LAPTOP[:3],
            {"key": "apps", "label": "Apps", "type": "multi_choice", "choices": ["Mail", "CAD"]},
            {
                "key": "licence",
                "label": "Licence number",
                "type": "text",
                "required": True,
                "show_if": {"field": "apps", "in": ["CAD"]},
            },
            {
                "key": "seat",
                "label": "Seat",
                "type": "number",
                "show_if": {"field": "licence", "in": ["L-1"]},
            },
            {"key": "count", "label": "Count", "type": "number"},
            {"key": "many", "label": "Why so many", "type": "text", "show_if": {"field": "count", "in": [5]}},
        ]
    )
    html = order_page(OrderForm(item, requester=requester))
    with chromium_page() as page:
        _check_order_form_js(page, html)


def _check_order_form_js(page, html: str) -> None:
    page.route("http://forms.test/order", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.route(
        "http://forms.test/static/catalog/order_form.js",
        lambda route: route.fulfill(body=ORDER_FORM_JS.read_text(), content_type="text/javascript"),
    )
    page.goto("http://forms.test/order")

    reason = page.locator("#id_reason")
    assert not reason.is_visible() and reason.is_disabled()
    # Keyboard only: focus the model drop-down and pick the performance model.
    page.focus("#id_model")
    page.keyboard.press("ArrowDown")
    page.select_option("#id_model", "Performance 16-inch")
    assert reason.is_visible() and reason.is_enabled()
    page.select_option("#id_model", "Standard 14-inch")
    assert not reason.is_visible() and reason.is_disabled()

    # A multi-choice condition matches any ticked value; chains follow.
    licence, seat = page.locator("#id_licence"), page.locator("#id_seat")
    assert not licence.is_visible()
    page.locator("input[name=apps][value=CAD]").focus()
    page.keyboard.press("Space")
    assert licence.is_visible()
    licence.fill("L-1")
    assert seat.is_visible()
    page.locator("input[name=apps][value=CAD]").uncheck()
    assert not licence.is_visible() and not seat.is_visible() and seat.is_disabled()

    # A number condition compares numbers: "5.0" matches 5.
    many = page.locator("#id_many")
    page.fill("#id_count", "5.0")
    assert many.is_visible()
    page.fill("#id_count", "4")
    assert not many.is_visible()

    # Hidden inputs are disabled, so the browser neither requires nor sends them.
    sent = page.evaluate("() => Array.from(new FormData(document.querySelector('form')).keys())")
    assert "reason" not in sent and "licence" not in sent and "model" in sent
    assert page.errors == []
