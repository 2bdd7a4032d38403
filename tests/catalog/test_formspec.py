"""An item's form definition and the answers to it: what is refused, with which message, and
what the answers become (formspec). Real users and services in the database; no mocks."""

from __future__ import annotations

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.accounts.choices import Role
from opsdesk.catalog.constants import MAX_CHOICES, MAX_FORM_FIELDS, MAX_TEXT_ANSWER
from opsdesk.catalog.formspec import (
    answers_clean,
    answers_display,
    answers_markdown,
    fields_visible,
    form_validate,
)
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.richtext import render_markdown
from opsdesk.portfolio.choices import Stage
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.portfolio.factories import ServiceFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

LAPTOP = [
    {
        "key": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "help": "",
        "choices": ["Standard 14-inch", "Performance 16-inch"],
    },
    {
        "key": "reason",
        "label": "Why the performance model?",
        "type": "long_text",
        "required": True,
        "show_if": {"field": "model", "in": ["Performance 16-inch"]},
    },
    {"key": "quantity", "label": "How many", "type": "number", "min": 1, "max": 10, "required": True},
    {"key": "needed_by", "label": "Needed by", "type": "date"},
    {"key": "photo", "label": "Photo of the damage", "type": "attachment"},
]


def refusal(fields) -> list[str]:
    with pytest.raises(ServiceError) as caught:
        form_validate(fields)
    error = caught.value
    assert error.code == "invalid_form"
    assert error.field == "form"
    assert error.errors and error.errors["form"]
    return error.errors["form"]


def clean(form, data, files=None, *, requester):
    return answers_clean(form_validate(form), data, files, requester=requester)


def answer_errors(form, data, files=None, *, requester) -> dict[str, list[str]]:
    with pytest.raises(ServiceError) as caught:
        clean(form, data, files, requester=requester)
    assert caught.value.code == "invalid_answers"
    return caught.value.errors


# --- definitions ------------------------------------------------------------------------------


def test_a_valid_definition_is_normalised():
    fields = form_validate(
        [
            {"key": "model", "label": "  Model  ", "type": "choice", "choices": [" A ", "B"]},
            {"key": "size", "label": "Size", "type": "number", "integer": True, "min": 1.0, "max": 4},
            {"key": "why", "label": "Why", "type": "text", "show_if": {"field": "model", "in": ["A", "A"]}},
        ]
    )
    assert fields[0] == {
        "key": "model",
        "label": "Model",
        "type": "choice",
        "required": False,
        "help": "",
        "choices": ["A", "B"],
    }
    assert fields[1]["min"] == 1 and isinstance(fields[1]["min"], int)
    assert fields[2]["show_if"] == {"field": "model", "in": ["A"]}
    assert form_validate(LAPTOP) == form_validate(form_validate(LAPTOP)), "normalising twice changes nothing"
    assert form_validate([]) == [] and form_validate(None) == []


def test_duplicate_keys_name_the_field_and_its_position():
    problems = refusal(
        [
            {"key": "model", "label": "Model", "type": "text"},
            {"key": "model", "label": "Model again", "type": "text"},
        ]
    )
    assert problems == [
        'Field 2 ("model"): the key "model" is already used by an earlier field; keys must be unique.'
    ]


def test_a_condition_on_a_missing_field():
    form = copy.deepcopy(LAPTOP)
    form[1]["show_if"]["field"] = "modle"
    assert refusal(form) == ['Field 2 ("reason"): show_if refers to "modle", which is not an earlier field.']


def test_a_condition_on_a_later_field_is_refused_so_there_are_no_cycles():
    problems = refusal(
        [
            {"key": "a", "label": "A", "type": "text", "show_if": {"field": "b", "in": ["x"]}},
            {"key": "b", "label": "B", "type": "text", "show_if": {"field": "a", "in": ["x"]}},
        ]
    )
    assert problems == [
        'Field 1 ("a"): show_if refers to "b", which is not an earlier field (it comes after this one).'
    ]


