"""The window's status bar: the skipped-files button, the photo count and the model indicator, beside the
passing messages (``showMessage``)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget


class StatusLine(QStatusBar):
    """Permanent widgets on the right: ``extra`` (e.g. the skipped-files button), the count, the model."""

    def __init__(self, extra: list[QWidget] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.count_label = QLabel()
        self.count_label.setContentsMargins(8, 0, 8, 0)
        self.model_busy = QProgressBar()
        self.model_busy.setRange(0, 0)
        self.model_busy.setFixedSize(70, 10)
        self.model_busy.setTextVisible(False)
        self.model_label = QLabel()
        self.model_label.setContentsMargins(4, 0, 8, 0)
        for w in [*(extra or []), self.count_label, self.model_busy, self.model_label]:
            self.addPermanentWidget(w)

    def set_photos(self, n: int | None) -> None:
        self.count_label.setText(f"{n:,} photos" if isinstance(n, int) else "")

    def model_loading(self, name: str) -> None:
        self.model_busy.show()
        self.model_label.setText(f"Loading model {name}…".replace("  ", " "))

    def model_ready(self, name: str, device: str = "") -> None:
        self.model_busy.hide()
        self.model_label.setText(f"Model: {name}" + (f" ({device})" if device else ""))

    def model_failed(self) -> None:
        self.model_busy.hide()
        self.model_label.setText("No model")

    def follow(self, models) -> None:
        """Show a :class:`~photosearch.gui.models.modelhost.ModelHost`'s loads; a failed switch shows the model kept."""
        models.loading.connect(self.model_loading)
        models.progress.connect(lambda msg: self.showMessage(str(msg), 4000))
        models.ready.connect(lambda name: self.model_ready(name, models.device_type()))
        models.failed.connect(lambda _name, _msg: self.model_ready(models.name or "", models.device_type())
                              if models.model is not None else self.model_failed())
