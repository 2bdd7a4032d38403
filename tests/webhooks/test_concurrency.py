"""Two copies of one delivery arriving at the same moment raise one ticket (needs two real
database connections: a file or server database)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from opsdesk.tickets.models import Ticket
from opsdesk.webhooks.choices import DeliveryStatus
from opsdesk.webhooks.models import WebhookDelivery
from tests.webhooks.conftest import alert, sign


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_delivery_raises_one_ticket(source_and_secret):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("two connections need a file or server database")
    source, secret = source_and_secret
    body = json.dumps(alert("a-1")).encode()
    stamp = str(int(time.time()))
    headers = {
        "HTTP_X_OPSDESK_DELIVERY": "twin",
        "HTTP_X_OPSDESK_TIMESTAMP": stamp,
        "HTTP_X_OPSDESK_SIGNATURE": sign(secret, body, stamp),
    }
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            response = Client().post(
                f"/webhooks/in/{source.slug}/", data=body, content_type="application/json", **headers
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201]
    assert Ticket.objects.count() == 1
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [
        DeliveryStatus.DUPLICATE,
        DeliveryStatus.PROCESSED,
    ]
