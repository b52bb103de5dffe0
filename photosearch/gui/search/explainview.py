"""Why this photo, in the preview pane: the concepts the photo was seen as, the result's other files (identical
copies, the shot's RAW or Live Photo video: each with Open and Show in folder links), and a toggle that draws where the query matches over the preview (photosearch/explain.py, on a reader thread)."""

from __future__ import annotations

import html
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from photosearch.gui.base.theme import muted
from photosearch.gui.tasks.workers import Task, TaskRunner


def explain_job(model, query: str | None, path: str, heatmap: bool, score: float | None = None):
    """``(path, query, Explanation)`` of one photo (concepts only without a query or ``heatmap``); ``score``:
    the one its search hit shows (None: judged from a fresh embedding, as search would)."""
    def job(_task: Task):
        from photosearch.explain import Explanation, concepts, explain, query_vector
        from photosearch.imageio import load_image

        img, _ = load_image(path, min_side=768)  # the smallest crops (1/3 of a side) stay >= 224 px
        if query:
            q = query_vector(model, query)
            return path, query, explain(model, q, img, with_heatmap=heatmap, score=score)
        return path, query, Explanation(float("nan"), concepts(model, img, None), [])
    return job


WORKING = "Looking at the photo…"
WORKING_HEATMAP = "Working out where it matches (it scores about 40 parts of the photo: a few seconds)…"


def concepts_text(concepts: list[dict], top: int = 5) -> str:
    if not concepts:
        return ""
    return "Seen as: " + ", ".join(f"{c['label']} ({c['weight']:.0%})" for c in concepts[:top])


def files_html(files: str, others: list[str]) -> str:
    """"RAW + JPEG: also IMG_1.CR2 (Open · Show in folder)", a line per other file, links by index."""
    rows = [f"{html.escape(os.path.basename(p))} (<a href='open:{i}'>Open</a> · "
            f"<a href='reveal:{i}'>Show in folder</a>)" for i, p in enumerate(others)]
    return f"<b>{html.escape(files)}</b>: also " + "<br>".join(rows)


class ExplainPanel(QWidget):
    """Concepts and copies as text; the heat-map toggle asks for the overlay (``heatmapReady``)."""

    heatmapReady = Signal(str, object)  # path, GRID x GRID list of scores (None: hide the overlay)
    openRequested = Signal(str)  # one of the result's other files
    revealRequested = Signal(str)

    def __init__(self, readers: TaskRunner | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.readers = readers
        self.model = None
        self.query: str | None = None
        self.path: str | None = None
        self.explanation = None  # the Explanation shown now
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.concepts = QLabel()
        self.concepts.setWordWrap(True)
        lay.addWidget(self.concepts)
        self.copies = QLabel()
        self.copies.setWordWrap(True)
        self.copies.setTextFormat(Qt.TextFormat.RichText)
        self.copies.linkActivated.connect(self._on_link)
        self.others: list[str] = []  # the other files listed now
        muted(self.copies)
        lay.addWidget(self.copies)
        self.heatmap_check = QCheckBox("Show where it matches")
        self.heatmap_check.setToolTip("Draw over the photo how well each region matches the query "
                                      "(the model scores overlapping crops)")
        self.heatmap_check.toggled.connect(self._on_toggle)
        lay.addWidget(self.heatmap_check)
        self.status = QLabel()  # what is being worked out (a heat map takes seconds), or why it failed
        self.status.setWordWrap(True)
        muted(self.status)
        lay.addWidget(self.status)
        self.status.hide()
        self.score: float | None = None  # the score the selected hit shows
        self.concepts.hide()
        self.copies.hide()

    def show_for(self, model, query: str | None, path: str | None, copies: list[str] | None = None,
                 files: str | None = None, score: float | None = None) -> None:
        """Explain ``path`` for ``query`` (None: no typed query; concepts only); ``copies``: the result's other
        files, ``files`` what they are together ("RAW + JPEG", library/pairs.py); ``score``: its hit's."""
        self.model, self.query, self.path, self.explanation = model, query, path, None
        self.score = score
        self._set(self.concepts, "")
        self._set(self.status, "")
        self.others = list(copies or [])
        self._set(self.copies, files_html(files or f"{len(self.others) + 1} copies", self.others)
                  if self.others else "")
        self.copies.setToolTip("\n".join(self.others))
        self.heatmap_check.setEnabled(bool(query and path))
        self.heatmapReady.emit(path or "", None)
        if path is None or model is None:
            return
        self._run(self.heatmap_check.isChecked() and bool(query))

    def _on_link(self, href: str) -> None:
        what, _, i = href.partition(":")
        if i.isdigit() and int(i) < len(self.others):
            (self.openRequested if what == "open" else self.revealRequested).emit(self.others[int(i)])

    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        """Empty labels take no room: the preview pane must fit small windows (800 x 500)."""
        label.setText(text)
        label.setVisible(bool(text))

    def _run(self, heatmap: bool) -> None:
        if self.readers is None:
            return
        task = Task(explain_job(self.model, self.query, self.path, heatmap, self.score), "explain")
        task.returned.connect(self._on_explained)
        path, query = self.path, self.query
        task.failed.connect(lambda msg: self._on_failed(path, query, msg))
        self._set(self.status, WORKING_HEATMAP if heatmap else WORKING)
        self.readers.submit(task)

    def _on_failed(self, path: str | None, query: str | None, msg: str) -> None:
        if (path, query) == (self.path, self.query):
            self._set(self.status, f"Could not explain this photo: {msg}")

    def _on_toggle(self, on: bool) -> None:
        if not on:
            self.heatmapReady.emit(self.path or "", None)
        elif self.explanation is not None and self.explanation.heatmap:
            self.heatmapReady.emit(self.path, self.explanation.heatmap)
        elif self.path and self.query:
            self._run(True)

    def _on_explained(self, out) -> None:
        path, query, ex = out
        if path != self.path or query != self.query:
            return  # the selection moved on
        self.explanation = ex
        self._set(self.status, "")
        self._set(self.concepts, concepts_text(ex.concepts))
        self.concepts.setToolTip(os.linesep.join(f"{c['label']}: {c['weight']:.1%}" for c in ex.concepts))
        if ex.heatmap and self.heatmap_check.isChecked():
            self.heatmapReady.emit(path, ex.heatmap)
