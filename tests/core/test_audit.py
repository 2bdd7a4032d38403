import pytest

from opsdesk.accounts.models import Location
from opsdesk.core.audit import acting
from opsdesk.core.choices import AuditOperation, Channel
from opsdesk.core.models import AuditEntry, ImmutableRecordError

pytestmark = pytest.mark.django_db


def test_every_change_keeps_who_when_before_after_and_channel(make_user):
    manager = make_user(role="manager")
    with acting(actor=manager, channel=Channel.API):
        site = Location.objects.create(name="Berlin HQ", time_zone="Europe/Berlin")
        site.city = "Berlin"
        site.save()
        site.delete()
    created, updated, deleted = AuditEntry.objects.filter(object_repr="Berlin HQ").order_by("id")
    assert (created.operation, updated.operation, deleted.operation) == (
        AuditOperation.CREATE,
        AuditOperation.UPDATE,
        AuditOperation.DELETE,
    )
    assert updated.changes == {"city": ["", "Berlin"]}
    assert {created.actor, updated.actor, deleted.actor} == {manager}
    assert updated.channel == Channel.API


def test_password_never_enters_the_audit_trail(make_user):
    user = make_user()
    user.set_password("another secret 42")
    user.save()
    entry = AuditEntry.objects.filter(object_id=str(user.pk)).first()
    assert entry.changes["password"] == ["***", "***"]


def test_audit_entries_cannot_be_changed_or_deleted(make_user):
    make_user()
    entry = AuditEntry.objects.first()
    entry.object_repr = "forged"
    with pytest.raises(ImmutableRecordError):
        entry.save()
    with pytest.raises(ImmutableRecordError):
        entry.delete()