def test_a_condition_on_itself_is_refused():
    problems = refusal([{"key": "a", "label": "A", "type": "text", "show_if": {"field": "a", "in": ["x"]}}])
    assert "not an earlier field" in problems[0]


def test_a_condition_on_an_unknown_choice():
    form = copy.deepcopy(LAPTOP)
    form[1]["show_if"]["in"] = ["Performance 17-inch"]
    assert refusal(form) == [
        'Field 2 ("reason"): show_if lists "Performance 17-inch", which is not one of the choices of "model".'
    ]


@pytest.mark.parametrize("target_type", ["date", "user", "service", "attachment"])
def test_conditions_only_test_plain_answers(target_type):
    problems = refusal(
        [
            {"key": "first", "label": "First", "type": target_type},
            {"key": "second", "label": "Second", "type": "text", "show_if": {"field": "first", "in": ["x"]}},
        ]
    )
    assert problems[0].startswith('Field 2 ("second"): show_if refers to "first", a ' + target_type)


def test_a_condition_on_a_broken_field_reports_only_the_broken_field():
    problems = refusal(
        [
            {"key": "model", "label": "Model", "type": "choice", "choices": []},
            {"key": "why", "label": "Why", "type": "text", "show_if": {"field": "model", "in": ["A"]}},
        ]
    )
    assert problems == ['Field 1 ("model"): choices must be a non-empty list of texts.']


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            {"key": "Model", "label": "M", "type": "text"},
            'Field 1: the key "Model" must start with a lower-case',
        ),
        ({"key": "1st", "label": "M", "type": "text"}, 'Field 1: the key "1st" must start'),
        ({"key": "a-b", "label": "M", "type": "text"}, 'Field 1: the key "a-b" must start'),
        ({"key": "a" * 51, "label": "M", "type": "text"}, "Field 1: the key"),
        ({"key": 7, "label": "M", "type": "text"}, "Field 1: a key is required."),
        ({"label": "M", "type": "text"}, "Field 1: a key is required."),
        ({"key": "requested_for", "label": "M", "type": "text"}, 'Field 1 ("requested_for"): the key'),
        ({"key": "a", "label": "M", "type": "texty"}, 'Field 1 ("a"): the type "texty" is unknown'),
        ({"key": "a", "label": "M"}, 'Field 1 ("a"): the type "None" is unknown'),
        ({"key": "a", "label": "", "type": "text"}, 'Field 1 ("a"): a label is required.'),
        ({"key": "a", "label": " \n ", "type": "text"}, 'Field 1 ("a"): a label is required.'),
        ({"key": "a", "label": "x" * 201, "type": "text"}, 'Field 1 ("a"): the label may be at most 200'),
        ({"key": "a", "label": "A", "type": "text", "required": "yes"}, "required must be true or false"),
        ({"key": "a", "label": "A", "type": "text", "help": 3}, "help must be text"),
        ({"key": "a", "label": "A", "type": "text", "max_length": 0}, "max_length must be a whole number"),
        ({"key": "a", "label": "A", "type": "text", "max_length": True}, "max_length must be a whole number"),
        (
            {"key": "a", "label": "A", "type": "text", "max_length": MAX_TEXT_ANSWER + 1},
            "max_length must be a whole number",
        ),
        (
            {"key": "a", "label": "A", "type": "text", "choices": ["x"]},
            "choices does not apply to a text field",
        ),
        ({"key": "a", "label": "A", "type": "date", "min": 1, "colour": "red"}, "colour, min do not apply"),
        ({"key": "a", "label": "A", "type": "number", "min": 5, "max": 1}, "min (5) is greater than max (1)"),
        ({"key": "a", "label": "A", "type": "number", "min": "1"}, "min must be a number"),
        ({"key": "a", "label": "A", "type": "number", "max": float("inf")}, "max must be a number"),
        (
            {"key": "a", "label": "A", "type": "number", "integer": True, "min": 0.5},
            "min must be a whole number",
        ),
        ({"key": "a", "label": "A", "type": "number", "integer": "no"}, "integer must be true or false"),
        ({"key": "a", "label": "A", "type": "choice"}, "choices must be a non-empty list"),
        ({"key": "a", "label": "A", "type": "choice", "choices": "x,y"}, "choices must be a non-empty list"),
        (
            {"key": "a", "label": "A", "type": "multi_choice", "choices": ["x", " x"]},
            'the choice "x" is listed twice',
        ),
        (
            {"key": "a", "label": "A", "type": "choice", "choices": ["x", 2]},
            "choice 2 must be a non-empty text",
        ),
        (
            {"key": "a", "label": "A", "type": "choice", "choices": [str(n) for n in range(MAX_CHOICES + 1)]},
            f"at most {MAX_CHOICES} choices",
        ),
        ({"key": "a", "label": "A", "type": "text", "show_if": "b"}, "show_if must be"),
        ({"key": "a", "label": "A", "type": "text", "show_if": {"field": "b"}}, "show_if must be"),
        ("text", "Field 1: must be an object"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(field, message):
    problems = refusal([field])
    assert any(problem.startswith(message) or message in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "show_if's in must be a non-empty list"),
        ("Performance 16-inch", "show_if's in must be a non-empty list"),
        ([3], 'show_if compares "model" with "3", which is not a text.'),
    ],
)
def test_bad_condition_values(values, message):
    form = copy.deepcopy(LAPTOP)
    form[1]["show_if"]["in"] = values
    assert message in refusal(form)[0]


