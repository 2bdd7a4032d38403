"""Factories for learning records (knowledge articles are made directly: the steps need only one)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article
from opsdesk.learning.models import Certification, LearningPath, LearningPathStep, TrainingRecord
from tests.accounts.factories import UserFactory


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"How to fix thing {n}")
    body = "Steps to follow."
    audience = Audience.INTERNAL
    status = ArticleStatus.PUBLISHED


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    user = factory.SubFactory(UserFactory, role=Role.AGENT)
    title = factory.Sequence(lambda n: f"Course {n}")
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    hours = 8


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    user = factory.SubFactory(UserFactory, role=Role.AGENT)
    name = factory.Sequence(lambda n: f"Certificate {n}")
    issuer = "Vendor"
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=700))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))


class LearningPathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPath

    name = factory.Sequence(lambda n: f"Path {n}")


class LearningPathStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPathStep

    path = factory.SubFactory(LearningPathFactory)
    position = factory.Sequence(lambda n: n + 1)
    article = factory.SubFactory(ArticleFactory)
