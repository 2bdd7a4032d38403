"""The signed one-click approval links: valid, forged, expired, reused, and no longer the
recipient's (the approval moved to a delegate)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from opsdesk.catalog.choices import ApprovalState, Decision
from opsdesk.catalog.constants import APPROVAL_LINK_MAX_AGE_DAYS
from opsdesk.catalog.services.approvals import (
    APPROVAL_LINK_SALT,
    approval_decide,
    approval_from_token,
    approval_link,
    delegation_save,
)
from opsdesk.core.exceptions import ServiceError
from tests.catalog.approval_factories import make_item, manager_step, order, people

__all__ = ["people"]  # the fixture, used by name

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval(people):
    request = order(make_item(people, manager_step()), people.requester)
    return request.approvals.get()


def token_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith("/catalog/approve/") and path.endswith("/")
    return path.removeprefix("/catalog/approve/").rstrip("/")


def refused(token: str) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        approval_from_token(token)
    return error.value


def test_a_link_names_its_approval_and_decision(approval, settings):
    approve = approval_link(approval=approval, decision=Decision.APPROVE)
    reject = approval_link(approval=approval, decision=Decision.REJECT)
    assert approve.startswith(settings.SITE_URL.rstrip("/") + "/catalog/approve/")
    assert approval_from_token(token_of(approve)) == (approval, Decision.APPROVE)
    assert approval_from_token(token_of(reject)) == (approval, Decision.REJECT)
    with pytest.raises(ServiceError):
        approval_link(approval=approval, decision="maybe")


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
        lambda token: "x" + token,  # payload changed
        lambda token: "",
        lambda token: "not-a-token",
        lambda token: signing.dumps({"a": 1, "d": "approve", "u": 1}, salt="another-salt"),
        lambda token: signing.dumps({"a": 1, "d": "approve", "u": 1}),  # no salt
        lambda token: signing.dumps(["a", 1], salt=APPROVAL_LINK_SALT),  # signed, wrong shape
        lambda token: signing.dumps({"a": "1", "d": "approve", "u": 1}, salt=APPROVAL_LINK_SALT),
        lambda token: signing.dumps({"a": 1, "d": "sure", "u": 1}, salt=APPROVAL_LINK_SALT),
    ],
)
def test_a_forged_link_is_invalid(approval, forge):
    token = token_of(approval_link(approval=approval, decision=Decision.APPROVE))
    error = refused(forge(token))
    assert error.code == "link_invalid"
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


def test_a_link_for_someone_elses_approval_is_invalid(approval, people):
    # Correctly signed, but naming a person who is not the approver: not theirs to decide.
    token = signing.dumps(
        {"a": approval.pk, "d": "approve", "u": people.requester.pk}, salt=APPROVAL_LINK_SALT, compress=True
    )
    error = refused(token)
    assert error.code == "link_invalid"
    assert "Mia Manager's to decide" in error.message


def test_a_link_for_a_deleted_approval_is_invalid(approval):
    token = token_of(approval_link(approval=approval, decision=Decision.APPROVE))
    approval.request.ticket.delete()
    assert refused(token).code == "link_invalid"


def test_a_link_expires(approval):
    token = token_of(approval_link(approval=approval, decision=Decision.APPROVE))
    with time_machine.travel(timezone.now() + timedelta(days=APPROVAL_LINK_MAX_AGE_DAYS - 1), tick=False):
        assert approval_from_token(token)[0] == approval
    with time_machine.travel(
        timezone.now() + timedelta(days=APPROVAL_LINK_MAX_AGE_DAYS, minutes=1), tick=False
    ):
        error = refused(token)
    assert error.code == "link_expired"
    assert f"{APPROVAL_LINK_MAX_AGE_DAYS} days" in error.message


def test_a_used_link_is_already_decided(approval, people):
    token = token_of(approval_link(approval=approval, decision=Decision.REJECT))
    found, decision = approval_from_token(token)
    approval_decide(actor=found.approver, approval=found, decision=decision, comment="Not this year")
    error = refused(token)
    assert error.code == "already_decided"
    assert "already rejected by Mia Manager" in error.message


def test_a_link_stops_working_for_the_approver_once_a_delegate_has_the_approval(approval, people):
    old_link = token_of(approval_link(approval=approval, decision=Decision.APPROVE))
    deputy = people.person("Dee Deputy")
    today = timezone.localdate()
    delegation_save(actor=people.manager, data={"delegate": deputy, "starts_on": today, "ends_on": today})
    error = refused(old_link)
    assert error.code == "link_invalid"
    assert "handed to Dee Deputy while you are away" in error.message
    approval.refresh_from_db()
    new_link = token_of(approval_link(approval=approval, decision=Decision.APPROVE))
    assert approval_from_token(new_link) == (approval, Decision.APPROVE)


def test_opening_a_link_never_decides(approval, client):
    # Mail scanners follow links: the page only asks for a confirmation.
    url = approval_link(approval=approval, decision=Decision.APPROVE)
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    assert client.get("/catalog/approve/forged-token/").status_code in (400, 403, 404, 410)
