from django.db import models


class Role(models.TextChoices):
    REQUESTER = "requester", "Requester"
    AGENT = "agent", "Agent"
    TEAM_LEAD = "team_lead", "Team lead"
    SERVICE_OWNER = "service_owner", "Service owner"
    MANAGER = "manager", "Manager"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


# Roles that work in the service desk (see the agent workspace, all people and teams).
STAFF_ROLES = frozenset(
    {Role.AGENT, Role.TEAM_LEAD, Role.SERVICE_OWNER, Role.MANAGER, Role.AUDITOR, Role.ADMIN}
)
# Roles only an administrator may hand out: each can see or change everything.
PRIVILEGED_ROLES = frozenset({Role.MANAGER, Role.AUDITOR, Role.ADMIN})


class OrganizationKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    DEPARTMENT = "department", "Department"
    INTERNAL_IT = "internal_it", "Internal IT"


class Tier(models.TextChoices):
    L1 = "L1", "L1 — service desk"
    L2 = "L2", "L2 — specialist support"
    L3 = "L3", "L3 — expert / engineering"


class SkillLevel(models.IntegerChoices):
    NOVICE = 1, "1 — novice"
    BASIC = 2, "2 — basic"
    PRACTITIONER = 3, "3 — practitioner"
    ADVANCED = 4, "4 — advanced"
    EXPERT = 5, "5 — expert"


class Presence(models.TextChoices):
    AVAILABLE = "available", "Available"
    AWAY = "away", "Away"


class Availability(models.TextChoices):
    AVAILABLE = "available", "Available"
    OFF_SHIFT = "off_shift", "Off shift"
    AWAY = "away", "Away"
    OUT_OF_OFFICE = "out_of_office", "Out of office"


class AbsenceKind(models.TextChoices):
    OUT_OF_OFFICE = "out_of_office", "Out of office"
    HOLIDAY = "holiday", "Holiday"
    SICK = "sick", "Sick leave"
    TRAINING = "training", "Training"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
