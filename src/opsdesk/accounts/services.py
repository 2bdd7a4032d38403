"""Writes for people and organisation. Every function takes the acting user and checks
what they may do before it writes; the audit trail records each change."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.choices import PRIVILEGED_ROLES, Role
from opsdesk.accounts.models import ApiToken, Team, TeamMembership, User
from opsdesk.core.audit import acting
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.models import SecurityEvent
from opsdesk.core.services import check_version, ensure_allowed, record_create, record_delete

# What people may change on their own profile; everything else needs a manager.
SELF_SERVICE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "language",
        "time_zone",
        "presence",
        "location",
    }
)
# Fields that grant power or move someone between organisations.
PROTECTED_FIELDS = frozenset(
    {"role", "organization", "manager", "is_active", "is_staff", "is_superuser", "is_vip", "username"}
)
TOKEN_PREFIX = "odk_"


def _ensure_may_grant(*, actor: User, role: str | None) -> None:
    if role in PRIVILEGED_ROLES and not actor.is_admin:
        raise NotAllowed(f"Only an administrator can give someone the {Role(role).label} role.", field="role")


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _sync_django_flags(user: User) -> None:
    # Administrators get into Django's admin site at /admin/; nobody else does.
    user.is_staff = user.role == Role.ADMIN or user.is_superuser
    if user.role == Role.ADMIN:
        user.is_superuser = True


def user_create(*, actor: User, username: str, password: str | None = None, **fields: Any) -> User:
    """Create a person. Only managers and admins create people; only admins grant privileged roles."""
    ensure_allowed(actor=actor, action="add", model=User)
    _ensure_may_grant(actor=actor, role=fields.get("role"))
    with transaction.atomic(), acting(actor=actor):
        user = User(username=username, **fields)
        _sync_django_flags(user)
        if password:
            _validate_password(password, user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
    return user


def user_update(
    *, actor: User, user: User, data: dict[str, Any], expected_version: int | None = None
) -> User:
    """Change a person's record. People edit their own profile fields; managers the rest.

    The rules look at the fields whose value changes: a full (PUT) update that repeats a
    protected field unchanged is not an attempt to change it.
    """
    ensure_allowed(actor=actor, action="change", instance=user)
    editing_self = actor.pk == user.pk
    changing = {name: value for name, value in data.items() if getattr(user, name, None) != value}
    if not actor.is_manager:
        refused = sorted(set(changing) - SELF_SERVICE_FIELDS)
        if refused:
            raise NotAllowed(f"You may not change {', '.join(refused)}.", field=refused[0])
    if "role" in changing:
        _ensure_may_grant(actor=actor, role=changing["role"])
        if user.has_privileged_role and not actor.is_admin:
            raise NotAllowed(
                "Only an administrator can change the role of a manager, auditor or admin.", field="role"
            )
        if editing_self and not actor.is_superuser:
            raise NotAllowed("You cannot change your own role.", field="role")
    if user.is_admin and not actor.is_admin and not editing_self:
        raise NotAllowed("Only an administrator can change an administrator's record.")
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=user, expected_version=expected_version)
        for name, value in data.items():
            setattr(user, name, value)
        _sync_django_flags(user)
        user.full_clean()
        user.save()
    return user


def user_set_password(*, actor: User, user: User, password: str) -> User:
    if actor.pk != user.pk:
        ensure_allowed(actor=actor, action="change", instance=user)
        if not actor.is_manager or (user.is_admin and not actor.is_admin):
            raise NotAllowed("You may not set this person's password.", field="password")
    _validate_password(password, user)
    with transaction.atomic(), acting(actor=actor):
        user.set_password(password)
        user.save(update_fields=["password"])
        SecurityEvent.objects.create(
            kind=SecurityEventKind.PASSWORD_CHANGED,
            user=user,
            username=user.username,
            detail={"by": actor.username},
        )
    return user


def user_deactivate(*, actor: User, user: User, expected_version: int | None = None) -> User:
    """People are deactivated, never deleted: their tickets and history keep their name."""
    if actor.pk == user.pk:
        raise ServiceError("You cannot deactivate yourself.", code="self_deactivation")
    return user_update(actor=actor, user=user, data={"is_active": False}, expected_version=expected_version)


def team_member_add(*, actor: User, team: Team, user: User) -> TeamMembership:
    if not (actor.is_manager or team.lead_id == actor.pk):
        raise NotAllowed("Only the team's lead or a manager can change its members.")
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise ServiceError(f"{user} is already in {team.name}.", code="already_member", field="user")
    return record_create(model=TeamMembership, actor=actor, data={"team": team, "user": user})


def team_member_remove(*, actor: User, team: Team, user: User) -> None:
    if not (actor.is_manager or team.lead_id == actor.pk):
        raise NotAllowed("Only the team's lead or a manager can change its members.")
    membership = TeamMembership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise ServiceError(f"{user} is not in {team.name}.", code="not_member", field="user")
    record_delete(instance=membership, actor=actor)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    *, actor: User, user: User, name: str = "API token", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the record and the secret, which is never stored."""
    if actor.pk != user.pk and not actor.is_admin:
        raise NotAllowed("Only administrators create tokens for other people.")
    if not user.is_active:
        raise ServiceError(f"{user.username} is deactivated and cannot get a token.", code="inactive_user")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(), acting(actor=actor):
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:12], digest=_digest(raw), expires_at=expires_at
        )
        SecurityEvent.objects.create(
            kind=SecurityEventKind.TOKEN_CREATED,
            user=user,
            username=user.username,
            detail={"token": token.prefix, "by": actor.username},
        )
    return token, raw


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id and not actor.is_admin:
        raise NotAllowed("You may only revoke your own tokens.")
    with transaction.atomic(), acting(actor=actor):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        SecurityEvent.objects.create(
            kind=SecurityEventKind.TOKEN_REVOKED,
            user=token.user,
            username=token.user.username,
            detail={"token": token.prefix, "by": actor.username},
        )
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user a presented token belongs to, or None if it is unknown, revoked or expired."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    # Touch at most once a minute: a hot token must not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


AUTOMATION_USERNAME = "opsdesk-automation"


def automation_account() -> User:
    """The account the desk's own automation acts as where no person does (closing a rejected
    request, resolving a fulfilled one): a staff account nobody can sign in to."""
    user, _ = User.objects.get_or_create(
        username=AUTOMATION_USERNAME,
        defaults={
            "first_name": "OpsDesk",
            "last_name": "automation",
            "role": Role.AGENT,
            "password": make_password(None),  # unusable: nobody signs in as it
        },
    )
    return user
