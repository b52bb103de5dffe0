"""One typed line, read: "Anna in Lisbon last summer red car" -> person Anna, place Lisbon, date (Jun-Aug 2026),
colour red, and "car" for the visual ranking. The window shows the parts as removable chips; the command line
reports them (``search --explain-query``). Both build their :class:`Filters` from the same :class:`ParsedLine`.

Rules, so that a parse never surprises:
- Places, cameras and people are recognised only if the library has them (a place in the photos' GPS, a
  camera in their EXIF, a name from the people index), so "rose" is never a town in a library without one.
  A place needs a capital letter or "in"/"at"/"near"/"from" before it ("a nice view" is not Nice).
- Dates by meta/dates.py ("last summer", "in March", "2019", "between May and July 2022"); a bare month
  ("may", "march") is a word.
- Colours by name (meta/colours.py: "red", "black and white", "b&w"); image kinds: screenshot, panorama,
  scan.
- ``place:``, ``camera:``, ``color:``/``colour:``, ``date:``, ``person:``, ``kind:`` force a reading
  (``place:"New York"``; :func:`token` writes one, as a facet click in the window does); ``kind:raw`` is the
  camera RAW files (a file type, not a kind read from the photo); words in double quotes are never read as
  anything but words.
- Nothing is dropped: every word is in exactly one part; the words not recognised are ``text``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Iterable

from photosearch.library.query import Filters
from photosearch.meta import colours, dates
from photosearch.meta.facets import fold

PREFIXES = {"place": "place", "camera": "camera", "color": "colour", "colour": "colour", "date": "date",
            "person": "person", "kind": "kind", "when": "date", "where": "place"}
PLACE_WORDS = ("in", "at", "near", "from")
DATE_WORDS = ("in", "on", "during", "from", "at", "since", "over", "around")
CAMERA_WORDS = ("with", "on", "by")
KIND_WORDS = {"screenshot": "screenshot", "screenshots": "screenshot", "panorama": "panorama",
              "panoramas": "panorama", "scan": "scan", "scans": "scan", "scanned": "scan"}
MAX_SPAN = 6
# Camera makes that are also common words: recognised only after "camera:" or "with"/"on".
AMBIGUOUS_MAKES = frozenset({"apple", "google", "olympus", "leaf", "phase", "one", "ricoh", "hp"})
_PREFIXED = re.compile(r"(\w+):", re.A)
_TOKEN = re.compile(r'(\w+):"([^"]*)"?|(\w+):(\S+)|"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Part:
    kind: str  # place | date | colour | camera | person | kind | text
    value: str  # what it filters by: "Lisbon", "2026-06-01..2026-08-31", "red", "iPhone", "Anna"
    source: str  # the words as typed, a preposition included ("in Lisbon")
    label: str = ""  # for a chip: "Lisbon", "last summer (1 Jun - 31 Aug 2026)"


@dataclass(frozen=True)
class ParsedLine:
    line: str
    parts: tuple[Part, ...]  # in the order typed; text parts hold the words not recognised
    dates: tuple[dates.DateRange, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. a ``date:`` that is not a date (its words stay words)

    @property
    def chips(self) -> list[Part]:
        return [p for p in self.parts if p.kind != "text"]

    @property
    def text(self) -> str | None:
        """The words the visual model ranks by (None: nothing left)."""
        t = " ".join(p.source for p in self.parts if p.kind == "text").strip()
        return t or None

    def values(self, kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.value for p in self.parts if p.kind == kind))

    @property
    def people(self) -> tuple[str, ...]:
        return self.values("person")

    def filters(self, base: Filters | None = None) -> Filters:
        """``base`` narrowed by what the line says: places, cameras, colours and kinds added, a date range
        intersected with base's (several dates in one line: from the earliest to the latest)."""
        f = base or Filters()
        kinds = self.values("kind")
        f = replace(f, places=f.places + self.values("place"), cameras=f.cameras + self.values("camera"),
                    colors=f.colors + self.values("colour"), kinds=f.kinds + tuple(k for k in kinds if k != "raw"),
                    types=f.types + (("raw",) if "raw" in kinds else ()), persons=f.persons + self.people)
        if not self.dates:
            return f
        start, end = min(d.start for d in self.dates), max(d.end for d in self.dates)
        s_start, s_end = min(d.south_start for d in self.dates), max(d.south_end for d in self.dates)
        after = max(filter(None, (f.after, start.isoformat())))
        before = min(filter(None, (f.before, end.isoformat())))
        if (s_start, s_end) == (start, end):
            return replace(f, after=after, before=before)
        return replace(f, after=after, before=before, after_south=max(filter(None, (f.after, s_start.isoformat()))),
                       before_south=min(filter(None, (f.before, s_end.isoformat()))))

    def without(self, i: int) -> str:
        """The line with chip ``i`` (an index into :attr:`chips`) undone: its words quoted, read as words; a
        prefixed chip (``place:"Lisbon"``, typed or from a facet click) is dropped, as it never meant words."""
        target = self.chips[i]
        out = []
        for p in self.parts:
            if p is not target:
                out.append(p.source)
            elif not ((m := _PREFIXED.match(p.source)) and m.group(1).lower() in PREFIXES):
                out.append('"' + p.source.replace('"', "") + '"')
        return " ".join(out)

    def to_dict(self) -> dict:
        return {"line": self.line, "text": self.text, "parts": [asdict(p) for p in self.parts],
                "people": list(self.people), "notes": list(self.notes)}


