"""The window's three panels side by side: folders | results | preview."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget


class PanelSplitter(QSplitter):
    """Side panel | main view | side panel, side by side. In a small window the side panels narrow (down to
    their minimums, the last one first) so that the main view keeps ``main_min()`` pixels; growing the window
    gives the room to the main view. Side panels fold away when dragged to the edge."""

    MAIN = 1  # the main view's index

    def __init__(self, main_min: Callable[[], int], parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.main_min = main_min

    def add_panels(self, *widgets: QWidget) -> None:
        for i, w in enumerate(widgets):
            self.addWidget(w)
            self.setStretchFactor(i, 1 if i == self.MAIN else 0)
            self.setCollapsible(i, i != self.MAIN)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self.fit()

    def fit(self) -> None:
        sizes = self.sizes()
        if len(sizes) <= self.MAIN or not sum(sizes):
            return
        deficit = self.main_min() - sizes[self.MAIN]
        for i in reversed(range(len(sizes))):
            w = self.widget(i)
            if deficit <= 0 or i == self.MAIN or not w.isVisible() or not sizes[i]:
                continue
            give = min(deficit, sizes[i] - max(w.minimumWidth(), w.minimumSizeHint().width()))
            if give > 0:
                sizes[i] -= give
                sizes[self.MAIN] += give
                deficit -= give
        if sizes != self.sizes():
            self.setSizes(sizes)
