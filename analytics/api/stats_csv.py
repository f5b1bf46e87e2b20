"""The stats API's tables as CSV (`?format=csv&table=...`), and the artist's own events."""

from itertools import islice

from django.http import StreamingHttpResponse
from rest_framework.exceptions import ValidationError

from analytics.api.csv_export import csv_response
from analytics.models import Event
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


def events_csv(*, track_ids: list[int], titles: dict, period: Period, name: str):
    """The artist's own events of a period, credited and filtered, without addresses or
    listeners, oldest first."""
    fields = ("id", "type", "track_id", "ts", "seconds", "source", "referrer", "country", "reason")
    events = (
        Event.objects.filter(track_id__in=track_ids, ts__gte=period.start, ts__lt=period.end)
        .order_by("ts", "id")
        .values_list(*fields)
        .iterator(CHUNK)
    )
    tz = period.tz

    def rows():
        while chunk := list(islice(events, CHUNK)):
            for pk, kind, track, ts, seconds, source, referrer, country, reason in chunk:
                yield (ts.astimezone(tz).isoformat(), pk, kind, track, titles.get(track, ""),
                       seconds, source, referrer, country, reason or "credited")  # fmt: skip

    return csv_response(
        filename=f"{name}-events-{period.name}.csv",
        title=f"{period.zone}, {period.name}: {period.first_day} to {period.last_day}",
        columns=["time", "id", "type", "track", "title", "seconds", "source", "referrer",
                 "country", "status"],
        rows=rows(),
    )  # fmt: skip