def test_a_number_condition_takes_numbers():
    form = [
        {"key": "count", "label": "Count", "type": "number"},
        {"key": "why", "label": "Why so many?", "type": "text", "show_if": {"field": "count", "in": ["5"]}},
    ]
    assert "which is not a number" in refusal(form)[0]
    form[1]["show_if"]["in"] = [5, 6]
    assert form_validate(form)[1]["show_if"] == {"field": "count", "in": [5, 6]}


def test_the_form_itself_must_be_a_short_list():
    assert refusal({"key": "a"}) == ["The form must be a list of fields."]
    too_many = [{"key": f"f{n}", "label": "F", "type": "text"} for n in range(MAX_FORM_FIELDS + 1)]
    assert refusal(too_many) == [
        f"A form has at most {MAX_FORM_FIELDS} fields; this one has {MAX_FORM_FIELDS + 1}."
    ]


def test_every_problem_is_reported_at_once():
    problems = refusal(
        [
            {"key": "a", "label": "A", "type": "text"},
            {"key": "a", "label": "", "type": "nope"},
            {"key": "c", "label": "C", "type": "text", "show_if": {"field": "zz", "in": ["x"]}},
        ]
    )
    assert len(problems) == 4
    assert all(problem.startswith(("Field 2", "Field 3")) for problem in problems)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
