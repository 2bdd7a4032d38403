"""Factories for people and organisation. Users get a cheap, known password: ``password123!``."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from opsdesk.accounts.choices import AbsenceKind, Role, SkillLevel, Tier, Weekday
from opsdesk.accounts.models import (
    Absence,
    AgentSkill,
    Location,
    Organization,
    Shift,
    Skill,
    Team,
    TeamMembership,
    User,
)

PASSWORD = "password123!"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Berlin"
    country = "DE"
    time_zone = "Europe/Berlin"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.REQUESTER
    organization = factory.SubFactory(OrganizationFactory)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if self.role == Role.ADMIN:
            self.is_staff = self.is_superuser = True
        if create:
            self.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    tier = Tier.L1


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory, role=Role.AGENT)


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"Skill {n}")


class AgentSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentSkill

    user = factory.SubFactory(UserFactory, role=Role.AGENT)
    skill = factory.SubFactory(SkillFactory)
    level = SkillLevel.PRACTITIONER


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    user = factory.SubFactory(UserFactory, role=Role.AGENT)
    weekday = Weekday.MONDAY
    starts = datetime.time(8, 0)
    ends = datetime.time(16, 0)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    user = factory.SubFactory(UserFactory, role=Role.AGENT)
    kind = AbsenceKind.HOLIDAY
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda absence: absence.starts_at + datetime.timedelta(days=2))
