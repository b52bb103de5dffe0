"""Which model is meant: a name in the model store or a checkpoint folder, said explicitly.

What a person types (``--model``, a setting) is read once, by :meth:`ModelRef.parse`; code that already
knows it holds a folder (a retired build found by model id, a fine-tune's run folder) says so with
:meth:`ModelRef.at`, and nothing downstream guesses from the text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Container


@dataclass(frozen=True)
class ModelRef:
    """A store ``name`` (a catalog entry or an installed model) or a checkpoint ``folder``; exactly one."""

    name: str | None = None
    folder: Path | None = None

    def __post_init__(self) -> None:
        if (self.name is None) == (self.folder is None):
            raise ValueError("a ModelRef is a store name or a folder, not both or neither")

    @classmethod
    def named(cls, name: str) -> "ModelRef":
        return cls(name=name)

    @classmethod
    def at(cls, folder: str | os.PathLike) -> "ModelRef":
        return cls(folder=Path(folder).expanduser())

    @classmethod
    def parse(cls, text: str, store_names: Container[str] = ()) -> "ModelRef":
        """What a person typed: a folder when it looks like a path (a separator, a leading ``.`` or ``~``) or
        names an existing folder that is no store name (``store_names``); otherwise a store name."""
        if os.sep in text or (os.altsep and os.altsep in text) or text.startswith((".", "~")):
            return cls.at(text)
        if text not in store_names and Path(text).is_dir():
            return cls.at(text)
        return cls.named(text)

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.folder)
