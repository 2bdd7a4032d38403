"""A sender's journey over real HTTP: the Python example of docs/webhooks.md, run as written,
against a live server: create, repeat, update, resolve."""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import pytest

from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_sender():
    """The ``send`` function of the guide's Python example, exactly as published."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # our own documentation
    return namespace["send"]


@pytest.mark.django_db(transaction=True)
def test_the_documented_python_sender_creates_repeats_updates_and_resolves(live_server, source_and_secret):
    source, secret = source_and_secret
    send = documented_sender()
    url = live_server.url + source.endpoint_path()
    firing = {
        "alert": {"id": "a-42", "name": "Disk full on db1", "summary": "98 %", "state": "firing"},
        "severity": "warning",
    }

    created = send(url, secret, firing, delivery_id="d-1")
    assert created["action"] == "created"
    assert send(url, secret, firing, delivery_id="d-1") == {**created, "duplicate": True}
    assert send(url, secret, firing, delivery_id="d-2")["action"] == "updated"
    resolved = {**firing, "alert": {**firing["alert"], "state": "resolved"}}
    assert send(url, secret, resolved, delivery_id="d-3")["action"] == "resolved"

    ticket = Ticket.objects.get()
    assert (ticket.number, ticket.status, ticket.impact) == (created["ticket"], Status.RESOLVED, 2)

    with pytest.raises(urllib.error.HTTPError) as refused:
        send(url, "a-guessed-secret", firing)
    assert refused.value.code == 401
