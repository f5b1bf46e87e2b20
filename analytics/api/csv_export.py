"""Stats as CSV: the same URL as the JSON API plus ?format=csv (or Accept: text/csv).

A view answers CSV with csv_response(); CSVRenderer is the marker that lets DRF's content
negotiation accept the format, and renders error responses (400, 403, ...) as a readable CSV.
"""

import csv
import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

CONTENT_TYPE = "text/csv; charset=utf-8"
# A spreadsheet reads a cell starting with these as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def neutralise(value: Any) -> int | float | Decimal | str:
    """A cell a spreadsheet shows as written: numbers stay numbers (negative ones too),
    None is empty, dates are ISO 8601, and text that would start a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # starts with a digit: never a formula
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """The csv writer's file: write() hands back the line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _lines(header: Sequence, rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def safe_filename(filename: str) -> str:
    """Only [A-Za-z0-9._-], no leading dot, never empty."""
    cleaned = _UNSAFE_FILENAME.sub("_", filename).lstrip(".")[:150]
    return cleaned if cleaned.strip("._-") else "export.csv"


def csv_response(
    *, filename: str, title: str, columns: list[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """Stream `rows` as a CSV download. The header row is `columns` with `title` (the time zone
    and the period) beside the first one: [f"{columns[0]} ({title})", *columns[1:]].
    `rows` is read lazily while the response streams, so a queryset iterator is fine."""
    if not columns:
        raise ValueError("csv_response needs at least one column")
    header = [f"{columns[0]} ({title})", *columns[1:]]
    response = StreamingHttpResponse(_lines(header, rows), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response["Cache-Control"] = "no-store"
    return response


def wants_csv(request) -> bool:
    """Whether DRF's content negotiation chose CSV (?format=csv or Accept: text/csv)."""
    return getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv"


def _messages(data: Any, prefix: str = "") -> Iterator[str]:
    """Every message of an error body, a field's name before its own: "since: Not a date."."""
    if isinstance(data, dict):
        for key, value in data.items():
            label = "" if key in ("detail", "non_field_errors") else f"{key}: "
            yield from _messages(value, prefix + label)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _messages(value, prefix)
    else:
        yield prefix + str(data)


class CSVRenderer(BaseRenderer):
    """Marker for ?format=csv: views build the CSV with csv_response(); this renders only the
    error responses DRF makes (a one-column CSV "detail"), so a refused export stays readable."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        response = (renderer_context or {}).get("response")
        status = getattr(response, "status_code", None)
        if status is None or status < 400:
            raise TypeError(
                "CSVRenderer renders only error responses; a view answers ?format=csv "
                "by returning analytics.api.csv_export.csv_response(...), not Response(data)."
            )
        if data is None:
            return b""
        return "".join(_lines(["detail"], ([m] for m in _messages(data)))).encode(self.charset)
