from django.db import models


class ServiceType(models.TextChoices):
    BUSINESS = "business", "Business service"
    TECHNICAL = "technical", "Technical service"
    SUPPORT = "support", "Support service"


class Stage(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    CATALOGUE = "catalogue", "Catalogue"
    RETIRED = "retired", "Retired"


# The portfolio's lifecycle: forward through the stages, or back from catalogue to pipeline
# (a service withdrawn for rework). A retired service stays retired.
STAGE_TRANSITIONS = {
    Stage.PIPELINE: {Stage.CATALOGUE, Stage.RETIRED},
    Stage.CATALOGUE: {Stage.PIPELINE, Stage.RETIRED},
    Stage.RETIRED: set(),
}


class Criticality(models.IntegerChoices):
    CRITICAL = 1, "1 — critical"
    HIGH = 2, "2 — high"
    MEDIUM = 3, "3 — medium"
    LOW = 4, "4 — low"


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    PHONE = "phone", "Phone"
    API = "api", "API"


class DeliveryType(models.TextChoices):
    IN_HOUSE = "in_house", "In-house"
    OUTSOURCED = "outsourced", "Outsourced"
    CLOUD = "cloud", "Cloud"
    HYBRID = "hybrid", "Hybrid"


class SupportMode(models.TextChoices):
    REMOTE = "remote", "Remote"
    ON_SITE = "on_site", "On-site"
    REMOTE_AND_ON_SITE = "remote_and_on_site", "Remote and on-site"


class LocationDelivery(models.TextChoices):
    ON_SITE_TEAM = "on_site_team", "On-site team"
    REMOTE_ONLY = "remote_only", "Remote only"


class ObjectiveKind(models.TextChoices):
    OBJECTIVE = "objective", "Business objective"
    CAPABILITY = "capability", "Business capability"


class KpiDirection(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better"
    LOWER_IS_BETTER = "lower", "Lower is better"


class Alignment(models.IntegerChoices):
    MARGINAL = 1, "1 — marginal"
    SUPPORTING = 2, "2 — supporting"
    IMPORTANT = 3, "3 — important"
    ESSENTIAL = 4, "4 — essential"
    CRITICAL = 5, "5 — critical"


class ProviderKind(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    CLOUD = "cloud", "Cloud provider"
    CONTRACTOR = "contractor", "Contractor"


class CostPeriod(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    MONTH = "month", "Per month"
    QUARTER = "quarter", "Per quarter"
    YEAR = "year", "Per year"


# How many of each period make a year, to compare costs on one scale.
PERIODS_PER_YEAR = {CostPeriod.MONTH: 12, CostPeriod.QUARTER: 4, CostPeriod.YEAR: 1, CostPeriod.ONE_OFF: 0}


class EvaluationStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
