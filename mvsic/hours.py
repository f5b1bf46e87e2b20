"""Whole hours: the unit of the hourly play buckets, the charts and the trending list."""

from datetime import datetime


def hour_floor(moment: datetime) -> datetime:
    """The start of the hour `moment` falls in (same time zone)."""
    return moment.replace(minute=0, second=0, microsecond=0)
