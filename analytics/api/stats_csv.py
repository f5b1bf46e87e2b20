"""The stats API's tables as CSV (`?format=csv&table=...`), and the artist's own events."""

import heapq
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from rest_framework.exceptions import ValidationError

from analytics.api.csv_export import csv_response
from analytics.models import Event, FollowEvent
from analytics.period_figures import BREAKDOWNS
from analytics.periods import Period

TABLES = ("series", "tracks", "retention", *BREAKDOWNS.values())
TRACK_COLUMNS = ["title", "id", "period_plays", "period_likes", "plays", "likes", "listeners",
                 "starts", "complete", "partial", "skip"]  # fmt: skip
CHUNK = 2000


def _title(data: dict) -> str:
    period = data["period"]
    return f"{data['timezone']}, {period['name']}: {period['from']} to {period['to']}"


def stats_csv(data: dict, *, table: str, name: str) -> StreamingHttpResponse:
    """One table of a stats answer as a CSV download; 400 naming `table` if unknown."""
    if table not in TABLES:
        raise ValidationError({"table": [f"Must be one of: {', '.join(TABLES)}."]})
    if table == "series":
        point = "day" if data["granularity"] == "day" else "hour"
        columns = [point, "plays", "likes", "previous_plays", "previous_likes"]
        previous = data["previous_series"]
        rows = (
            (p.get("day") or p["hour"], p["plays"], p["likes"],
             *((previous[i]["plays"], previous[i]["likes"]) if i < len(previous) else ("", "")))
            for i, p in enumerate(data["series"])
        )  # fmt: skip
        if "artist" in data and point == "day":  # an artist's followers at each day's end
            columns.append("followers")
            rows = ((*row, p["followers"]) for row, p in zip(rows, data["series"], strict=True))
    elif table == "tracks":
        columns = TRACK_COLUMNS
        rows = (
            (t["title"], t["id"], t["period_plays"], t["period_likes"], t["plays"], t["likes"],
             t["listeners"], *t["completion"].values())
            for t in data.get("tracks", [])
        )  # fmt: skip
    elif table == "retention":
        columns = ["part", "share"]
        rows = ((f"{k * 5}-{k * 5 + 5}%", s) for k, s in enumerate(data["retention"]))
    else:
        columns = [table.rstrip("s") if table != "os" else "os", "plays"]
        rows = ((r["value"], r["plays"]) for r in data["breakdowns"][table])
    return csv_response(
        filename=f"{name}-{table}-{data['period']['name']}.csv",
        title=_title(data),
        columns=columns,
        rows=rows,
    )


EVENT_FIELDS = ("ts", "id", "type", "track_id", "seconds", "source", "referrer", "country",
                "reason")  # fmt: skip
FOLLOW_FIELDS = ("ts", "id", "type", "source", "country", "reason")


def _follow_rows(artist_id: int, period: Period) -> Iterator[tuple]:
    """The artist's follows and unfollows of the period as event rows (no track, seconds or
    referrer: they are about the artist)."""
    follows = (
        FollowEvent.objects.filter(artist_id=artist_id, ts__gte=period.start, ts__lt=period.end)
        .order_by("ts", "id")
        .values_list(*FOLLOW_FIELDS)
        .iterator(CHUNK)
    )
    for ts, pk, kind, source, country, reason in follows:
        yield ts, pk, kind, None, None, source, "", country, reason


def events_csv(*, artist_id: int, titles: dict, period: Period, name: str):
    """The artist's own events of a period, credited and filtered, without addresses or
    listeners, oldest first: its tracks' plays, likes and summaries merged with its follows
    and unfollows, both read in chunks while the download streams."""
    events = (
        Event.objects.filter(track_id__in=list(titles), ts__gte=period.start, ts__lt=period.end)
        .order_by("ts", "id")
        .values_list(*EVENT_FIELDS)
        .iterator(CHUNK)
    )
    tz = period.tz

    def rows():
        merged = heapq.merge(events, _follow_rows(artist_id, period), key=lambda r: (r[0], r[1]))
        for ts, pk, kind, track, seconds, source, referrer, country, reason in merged:
            yield (ts.astimezone(tz).isoformat(), pk, kind, track, titles.get(track, ""),
                   seconds, source, referrer, country, reason or "credited")  # fmt: skip

    return csv_response(
        filename=f"{name}-events-{period.name}.csv",
        title=f"{period.zone}, {period.name}: {period.first_day} to {period.last_day}",
        columns=["time", "id", "type", "track", "title", "seconds", "source", "referrer",
                 "country", "status"],
        rows=rows(),
    )  # fmt: skip
