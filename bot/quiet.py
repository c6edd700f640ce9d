"""Quiet hours, the pure part: whether a moment falls inside a chat's quiet hours, and when
they end, in the chat's zone (across midnight and daylight-saving changes)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(hours: str, timezone: str, now: datetime) -> datetime | None:
    """The end (UTC) of the quiet hours "HH:MM-HH:MM" that `now` falls in; None outside."""
    start, end = (_clock(part) for part in hours.split("-"))
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    # start > end: across midnight
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    # a wall-clock end skipped by a DST change is read with the offset from before it
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
