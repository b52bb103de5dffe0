"""The main window's non-modal dialogs: Settings and Fine-tune, wired to the window's actions, kept (one of each
kind) until the window closes them."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


class WindowDialogs:
    """Opens the window's dialogs and closes them with it. ``open`` maps a kind to its newest dialog."""

    def __init__(self, win):
        self.win = win
        self.open: dict[str, QWidget] = {}

    def settings(self, select: str | None = None) -> QWidget:
        """The Settings dialog; ``select``: the model its model page starts on (else the one in use)."""
        from photosearch.gui.app.dialogs import SettingsDialog

        win = self.win
        dlg = SettingsDialog(win, win.paths, win.settings, current_model=win.model_name, thumbs=win.thumbs,
                             select=select, folders=win.folders(),
                             read_text=win.library_status.text.enabled if win.library_status else True)
        dlg.readTextChanged.connect(win.set_read_text)
        dlg.modelChosen.connect(win.use_model)
        dlg.backendChanged.connect(lambda _b: win.load_model())  # the model in use stays until it reloads
        dlg.deviceChanged.connect(lambda _d: win.load_model())
        dlg.finetuneRequested.connect(win.open_finetune)
        dlg.reindexRequested.connect(lambda: win.start_indexing())
        dlg.addFolderRequested.connect(win.choose_folder)
        dlg.removeFolderRequested.connect(win.remove_folder)
        dlg.cacheCleared.connect(win.results.pixmaps.clear)
        dlg.searchSettingsChanged.connect(win.search_bar.schedule)
        return self._show("settings", dlg)

    def finetune(self, base: str | None = None) -> QWidget:
        """The fine-tuning dialog, starting from ``base`` when given."""
        from photosearch.gui.finetune.dialog import FineTuneDialog

        win = self.win
        dlg = FineTuneDialog(win, win.paths, win.settings)
        if base:
            dlg.base.setEditText(base)  # selected once the dialog's model list arrives
        dlg.useModel.connect(win.use_model)
        return self._show("finetune", dlg)

    def close_all(self) -> None:
        for dlg in self.open.values():
            dlg.close()

    def _show(self, kind: str, dlg: QWidget) -> QWidget:
        self.open[kind] = dlg
        dlg.show()
        return dlg
