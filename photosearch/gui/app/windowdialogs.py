"""The main window's non-modal dialogs: Settings and Fine-tune, wired to explicit actions
(:class:`DialogActions`), kept (one of each kind) until the window closes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtWidgets import QWidget

from photosearch.gui.base.settings import Settings
from photosearch.paths import AppPaths


@dataclass
class DialogActions:
    """What the dialogs read from the window and what they ask it to do."""

    model_name: Callable[[], str | None]  # the model in use
    folders: Callable[[], list[str]]
    read_text: Callable[[], bool]  # the library's text pass is on
    use_model: Callable[[str], object]
    reload_model: Callable[[], object]  # the backend or device changed: the model in use reloads on it
    set_read_text: Callable[[bool], object]
    open_finetune: Callable[[str], object]
    reindex: Callable[[], object]
    add_folder: Callable[[], object]
    remove_folder: Callable[[str], object]
    cache_cleared: Callable[[], object]
    search_settings_changed: Callable[[], object]


class WindowDialogs:
    """Opens the window's dialogs and closes them with it. ``open`` maps a kind to its newest dialog."""

    def __init__(self, parent: QWidget, paths: AppPaths, settings: Settings, thumbs, actions: DialogActions):
        self.parent, self.paths, self.settings, self.thumbs, self.actions = parent, paths, settings, thumbs, actions
        self.open: dict[str, QWidget] = {}

    def settings_dialog(self, select: str | None = None) -> QWidget:
        """The Settings dialog; ``select``: the model its model page starts on (else the one in use)."""
        from photosearch.gui.app.dialogs import SettingsDialog

        a = self.actions
        dlg = SettingsDialog(self.parent, self.paths, self.settings, current_model=a.model_name(), thumbs=self.thumbs,
                             select=select, folders=a.folders(), read_text=a.read_text())
        dlg.readTextChanged.connect(a.set_read_text)
        dlg.modelChosen.connect(a.use_model)
        dlg.backendChanged.connect(lambda _b: a.reload_model())  # the model in use stays until it reloads
        dlg.deviceChanged.connect(lambda _d: a.reload_model())
        dlg.finetuneRequested.connect(a.open_finetune)
        dlg.reindexRequested.connect(lambda: a.reindex())
        dlg.addFolderRequested.connect(lambda: a.add_folder())
        dlg.removeFolderRequested.connect(a.remove_folder)
        dlg.cacheCleared.connect(lambda: a.cache_cleared())
        dlg.searchSettingsChanged.connect(lambda: a.search_settings_changed())
        return self._show("settings", dlg)

    def finetune(self, base: str | None = None) -> QWidget:
        """The fine-tuning dialog, starting from ``base`` when given."""
        from photosearch.gui.finetune.dialog import FineTuneDialog

        dlg = FineTuneDialog(self.parent, self.paths, self.settings)
        if base:
            dlg.form.base.setEditText(base)  # selected once the dialog's model list arrives
        dlg.useModel.connect(self.actions.use_model)
        return self._show("finetune", dlg)

    def close_all(self) -> None:
        for dlg in self.open.values():
            dlg.close()

    def _show(self, kind: str, dlg: QWidget) -> QWidget:
        self.open[kind] = dlg
        dlg.show()
        return dlg