@dataclass
class Vocabulary:
    """What the library has that a line may name: folded -> as shown."""

    places: dict[str, str] = field(default_factory=dict)
    cameras: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    strict_cameras: set[str] = field(default_factory=set)  # common words: only after "with"/"on"

    @classmethod
    def build(cls, places: Iterable[tuple], cameras: Iterable[str], names: Iterable[str] = ()) -> "Vocabulary":
        v = cls()
        for triple in places:
            for name in triple:
                if name:
                    v.places.setdefault(fold(name), name)
        for cam in cameras:
            words = cam.split()
            v.cameras.setdefault(fold(cam), cam)
            for j, w in enumerate(words):
                if len(w) >= 3 and w.isalpha():
                    v.cameras.setdefault(fold(w), w)
                    if j == 0 and fold(w) in AMBIGUOUS_MAKES:
                        v.strict_cameras.add(fold(w))
                    if j + 1 < len(words):
                        v.cameras.setdefault(fold(" ".join(words[j:j + 2])), " ".join(words[j:j + 2]))
        for n in names:
            if n and n.strip():
                v.names.setdefault(fold(n), n.strip())
        return v


def token(kind: str, value: str) -> str:
    """The words that force ``value`` to be read as ``kind`` (a Part's kind: place, date, colour, camera,
    person, kind): ``place:"Lisbon, Portugal"``. Double quotes inside ``value`` are dropped."""
    prefix = {"colour": "color"}.get(kind, kind)
    if prefix not in PREFIXES:
        raise ValueError(f"not a kind of part: {kind!r}")
    v = " ".join(value.replace('"', "").split())
    return f"{prefix}:{v}" if v and re.fullmatch(r"[\w.-]+", v) else f'{prefix}:"{v}"'


def _tokens(line: str) -> list[tuple[str, str | None, bool]]:
    """(text as typed, prefix or None, quoted)"""
    out = []
    for m in _TOKEN.finditer(line):
        if m.group(1) and m.group(1).lower() in PREFIXES:
            out.append((m.group(2), m.group(1).lower(), True))
        elif m.group(3) and m.group(3).lower() in PREFIXES:
            out.append((m.group(4), m.group(3).lower(), False))
        elif m.group(5) is not None:
            out.append((m.group(0), None, True))
        else:
            out.append((m.group(0), None, False))
    return out


def _date_label(phrase: str, r: dates.DateRange) -> str:
    def span(a: date, b: date) -> str:
        return a.strftime("%-d %b %Y") if a == b else f"{a.strftime('%-d %b %Y')} - {b.strftime('%-d %b %Y')}"
    south = f"; south: {span(r.south_start, r.south_end)}" if r.seasonal else ""
    return f"{phrase} ({span(r.start, r.end)}{south})"


def _date_value(r: dates.DateRange) -> str:
    return f"{r.start.isoformat()}..{r.end.isoformat()}"


