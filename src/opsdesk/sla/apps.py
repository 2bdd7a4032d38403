from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "opsdesk.sla"
    label = "sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from opsdesk.portfolio.models import BusinessCalendar
        from opsdesk.sla import conditions, permissions, tasks  # noqa: F401  (register conditions, schedules)
        from opsdesk.sla.services import on_ticket_changed
        from opsdesk.tickets.signals import ticket_changed

        permissions.register()
        ticket_changed.connect(on_ticket_changed, dispatch_uid="sla-clock")
        post_save.connect(tasks.calendar_saved, sender=BusinessCalendar, dispatch_uid="sla-calendar-retime")