field_like = st.fixed_dictionaries(
    {},
    optional={
        "key": st.sampled_from(["a", "b", "model", "Bad", ""]) | json_values,
        "label": st.text(max_size=5) | json_values,
        "type": st.sampled_from(["text", "long_text", "number", "choice", "multi_choice", "date", "user"])
        | json_values,
        "required": json_values,
        "choices": st.lists(st.sampled_from(["x", "y", "z"]), max_size=3) | json_values,
        "min": json_values,
        "max": json_values,
        "max_length": json_values,
        "integer": json_values,
        "show_if": st.fixed_dictionaries({"field": st.sampled_from(["a", "b", "model"]), "in": json_values})
        | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(fields=st.lists(field_like | json_values, max_size=6) | json_values)
def test_any_json_gives_a_definition_or_a_service_error(fields):
    try:
        normalised = form_validate(fields)
    except ServiceError as error:
        assert error.code == "invalid_form" and error.errors["form"]
    else:
        assert form_validate(normalised) == normalised


FUZZ_FORM = [
    {"key": "name", "label": "Name", "type": "text", "max_length": 10},
    {"key": "count", "label": "Count", "type": "number", "integer": True, "min": 0, "max": 5},
    {"key": "model", "label": "Model", "type": "choice", "choices": ["x", "y"]},
    {"key": "extras", "label": "Extras", "type": "multi_choice", "choices": ["x", "y"], "required": True},
    {"key": "day", "label": "Day", "type": "date", "show_if": {"field": "model", "in": ["y"]}},
    {"key": "who", "label": "Who", "type": "user"},
    {"key": "what", "label": "What", "type": "service"},
    {"key": "file", "label": "File", "type": "attachment"},
]


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(
        st.sampled_from([field["key"] for field in FUZZ_FORM]) | st.text(max_size=5), json_values, max_size=8
    )
    | json_values
)
def test_any_json_answers_give_answers_or_a_service_error(data, make_user):
    requester = make_user()
    try:
        answers, files = answers_clean(form_validate(FUZZ_FORM), data, None, requester=requester)
    except ServiceError as error:
        assert error.code == "invalid_answers" and error.errors
    else:
        assert files == {}
        assert answers_clean(form_validate(FUZZ_FORM), answers, None, requester=requester) == (answers, {})


# --- answers ----------------------------------------------------------------------------------


@pytest.fixture
def requester(db):
    return UserFactory(role=Role.REQUESTER)


def test_the_laptop_form(requester):
    answers, files = clean(
        LAPTOP,
        {
            "model": "Performance 16-inch",
            "reason": "  Video editing  ",
            "quantity": 2,
            "needed_by": "2030-03-01",
        },
        {"photo": SimpleUploadedFile("broken.png", PNG)},
        requester=requester,
    )
    assert answers == {
        "model": "Performance 16-inch",
        "reason": "Video editing",
        "quantity": 2,
        "needed_by": "2030-03-01",
    }
    assert list(files) == ["photo"] and files["photo"].name == "broken.png"


def test_a_hidden_required_field_is_not_required_and_its_answer_is_dropped(requester):
    answers, _ = clean(LAPTOP, {"model": "Standard 14-inch", "quantity": 1}, requester=requester)
    assert answers == {"model": "Standard 14-inch", "quantity": 1}
    answers, _ = clean(
        LAPTOP, {"model": "Standard 14-inch", "reason": "sent anyway", "quantity": 1}, requester=requester
    )
    assert "reason" not in answers


def test_a_shown_required_field_must_be_answered(requester):
    errors = answer_errors(LAPTOP, {"model": "Performance 16-inch", "reason": "  "}, requester=requester)
    assert errors == {
        "reason": ['"Why the performance model?" is required.'],
        "quantity": ['"How many" is required.'],
    }


def test_conditions_chain_a_field_hidden_hides_its_dependants(requester):
    form = [
        {"key": "need", "label": "Need", "type": "choice", "choices": ["yes", "no"]},
        {"key": "kind", "label": "Kind", "type": "text", "show_if": {"field": "need", "in": ["yes"]}},
        {
            "key": "detail",
            "label": "Detail",
            "type": "text",
            "required": True,
            "show_if": {"field": "kind", "in": ["special"]},
        },
    ]
    answers, _ = clean(form, {"need": "no", "kind": "special"}, requester=requester)
    assert answers == {"need": "no"}
    assert answer_errors(form, {"need": "yes", "kind": "special"}, requester=requester) == {
        "detail": ['"Detail" is required.']
    }


def test_a_multi_choice_condition_matches_any_overlap(requester):
    form = [
        {"key": "apps", "label": "Apps", "type": "multi_choice", "choices": ["Mail", "CAD", "ERP"]},
        {
            "key": "licence",
            "label": "Licence",
            "type": "text",
            "show_if": {"field": "apps", "in": ["CAD", "ERP"]},
        },
    ]
    answers, _ = clean(form, {"apps": ["Mail", "ERP", "ERP"], "licence": "L-1"}, requester=requester)
    assert answers == {"apps": ["Mail", "ERP"], "licence": "L-1"}
    answers, _ = clean(form, {"apps": ["Mail"], "licence": "L-1"}, requester=requester)
    assert answers == {"apps": ["Mail"]}
    assert fields_visible(form_validate(form), answers) == form_validate(form)[:1]


def test_unknown_keys_are_an_error(requester):
    errors = answer_errors(
        LAPTOP, {"model": "Standard 14-inch", "quantity": 1, "colour": "red"}, requester=requester
    )
    assert errors == {"colour": ['There is no field "colour" in this form.']}
    errors = answer_errors(
        LAPTOP,
        {"model": "Standard 14-inch", "quantity": 1},
        {"resume": SimpleUploadedFile("a.png", PNG)},
        requester=requester,
    )
    assert errors == {"resume": ['There is no field "resume" in this form.']}


def test_answers_must_be_an_object(requester):
    with pytest.raises(ServiceError) as caught:
        clean(LAPTOP, ["model"], requester=requester)
    assert caught.value.code == "invalid_answers" and "answers" in caught.value.errors


TEXT = [
    {"key": "title", "label": "Title", "type": "text", "max_length": 12},
    {"key": "story", "label": "Story", "type": "long_text"},
]


def test_text_is_stripped_of_nul_and_extra_whitespace(requester):
    answers, _ = clean(
        TEXT, {"title": " Hel\x00lo\n  there ", "story": "  line one\x00\nline two  "}, requester=requester
    )
    assert answers == {"title": "Hello there", "story": "line one\nline two"}


def test_text_length_and_type(requester):
    assert answer_errors(TEXT, {"title": "x" * 13}, requester=requester) == {
        "title": ["At most 12 characters; this answer has 13."]
    }
    assert answer_errors(TEXT, {"story": "x" * (MAX_TEXT_ANSWER + 1)}, requester=requester)["story"]
    assert answer_errors(TEXT, {"title": 12}, requester=requester) == {"title": ["The answer must be text."]}
    assert clean(TEXT, {"title": "\x00 \x00"}, requester=requester)[0] == {}


NUMBER = [
    {"key": "count", "label": "Count", "type": "number", "integer": True, "min": 1, "max": 10},
    {"key": "ratio", "label": "Ratio", "type": "number", "min": 0, "max": 1},
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"count": 3}, {"count": 3}),
        ({"count": 3.0}, {"count": 3}),
        ({"count": " 4 "}, {"count": 4}),
        ({"ratio": 0.25}, {"ratio": 0.25}),
        ({"ratio": "0.5"}, {"ratio": 0.5}),
        ({"ratio": 1}, {"ratio": 1}),
    ],
)
def test_numbers(requester, data, expected):
    assert clean(NUMBER, data, requester=requester)[0] == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": 3.5}, "The answer must be a whole number."),
        ({"count": 0}, "The answer must be at least 1."),
        ({"count": 11}, "The answer must be at most 10."),
        ({"count": True}, "The answer must be a number."),
        ({"count": "three"}, "The answer must be a number."),
        ({"count": "nan"}, "The answer must be a number."),
        ({"count": "1e999"}, "The answer must be a number."),
        ({"count": [1]}, "The answer must be a number."),
        ({"ratio": 1.5}, "The answer must be at most 1."),
    ],
)
def test_bad_numbers(requester, data, message):
    assert answer_errors(NUMBER, data, requester=requester) == {next(iter(data)): [message]}


