"""Dates in plain words -> a range of days: "2019", "March 2021", "last summer", "Christmas 2020", "yesterday",
"this weekend", "in the 90s", "between May and July 2022".

Our rules, relative to ``today`` (the parse is pure: tests pass a fixed day):
- Seasons are meteorological (northern summer: June-August). A phrase naming a season gives both
  hemispheres' ranges (``south_start``/``south_end``); the filter uses the southern one for photos taken at
  a negative latitude. "summer 2019" is the summer that *starts* in 2019 (southern: Dec 2019 - Feb 2020).
- "last X": the most recent one that has ended; a bare season, holiday or "in March": the most recent one
  at least half over; "this X": the one containing today, else the one of this year. Weeks run Monday to Sunday; "this weekend"
  on a weekday is the one just past (photos are not taken in the future).
- Holidays: Christmas 24-26 Dec, New Year's Eve 31 Dec - 1 Jan, Easter Good Friday - Easter Monday,
  (US) Thanksgiving Thursday - Sunday, Halloween, Valentine's Day and a few fixed days.
- "early/mid/late 2019": January-April, May-August, September-December.
- A bare month name ("may", "march") is not a date: it needs "in", "last", "this" or a year.
Full dates in other forms and languages ("15/03/2021", "3 juin 2018") go to ``dateparser``, day precision only.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
           "eighties": 80, "nineties": 90}
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # northern first month
YEARS = (1826, 2100)
LEADING = ("in", "on", "during", "at", "from", "over", "around", "of", "the")


@dataclass(frozen=True)
class DateRange:
    start: date  # first day
    end: date  # last day (inclusive)
    south_start: date | None = None  # the southern hemisphere's range when it differs (seasons)
    south_end: date | None = None

    def __post_init__(self):
        if self.south_start is None:
            object.__setattr__(self, "south_start", self.start)
            object.__setattr__(self, "south_end", self.end)

    @property
    def seasonal(self) -> bool:
        return (self.south_start, self.south_end) != (self.start, self.end)


def _month(y: int, m: int) -> tuple[date, date]:
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def _months(y: int, m: int, n: int) -> tuple[date, date]:
    """n months from (y, m) on."""
    last_m = m + n - 1
    ey, em = y + (last_m - 1) // 12, (last_m - 1) % 12 + 1
    return date(y, m, 1), _month(ey, em)[1]


def _year(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


def _add_months(d: date, n: int) -> tuple[int, int]:
    k = d.year * 12 + d.month - 1 + n
    return k // 12, k % 12 + 1


def _easter(y: int) -> date:
    from dateutil.easter import easter

    return easter(y)


def _holiday(name: str, y: int) -> tuple[date, date] | None:
    fixed = {"christmas": ((12, 24), 2), "xmas": ((12, 24), 2), "christmas eve": ((12, 24), 0),
             "christmas day": ((12, 25), 0), "boxing day": ((12, 26), 0), "new year's eve": ((12, 31), 1),
             "new years eve": ((12, 31), 1), "halloween": ((10, 31), 0), "valentine's day": ((2, 14), 0),
             "valentines day": ((2, 14), 0), "valentine's": ((2, 14), 0), "st patrick's day": ((3, 17), 0),
             "fourth of july": ((7, 4), 0), "independence day": ((7, 4), 0), "bastille day": ((7, 14), 0),
             "new year's day": ((1, 1), 0), "new year": ((12, 31), 1), "new year's": ((12, 31), 1)}
    if name in fixed:
        (m, d), extra = fixed[name]
        y0 = y - 1 if name in ("new year", "new year's") else y  # New Year 2020 begins on 31 Dec 2019
        s = date(y0, m, d)
        return s, s + timedelta(days=extra)
    if name == "easter":
        e = _easter(y)
        return e - timedelta(days=2), e + timedelta(days=1)
    if name == "thanksgiving":
        first = date(y, 11, 1)
        thu = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        return thu, thu + timedelta(days=3)
    return None


HOLIDAYS = ("christmas eve", "christmas day", "christmas", "xmas", "boxing day", "new year's eve", "new years eve",
            "new year's day", "new year's", "new year", "halloween", "valentine's day", "valentines day",
            "valentine's", "st patrick's day", "fourth of july", "independence day", "bastille day", "easter",
            "thanksgiving")


def _season(name: str, y: int, south: bool) -> tuple[date, date]:
    m = SEASONS[name]
    if south:
        m = (m + 6 - 1) % 12 + 1
    return _months(y, m, 3)


def _occurrence(make, today: date, which: str) -> tuple[date, date]:
    """The occurrence of a yearly range ``make(year)`` that ``which`` names ("last", "this" or bare)."""
    cands = [make(y) for y in (today.year - 2, today.year - 1, today.year, today.year + 1)]
    if which == "last":
        return [c for c in cands if c[1] < today][-1]
    if which == "this":
        inside = [c for c in cands if c[0] <= today <= c[1]]
        return inside[0] if inside else make(today.year)
    return [c for c in cands if c[0] + (c[1] - c[0]) / 2 <= today][-1]  # at least half of it has passed


def _clean(text: str) -> str:
    s = " ".join(text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-").split())
    s = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s)
    return s.replace(",", "")


def _strip_leading(s: str) -> str:
    words = s.split()
    while len(words) > 1 and words[0] in LEADING:
        words = words[1:]
    return " ".join(words)


def _plausible_year(tok: str) -> int | None:
    if re.fullmatch(r"\d{4}", tok):
        y = int(tok)
        return y if YEARS[0] <= y <= YEARS[1] else None
    return None


Span = tuple[date, date]


def _num_word(tok: str) -> int | None:
    return int(tok) if tok.isdigit() and 0 < int(tok) < 1000 else NUMBERS.get(tok)


def _relative(s: str, today: date) -> Span | None:
    if s == "today":
        return today, today
    if s == "yesterday":
        d = today - timedelta(days=1)
        return d, d
    if s == "day before yesterday":
        d = today - timedelta(days=2)
        return d, d
    m = re.fullmatch(r"(this|last|previous|past) (week|weekend|month|year)", s)
    if m:
        last = m.group(1) != "this"
        unit = m.group(2)
        if unit == "week":
            mon = today - timedelta(days=today.weekday()) - timedelta(weeks=1 if last else 0)
            return mon, mon + timedelta(days=6)
        if unit == "weekend":
            sat = today - timedelta(days=(today.weekday() - 5) % 7)  # the latest Saturday, today included
            if last and today.weekday() >= 5:
                sat -= timedelta(weeks=1)
            return sat, sat + timedelta(days=1)
        if unit == "month":
            return _month(*_add_months(today, -1 if last else 0))
        return _year(today.year - (1 if last else 0))
    m = re.fullmatch(r"(?:last|past) (\w+) (day|week|month|year)s?", s)
    if m and _num_word(m.group(1)):
        n = _num_word(m.group(1))
        if m.group(2) in ("day", "week"):
            return today - timedelta(days=n * (7 if m.group(2) == "week" else 1)), today
        y, mo = _add_months(today, -n * (12 if m.group(2) == "year" else 1))
        return date(y, mo, min(today.day, calendar.monthrange(y, mo)[1])), today
    m = re.fullmatch(r"(\w+) (day|week|month|year)s? ago", s)
    if m and _num_word(m.group(1)):
        n, unit = _num_word(m.group(1)), m.group(2)
        if unit == "day":
            d = today - timedelta(days=n)
            return d, d
        if unit == "week":
            mon = today - timedelta(days=today.weekday()) - timedelta(weeks=n)
            return mon, mon + timedelta(days=6)
        if unit == "month":
            return _month(*_add_months(today, -n))
        return _year(today.year - n)
    m = re.fullmatch(r"(last|this|on) (\w+)", s)
    if m and m.group(2) in WEEKDAYS:
        back = (today.weekday() - WEEKDAYS[m.group(2)]) % 7
        if m.group(1) == "last" and back == 0:
            back = 7
        d = today - timedelta(days=back)
        return d, d
    return None


def _decade(s: str) -> Span | None:
    m = re.fullmatch(r"'?(1[89]|20)?(\d)0'?s", s)
    if m:
        century = int(m.group(1)) * 100 if m.group(1) else 1900 if int(m.group(2)) >= 3 else 2000
        y = century + int(m.group(2)) * 10
    elif s in DECADES:
        y = 1900 + DECADES[s]
    else:
        return None
    return date(y, 1, 1), date(y + 9, 12, 31)


def _yearly(s: str, today: date, south: bool) -> Span | None:
    """Seasons and holidays: "summer 2019", "last Christmas", "easter"."""
    m = re.fullmatch(r"(?:(last|this|next) )?(.+?)(?: (?:of )?(\d{4}))?", s)
    which, name, year = m.group(1), m.group(2), m.group(3)
    if name in SEASONS:
        def make(y):
            return _season(name, y, south)
    elif name in HOLIDAYS:
        def make(y):
            return _holiday(name, y)
    else:
        return None
    if year:
        y = _plausible_year(year)
        return None if y is None or which else make(y)
    return _occurrence(make, today, which or "")


def _month_phrase(s: str, today: date) -> Span | None:
    m = re.fullmatch(r"(?:(last|this|in|during|since) )?([a-z]+)(?: (?:of )?(\d{4}))?", s)
    if not m or m.group(2) not in MONTHS:
        return None
    which, mo, year = m.group(1), MONTHS[m.group(2)], m.group(3)
    if year:
        y = _plausible_year(year)
        return None if y is None or which in ("last", "this") else _month(y, mo)
    if which is None:
        return None  # "may", "march": words first, months only with a qualifier or a year
    return _occurrence(lambda y: _month(y, mo), today, {"last": "last", "this": "this"}.get(which, ""))


def _numeric(s: str, today: date) -> Span | None:
    y = _plausible_year(s)
    if y:
        return _year(y)
    m = re.fullmatch(r"(early|mid|late)[- ]?(\d{4})", s)
    if m and _plausible_year(m.group(2)):
        y = int(m.group(2))
        return _months(y, {"early": 1, "mid": 5, "late": 9}[m.group(1)], 4)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", s) or re.fullmatch(r"(\d{4})/(\d{1,2})(?:/(\d{1,2}))?", s)
    if m and _plausible_year(m.group(1)) and 1 <= int(m.group(2)) <= 12:
        y, mo = int(m.group(1)), int(m.group(2))
        if not m.group(3):
            return _month(y, mo)
        try:
            d = date(y, mo, int(m.group(3)))
        except ValueError:
            return None
        return d, d
    m = re.fullmatch(r"(\d{1,2}) ([a-z]+) (\d{4})", s) or re.fullmatch(r"([a-z]+) (\d{1,2}) (\d{4})", s)
    if m:
        a, b, yr = m.groups()
        day, mon = (a, b) if a.isdigit() else (b, a)
        if mon in MONTHS and _plausible_year(yr):
            try:
                d = date(int(yr), MONTHS[mon], int(day))
            except ValueError:
                return None
            return d, d
    return None


def _fallback(s: str, today: date) -> Span | None:
    """Full dates in other forms or languages ("15/03/2021", "3 juin 2018"): dateparser, day precision."""
    if not re.search(r"\d", s) or not (re.search(r"\d[/.]\d", s) or len(s.split()) >= 2):
        return None
    from datetime import datetime

    from dateparser.date import DateDataParser

    parser = DateDataParser(languages=["en", "fr", "de", "es", "pt", "it", "nl"],
                            settings={"RELATIVE_BASE": datetime(today.year, today.month, today.day),
                                      "PREFER_DATES_FROM": "past", "STRICT_PARSING": True})
    try:
        data = parser.get_date_data(s)
    except (ValueError, OverflowError, TypeError):
        return None
    if data.date_obj is None or data.period != "day" or not YEARS[0] <= data.date_obj.year <= YEARS[1]:
        return None
    d = data.date_obj.date()
    return d, d


def _single(s: str, today: date, south: bool, fallback: bool = True) -> Span | None:
    whole, s = s, _strip_leading(s)
    for f in (_relative, _decade, _numeric):
        r = f(s, today) if f is not _decade else f(s)
        if r:
            return r
    r = _yearly(s, today, south) or _month_phrase(whole, today) or _month_phrase(s, today)
    if r:
        return r
    return _fallback(s, today) if fallback else None


def _between(s: str, today: date, south: bool) -> Span | None:
    m = (re.fullmatch(r"(?:between|from) (.+?) (?:and|to|until|till|-) (.+)", s)
         or re.fullmatch(r"(.+?) ?(?:-| to | until | till ) ?(.+)", s))
    if not m:
        return None
    a, b = m.group(1).strip(), m.group(2).strip()
    end = _single(b, today, south, fallback=False)
    if end is None:
        return None
    start = _single(a, today, south, fallback=False)
    if start is None and a in MONTHS:  # "between May and July 2022": May of July's year
        start = _month(end[1].year, MONTHS[a])
    if start is None or start[0] > end[1]:
        return None
    return start[0], end[1]


def parse(text: str, today: date | None = None, fallback: bool = True) -> DateRange | None:
    """A date phrase -> :class:`DateRange` (both hemispheres), or None when it is not one. ``fallback=False``
    skips dateparser (0.1-1 s on first use of a language), for callers trying many spans of a line."""
    today = today or date.today()
    s = _clean(text)
    if not s or len(s) > 60:
        return None
    try:
        north = _between(s, today, False) or _single(s, today, False, fallback)
        if north is None:
            return None
        south = _between(s, today, True) or _single(s, today, True, fallback)
    except (ValueError, OverflowError, IndexError):
        return None
    return DateRange(north[0], north[1], south[0], south[1])
