from django.db import models


class Audience(models.TextChoices):
    PUBLIC = "public", "Public (requesters)"
    INTERNAL = "internal", "Internal (service desk)"
    TEAM = "team", "One team"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"