CHOICES = [
    {"key": "size", "label": "Size", "type": "choice", "choices": ["S", "M", "L"]},
    {"key": "extras", "label": "Extras", "type": "multi_choice", "choices": ["Bag", "Mouse"]},
]


def test_choices(requester):
    answers, _ = clean(CHOICES, {"size": "M", "extras": ["Mouse", "Bag", "Mouse"]}, requester=requester)
    assert answers == {"size": "M", "extras": ["Mouse", "Bag"]}
    assert clean(CHOICES, {"extras": []}, requester=requester)[0] == {}
    errors = answer_errors(CHOICES, {"size": "XL", "extras": ["Bag", "Dock"]}, requester=requester)
    assert errors == {
        "size": ['"XL" is not one of the choices.'],
        "extras": ['"Dock" is not one of the choices.'],
    }
    errors = answer_errors(CHOICES, {"size": ["S"], "extras": "Bag"}, requester=requester)
    assert errors == {
        "size": ["\"['S']\" is not one of the choices."],
        "extras": ["The answer must be a list of choices."],
    }


DATE = [{"key": "day", "label": "Day", "type": "date", "required": True}]


def test_dates(requester):
    assert clean(DATE, {"day": "2030-02-28"}, requester=requester)[0] == {"day": "2030-02-28"}
    for bad, message in [
        ("2030-02-30", "2030-02-30 is not a date in the calendar."),
        ("20300228", "Give a date as YYYY-MM-DD."),
        ("28/02/2030", "Give a date as YYYY-MM-DD."),
        (20300228, "Give a date as YYYY-MM-DD."),
    ]:
        assert answer_errors(DATE, {"day": bad}, requester=requester) == {"day": [message]}


