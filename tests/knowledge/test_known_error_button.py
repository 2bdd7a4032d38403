"""The problem page offers a known error with a workaround as an article, in one click, and
then links the article it became."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.knowledge.models import Article
from opsdesk.tickets.models import Problem

pytestmark = pytest.mark.django_db


def test_publish_a_known_error_from_its_problem_page(client, make_user):
    agent = make_user(role=Role.AGENT)
    problem = Problem.objects.create(
        number="PRB0001001",
        title="VPN drops on Wi-Fi",
        known_error=True,
        root_cause="The access points renew DHCP leases every 5 minutes.",
        workaround="Use the wired network or the mobile hotspot until the fix.",
    )
    client.force_login(agent)
    page = client.get(reverse("tickets:problem_detail", args=[problem.pk])).content.decode()
    assert reverse("knowledge:publish_known_error", args=[problem.pk]) in page
    response = client.post(
        reverse("knowledge:publish_known_error", args=[problem.pk]), {"audience": "public", "publish": "on"}
    )
    article = Article.objects.get(problem=problem)
    assert response.status_code == 302 and response["Location"] == article.get_absolute_url()
    page = client.get(reverse("tickets:problem_detail", args=[problem.pk])).content.decode()
    assert "It is published as" in page and article.number in page
    assert reverse("knowledge:publish_known_error", args=[problem.pk]) not in page
