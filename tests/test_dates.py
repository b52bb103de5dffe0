"""Dates in plain words: the table of phrasings (written before the parser) and what they must become,
relative to a fixed "today" (Wednesday 2 December 2026). Ranges are inclusive: (first day, last day)."""

from __future__ import annotations

from datetime import date

import pytest

from photosearch.meta.dates import parse

TODAY = date(2026, 12, 2)  # a Wednesday

# phrase -> (first day, last day) for the northern hemisphere (the default when a photo has no latitude)
TABLE = {
    "2019": ("2019-01-01", "2019-12-31"),
    "in 2019": ("2019-01-01", "2019-12-31"),
    "March 2021": ("2021-03-01", "2021-03-31"),
    "in march 2021": ("2021-03-01", "2021-03-31"),
    "Mar 2021": ("2021-03-01", "2021-03-31"),
    "2021-03": ("2021-03-01", "2021-03-31"),
    "december 2020": ("2020-12-01", "2020-12-31"),
    "last summer": ("2026-06-01", "2026-08-31"),
    "summer 2019": ("2019-06-01", "2019-08-31"),
    "winter 2020": ("2020-12-01", "2021-02-28"),
    "this winter": ("2026-12-01", "2027-02-28"),
    "spring 2020": ("2020-03-01", "2020-05-31"),
    "autumn 2018": ("2018-09-01", "2018-11-30"),
    "fall 2018": ("2018-09-01", "2018-11-30"),
    "summer": ("2026-06-01", "2026-08-31"),
    "Christmas 2020": ("2020-12-24", "2020-12-26"),
    "xmas 2019": ("2019-12-24", "2019-12-26"),
    "last Christmas": ("2025-12-24", "2025-12-26"),
    "at Christmas": ("2025-12-24", "2025-12-26"),
    "New Year's Eve 2019": ("2019-12-31", "2020-01-01"),
    "Easter 2019": ("2019-04-19", "2019-04-22"),
    "Halloween 2021": ("2021-10-31", "2021-10-31"),
    "Valentine's Day 2022": ("2022-02-14", "2022-02-14"),
    "Thanksgiving 2020": ("2020-11-26", "2020-11-29"),
    "yesterday": ("2026-12-01", "2026-12-01"),
    "today": ("2026-12-02", "2026-12-02"),
    "the day before yesterday": ("2026-11-30", "2026-11-30"),
    "this weekend": ("2026-11-28", "2026-11-29"),
    "last weekend": ("2026-11-28", "2026-11-29"),
    "this week": ("2026-11-30", "2026-12-06"),
    "last week": ("2026-11-23", "2026-11-29"),
    "this month": ("2026-12-01", "2026-12-31"),
    "last month": ("2026-11-01", "2026-11-30"),
    "this year": ("2026-01-01", "2026-12-31"),
    "last year": ("2025-01-01", "2025-12-31"),
    "in the 90s": ("1990-01-01", "1999-12-31"),
    "the 1980s": ("1980-01-01", "1989-12-31"),
    "the eighties": ("1980-01-01", "1989-12-31"),
    "'70s": ("1970-01-01", "1979-12-31"),
    "2010s": ("2010-01-01", "2019-12-31"),
    "between May and July 2022": ("2022-05-01", "2022-07-31"),
    "from March to May 2021": ("2021-03-01", "2021-05-31"),
    "between 2015 and 2017": ("2015-01-01", "2017-12-31"),
    "2015-2017": ("2015-01-01", "2017-12-31"),
    "2018 to 2020": ("2018-01-01", "2020-12-31"),
    "3 days ago": ("2026-11-29", "2026-11-29"),
    "two weeks ago": ("2026-11-16", "2026-11-22"),
    "3 months ago": ("2026-09-01", "2026-09-30"),
    "a year ago": ("2025-01-01", "2025-12-31"),
    "2 years ago": ("2024-01-01", "2024-12-31"),
    "last March": ("2026-03-01", "2026-03-31"),
    "in March": ("2026-03-01", "2026-03-31"),
    "last December": ("2025-12-01", "2025-12-31"),
    "15 March 2021": ("2021-03-15", "2021-03-15"),
    "March 15, 2021": ("2021-03-15", "2021-03-15"),
    "2021-03-15": ("2021-03-15", "2021-03-15"),
    "on 3rd June 2018": ("2018-06-03", "2018-06-03"),
    "early 2020": ("2020-01-01", "2020-04-30"),
    "late 2019": ("2019-09-01", "2019-12-31"),
    "mid-2019": ("2019-05-01", "2019-08-31"),
    "last Friday": ("2026-11-27", "2026-11-27"),
    "last 3 months": ("2026-09-02", "2026-12-02"),
    "past 7 days": ("2026-11-25", "2026-12-02"),
}

# The southern hemisphere's seasons (a photo with a negative latitude); everything else is the same.
SOUTH = {
    "last summer": ("2025-12-01", "2026-02-28"),
    "summer 2019": ("2019-12-01", "2020-02-29"),
    "winter 2020": ("2020-06-01", "2020-08-31"),
    "this winter": ("2026-06-01", "2026-08-31"),
    "spring 2020": ("2020-09-01", "2020-11-30"),
    "summer": ("2025-12-01", "2026-02-28"),
}

NOT_DATES = ["rose", "red car", "may", "a march", "2", "tomorrowland", "the beach", "1066", "99 balloons", "summers",
             "between friends", "anna"]


def test_table_is_big_enough():
    assert len(TABLE) >= 40


@pytest.mark.parametrize("phrase", list(TABLE))
def test_phrase(phrase):
    r = parse(phrase, today=TODAY)
    assert r is not None, phrase
    assert (r.start.isoformat(), r.end.isoformat()) == TABLE[phrase]


@pytest.mark.parametrize("phrase", list(SOUTH))
def test_southern_seasons(phrase):
    r = parse(phrase, today=TODAY)
    assert r.seasonal
    assert (r.south_start.isoformat(), r.south_end.isoformat()) == SOUTH[phrase]


def test_only_seasons_depend_on_the_hemisphere():
    assert not parse("Christmas 2020", today=TODAY).seasonal
    assert not parse("2019", today=TODAY).seasonal
    r = parse("2019", today=TODAY)
    assert (r.south_start, r.south_end) == (r.start, r.end)


@pytest.mark.parametrize("phrase", NOT_DATES)
def test_not_dates(phrase):
    assert parse(phrase, today=TODAY) is None


def test_case_and_spacing_do_not_matter():
    assert parse("  LAST   Summer ", today=TODAY) == parse("last summer", today=TODAY)