PERSON = [{"key": "who", "label": "Who", "type": "user"}]


def test_a_person_the_requester_may_see(db):
    organization = OrganizationFactory(requesters_see_organization=True)
    requester = UserFactory(organization=organization)
    colleague = UserFactory(organization=organization, first_name="Ana", last_name="Lopez")
    stranger = UserFactory()  # another organisation
    gone = UserFactory(organization=organization, is_active=False)
    assert clean(PERSON, {"who": colleague.pk}, requester=requester)[0] == {"who": colleague.pk}
    assert clean(PERSON, {"who": str(colleague.pk)}, requester=requester)[0] == {"who": colleague.pk}
    refused = "This person is not someone you can choose."
    assert answer_errors(PERSON, {"who": stranger.pk}, requester=requester) == {"who": [refused]}
    assert answer_errors(PERSON, {"who": gone.pk}, requester=requester) == {"who": [refused]}
    assert answer_errors(PERSON, {"who": 10**30}, requester=requester) == {"who": ["Choose a person."]}
    assert answer_errors(PERSON, {"who": True}, requester=requester) == {"who": ["Choose a person."]}
    # Staff see everyone: the stranger is a person an agent may name.
    agent = UserFactory(role=Role.AGENT)
    assert clean(PERSON, {"who": stranger.pk}, requester=agent)[0] == {"who": stranger.pk}


SERVICE = [{"key": "svc", "label": "Service", "type": "service"}]


def test_a_service_in_the_catalogue(requester):
    offered = ServiceFactory(stage=Stage.CATALOGUE)
    retired = ServiceFactory(stage=Stage.RETIRED)
    planned = ServiceFactory(stage=Stage.PIPELINE)
    assert clean(SERVICE, {"svc": offered.pk}, requester=requester)[0] == {"svc": offered.pk}
    message = "This service is not in the catalogue (it may be retired)."
    assert answer_errors(SERVICE, {"svc": retired.pk}, requester=requester) == {"svc": [message]}
    assert answer_errors(SERVICE, {"svc": planned.pk}, requester=requester) == {"svc": [message]}
    assert answer_errors(SERVICE, {"svc": "first"}, requester=requester) == {"svc": ["Choose a service."]}


FILE = [
    {"key": "scan", "label": "Scan", "type": "attachment", "required": True},
    {"key": "note", "label": "Note", "type": "text"},
]