class _Reader:
    def __init__(self, vocab: Vocabulary, today: date | None):
        self.v, self.today = vocab, today or date.today()
        self.parts: list[Part] = []
        self.dates: list[dates.DateRange] = []
        self.notes: list[str] = []

    def prefixed(self, prefix: str, value: str, shown: str) -> None:
        kind = PREFIXES[prefix]
        if kind == "date":
            r = dates.parse(value, self.today)
            if r is None:
                self.notes.append(f"{value!r} is not a date this reads; kept as words")
                self.parts.append(Part("text", value, value))
                return
            self.dates.append(r)
            self.parts.append(Part("date", _date_value(r), shown, _date_label(value, r)))
        elif kind == "colour":
            c = colours.canonical(value)
            if c is None:
                self.notes.append(f"{value!r} is not a colour this reads ({', '.join(colours.NAMES)}); kept as words")
                self.parts.append(Part("text", value, value))
            else:
                self.parts.append(Part("colour", c, shown, c))
        elif kind == "kind":
            k = KIND_WORDS.get(fold(value), fold(value))
            self.parts.append(Part("kind", k, shown, k))
        else:
            shown_value = {"place": self.v.places, "camera": self.v.cameras, "person": self.v.names}[kind].get(
                fold(value), value)
            self.parts.append(Part(kind, shown_value, shown, shown_value))

    def match(self, words: list[str], i: int) -> tuple[Part, int] | None:
        """The part starting at word ``i`` (a preposition may lead it) and the number of words it takes."""
        lead = fold(words[i])
        for kind in ("person", "place", "date", "camera", "colour", "kind"):
            for skip in (1, 0):
                if skip and lead not in {"place": PLACE_WORDS, "date": DATE_WORDS, "camera": CAMERA_WORDS}.get(
                        kind, ()):
                    continue
                hit = self._match_kind(kind, words, i, skip)
                if hit:
                    return hit
        return None

    def _match_kind(self, kind: str, words: list[str], i: int, skip: int):
        for n in range(min(MAX_SPAN, len(words) - i - skip), 0, -1):
            span = words[i + skip:i + skip + n]
            phrase = " ".join(span)
            key = fold(phrase)
            source = " ".join(words[i:i + skip + n])
            if kind == "person" and key in self.v.names:
                return Part("person", self.v.names[key], source, self.v.names[key]), skip + n
            if kind == "place" and key in self.v.places and (skip or span[0][:1].isupper()):
                return Part("place", self.v.places[key], source, self.v.places[key]), skip + n
            if kind == "camera" and key in self.v.cameras and (skip or key not in self.v.strict_cameras):
                return Part("camera", self.v.cameras[key], source, self.v.cameras[key]), skip + n
            if kind == "colour" and not skip and n <= 3 and colours.canonical(key):
                c = colours.canonical(key)
                return Part("colour", c, source, c), n
            if kind == "kind" and not skip and n == 1 and key in KIND_WORDS:
                return Part("kind", KIND_WORDS[key], source, KIND_WORDS[key]), 1
            if kind == "date":
                # dateparser only for a lone numeric date ("15/03/2021"): it is slow and too eager on words
                fallback = n == 1 and bool(re.fullmatch(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}", phrase))
                r = dates.parse(source if skip else phrase, self.today, fallback=fallback)
                if r is not None:
                    self.dates.append(r)
                    return Part("date", _date_value(r), source, _date_label(source, r)), skip + n
        return None

    def plain(self, words: list[str]) -> None:
        i = 0
        text: list[str] = []
        while i < len(words):
            hit = self.match(words, i)
            if hit is None:
                text.append(words[i])
                i += 1
                continue
            if text:
                self.parts.append(Part("text", " ".join(text), " ".join(text)))
                text = []
            self.parts.append(hit[0])
            i += hit[1]
        if text:
            self.parts.append(Part("text", " ".join(text), " ".join(text)))


def parse_line(line: str | None, vocab: Vocabulary | None = None, today: date | None = None) -> ParsedLine:
    """Read a typed line (see the module's rules). Never raises for any text."""
    r = _Reader(vocab or Vocabulary(), today)
    run: list[str] = []
    for text, prefix, quoted in _tokens(line or ""):
        if prefix is None and not quoted:
            run.append(text)
            continue
        r.plain(run)
        run = []
        if prefix is None:
            r.parts.append(Part("text", text, text))
        else:
            r.prefixed(prefix, text, f'{prefix}:"{text}"' if quoted else f"{prefix}:{text}")
    r.plain(run)
    return ParsedLine(line or "", tuple(r.parts), tuple(r.dates), tuple(r.notes))
