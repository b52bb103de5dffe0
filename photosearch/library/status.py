"""What a library holds, as one typed value: :meth:`Library.status` returns a :class:`LibraryStatus`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextStatus:
    """The text pass (library/textindex.py): whether it is on, photos read, and those in which words were."""

    enabled: bool = True
    read: int = 0
    with_text: int = 0


@dataclass(frozen=True)
class LibraryStatus:
    """One library's photos, vectors, folders and skipped files. ``photo_folders`` (the folders holding
    photos, sub-folders too) is filled only where asked for (the window's folder filter)."""

    library: str
    photos: int = 0
    models: dict[str, int] = field(default_factory=dict)  # model id -> photos with a vector of it
    folders: list[str] = field(default_factory=list)
    missing_folders: list[str] = field(default_factory=list)  # offline: not reachable now, photos kept
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"} per file that could not be indexed
    text: TextStatus = field(default_factory=TextStatus)
    photo_folders: list[str] | None = None
    faces: dict = field(default_factory=dict)  # faces/facepass.py: enabled, scanned, failed, faces, people...

    def to_dict(self) -> dict:
        """The ``status --json`` object (``photo_folders`` only when filled)."""
        d = {"library": self.library, "photos": self.photos, "models": dict(self.models),
             "folders": list(self.folders), "missing_folders": list(self.missing_folders),
             "skipped": [dict(s) for s in self.skipped],
             "text": {"enabled": self.text.enabled, "read": self.text.read, "with_text": self.text.with_text}}
        if self.faces:
            d["faces"] = dict(self.faces)
        if self.photo_folders is not None:
            d["photo_folders"] = list(self.photo_folders)
        return d
