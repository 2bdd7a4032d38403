from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "View"
    ADD = "add", "Add"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    WEBHOOK = "webhook", "Webhook"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"


class AuditOperation(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOCKOUT = "lockout", "Lockout"
    PERMISSION_DENIED = "permission_denied", "Permission denied"
    TOKEN_CREATED = "token_created", "Token created"
    TOKEN_REVOKED = "token_revoked", "Token revoked"
    TOKEN_REJECTED = "token_rejected", "Token rejected"
    PASSWORD_CHANGED = "password_changed", "Password changed"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