def test_attachments(requester, settings):
    answers, files = clean(FILE, {}, {"scan": SimpleUploadedFile("scan.png", PNG)}, requester=requester)
    assert answers == {} and list(files) == ["scan"]
    assert answer_errors(FILE, {}, requester=requester) == {"scan": ['"Scan" is required.']}
    errors = answer_errors(FILE, {}, {"scan": SimpleUploadedFile("tool.exe", b"MZ\x90")}, requester=requester)
    assert errors["scan"][0].startswith("Attach ")
    errors = answer_errors(FILE, {}, {"scan": SimpleUploadedFile("fake.png", b"GIF89a")}, requester=requester)
    assert errors == {"scan": ["fake.png is not really a .png file."]}
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (1024 * 1024))
    assert answer_errors(FILE, {}, {"scan": big}, requester=requester) == {
        "scan": ["Files may be at most 1 MB."]
    }
    errors = answer_errors(FILE, {"scan": "C:/scan.png"}, requester=requester)
    assert errors == {"scan": ["Attach the file itself; this field takes an upload, not a value."]}
    errors = answer_errors(
        FILE,
        {},
        {"scan": SimpleUploadedFile("a.png", PNG), "note": SimpleUploadedFile("b.png", PNG)},
        requester=requester,
    )
    assert errors == {"note": ["This field takes a value, not a file."]}


def test_a_hidden_attachment_is_dropped(requester):
    form = [
        {"key": "broken", "label": "Broken?", "type": "choice", "choices": ["yes", "no"]},
        {
            "key": "photo",
            "label": "Photo",
            "type": "attachment",
            "required": True,
            "show_if": {"field": "broken", "in": ["yes"]},
        },
    ]
    answers, files = clean(
        form, {"broken": "no"}, {"photo": SimpleUploadedFile("p.png", PNG)}, requester=requester
    )
    assert answers == {"broken": "no"} and files == {}


# --- display ----------------------------------------------------------------------------------


def test_answers_display_names_people_services_and_files(db, django_assert_max_num_queries):
    person = UserFactory(first_name="Ana", last_name="Lopez")
    service = ServiceFactory(name="Payroll")
    form = form_validate(
        [
            {"key": "model", "label": "Model", "type": "choice", "choices": ["A", "B"]},
            {"key": "why", "label": "Why B?", "type": "text", "show_if": {"field": "model", "in": ["B"]}},
            {"key": "apps", "label": "Apps", "type": "multi_choice", "choices": ["Mail", "CAD"]},
            {"key": "who", "label": "Who", "type": "user"},
            {"key": "svc", "label": "Service", "type": "service"},
            {"key": "other", "label": "Other", "type": "user"},
            {"key": "scan", "label": "Scan", "type": "attachment"},
            {"key": "empty", "label": "Empty", "type": "text"},
        ]
    )
    answers = {
        "model": "A",
        "why": "ignored: hidden",
        "apps": ["Mail", "CAD"],
        "who": person.pk,
        "svc": service.pk,
        "other": person.pk + 1000,
        "scan": {"attachment": 9, "name": "scan.pdf"},
    }
    with django_assert_max_num_queries(2):
        rows = answers_display(form, answers)
    assert rows == [
        ("Model", "A"),
        ("Apps", "Mail, CAD"),
        ("Who", "Ana Lopez"),
        ("Service", "Payroll"),
        ("Other", f"Person #{person.pk + 1000} (no longer exists)"),
        ("Scan", "scan.pdf"),
    ]


def test_answers_markdown_cannot_add_markup(db):
    form = form_validate(
        [
            {"key": "why", "label": "Why *now*?", "type": "long_text"},
            {"key": "count", "label": "Count", "type": "number"},
        ]
    )
    hostile = (
        "<script>alert(1)</script> [click](https://evil.example) ![x](https://evil.example/x.png)"
        "\n# Heading\n- item"
    )
    text = answers_markdown(form, {"why": hostile, "count": 2.0})
    assert text.startswith("- **Why \\*now\\*?:** ")
    assert text.endswith("- **Count:** 2")
    html = render_markdown(text)
    for forbidden in ("<script", "<a ", "<img", "<h1", "<em>"):
        assert forbidden not in html
    assert "[click](https://evil.example)" in html
    assert "&lt;script&gt;" in html
    assert html.count("<li>") == 2, "a multi-line answer stays inside its list item"
