"""The periods of the dashboard and stats API, in the artist's zone: hour floors, day starts,
DST days, each period's bounds, comparisons and the month split. No database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.periods import (
    COMPARES,
    PERIODS,
    ZONE_CHOICES,
    Period,
    PeriodError,
    comparison_resolve,
    day_start,
    local_day,
    local_hour_floor,
    month_split,
    period_resolve,
    zone_get,
)

BERLIN = "Europe/Berlin"
NOW = datetime(2026, 3, 29, 10, 20, 5, 123, tzinfo=UTC)  # 12:20 in Berlin, on the 23-hour day


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day_period(day: date, zone: str) -> Period:
    after = day + timedelta(days=1)
    return Period("custom", zone, day, day, day_start(day, zone), day_start(after, zone), "hour")


def test_constants():
    assert PERIODS == ("24h", "7d", "28d", "12m", "all", "custom")
    assert COMPARES == ("previous", "year", "none")


def test_zone_choices_are_sorted_iana_names_without_legacy_ones():
    assert sorted(ZONE_CHOICES) == ZONE_CHOICES
    assert {"UTC", BERLIN, "Asia/Kathmandu", "Pacific/Chatham"} <= set(ZONE_CHOICES)
    assert not [n for n in ZONE_CHOICES if n.startswith(("posix/", "right/", "US/", "Etc/"))]
    assert "localtime" not in ZONE_CHOICES


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "../etc/passwd", "europe/berlin", "localtime"]
)
def test_zone_get_refuses_unknown_names(name):
    with pytest.raises(PeriodError) as caught:
        zone_get(name)
    assert caught.value.param == "timezone"


def test_zone_get_accepts_choices_and_legacy_aliases():
    assert zone_get(BERLIN).key == BERLIN
    assert zone_get("US/Eastern").key == "US/Eastern"


@pytest.mark.parametrize(
    "zone, moment, floor",
    [
        ("UTC", utc(2026, 5, 10, 10, 59, 59, 999999), utc(2026, 5, 10, 10)),
        ("Asia/Kolkata", utc(2026, 5, 10, 10, 20), utc(2026, 5, 10, 9, 30)),  # 15:50 +05:30
        ("Asia/Kolkata", utc(2026, 5, 10, 10, 30), utc(2026, 5, 10, 10, 30)),  # 16:00 sharp
        ("Asia/Kathmandu", utc(2026, 5, 10, 10, 20), utc(2026, 5, 10, 10, 15)),  # 16:05 +05:45
        ("Asia/Kathmandu", utc(2026, 5, 10, 10, 10), utc(2026, 5, 10, 9, 15)),  # 15:55
        ("Pacific/Chatham", utc(2026, 6, 10, 10, 20), utc(2026, 6, 10, 10, 15)),  # 23:05 +12:45
        ("Pacific/Chatham", utc(2026, 1, 10, 10, 20), utc(2026, 1, 10, 10, 15)),  # 00:05 +13:45
        (BERLIN, utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1)),  # 03:30 CEST, after the gap
        (BERLIN, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0)),  # first 02:30 (CEST)
        (BERLIN, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1)),  # second 02:30 (CET)
        # Lord Howe moves by 30 minutes at 02:00 -> 02:30: that hour starts at the change.
        ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 45), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_local_hour_floor(zone, moment, floor):
    assert local_hour_floor(moment, zone) == floor
    assert local_hour_floor(moment, zone_get(zone)) == floor
    assert local_hour_floor(moment, zone).utcoffset() == timedelta(0)


def test_local_hour_floor_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        local_hour_floor(datetime(2026, 1, 1), "UTC")


@pytest.mark.parametrize(
    "zone, moment, day",
    [
        ("Asia/Kolkata", utc(2026, 5, 10, 18, 29), date(2026, 5, 10)),  # 23:59
        ("Asia/Kolkata", utc(2026, 5, 10, 18, 30), date(2026, 5, 11)),  # 00:00
        ("Asia/Kathmandu", utc(2026, 5, 10, 18, 14, 59), date(2026, 5, 10)),
        ("Asia/Kathmandu", utc(2026, 5, 10, 18, 15), date(2026, 5, 11)),
        ("Pacific/Chatham", utc(2026, 6, 10, 11, 14), date(2026, 6, 10)),  # 23:59 +12:45
        ("Pacific/Chatham", utc(2026, 6, 10, 11, 15), date(2026, 6, 11)),
        ("America/New_York", utc(2026, 3, 9, 3, 59), date(2026, 3, 8)),  # 23:59 EDT
        ("America/New_York", utc(2026, 3, 9, 4), date(2026, 3, 9)),
    ],
)
def test_local_day_around_midnight(zone, moment, day):
    assert local_day(moment, zone) == day


@pytest.mark.parametrize(
    "zone, day, start",
    [
        ("Asia/Kolkata", date(2026, 5, 11), utc(2026, 5, 10, 18, 30)),
        ("Asia/Kathmandu", date(2026, 5, 11), utc(2026, 5, 10, 18, 15)),
        ("Pacific/Chatham", date(2026, 6, 11), utc(2026, 6, 10, 11, 15)),
        ("Pacific/Chatham", date(2026, 1, 11), utc(2026, 1, 10, 10, 15)),
        (BERLIN, date(2026, 3, 29), utc(2026, 3, 28, 23)),
        (BERLIN, date(2026, 10, 26), utc(2026, 10, 25, 23)),
        # Havana skips midnight (00:00 -> 01:00): the day starts at the change.
        ("America/Havana", date(2026, 3, 8), utc(2026, 3, 8, 5)),
        # Toronto in 1919 jumped from 23:30 to 00:30: the day starts at the jump.
        ("America/Toronto", date(1919, 3, 31), utc(1919, 3, 31, 4, 30)),
        # Samoa skipped 2011-12-30 entirely: its "start" is the next day's.
        ("Pacific/Apia", date(2011, 12, 30), utc(2011, 12, 30, 10)),
    ],
)
def test_day_start(zone, day, start):
    assert day_start(day, zone) == start


@pytest.mark.parametrize(
    "zone, day, count",
    [
        (BERLIN, date(2026, 3, 29), 23),
        (BERLIN, date(2026, 10, 25), 25),
        (BERLIN, date(2026, 6, 1), 24),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Pacific/Chatham", date(2026, 4, 5), 25),
        ("Australia/Lord_Howe", date(2026, 10, 4), 24),  # 23.5 hours, one of them half long
    ],
)
def test_hours_of_a_day(zone, day, count):
    hours = day_period(day, zone).hours()
    assert len(hours) == count
    assert len(set(hours)) == count
    assert [local_hour_floor(h, zone) for h in hours] == hours
    assert {local_day(h, zone) for h in hours} == {day}


def test_chatham_fall_back_hours_stay_whole_hours():
    # At 03:45 (+13:45) clocks go back to 02:45 (+12:45): a whole-hour shift, same boundaries.
    hours = day_period(date(2026, 4, 5), "Pacific/Chatham").hours()
    assert {b - a for a, b in zip(hours, hours[1:], strict=False)} == {timedelta(hours=1)}
    assert local_hour_floor(utc(2026, 4, 4, 14, 5), "Pacific/Chatham") == utc(2026, 4, 4, 13, 15)


def test_lord_howe_half_hour_shift_starts_its_own_bucket():
    hours = day_period(date(2026, 10, 4), "Australia/Lord_Howe").hours()
    assert hours[1:4] == [utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 16)]


def test_hours_of_the_fall_back_day_repeat_the_wall_hour():
    walls = [
        h.astimezone(zone_get(BERLIN)).hour for h in day_period(date(2026, 10, 25), BERLIN).hours()
    ]
    assert walls[:5] == [0, 1, 2, 2, 3]


def test_24h():
    p = period_resolve(period="24h", zone=BERLIN, now=NOW)
    assert (p.start, p.end, p.granularity) == (utc(2026, 3, 28, 11), utc(2026, 3, 29, 11), "hour")
    assert (p.first_day, p.last_day) == (date(2026, 3, 28), date(2026, 3, 29))
    assert len(p.hours()) == 24


def test_24h_in_kathmandu():
    p = period_resolve(period="24h", zone="Asia/Kathmandu", now=utc(2026, 5, 10, 10, 20))
    assert (p.start, p.end) == (utc(2026, 5, 9, 11, 15), utc(2026, 5, 10, 11, 15))


def test_7d_is_hourly_over_whole_local_days():
    p = period_resolve(period="7d", zone=BERLIN, now=NOW)
    assert (p.first_day, p.last_day, p.granularity) == (
        date(2026, 3, 23),
        date(2026, 3, 29),
        "hour",
    )
    assert (p.start, p.end) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert len(p.hours()) == 7 * 24 - 1
    assert p.length_days == 7


def test_7d_is_the_default():
    assert period_resolve(zone=BERLIN, now=NOW) == period_resolve(period="7d", zone=BERLIN, now=NOW)


def test_28d_and_12m_are_daily():
    p28 = period_resolve(period="28d", zone=BERLIN, now=NOW)
    p12 = period_resolve(period="12m", zone=BERLIN, now=NOW)
    assert (p28.first_day, p28.last_day, p28.granularity) == (
        date(2026, 3, 2),
        date(2026, 3, 29),
        "day",
    )
    assert (p12.first_day, p12.length_days) == (date(2025, 3, 30), 365)
    assert p12.days()[0] == date(2025, 3, 30) and p12.days()[-1] == date(2026, 3, 29)
    assert (p12.start, p12.end) == (utc(2025, 3, 29, 23), utc(2026, 3, 29, 22))


def test_today_is_the_artists_local_day():
    late = utc(2026, 5, 10, 19)  # already 05-11 in Kolkata
    assert period_resolve(period="28d", zone="Asia/Kolkata", now=late).last_day == date(2026, 5, 11)
    assert period_resolve(period="28d", zone="UTC", now=late).last_day == date(2026, 5, 10)


def test_all():
    p = period_resolve(period="all", zone=BERLIN, now=NOW, earliest=date(2025, 1, 1))
    assert (p.first_day, p.last_day, p.granularity) == (date(2025, 1, 1), date(2026, 3, 29), "day")
    assert period_resolve(period="all", zone=BERLIN, now=NOW).first_day == date(2026, 3, 29)
    future = period_resolve(period="all", zone=BERLIN, now=NOW, earliest=date(2027, 1, 1))
    assert future.first_day == date(2026, 3, 29)


def test_custom():
    p = period_resolve(period="custom", start="2026-01-15", end="2026-03-29", zone=BERLIN, now=NOW)
    assert (p.first_day, p.last_day, p.granularity) == (date(2026, 1, 15), date(2026, 3, 29), "day")
    assert (p.start, p.end) == (utc(2026, 1, 14, 23), utc(2026, 3, 29, 22))


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"period": "1y"}, "period"),
        ({"period": "7d", "start": "2026-01-01"}, "from"),
        ({"period": "28d", "end": "2026-01-01"}, "to"),
        ({"period": "custom", "end": "2026-01-01"}, "from"),
        ({"period": "custom", "start": "2026-01-01"}, "to"),
        ({"period": "custom", "start": "2026/01/01", "end": "2026-01-02"}, "from"),
        ({"period": "custom", "start": "20260101", "end": "2026-01-02"}, "from"),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03-02"}, "from"),
        ({"period": "custom", "start": "2026-01-01", "end": "2026-13-01"}, "to"),
        ({"period": "custom", "start": "2026-01-01", "end": "2026-03-30"}, "to"),  # tomorrow
        ({"period": "custom", "start": "2026-02-02", "end": "2026-02-01"}, "from"),
        ({"period": "custom", "start": "2016-03-01", "end": "2026-03-29"}, "from"),  # > 3660
        ({"period": "7d", "zone": "Nowhere/City"}, "timezone"),
    ],
)
def test_bad_parameters_name_the_param(kwargs, param):
    with pytest.raises(PeriodError) as caught:
        period_resolve(now=NOW, **{"zone": BERLIN, **kwargs})
    assert caught.value.param == param
    assert str(caught.value)


def test_custom_longest_range_is_accepted():
    first = (date(2026, 3, 29) - timedelta(days=3659)).isoformat()
    p = period_resolve(period="custom", start=first, end="2026-03-29", zone=BERLIN, now=NOW)
    assert p.length_days == 3660


def test_compare_none_and_unknown():
    p = period_resolve(period="28d", zone=BERLIN, now=NOW)
    assert comparison_resolve(p, "none") is None
    with pytest.raises(PeriodError) as caught:
        comparison_resolve(p, "lastyear")
    assert caught.value.param == "compare"


@pytest.mark.parametrize("name", ["7d", "28d", "12m"])
def test_previous_is_the_same_number_of_days_just_before(name):
    p = period_resolve(period=name, zone=BERLIN, now=NOW)
    c = comparison_resolve(p, "previous")
    assert c.last_day == p.first_day - timedelta(days=1)
    assert (c.length_days, c.granularity, c.end) == (p.length_days, p.granularity, p.start)
    assert c.first_day.weekday() == p.first_day.weekday() or name == "12m"


def test_previous_of_24h_is_the_24_hours_before():
    p = period_resolve(period="24h", zone=BERLIN, now=NOW)
    c = comparison_resolve(p, "previous")
    assert (c.start, c.end) == (utc(2026, 3, 27, 11), utc(2026, 3, 28, 11))
    assert len(c.hours()) == 24


@pytest.mark.parametrize("name", ["28d", "12m"])
def test_year_is_52_weeks_back(name):
    p = period_resolve(period=name, zone=BERLIN, now=NOW)
    c = comparison_resolve(p, "year")
    assert p.first_day - c.first_day == timedelta(days=364)
    assert c.first_day.weekday() == p.first_day.weekday()
    assert c.last_day.weekday() == p.last_day.weekday()
    assert c.length_days == p.length_days
    assert c.start == day_start(c.first_day, BERLIN)


def test_year_for_custom_needs_28_days():
    ok = period_resolve(period="custom", start="2026-03-02", end="2026-03-29", zone=BERLIN, now=NOW)
    assert comparison_resolve(ok, "year").first_day == date(2025, 3, 3)
    short = period_resolve(
        period="custom", start="2026-03-03", end="2026-03-29", zone=BERLIN, now=NOW
    )
    with pytest.raises(PeriodError) as caught:
        comparison_resolve(short, "year")
    assert caught.value.param == "compare"


@pytest.mark.parametrize("name", ["24h", "7d", "all"])
def test_year_is_refused_for_other_periods(name):
    p = period_resolve(period=name, zone=BERLIN, now=NOW)
    with pytest.raises(PeriodError, match="28d, 12m or") as caught:
        comparison_resolve(p, "year")
    assert caught.value.param == "compare"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize(
    "first, last, months, rest",
    [
        (
            date(2026, 1, 15),
            date(2026, 3, 31),
            [date(2026, 2, 1), date(2026, 3, 1)],
            days(date(2026, 1, 15), date(2026, 1, 31)),
        ),
        (date(2026, 1, 10), date(2026, 1, 20), [], days(date(2026, 1, 10), date(2026, 1, 20))),
        (date(2026, 1, 1), date(2026, 1, 1), [], [date(2026, 1, 1)]),
        (date(2026, 1, 1), date(2026, 1, 31), [date(2026, 1, 1)], []),
        (
            date(2025, 11, 1),
            date(2026, 1, 31),
            [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)],
            [],
        ),
        (date(2028, 2, 1), date(2028, 2, 29), [date(2028, 2, 1)], []),
        (date(2028, 2, 1), date(2028, 2, 28), [], days(date(2028, 2, 1), date(2028, 2, 28))),
        (date(2026, 2, 1), date(2026, 2, 28), [date(2026, 2, 1)], []),
        (
            date(2026, 1, 31),
            date(2026, 3, 1),
            [date(2026, 2, 1)],
            [date(2026, 1, 31), date(2026, 3, 1)],
        ),
    ],
)
def test_month_split(first, last, months, rest):
    assert month_split(first, last) == (months, rest)


def test_month_split_refuses_a_reversed_range():
    with pytest.raises(ValueError):
        month_split(date(2026, 2, 1), date(2026, 1, 31))
