"""What a search *is*: one :class:`Query` (with its :class:`Filters`), built alike by the window and the command
line and taken by :meth:`Library.search` and :meth:`Library.why_empty`, so the two front ends cannot drift."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Filters:
    """Which photos may be shown at all; the ranking never looks outside them."""

    folder: str | None = None  # a library folder or any folder below one (its sub-folders included)
    after: str | None = None  # ISO date or date-time: taken on or after (a bare day is included)
    before: str | None = None  # ISO date or date-time: taken on or before (a bare day is included)
    types: tuple[str, ...] = ()  # file types as typed (jpg, .PNG, tiff); empty: all
    include_undated: bool = False  # date filters keep photos without a date taken
    has_text: bool = False  # only photos in which words were read
    persons: tuple[str, ...] = ()  # names of people (faces/people.py): photos with ALL of them
    # Where, when and what (photosearch/meta/, library/lineparse.py):
    places: tuple[str, ...] = ()  # city, region or country names ("Lisbon", "Lisbon, Portugal"); any of them
    cameras: tuple[str, ...] = ()  # words of the camera's make/model ("iPhone", "Canon EOS"); any of them
    colors: tuple[str, ...] = ()  # colour names (meta/colours.py NAMES, "black and white"); all of them
    kinds: tuple[str, ...] = ()  # photo, screenshot, scan, panorama, image, video; any of them
    after_south: str | None = None  # for photos taken south of the equator, replace after/before: the
    before_south: str | None = None  # southern range of a season ("last summer" is Dec-Feb there)

    def __post_init__(self):
        for name in ("types", "places", "cameras", "colors", "kinds"):
            value = getattr(self, name) or ()
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(self, "persons", tuple(" ".join(str(n).split()) for n in self.persons or ()))

    @property
    def active(self) -> bool:
        """Whether any filter narrows the library (``include_undated`` alone narrows nothing)."""
        return bool(self.folder or self.after or self.before or self.types or self.has_text or self.persons
                    or self.places or self.cameras or self.colors or self.kinds)

    @property
    def meta(self) -> bool:
        """Whether a filter on the photos' metadata (place, camera, colour, kind) is set."""
        return bool(self.places or self.cameras or self.colors or self.kinds)


@dataclass(frozen=True)
class Query:
    """One search: what to rank by, which photos to consider, and how to hand the answer back."""

    text: str | None = None  # typed words, with "cat + snow - indoor" / "2*cat" arithmetic and text:"..."
    like: str | None = None  # an example image (a library photo or any file)
    more: tuple[str, ...] = ()  # photos marked "more like this" (library/feedback.py), in order
    less: tuple[str, ...] = ()  # photos marked "less like this"
    things: tuple[str, ...] = ()  # named things (library/things.py) the photos should show, ranked with the words
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"  # or "date": the good matches newest first
    top_k: int = 50
    min_score: float | None = None  # a fixed cut overriding the per-query relevance cut
    only_relevant: bool = False  # keep the good matches only
    group_copies: bool = True  # identical files are one hit with ``copies``

    def __post_init__(self):
        # Lists from argparse or the window become tuples: a Query is a value (hashable, safe to share).
        for name in ("more", "less", "things"):
            object.__setattr__(self, name, tuple(str(p) for p in getattr(self, name) or ()))
        if self.text is not None and not self.text.strip():
            object.__setattr__(self, "text", None)
        if self.like is not None:
            object.__setattr__(self, "like", str(self.like))

    @classmethod
    def of(cls, text: str | None = None, **kw) -> "Query":
        """``Query.of("a cat", after="2020-01-01", top_k=5)``: filter fields may be given flat."""
        names = {f.name for f in fields(Filters)}
        flt = {k: kw.pop(k) for k in list(kw) if k in names}
        base = kw.pop("filters", Filters())
        return cls(text, filters=replace(base, **flt), **kw)

    @property
    def typed(self) -> bool:
        """Something to rank by: words, an example image or a named thing (feedback alone ranks too, see
        ``browsing``)."""
        return self.text is not None or self.like is not None or bool(self.things)

    @property
    def browsing(self) -> bool:
        """No words, no example, no "more like this": the library is listed newest first."""
        return not self.typed and not self.more
