"""The rows of the results grid: hits plus marker tiles (the divider before the weaker results, a month
header when sorted by date). Pure functions, so the layout rules are tested without widgets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DIVIDER_TEXT = "Other results (weaker)"


@dataclass(frozen=True)
class Marker:
    """A tile that is not a photo: ``kind`` is "divider" or "month"."""

    kind: str
    text: str
    path = None  # so code reading ``row.path`` sees "no photo"
    score = None


def month_of(date: str | None) -> str:
    if not date:
        return "Undated"
    try:
        return datetime.fromisoformat(date[:19]).strftime("%B %Y")
    except ValueError:
        return "Undated"


def with_markers(hits: list, sort: str = "relevance", browsing: bool = False) -> list:
    """Hits with marker tiles: the good matches, then a divider and the weaker ones (no divider when none or
    all are good: the summary line says so); month headers over the good matches (or the whole library
    while browsing) when sorted by date."""
    dated = sort == "date" or browsing
    good = hits if browsing else [h for h in hits if h.relevant]
    weak = [] if browsing else [h for h in hits if not h.relevant]
    rows: list = []
    month = None
    for h in good:
        if dated:
            m = month_of(getattr(h, "date", None))
            if m != month:
                rows.append(Marker("month", m))
                month = m
        rows.append(h)
    if good and weak:
        rows.append(Marker("divider", DIVIDER_TEXT))
    rows.extend(weak)
    return rows


def summary(hits: list, query_text: str, browsing: bool = False) -> str:
    """The line above the grid."""
    n = len(hits)
    if browsing:
        return f"Your library, newest first · {n:,} photo{'s' if n != 1 else ''}" if n else ""
    good = sum(1 for h in hits if h.relevant)
    if not n:
        return ""
    if not good:
        return f"Nothing clearly matches {query_text} — closest photos:"
    weak = n - good
    return (f"{good:,} good match{'es' if good != 1 else ''} for {query_text}"
            + (f" · {weak:,} weaker after the divider" if weak else ""))


def _day(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso[:10]).strftime("%-d %b %Y")
    except ValueError:
        return iso


def browse_summary(n: int, people: tuple[str, ...] = (), taken: list | None = None) -> str:
    """The line above the grid when the line only filters (a person, a place, a year...): whose photos, how
    many, and the first and last day they were taken (``taken``: Library.facets' ``[first, last]``)."""
    whose = f"Photos of {' and '.join(people)}" if people else "Photos matching the filters"
    if not n:
        return ""
    out = f"{whose}, newest first · {n:,} photo{'s' if n != 1 else ''}"
    if taken:
        first, last = _day(taken[0]), _day(taken[1])
        out += f" · taken {first}" if first == last else f" · taken {first} – {last}"
    return out
