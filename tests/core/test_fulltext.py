"""Full-text search: ranking, prefixes, phrases, snippets, filters, permissions, freshness and
hostile input, on whichever engine the suite runs on (SQLite FTS5 or PostgreSQL)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.accounts.choices import Role
from opsdesk.core.fulltext import engine, parse_query
from opsdesk.core.search import search_documents
from opsdesk.tickets import search_index
from opsdesk.tickets.services import ticket_create, ticket_reply, ticket_transition
from opsdesk.tickets.services.problems import problem_create
from tests.accounts.factories import OrganizationFactory
from tests.portfolio.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tickets_registered():
    # tickets.apps registers these at start-up; registering again only replaces the entry.
    search_index.register()


def through_gin(sql: str) -> bool:
    """Whether a statement is PostgreSQL's GIN path (PostgresEngine._through_gin): any matches,
    or the newest, ranked."""
    return sql.startswith(("SELECT d.id, NULL", "SELECT n.id, ts_rank_cd"))


def titles(results) -> list[str]:
    return [hit.title for hit in results.hits]


@pytest.fixture
def agent(make_user):
    return make_user(role=Role.AGENT)


def test_a_new_ticket_is_searchable_immediately(agent, make_user):
    requester = make_user()
    # A first write and search load the code paths once (a fresh test worker imports lazily);
    # the target is about the index, not about process warm-up.
    ticket_create(actor=requester, title="Warm-up", description="")
    search_documents(user=agent, query="warm")
    started = time.monotonic()
    ticket = ticket_create(
        actor=requester, title="Printer on floor 3 jams", description="Paper jam every morning"
    )
    # Tickets only: "jams" is also the prefix of a generated person's name ("James").
    results = search_documents(user=agent, query="jams", kinds=("ticket",))
    assert time.monotonic() - started < 2
    assert titles(results) == [str(ticket)]


def test_title_matches_rank_above_body_matches(agent, make_user):
    requester = make_user()
    in_body = ticket_create(
        actor=requester, title="Screen flickers", description="after the vpn update, the screen"
    )
    in_title = ticket_create(actor=requester, title="VPN drops every hour", description="since Monday")
    results = search_documents(user=agent, query="vpn")
    assert titles(results) == [str(in_title), str(in_body)]


def test_prefix_matching_finds_words_as_they_are_typed(agent, make_user):
    ticket = ticket_create(actor=make_user(), title="Keyboard replacement", description="")
    assert titles(search_documents(user=agent, query="keyb")) == [str(ticket)]
    assert titles(search_documents(user=agent, query="repl* keyboard")) == [str(ticket)]


def test_quoted_phrases_match_words_in_order_only(agent, make_user):
    requester = make_user()
    in_order = ticket_create(actor=requester, title="Mail", description="the shared mailbox is full")
    ticket_create(actor=requester, title="Mail", description="the mailbox that is shared is full")
    assert titles(search_documents(user=agent, query='"shared mailbox"')) == [str(in_order)]


def test_ticket_number_digits_find_the_ticket(agent, make_user):
    ticket = ticket_create(actor=make_user(), title="Badge reader broken")
    digits = ticket.number.lstrip("INCREQ").lstrip("0")
    assert str(ticket) in titles(search_documents(user=agent, query=digits))
    assert str(ticket) in titles(search_documents(user=agent, query=ticket.number))


def test_snippets_highlight_matches_and_escape_document_html(agent, make_user):
    ticket_create(
        actor=make_user(),
        title="<script>alert(1)</script> Outlook crash",
        description="Outlook shows <b>error</b> 0x80040115 when opening <img src=x onerror=alert(1)>",
    )
    hit = search_documents(user=agent, query="outlook")
    [hit] = hit.hits
    assert "<mark>Outlook</mark>" in hit.title_html and "<mark>Outlook</mark>" in hit.snippet_html
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<img" not in hit.snippet_html and "<b>" not in hit.snippet_html
    assert hit.snippet_html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_a_snippet_shows_a_match_far_into_a_long_text(agent, make_user):
    # PostgreSQL looks for the passage in the text's beginning first (HEADLINE_CHARS), then in
    # the whole of it: a word only found at the end is still shown, highlighted.
    filler = " ".join(["routine printer maintenance log entry"] * 200)  # about 7,600 characters
    ticket_create(actor=make_user(), title="Maintenance log", description=f"{filler} Zyxelfirmware rollback")
    [hit] = search_documents(user=agent, query="zyxelfirmware").hits
    assert "<mark>Zyxelfirmware</mark>" in hit.snippet_html


FILLER = " ".join(["routine printer maintenance log entry"] * 60)  # about 2,300 characters


@pytest.mark.parametrize(
    ("description", "query", "passage"),
    [
        # The stem "compani" is looked for as "compan"; the window opens at a word boundary.
        (
            f"{FILLER} Three companies reported the outage. {FILLER} {FILLER}",
            '"companies"',
            "<mark>companies</mark> reported",
        ),
        # A phrase is looked for as its words in order, not at the first of them alone
        # (each word marked on PostgreSQL, the phrase as one on SQLite).
        (
            f"Access to the AD share stays. {FILLER} Please remove AD access for the leaver.",
            '"ad access"',
            "<mark>AD(</mark> <mark>| )access</mark> for the leaver",
        ),
        # "mailbox" starts like the stem "mail" without matching the word "mail": the window
        # around it holds no match, and the snippet comes from the rest of the text.
        (
            f"The mailbox is full. {FILLER} {FILLER} The mail relay refused it.",
            '"mail"',
            "<mark>mail</mark> relay",
        ),
    ],
    ids=["stem", "phrase", "look-alike"],
)
def test_a_snippet_is_the_passage_with_the_match(agent, make_user, description, query, passage):
    ticket = ticket_create(actor=make_user(), title="Maintenance log", description=description)
    [hit] = search_documents(user=agent, query=query).hits
    assert re.search(passage, hit.snippet_html)
    shown = re.findall(r"\w+", re.sub("</?mark>", "", hit.snippet_html))
    indexed = f"{ticket.number} {ticket.number[3:].lstrip('0')} {description}"
    assert set(shown) <= set(re.findall(r"\w+", indexed))  # whole words only


def test_a_title_match_shows_the_body_from_its_beginning(agent, make_user):
    body = "Tray two jams on every third page. " + " ".join(["routine maintenance log entry"] * 100)
    ticket_create(actor=make_user(), title="Zebrafax printer", description=body)
    [hit] = search_documents(user=agent, query="zebrafax").hits
    assert "<mark>Zebrafax</mark>" in hit.title_html
    assert "Tray two jams" in hit.snippet_html[:40] and "<mark>" not in hit.snippet_html


def test_filters_by_type_status_service_and_date(agent, make_user):
    requester = make_user()
    email = ServiceFactory(name="E-mail")
    mail_ticket = ticket_create(actor=requester, title="Quota warning", service=email)
    other = ticket_create(actor=requester, title="Quota for disk")
    problem = problem_create(actor=agent, title="Quota recalculation wrong")
    ticket_transition(actor=agent, ticket=other, to="in_progress")

    assert set(titles(search_documents(user=agent, query="quota"))) == {
        str(mail_ticket),
        str(other),
        str(problem),
    }
    assert titles(search_documents(user=agent, query="quota", kinds=["problem"])) == [str(problem)]
    assert titles(search_documents(user=agent, query="quota", service_id=email.pk)) == [str(mail_ticket)]
    assert titles(search_documents(user=agent, query="quota", statuses=["in_progress"])) == [str(other)]
    tomorrow = timezone.now() + timedelta(days=1)
    assert titles(search_documents(user=agent, query="quota", since=tomorrow)) == []
    counts = {c.kind: c.count for c in search_documents(user=agent, query="quota").counts}
    assert counts == {"ticket": 2, "problem": 1}


def test_requester_never_sees_another_organisations_ticket_in_results_or_counts(make_user):
    mine = make_user()
    stranger = make_user(organization=OrganizationFactory())
    own = ticket_create(actor=mine, title="Laptop battery swollen")
    ticket_create(actor=stranger, title="Laptop battery drains")
    results = search_documents(user=mine, query="laptop battery")
    assert titles(results) == [str(own)]
    assert [(c.kind, c.count) for c in results.counts] == [("ticket", 1)]


def test_internal_notes_are_searchable_by_agents_only(agent, make_user):
    requester = make_user()
    ticket = ticket_create(actor=requester, title="Slow network", description="pages take ages")
    ticket_reply(actor=agent, ticket=ticket, body="Suspect the zebracore switch firmware", public=False)
    ticket_reply(actor=agent, ticket=ticket, body="We are looking into it", public=True)

    assert titles(search_documents(user=agent, query="zebracore")) == [str(ticket)]
    hidden = search_documents(user=requester, query="zebracore")
    assert hidden.hits == [] and hidden.counts == []
    # The requester still finds the ticket by its public words, without a trace of the note.
    seen = search_documents(user=requester, query="looking")
    assert titles(seen) == [str(ticket)]
    for hit in search_documents(user=requester, query="slow network").hits:
        assert "zebracore" not in hit.snippet_html.lower()


def test_problems_are_for_agents_only(agent, make_user):
    problem_create(actor=agent, title="Intermittent DNS failures")
    assert search_documents(user=make_user(), query="dns").counts == []
    assert [c.count for c in search_documents(user=agent, query="dns").counts] == [1]


def test_pages_and_counts_agree(agent, make_user):
    requester = make_user()
    for n in range(7):
        ticket_create(actor=requester, title=f"Monitor flicker case {n}")
    first = search_documents(user=agent, query="flicker", page_size=5)
    second = search_documents(user=agent, query="flicker", page_size=5, page=2)
    assert first.total == 7 and first.has_next and not second.has_next
    assert len(first.hits) == 5 and len(second.hits) == 2
    assert not set(titles(first)) & set(titles(second))


def test_reindex_command_rebuilds_a_lost_index(agent, make_user, capsys):
    ticket = ticket_create(actor=make_user(), title="Projector bulb")
    engine().clear()
    assert search_documents(user=agent, query="projector").hits == []
    call_command("search_reindex")
    assert titles(search_documents(user=agent, query="projector")) == [str(ticket)]
    out = capsys.readouterr().out
    assert "Indexed" in out and "optimised the index" in out


def test_deleting_a_record_removes_its_document(agent, make_user):
    ticket = ticket_create(actor=make_user(), title="Temporary ticket for plotter")
    ticket.events.all().delete()
    ticket.delete()
    assert search_documents(user=agent, query="plotter").counts == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "NEAR(a b)",
        "a AND OR NOT",
        "*",
        "col:value",
        "^start",
        "-minus",
        "((",
        '""',
        "  ",
    ],
)
def test_syntax_characters_never_fail(agent, make_user, query):
    ticket_create(actor=make_user(), title="Value start minus unbalanced quote")
    results = search_documents(user=agent, query=query)
    assert isinstance(results.hits, list)


def test_empty_short_and_punctuation_queries_explain_themselves(agent):
    assert "at least 2" in search_documents(user=agent, query="a").message
    assert "letters or digits" in search_documents(user=agent, query="**").message


def test_very_long_query_is_cut_and_said(agent, make_user):
    ticket_create(actor=make_user(), title="Router reboot")
    results = search_documents(user=agent, query="router " + "x" * 5000)
    assert "beginning" in results.message


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        alphabet=st.sampled_from(
            list("abc xyz AND OR NOT NEAR * \" ( ) : ^ - + { } [ ] ' ; \\ é 中 0 1 _ .")
        ),
        max_size=60,
    )
)
def test_random_input_with_engine_operators_never_errors(agent, text):
    results = search_documents(user=agent, query=text)
    assert results.page == 1


def test_parse_query_reads_phrases_prefixes_and_unbalanced_quotes():
    parsed = parse_query('"disk full" serv* backup')
    assert [(t.words, t.prefix) for t in parsed.terms] == [
        (("disk", "full"), False),
        (("serv",), True),
        (("backup",), True),
    ]
    assert [t.words for t in parse_query('"disk full').terms] == [("disk",), ("full",)]


def test_a_filter_that_drops_the_best_matches_still_fills_the_page(agent, make_user, monkeypatch):
    # The rank window is taken after the scope and the filters: filtered-out matches, however
    # many and however newer, do not crowd out the ones the filter keeps.
    from opsdesk.core import fulltext

    monkeypatch.setattr(fulltext, "RANK_WINDOW", 2)
    requester = make_user()
    weak = [ticket_create(actor=requester, title="Printer", description=f"toner low {n}") for n in range(2)]
    in_progress = [ticket_create(actor=requester, title=f"Toner toner toner {n}") for n in range(3)]
    for ticket in in_progress:
        ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    results = search_documents(user=agent, query="toner", statuses=["new"], page_size=5)
    assert sorted(titles(results)) == sorted(str(t) for t in weak)
    assert [c.count for c in results.counts] == [2]


def test_only_the_newest_matches_are_ranked(agent, make_user, monkeypatch):
    # A query matching more than RANK_WINDOW documents is ranked within its newest matches:
    # the oldest ticket is the best match of all, but falls outside a window of three.
    from opsdesk.core import fulltext

    requester = make_user()
    best = ticket_create(actor=requester, title="Scanner scanner scanner jam")
    newer = [ticket_create(actor=requester, title=f"Office {n}", description="the scanner") for n in range(3)]
    assert titles(search_documents(user=agent, query="scanner", kinds=("ticket",)))[0] == str(best)
    monkeypatch.setattr(fulltext, "RANK_WINDOW", 3)
    results = search_documents(user=agent, query="scanner", kinds=("ticket",))
    assert sorted(titles(results)) == sorted(str(t) for t in newer)
    assert [c.count for c in results.counts] == [4]  # counts are not windowed
    paged = search_documents(user=agent, query="scanner", kinds=("ticket",), page_size=3)
    assert not paged.has_next  # the fourth match is not ranked, so there is no page for it


def test_counts_stop_at_the_cap_and_empty_kinds_are_skipped(agent, make_user):
    from opsdesk.core.fulltext import Filters, KindScope

    requester = make_user()
    for n in range(4):
        ticket_create(actor=requester, title=f"Headset crackles {n}")
    eng = engine()
    assert eng.count(parse_query("headset"), KindScope(kind="ticket"), Filters(), cap=2) == 3
    assert eng.kinds_present(["ticket", "problem", "nothing-here"]) == {"ticket"}


def test_the_tabs_of_kinds_not_shown_count_less(agent, make_user, monkeypatch):
    # The kind shown is counted to COUNT_CAP; the other tabs to OTHER_KINDS_COUNT_CAP ("2+").
    from opsdesk.core import search

    monkeypatch.setattr(search, "OTHER_KINDS_COUNT_CAP", 2)
    requester = make_user()
    for n in range(4):
        ticket_create(actor=requester, title=f"Docking station flickers {n}")
        problem_create(actor=agent, title=f"Docking station firmware fault {n}")
    results = search_documents(user=agent, query="docking", kinds=("ticket",))
    counts = {c.kind: (c.count, c.capped, c.display) for c in results.counts}
    assert counts == {"ticket": (4, False, "4"), "problem": (3, True, "2+")}
    assert {c.kind: c.count for c in search_documents(user=agent, query="docking").counts} == {
        "ticket": 4,
        "problem": 4,
    }


def test_one_kind_searches_can_skip_counting_the_others(agent, make_user):
    requester = make_user()
    ticket = ticket_create(actor=requester, title="Docking station flickers")
    problem_create(actor=agent, title="Docking station firmware fault")
    everything = search_documents(user=agent, query="docking", kinds=("ticket",))
    assert {c.kind for c in everything.counts} == {"ticket", "problem"}
    only = search_documents(user=agent, query="docking", kinds=("ticket",), count_other_kinds=False)
    assert [(c.kind, c.count) for c in only.counts] == [("ticket", 1)]
    assert titles(only) == [str(ticket)]


def test_a_kind_only_counted_is_not_ranked(agent, make_user):
    # The problems are counted for their tab, not shown: no rank is computed for them; when
    # they are searched after all, with what the count found, they are ranked then.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core.fulltext import Filters, KindScope

    ticket_create(actor=make_user(), title="Docking station flickers")
    problems = [problem_create(actor=agent, title=f"Docking station fault {n}") for n in range(2)]
    problems.append(problem_create(actor=agent, title="Docking docking docking station"))
    with CaptureQueriesContext(connection) as queries:
        results = search_documents(user=agent, query="docking", kinds=("ticket",))
    assert {c.kind: c.count for c in results.counts} == {"ticket": 1, "problem": 3}
    if connection.vendor == "postgresql":  # SQLite ranks in _rank only, for the page
        ranked = [q["sql"] for q in queries.captured_queries if "ts_rank_cd" in q["sql"]]
        assert any("'ticket'" in sql for sql in ranked)
        assert not any("'problem'" in sql for sql in ranked)
    eng, parsed, scope = engine(), parse_query("docking"), KindScope(kind="problem")
    assert eng.count(parsed, scope, Filters(), ranked=False) == 3
    assert scope.counted is not None and all(rank is None for _, rank in scope.counted.found)
    matches = eng.search(parsed, [scope], Filters(), limit=10)
    assert matches[0].object_id == problems[-1].pk and matches[0].rank > matches[1].rank > 0


def test_a_search_kind_is_one_word():
    # The kind is also a token in SQLite's index (migration core 0004).
    from opsdesk.core.search import register_search
    from opsdesk.portfolio.models import Service

    with pytest.raises(ValueError, match="lowercase letters and digits"):
        register_search(Service, fields=("name",), label="Service", kind="service_offering")


def test_each_kind_ranks_its_own_newest_matches(agent, make_user, monkeypatch):
    # Newer problems saying "router" do not push the older ticket out of its kind's window.
    from opsdesk.core import fulltext

    monkeypatch.setattr(fulltext, "RANK_WINDOW", 2)
    ticket = ticket_create(actor=make_user(), title="Router reboots nightly")
    problems = [problem_create(actor=agent, title=f"Router firmware fault {n}") for n in range(3)]
    assert titles(search_documents(user=agent, query="router", kinds=("ticket",))) == [str(ticket)]
    everything = search_documents(user=agent, query="router")
    assert sorted(titles(everything)) == sorted([str(ticket), *(str(p) for p in problems[1:])])


@pytest.mark.parametrize("readers", ["", "few", "most"], ids=["kind", "reader", "broad-reader"])
@pytest.mark.parametrize(
    ("probe", "budget", "way"),
    [(20, 20, "probe"), (2, 50, "walk"), (2, 1, "index")],
)
def test_postgresql_finds_the_newest_matches_whichever_way_it_takes(
    agent, make_user, monkeypatch, probe, budget, way, readers
):
    # PostgreSQL tests the kind's newest documents (or a reader's own, through their reader
    # rows) one by one to see how common the words are, then walks on or goes through the GIN
    # index: every way gives the same newest matches.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's way to the newest matches")
    requester = make_user()
    older = [ticket_create(actor=requester, title=f"Keyboard sticks {n}") for n in range(4)]
    for n in range(6):
        ticket_create(actor=requester, title=f"Monitor cable {n}")
    newest = [ticket_create(actor=requester, title=f"Keyboard missing keys {n}") for n in range(2)]
    others = ticket_create(actor=make_user(), title="Keyboard of somebody else")  # not the reader's
    monkeypatch.setattr(fulltext, "WALK_PROBE", probe)
    monkeypatch.setattr(fulltext, "READER_PROBE", probe)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", budget)
    monkeypatch.setattr(fulltext, "RANK_WINDOW", 5)
    # The planner's estimates, fixed: a fresh test table has no statistics. The reader's keys
    # open a small part of the kind (walked through their reader rows) or most of it (the kind
    # walked, the keys tested on each row).
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 1_000))
    keys_size = 1_000 if readers == "most" else 10
    size = classmethod(lambda cls, cursor, keys: keys_size)
    monkeypatch.setattr(fulltext.PostgresEngine, "_readers_size", size)
    scope = (
        KindScope(kind="ticket", reader_keys=(f"u{requester.pk}",))
        if readers
        else KindScope(kind="ticket", private=True)
    )
    # The five newest matches: the reader's own, or the kind's (the other requester's included).
    expected = [*newest, *older[1:]] if readers else [others, *newest, *older[2:]]
    with CaptureQueriesContext(connection) as queries:
        matches = engine().search(parse_query("keyboard"), [scope], Filters(), limit=20)
    assert sorted(m.object_id for m in matches) == sorted(t.pk for t in expected)
    # Ranked as the engine ranks them, whether the walk ranked them or _rank did, best first.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT object_id, ts_rank_cd(search_vector, to_tsquery('english', 'keyboard:*'))"
            " FROM core_searchdocument WHERE kind = 'ticket' AND NOT private"
        )
        ranks = dict(cursor.fetchall())
    assert [(m.object_id, m.rank) for m in matches] == sorted(
        ((m.object_id, ranks[m.object_id]) for m in matches), key=lambda pair: (-pair[1], -pair[0])
    )
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    # The probe and the walk each test rows one by one ("AS hit"): one such statement is the probe.
    taken = "index" if "enable_indexscan" in sql else "walk" if sql.count("AS hit") > 1 else "probe"
    assert taken == way
    # The GIN statement has room for an exact bitmap (GIN_WORK_MEM), and only it.
    assert ("'work_mem'" in sql) == (way == "index")
    assert ("core_searchreader r WHERE r.key" in sql) == (readers == "few")


def test_a_reader_walk_ends_where_its_reader_rows_end(agent, make_user, monkeypatch):
    # A requester's reader rows include their tickets' private variants (internal notes) and
    # tickets the status filter drops: a probe of four reader rows finds two of their public
    # documents, and the walk goes on; the count is of all five, the in-progress one filtered out.
    from django.db import connection

    from opsdesk.core import fulltext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's walk through reader rows")
    requester = make_user()
    tickets = [ticket_create(actor=requester, title=f"Keyboard sticks {n}") for n in range(6)]
    for ticket in tickets:
        ticket_reply(actor=agent, ticket=ticket, body="Checked the USB hub", public=False)
    ticket_transition(actor=agent, ticket=tickets[0], to="in_progress")
    monkeypatch.setattr(fulltext, "READER_PROBE", 4)
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 1_000))
    monkeypatch.setattr(fulltext.PostgresEngine, "_readers_size", classmethod(lambda cls, cursor, keys: 10))
    results = search_documents(user=requester, query="keyboard", kinds=("ticket",), statuses=["new"])
    assert [(c.kind, c.count) for c in results.counts] == [("ticket", 5)]
    assert sorted(titles(results)) == sorted(str(t) for t in tickets[1:])


def _reader_documents(engine_, *, keys=("o1", "o2", "o3"), count=4_000):
    """Tickets spread over readers' keys, one in 500 holding the word 'quokka' (with three
    keys: 0, 1500 and 3000 under the first)."""
    from opsdesk.core.fulltext import Document

    engine_.index(
        Document(
            kind="ticket",
            object_id=n,
            title=f"quokka {n}" if n % 500 == 0 else f"wombat {n}",
            body="",
            readers=(keys[n % len(keys)],),
        )
        for n in range(count)
    )


@pytest.mark.parametrize(
    ("query", "index", "vector"),
    [
        ('"quokka"', "core_searchdocument_ticket_vector_readers", "search_vector"),
        ("quokka", "core_searchdocument_ticket_beginnings", "opsdesk_search_beginnings(search_vector, id)"),
        ("quok", "core_searchdocument_ticket_beginnings", "opsdesk_search_beginnings(search_vector, id)"),
    ],
    ids=["word", "prefix", "short-prefix"],
)
def test_postgresql_reads_a_readers_matches_in_one_index_scan(monkeypatch, query, index, vector):
    # Migrations tickets 0013 and 0014: when a reader's ticket search goes through the GIN
    # index, their keys and the words (for a prefix, the words' beginnings) are read from the
    # one index of both (no bitmap of the reader's tickets built and intersected with the
    # words').
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's GIN indexes")
    _reader_documents(engine())
    with connection.cursor() as cursor:
        # A few thousand documents can't show the planner what a million do (their index of
        # every kind, or of readers, with a filter, costs about as much): those are dropped
        # till the end of the test's transaction. This checks that the index of words (or
        # beginnings) and readers is there and answers both conditions in one scan.
        cursor.execute("DROP INDEX core_searchdocument_vector")
        cursor.execute("DROP INDEX core_searchdocument_readers")
        # Words or their beginnings, each with the readers: the other is dropped too.
        other = {"search_vector": "beginnings"}.get(vector, "vector_readers")
        cursor.execute(f"DROP INDEX core_searchdocument_ticket_{other}")
        cursor.execute("ANALYZE core_searchdocument")
        cursor.execute("ANALYZE core_searchreader")
    monkeypatch.setattr(fulltext, "READER_PROBE", 1)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)  # the walk stops at once: the GIN path
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 4_000))
    monkeypatch.setattr(fulltext.PostgresEngine, "_readers_size", classmethod(lambda cls, cursor, keys: 10))
    scope = KindScope(kind="ticket", reader_keys=("o1",))
    with CaptureQueriesContext(connection) as queries:
        matches = engine().search(parse_query(query), [scope], Filters(), limit=10)
    assert sorted(m.object_id for m in matches) == [0, 1500, 3000]
    through_index = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    assert len(through_index) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + through_index[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan
    assert "BitmapAnd" not in plan
    assert re.search(rf"Index Cond: \(\({re.escape(vector)} @@ .*\) AND \(readers && ", plan), plan


@pytest.mark.parametrize("query", ["ad", "ad gro", "gro", "grou", "requires", "monitor"])
def test_postgresql_a_readers_matches_through_beginnings_or_words(monkeypatch, query):
    # Through the GIN index, a reader's query finds the same matches whether it is read from
    # the beginnings (core 0014; 'requires':* is 'requir':*, six letters) or from the words:
    # with no word of three letters or more, or a prefix longer than six ('monitor':*).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word beginnings")
    engine().index(
        Document(
            kind="ticket",
            object_id=n,
            title={3: "AD group", 4: "AD grout", 6: "Monitoring required"}.get(n, f"printer {n}"),
            body="ad" if n == 5 else "",
            readers=("o1" if n < 40 else "o2",),
        )
        for n in range(50)
    )
    monkeypatch.setattr(fulltext, "READER_PROBE", 1)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)  # the walk stops at once: the GIN path
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 4_000))
    monkeypatch.setattr(fulltext.PostgresEngine, "_readers_size", classmethod(lambda cls, cursor, keys: 10))
    with CaptureQueriesContext(connection) as queries:
        matches = engine().search(
            parse_query(query), [KindScope(kind="ticket", reader_keys=("o1",))], Filters(), limit=10
        )
    expected = {
        "ad": [3, 4, 5],
        "ad gro": [3, 4],
        "gro": [3, 4],
        "grou": [3, 4],
        "requires": [6],
        "monitor": [6],
    }
    assert sorted(m.object_id for m in matches) == expected[query]
    [through_index] = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + through_index)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Planned without the beginnings when there is none to look for, or too long a prefix.
    assert ("opsdesk_search_beginnings" in plan) == (query not in ("ad", "monitor")), plan


@settings(max_examples=200, deadline=None)
@given(
    doc_id=st.integers(min_value=1, max_value=2**24),
    below=st.integers(min_value=0, max_value=2**20),
    above=st.integers(min_value=1, max_value=2**20),
    typed=st.sampled_from(["print", "printer jam", "jam prin", "pri"]),
)
def test_postgresql_id_buckets_hold_every_id_of_their_range(doc_id, below, above, typed):
    # A range of ids read through the beginnings' index (core 0014) asks for its buckets of
    # ids: a matching document whose id lies in the range holds one of them, wherever the
    # range's ends fall in their buckets.
    from django.db import connection

    from opsdesk.core.fulltext import PostgresEngine

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word beginnings")
    low, high = max(doc_id - below, 0), doc_id + above
    tsquery, params = PostgresEngine().tsquery(parse_query(typed))
    hit, hit_params = PostgresEngine()._beginnings_hit(
        parse_query(typed), f"d.search_vector @@ {tsquery}", params, low, high
    )
    assert "CAST(%s AS tsquery)" in hit or (high - 1 >> 14) - (low >> 14) >= 64
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {hit} FROM (SELECT %s::bigint AS id,"
            " setweight(to_tsvector('english', 'Printer jammed'), 'A') AS search_vector) AS d",
            [*hit_params, doc_id],
        )
        assert cursor.fetchone()[0] is True


# Words, stems of each other, short words and stop words.
PREFIX_WORDS = ["print", "printer", "printers", "printing", "information", "inform", "jam", "ad", "the"]


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(st.sampled_from([*PREFIX_WORDS, "VPN", "e-mail"]), max_size=20),
    words=st.lists(st.sampled_from(PREFIX_WORDS), min_size=1, max_size=3),
    cut=st.integers(min_value=0, max_value=8),
)
def test_postgresql_word_beginnings_hold_every_match(text, words, cut):
    # The beginnings' index only ever narrows a query's documents: whatever a document's text,
    # if PostgreSQL matches the query (words, the last one cut to a prefix), the document
    # holds the query's beginnings.
    from django.db import connection

    from opsdesk.core.fulltext import PostgresEngine

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word beginnings")
    typed = " ".join([*words[:-1], words[-1][: max(1, len(words[-1]) - cut)]])
    tsquery, params = PostgresEngine().tsquery(parse_query(typed))
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH v AS (SELECT setweight(to_tsvector('english', %s), 'A') AS v),"
            f" q AS (SELECT {tsquery} AS q) SELECT v @@ q,"
            " coalesce(opsdesk_word_prefixes(v) @@ opsdesk_query_prefixes(q), TRUE) FROM v, q",
            [" ".join(text), *params],
        )
        matches, holds_beginnings = cursor.fetchone()
    assert holds_beginnings or not matches


def test_postgresql_a_kind_only_counted_to_100_probes_505_documents():
    # A tab not shown counts to 100: the density of its words is measured on its newest 505
    # documents (five per match wanted), not WALK_PROBE's 5,000, before the GIN index is asked;
    # a kind shown, counted to 1,000, on 5,000. The probe is the statement's limit of rows.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's probe")
    engine().index(
        Document(kind="zzcount", object_id=n, title="quokka" if n % 1_000 == 0 else "wombat", body="")
        for n in range(6_000)
    )
    for cap, rows in ((100, 505), (1_000, 5_000)):
        with CaptureQueriesContext(connection) as queries:
            count = engine().count(parse_query("quokka"), KindScope(kind="zzcount"), Filters(), cap=cap)
        assert count == 6
        probe = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT w.id"))
        assert f"ORDER BY d.kind DESC, d.id DESC LIMIT {rows} OFFSET 0" in probe


@pytest.mark.parametrize(
    ("newest_dense", "kind_size", "ids_per_match", "statements"),
    [(False, 3_000, 40, 1), (True, 3_000, 40, 2), (True, 700, 40, 1), (True, 3_000, 0.01, 1)],
    ids=["even", "newest-dense", "range-most-of-the-kind", "range-costs-more-than-it-spares"],
)
def test_postgresql_asks_the_gin_index_where_the_matches_should_be_first(
    monkeypatch, newest_dense, kind_size, ids_per_match, statements
):
    # Through the GIN index, the newest matches below the probe are first looked for in a
    # range of ids (twice as wide as the probe's density says they need); when the matches
    # there are too few (older documents sparser than the newest), below it; and with no range
    # when it would be half the kind or more, or its ids would cost more than the matches it
    # spares reading. Either way the newest ones, exactly, in order.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's GIN path")

    def holds(n: int) -> bool:
        return n >= 2_900 or n % 5 == 0 if newest_dense else n % 5 == 0

    engine().index(
        Document(kind="zzrange", object_id=n, title="quokka" if holds(n) else "wombat", body="")
        for n in range(3_000)
    )
    monkeypatch.setattr(fulltext, "WALK_PROBE", 100)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)  # no walk beyond the probe: the GIN path
    monkeypatch.setattr(fulltext, "RANGE_IDS_PER_MATCH", ids_per_match)
    monkeypatch.setattr(
        fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: kind_size)
    )
    scope = KindScope(kind="zzrange")
    with CaptureQueriesContext(connection) as queries:
        assert engine().count(parse_query("quokka"), scope, Filters(), cap=300) == 301
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM core_searchdocument WHERE kind = 'zzrange'"
            " AND search_vector @@ to_tsquery('english', 'quokka') ORDER BY id DESC LIMIT 301"
        )
        newest = [row[0] for row in cursor.fetchall()]
    assert [doc_id for doc_id, _ in scope.counted.found] == newest
    through_index = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    assert len(through_index) == statements
    assert ("d.id >= " in through_index[0]) == (statements == 2)


def _kind_documents(kind: str, holds) -> dict[int, int]:
    """3,000 documents of ``kind``, "quokka" in those ``holds(n)`` says; their ids by n."""
    from django.db import connection

    from opsdesk.core.fulltext import Document

    engine().index(
        Document(kind=kind, object_id=n, title="quokka" if holds(n) else "wombat", body="")
        for n in range(3_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT object_id, id FROM core_searchdocument WHERE kind = %s", [kind])
        return dict(cursor.fetchall())


def test_postgresql_keeps_the_matches_of_a_walk_that_fell_short(monkeypatch):
    # The newest hundred all match, the older ones one in fifty: the probe says the walk will
    # fill the window within its budget, it does not, and the GIN index is asked for the rest
    # below the walk's last match, not for the walked matches again. All of them, in order.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's walk")
    ids = _kind_documents("zzshort", lambda n: n >= 2_900 or n % 50 == 0)
    monkeypatch.setattr(fulltext, "WALK_PROBE", 100)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 500)
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 3_000))
    scope = KindScope(kind="zzshort")
    with CaptureQueriesContext(connection) as queries:
        assert engine().count(parse_query("quokka"), scope, Filters(), cap=300) == 158
    newest = sorted((ids[n] for n in ids if n >= 2_900 or n % 50 == 0), reverse=True)
    assert [doc_id for doc_id, _ in scope.counted.found] == newest
    walks = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT w.id")]
    through_index = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    assert len(walks) == 2  # the probe, then 500 more rows (2,400 to 2,899: ten matches)
    assert f"d.id < {ids[2_400]}" in through_index[0]


def test_postgresql_counts_a_kind_only_counted_through_any_of_its_matches(monkeypatch):
    # A tab not shown needs how many match (up to its cap), not the newest: after the probe,
    # any matches through the GIN index, unsorted, and no statement for where the probe ended.
    # What it found is kept for a search that follows only when it is every match.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's GIN path")
    _kind_documents("zzcounted", lambda n: n % 50 == 0)
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 3_000))
    for cap, count, kept in ((100, 60, 60), (30, 31, 0)):
        scope = KindScope(kind="zzcounted")
        with CaptureQueriesContext(connection) as queries:
            assert engine().count(parse_query("quokka"), scope, Filters(), cap=cap, ranked=False) == count
        statements = [q["sql"] for q in queries.captured_queries]
        through_index = [sql for sql in statements if through_gin(sql)]
        assert len(through_index) == 1
        assert "ORDER BY" not in through_index[0]
        assert not any(sql.startswith("SELECT COUNT") for sql in statements)
        assert len(scope.counted.found) == kept
        assert scope.counted.complete == (count <= cap)


def test_postgresql_walks_on_for_a_kind_only_counted_when_the_rest_is_near(monkeypatch):
    # One in seven match: the probe of 505 finds 72 of the 101 counted, and says the rest lie
    # within 210 more documents; they are walked, not every match read through the GIN index.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's walk")
    _kind_documents("zzcountwalk", lambda n: n % 7 == 0)
    monkeypatch.setattr(fulltext.PostgresEngine, "_kind_size", classmethod(lambda cls, cursor, kind: 3_000))
    scope = KindScope(kind="zzcountwalk")
    with CaptureQueriesContext(connection) as queries:
        assert engine().count(parse_query("quokka"), scope, Filters(), cap=100, ranked=False) == 101
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any(through_gin(sql) for sql in statements)
    assert len([sql for sql in statements if sql.startswith("SELECT w.id")]) == 2
    assert scope.counted.found == () and not scope.counted.complete


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        ("article", "core_searchdocument_article_vector"),
    ],
)
def test_postgresql_reads_a_big_kinds_matches_from_its_own_index(monkeypatch, kind, index):
    # Migration knowledge 0003: when a search of articles goes through a GIN index, it is
    # their own (their words only), not the index of every kind's. (Tickets' own indexes, of
    # words or beginnings with readers, see test_postgresql_reads_a_readers_matches_in_one_index_scan:
    # in a few thousand tickets without a reader the planner rightly prefers the kind's b-tree.)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's GIN indexes")
    # Many documents of each kind, few of the kind with the word, and the planner told so (in a
    # small table it would rightly read the few documents through the kind's own b-tree).
    engine().index(
        Document(kind=k, object_id=n, title=f"quokka {n}" if n % 500 == 0 else f"wombat {n}", body="")
        for k in (kind, "zzother")
        for n in range(2_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_searchdocument")
    monkeypatch.setattr(fulltext, "WALK_PROBE", 1)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)  # the walk stops at once: the GIN path
    with CaptureQueriesContext(connection) as queries:
        matches = engine().search(parse_query("quokka"), [KindScope(kind=kind)], Filters(), limit=10)
    assert len(matches) == 4  # documents 0, 500, 1000 and 1500
    through_index = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    assert len(through_index) == 1
    # Ranked as they were found (each vector in hand), not read again by id to be ranked.
    assert not any(q["sql"].startswith("SELECT d.id, ts_rank_cd") for q in queries.captured_queries)
    assert all(m.rank > 0 for m in matches)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + through_index[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        ("article", "core_searchdocument_article_word_pairs"),
        ("ticket", "core_searchdocument_ticket_word_pairs"),
        ("problem", None),  # no index of its pairs: the planner's way, words tested on each
    ],
)
def test_postgresql_reads_a_phrase_through_its_word_pairs(monkeypatch, kind, index):
    # Migrations core 0011, knowledge 0004, tickets 0012: through the GIN indexes, a phrase
    # reads the documents holding its words side by side (the kind's index of word pairs), not
    # every document holding both words; a kind without such an index reads those.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word pairs")
    texts = {0: "Printer jam on floor two", 700: "Jam the printer", 1400: "printer jammed, printer jam again"}
    engine().index(
        Document(kind=kind, object_id=n, title=texts.get(n, f"jam near the printer {n}"), body="")
        for n in range(2_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_searchdocument")
    monkeypatch.setattr(fulltext, "WALK_PROBE", 1)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)  # the walk stops at once: the GIN path
    with CaptureQueriesContext(connection) as queries:
        matches = engine().search(parse_query('"printer jam"'), [KindScope(kind=kind)], Filters(), limit=10)
    assert sorted(m.object_id for m in matches) == [0, 1400]
    [through_index] = [q["sql"] for q in queries.captured_queries if through_gin(q["sql"])]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + through_index)
        plan = cursor.fetchone()[0]
    scans = []

    def walk(node):
        scans.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    read_from = {node.get("Index Name") for node in scans} - {None}
    assert index in read_from if index else not any("word_pairs" in name for name in read_from)
    # The rows read are those with the pair (two), not the 2,000 with both words (less the one
    # the probe walked, when the plan reads the documents' ids from an index).
    [heap] = [node for node in scans if node["Node Type"] == "Bitmap Heap Scan"]
    read = sum(
        heap.get(f, 0) for f in ("Actual Rows", "Rows Removed by Index Recheck", "Rows Removed by Filter")
    )
    assert read == 2 if index else read >= 1_999


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [("access to the server", [1]), ("server access", [2, 3]), ("mail server access", [2])],
    ids=["stop-words-between", "title-into-body", "both-pairs-apart"],
)
def test_postgresql_phrases_without_pairs_or_across_fields(monkeypatch, phrase, expected):
    # A phrase whose words stand apart (stop words between) has no pair to look for; a
    # title's last word stands beside its body's first; a document may hold each pair of a
    # phrase of three words, apart: all as PostgreSQL's own phrase test says.
    from django.db import connection

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word pairs")
    engine().index(
        [
            Document(kind="ticket", object_id=1, title="No access to the server", body="since noon"),
            Document(kind="ticket", object_id=2, title="Mail server", body="access is slow"),
            Document(
                kind="ticket", object_id=3, title="Server access denied", body="and the mail server is down"
            ),
        ]
    )
    monkeypatch.setattr(fulltext, "WALK_PROBE", 1)
    monkeypatch.setattr(fulltext, "WALK_BUDGET", 1)
    matches = engine().search(parse_query(f'"{phrase}"'), [KindScope(kind="ticket")], Filters(), limit=10)
    assert sorted(m.object_id for m in matches) == expected


# Words that make pairs, stop words, a hyphenated word and its parts.
PAIR_WORDS = ["vpn", "access", "the", "e-mail", "mail", "fails", "down"]


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(st.sampled_from([*PAIR_WORDS, "to", "VPN"]), max_size=30),
    phrase=st.lists(st.sampled_from(PAIR_WORDS), min_size=2, max_size=4),
)
def test_postgresql_word_pairs_hold_every_phrase_a_document_matches(text, phrase):
    # The pairs' index only ever narrows a phrase's documents: whatever a document's text, if
    # PostgreSQL's phrase test matches it, it holds the phrase's pairs.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index of word pairs")
    words = " ".join(text)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH v AS (SELECT setweight(to_tsvector('english', %s), 'A')"
            " || setweight(to_tsvector('english', %s), 'B') AS v)"
            " SELECT v @@ phraseto_tsquery('english', %s),"
            " coalesce(opsdesk_word_pairs(v) @@ opsdesk_phrase_pairs('english', %s::text[]), TRUE) FROM v",
            [words[: len(words) // 2], words[len(words) // 2 :], " ".join(phrase), [" ".join(phrase)]],
        )
        matches, holds_pairs = cursor.fetchone()
    assert holds_pairs or not matches


def test_postgresql_plans_kind_and_reader_sizes_once_a_minute(make_user, monkeypatch):
    # The planner's estimates that choose a reader's way to the matches cost half a
    # millisecond each: a second search within ESTIMATE_SECONDS asks for none.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's estimates")
    monkeypatch.setattr(fulltext, "_estimates", {})
    requester = make_user()
    ticket = ticket_create(actor=requester, title="Scanner offline")

    def search() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            found = titles(search_documents(user=requester, query="scanner", kinds=("ticket",)))
        return found, sum("EXPLAIN" in q["sql"] for q in queries.captured_queries)

    assert search() == ([str(ticket)], 2)
    assert search() == ([str(ticket)], 0)
    monkeypatch.setattr(fulltext, "ESTIMATE_SECONDS", 0.0)
    assert search() == ([str(ticket)], 2)


def test_postgresql_reader_rows_follow_their_document():
    # Migrations core 0006 and 0009: triggers keep (key, document) rows for the reader walk, and
    # no foreign key checks them (its plan, made once per connection while the table was small,
    # scanned the whole table for each row: a long reindex slowed as it went).
    from django.db import connection

    from opsdesk.core.fulltext import Document

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's reader rows")
    eng = engine()

    def rows() -> set[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.key, d.object_id FROM core_searchreader r"
                " JOIN core_searchdocument d ON d.id = r.document_id WHERE d.kind = 'zzreaders'"
            )
            return set(cursor.fetchall())

    eng.index(
        [Document(kind="zzreaders", object_id=n, title="t", body="b", readers=("u1", "o2")) for n in (1, 2)]
    )
    assert rows() == {("u1", 1), ("o2", 1), ("u1", 2), ("o2", 2)}
    eng.index([Document(kind="zzreaders", object_id=1, title="t", body="b", readers=("u3",))])
    assert rows() == {("u3", 1), ("u1", 2), ("o2", 2)}
    eng.remove("zzreaders", [2])
    assert rows() == {("u3", 1)}
    eng.clear("zzreaders")
    assert rows() == set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_constraint"
            " WHERE conrelid = 'core_searchreader'::regclass AND contype = 'f'"
        )
        assert cursor.fetchone()[0] == 0


def test_postgresql_keeps_each_vector_in_its_row():
    # Migration core 0007: TOAST moves the body out of a long document's row, not its vector,
    # which every match tests (through the TOAST table, a walk of articles took 3x as long).
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's TOAST")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute"
            " WHERE attrelid = 'core_searchdocument'::regclass AND attname IN ('search_vector', 'body')"
        )
        assert dict(cursor.fetchall()) == {"search_vector": "m", "body": "x"}


def test_postgresql_knows_which_statuses_go_with_which_kind():
    # Migration core 0010: without statistics of kind and status together the planner took a
    # status filter (published articles) as rare among the kind's documents, and sorted every
    # article instead of walking the newest (287 ms against 4 at 100,000 articles).
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's extended statistics")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxkind FROM pg_statistic_ext WHERE stxrelid = 'core_searchdocument'::regclass"
            " AND stxname = 'core_searchdocument_kind_status'"
        )
        assert [row[0] for row in cursor.fetchall()] == [["m"]]


def test_sqlite_indexes_prefixes_of_up_to_six_letters():
    # Migration core 0008: a prefix FTS5 has no index for is expanded in memory, every entry
    # of every word it starts, once per statement (25-35 ms for "kind" at a million tickets).
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 prefix indexes")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'core_searchdocument_fts'")
        assert "prefix='2 3 4 5 6'" in cursor.fetchone()[0]


def test_sqlite_scope_tokens_join_kind_visibility_and_reader():
    # Migration core 0013: one token per visibility a document is read in, and one per reader
    # key and visibility, so a search asks FTS5 for one token, not for the kind's, the
    # visibility's and the reader's ANDed (a million entries each advanced to every match).
    from django.db import connection

    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's scope tokens")
    engine().index(
        [
            Document(kind="ticket", object_id=1, title="quokka", body="", readers=("u1", "o2")),
            Document(kind="ticket", object_id=2, title="quokka", body="", private_body="", readers=("u1",)),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT object_id, private, search_scope FROM core_searchdocument ORDER BY 1, 2")
        tokens = {(object_id, bool(private)): set(scope.split()) for object_id, private, scope in cursor}
    assert tokens == {
        (1, False): {
            "zkticket0p",
            "zrticket0pu1",
            "zrticket0po2",
            "zkticket0x",
            "zrticket0xu1",
            "zrticket0xo2",
        },
        (2, False): {"zkticket0p", "zrticket0pu1"},
        (2, True): {"zkticket0x", "zrticket0xu1"},
    }
    expression = engine().scoped_expression(
        parse_query("quokka"), KindScope(kind="ticket", reader_keys=("u1", "o2"))
    )
    assert expression.startswith('{search_scope}: ("zrticket0pu1" OR "zrticket0po2") AND ')
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, object_id, private FROM core_searchdocument")
        variants = {doc_id: (object_id, bool(private)) for doc_id, object_id, private in cursor}

        def found(private, keys):
            scope = KindScope("ticket", private=private, reader_keys=keys)
            matches = engine()._newest_matches(cursor, parse_query("quokka"), scope, Filters(), limit=10)
            return {variants[doc_id] for doc_id, _ in matches}

        # A requester reads the public variants; an agent the private ones, or the only one.
        assert found(False, None) == found(False, ("u1",)) == {(1, False), (2, False)}
        assert found(True, None) == found(True, ("u1",)) == {(1, False), (2, True)}
        assert found(False, ("o2",)) == found(True, ("o2",)) == {(1, False)}


def test_postgresql_finds_where_a_probe_ended_from_the_index_alone():
    # Migration core 0012: where a kind's probe ended (the ids of its newest documents in the
    # reader's variant) is read from the (kind, id) index, which carries the variant's columns,
    # not from the table row by row.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core.fulltext import Filters, KindScope

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's probe")
    _kind_documents("zzprobed", lambda n: n % 50 == 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_searchdocument")
    for private in (False, True):  # a requester's variant; an agent's
        with CaptureQueriesContext(connection) as queries:
            scope = KindScope(kind="zzprobed", private=private)
            engine().count(parse_query("quokka"), scope, Filters(), cap=1_000)
        probe_end = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT"))
        with connection.cursor() as cursor:
            # A few thousand rows can't show the planner what a million do: the other ways off.
            for way in ("seqscan", "bitmapscan", "sort", "incremental_sort"):
                cursor.execute(f"SET LOCAL enable_{way} = off")
            cursor.execute("EXPLAIN " + probe_end)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Only Scan Backward using core_searchdocument_kind_id_variant" in plan


@pytest.mark.django_db(transaction=True)  # committed: FTS5 saves its totals (the average row)
def test_sqlite_ranks_a_few_candidates_of_one_term_in_bm25s_order(monkeypatch):
    # A one-term query's few candidates, far apart (as a requester's tickets are among a
    # million), are each looked up and ranked from FTS5's counts, not walked and ranked by
    # bm25 (whose IDF reads every document holding the term): the same order as bm25's, ties
    # newest first, for a word, a prefix and a phrase. (These 80 are neighbours: any spread
    # will do here.)
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsdesk.core import fulltext
    from opsdesk.core.fulltext import Document, Filters, KindScope

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's bm25")
    monkeypatch.setattr(fulltext, "LOOKUP_SPAN", 0)
    rng = random.Random(5)
    words = ["printer", "printing", "paper", "jam", "tray", "toner", "office", "floor", "driver"]
    engine().index(
        Document(
            kind="zzbm25",
            object_id=n,
            title=" ".join(rng.choices(words, k=rng.randint(1, 5))),
            body=" ".join(rng.choices(words, k=rng.randint(0, 60))),
        )
        for n in range(80)
    )
    for text in ("toner", "print", '"paper jam"'):
        query = parse_query(text)
        with CaptureQueriesContext(connection) as queries:
            matches = engine().search(query, [KindScope(kind="zzbm25")], Filters(), limit=50)
        assert not any("bm25(" in q["sql"] for q in queries.captured_queries)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.object_id FROM core_searchdocument_fts f"
                " CROSS JOIN core_searchdocument d ON d.id = f.rowid"
                " WHERE core_searchdocument_fts MATCH %s AND d.kind = 'zzbm25'"
                f" ORDER BY {fulltext.SQLiteEngine.RANK}, f.rowid DESC LIMIT 50",
                [fulltext.SQLiteEngine.match_expression(query)],
            )
            by_bm25 = [row[0] for row in cursor.fetchall()]
        assert len(by_bm25) > 10
        assert [m.object_id for m in matches] == by_bm25
    # A prefix longer than the index's prefixes ("printer", 7 letters; a word typed last is a
    # prefix) would be expanded for each lookup: walked.
    with CaptureQueriesContext(connection) as queries:
        assert engine().search(parse_query("printer"), [KindScope(kind="zzbm25")], Filters(), limit=50)
    assert any("bm25(" in q["sql"] for q in queries.captured_queries)
    assert not any("f.rowid IN" in q["sql"] and "BETWEEN" not in q["sql"] for q in queries.captured_queries)
