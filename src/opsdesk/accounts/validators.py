from functools import lru_cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    # Checked against the list rather than by loading ZoneInfo(value): a value such as
    # "../../etc/passwd" must never reach the file system.
    if value not in _time_zones():
        raise ValidationError(f"{value!r} is not a time zone name such as 'Europe/Berlin' or 'UTC'.")
