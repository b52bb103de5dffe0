"""Files that could not be indexed, with the reason in words: a dock panel and its status-bar button."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QHeaderView, QToolButton, QTreeWidget, QTreeWidgetItem, QWidget


class SkippedPanel(QDockWidget):
    """The skipped-files list (path, reason). ``button`` goes in the status bar: it shows the count and
    toggles the panel; both stay hidden while nothing was skipped."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Skipped files", parent)
        self.setObjectName("skipped")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Reason"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(0, 420)
        self.setWidget(self.tree)
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setToolTip("Files that could not be indexed, with reasons")
        self.button.clicked.connect(lambda: self.setVisible(not self.isVisible()))
        self.button.hide()
        self._reasons: dict[str, str] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self.hide()

    def add(self, path: str, reason: str) -> None:
        """List a skipped file (a new reason for a listed file replaces the old one)."""
        if not path or self._reasons.get(path) == reason:
            return
        item = self._items.get(path)
        if item is None:
            item = QTreeWidgetItem([path, reason])
            item.setToolTip(0, path)
            self.tree.addTopLevelItem(item)
            self._items[path] = item
        item.setText(1, reason)
        item.setToolTip(1, reason)
        self._reasons[path] = reason
        self.button.setText(f"⚠ {len(self._reasons)} skipped")
        self.button.show()

    def add_all(self, skips) -> None:
        """Add ``[{"path", "reason"}, ...]`` as the library and the indexer report them."""
        for s in skips or []:
            self.add(s.get("path", ""), s.get("reason", ""))

    def skipped(self) -> dict[str, str]:
        return dict(self._reasons)
