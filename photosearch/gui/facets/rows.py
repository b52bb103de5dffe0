"""What the facets sidebar lists, from ``Library.facets``: sections (Places, Years, Cameras, Colours, Kinds, Has
text, People) of rows with counts, each row the reading a click adds to the search line (``lineparse.token``).
Pure, so the rules are tested without widgets."""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from photosearch.meta.facets import fold


@dataclass(frozen=True)
class FacetRow:
    label: str  # as shown: "Lisbon", "March", "Apple iPhone 12"
    count: int  # photos the current filters keep that have it
    kind: str = ""  # the chip a click gives (place, date, camera, colour, kind, person) or "has_text"; "": a section
    value: str = ""  # what lineparse.token(kind, value) writes: "Lisbon, Portugal", "March 2019", "raw"
    key: str = ""  # stable across refreshes (which rows are open)
    matches: frozenset = frozenset()  # folded Part values of a reading that mean this row (it shows ticked)
    children: tuple = ()

    def active(self, reading) -> bool:
        """Whether the search line (a ParsedLine, or None) filters by this row."""
        return reading is not None and any(c.kind == self.kind and fold(c.value) in self.matches
                                           for c in reading.chips)


def _row(label: str, count: int, kind: str, value: str, key: str, children=(), also=()) -> FacetRow:
    return FacetRow(label, count, kind, value, key, frozenset(fold(x) for x in (value, *also)), tuple(children))


def _places(tree: list[dict]) -> list[FacetRow]:
    out = []
    for c in tree:
        country = c["name"] or "Unknown country"
        kids = []
        for r in c["regions"]:
            cities = [_row(x["name"], x["count"], "place", f"{x['name']}, {country}",
                           f"place/{country}/{r['name']}/{x['name']}", also=(x["name"],))
                      for x in r["cities"] if x["name"]]
            if r["name"]:
                kids.append(_row(r["name"], r["count"], "place", f"{r['name']}, {country}",
                                 f"place/{country}/{r['name']}", cities, also=(r["name"],)))
            else:
                kids.extend(cities)
        out.append(_row(country, c["count"], "place", country, f"place/{country}", kids))
    return out


def _years(years: list[dict]) -> list[FacetRow]:
    out = []
    for y in years:
        year = y["year"]
        months = [_row(calendar.month_name[m["month"]], m["count"], "date", f"{calendar.month_name[m['month']]} {year}",
                       f"date/{year}/{m['month']}",
                       also=(f"{year}-{m['month']:02d}-01..{year}-{m['month']:02d}-"
                             f"{calendar.monthrange(year, m['month'])[1]:02d}",))
                  for m in sorted(y["months"], key=lambda m: -m["month"])]
        out.append(_row(str(year), y["count"], "date", str(year), f"date/{year}", months,
                        also=(f"{year}-01-01..{year}-12-31",)))
    return out


def facet_rows(facets: dict | None) -> list[FacetRow]:
    """The sections, each a row with ``kind`` "" and its values as children; empty sections are left out."""
    if not facets:
        return []
    named = [(k, k, n) for k, n in facets.get("kinds", {}).items()]
    if facets.get("raw"):
        named.append(("RAW", "raw", facets["raw"]))
    sections = [
        ("Places", _places(facets.get("places", []))),
        ("Years", _years(facets.get("years", []))),
        ("Cameras", [_row(c, n, "camera", c, f"camera/{c}") for c, n in facets.get("cameras", {}).items()]),
        ("Colours", [_row(c, n, "colour", c, f"colour/{c}") for c, n in facets.get("colours", {}).items()]),
        ("Kinds", [_row(label, n, "kind", k, f"kind/{k}") for label, k, n in named]),
        ("Has text", [_row("Words read in the photo", facets["has_text"], "has_text", "", "has_text")]
         if facets.get("has_text") else []),
        ("People", [_row(p, n, "person", p, f"person/{p}") for p, n in facets.get("people", {}).items()]),
    ]
    return [FacetRow(title, 0, "", "", title, children=tuple(rows)) for title, rows in sections if rows]
