"""The main window: folders, search box, thumbnail grid, preview pane, indexing bar, skipped-files panel.

Dependencies come in through the constructor (paths, settings, and optionally a ready model), so tests drive
the real widgets with a tiny model while production loads the active model in the background after the
first paint.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QDate, QModelIndex, QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDockWidget, QFileDialog, QFrame, QHBoxLayout,
                               QHeaderView, QLabel, QListWidget, QListWidgetItem, QMainWindow, QProgressBar,
                               QPushButton, QSlider, QSplitter, QStackedWidget, QStyle, QToolButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from photosearch import APP_NAME
from photosearch.gui.models import ResultsModel
from photosearch.gui.resources import app_icon
from photosearch.gui.theme import icon
from photosearch.gui.settings import THUMB_MAX, THUMB_MIN, Settings
from photosearch.gui.widgets import (Banner, EmptyState, PreviewPane, ResultsView, SearchBox, dropped_paths,
                                     muted)
from photosearch.humanize import format_duration
from photosearch.gui.workers import (PREVIEW_PIXELS, QUERY_ERROR, SearchRequest, SearchService, Task, TaskRunner,
                                     ThumbnailLoader)
from photosearch.imageio import is_image_name
from photosearch.paths import AppPaths

log = logging.getLogger(__name__)
DEBOUNCE_MS = 250  # results as you type, without a search per keystroke
LIVE_REFRESH_S = 1.5  # while indexing, re-run the current search at most this often


# -- jobs run in worker threads (no widgets in here) ---------------------------------------------
def _load_model_job(paths: AppPaths, name: str | None, device: str):
    def job(task: Task):
        from photosearch.model.store import ModelStore

        store = ModelStore(paths)
        chosen = name or store.active()
        model = store.load(chosen, device=device, progress=task.report)
        return chosen, model
    return job


def _index_job(library_path: Path, model, add: list[str], batch_size: int):
    def job(task: Task):
        from photosearch.library import Library

        lib = Library.open(library_path)
        try:
            for f in add:
                lib.add_folder(f)
            yield from lib.index(model, None, batch_size=batch_size, cancel=task.cancel_event)
        finally:
            lib.close()
    return job


def _library_job(library_path: Path, action: str, arg=None):
    def job(_task: Task):
        from photosearch.library import Library

        with Library.open(library_path) as lib:
            if action == "remove":
                lib.remove_folder(arg)
            if action == "info":
                return arg, lib.photo_info(arg)
            return lib.status()
    return job


class MainWindow(QMainWindow):
    modelReady = Signal(str)  # model name
    modelFailed = Signal(str)
    indexingFinished = Signal(object)  # the final IndexEvent (report set), or None when it failed
    searchFinished = Signal(object)  # SearchOutcome (also when it found nothing)
    searchFailed = Signal(str)
    libraryStatus = Signal(dict)

    def __init__(self, paths: AppPaths, settings: Settings | None = None, *, model=None, model_name: str | None = None,
                 library_path: str | Path | None = None, autoload: bool = True):
        super().__init__()
        self.paths = paths
        self.settings = settings or Settings(paths)
        self.library_path = Path(library_path) if library_path else paths.library_db
        self.model = None
        self.model_name = model_name or self.settings.model
        self.loading_model = False
        self.index_task: Task | None = None
        self.last_index_event = None
        self._pending_index: list[str] | None = None  # folders to add when the model is ready / indexing ends
        self._status: dict = {}
        self._skips: dict[str, str] = {}
        self._last_live_refresh = 0.0
        self._searched_once = False
        self.like_path: str | None = None
        self.last_outcome = None
        self.reader_wait_ms = -1  # the launcher lowers it: see shutdown()
        self.clean_shutdown = True
        self._device_spec = None  # the device setting the current model was loaded for

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.readers = TaskRunner(2, self)
        self.writer = TaskRunner(1, self)  # every library write goes through this one thread
        self.thumbs = ThumbnailLoader(paths.thumbnails, threads=2, parent=self)
        self.search_service = SearchService(self.library_path, self)
        self.search_service.results.connect(self._on_search_results)
        self.search_service.failed.connect(self._on_search_failed)
        self.results = ResultsModel(self.thumbs, self)
        self.thumbs.loaded.connect(self._on_image_loaded)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_search)

        self._build_ui()
        self._build_actions()
        self._restore()
        if model is not None:
            self.set_model(model, self.model_name or model.config.name)
        elif autoload:
            # After the first paint: the window is up before torch is imported.
            QTimer.singleShot(0, self.load_model)
        QTimer.singleShot(0, self.refresh_status)
        self._update_state()

    # ==== UI construction =========================================================================
    def _build_ui(self) -> None:
        st = self.style()
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        outer.setSpacing(6)

        header = QHBoxLayout()
        header.setSpacing(8)
        self.search_box = SearchBox()
        self.search_box.textEdited.connect(self._on_text_edited)
        self.search_box.returnPressed.connect(self.run_search)
        self.search_box.imageDropped.connect(self.search_like)
        header.addWidget(self.search_box, 1)
        self.like_chip = QToolButton()
        self.like_chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.like_chip.setToolTip("Searching by example image — click to clear")
        self.like_chip.clicked.connect(self.clear_search)
        self.like_chip.hide()
        header.addWidget(self.like_chip)
        zoom_icon = QLabel()
        zoom_icon.setPixmap(icon("zoom").pixmap(16, 16))
        header.addWidget(zoom_icon)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(THUMB_MIN, THUMB_MAX)
        self.zoom.setSingleStep(16)
        self.zoom.setPageStep(32)
        self.zoom.setFixedWidth(110)
        self.zoom.setToolTip("Thumbnail size (Ctrl + wheel, Ctrl+= / Ctrl+-)")
        self.zoom.valueChanged.connect(self.set_thumb_size)
        header.addWidget(self.zoom)
        self.settings_btn = QToolButton()
        self.settings_btn.setIcon(icon("settings"))
        self.settings_btn.setText("Settings")
        self.settings_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_btn.clicked.connect(self.open_settings)
        header.addWidget(self.settings_btn)
        self.finetune_btn = QToolButton()
        self.finetune_btn.setIcon(icon("finetune"))
        self.finetune_btn.setToolTip("Fine-tune a model on Flickr8k")
        self.finetune_btn.setText("Fine-tune")
        self.finetune_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.finetune_btn.clicked.connect(self.open_finetune)
        header.addWidget(self.finetune_btn)
        outer.addLayout(header)

        self.banner = Banner()
        outer.addWidget(self.banner)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self._build_sidebar())

        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.setSpacing(2)
        self.results_label = QLabel()
        muted(self.results_label)
        ml.addWidget(self.results_label)
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.empty.actionTriggered.connect(self._on_empty_action)
        self.view = ResultsView(self.settings.thumb_size)
        self.view.setModel(self.results)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.activated.connect(lambda idx: self.open_path(self.results.path_at(idx)))
        self.view.spacePressed.connect(self.toggle_preview)
        self.view.zoomRequested.connect(lambda d: self.zoom.setValue(self.zoom.value() + 16 * d))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        ml.addWidget(self.stack, 1)
        self.splitter.addWidget(middle)

        self.preview = PreviewPane()
        self.preview.openRequested.connect(self.open_path)
        self.preview.revealRequested.connect(self.reveal_path)
        self.preview.copyRequested.connect(self.copy_path)
        self.preview.moreLikeRequested.connect(self.search_like)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([230, 760, 330])
        outer.addWidget(self.splitter, 1)

        outer.addWidget(self._build_index_bar())
        self.setCentralWidget(central)

        self.skipped_tree = QTreeWidget()
        self.skipped_tree.setHeaderLabels(["File", "Reason"])
        self.skipped_tree.setRootIsDecorated(False)
        self.skipped_tree.setAlternatingRowColors(True)
        self.skipped_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.skipped_tree.header().resizeSection(0, 420)
        self.skipped_dock = QDockWidget("Skipped files", self)
        self.skipped_dock.setObjectName("skipped")
        self.skipped_dock.setWidget(self.skipped_tree)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.skipped_dock)
        self.skipped_dock.hide()

        sb = self.statusBar()
        self.model_busy = QProgressBar()
        self.model_busy.setRange(0, 0)
        self.model_busy.setFixedSize(70, 10)
        self.model_busy.setTextVisible(False)
        self.model_label = QLabel()
        self.count_label = QLabel()
        self.count_label.setContentsMargins(8, 0, 8, 0)
        self.model_label.setContentsMargins(4, 0, 8, 0)
        self.skipped_btn = QToolButton()
        self.skipped_btn.setAutoRaise(True)
        self.skipped_btn.clicked.connect(lambda: self.skipped_dock.setVisible(not self.skipped_dock.isVisible()))
        self.skipped_btn.hide()
        sb.addPermanentWidget(self.skipped_btn)
        sb.addPermanentWidget(self.count_label)
        sb.addPermanentWidget(self.model_busy)
        sb.addPermanentWidget(self.model_label)

    def _build_sidebar(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(190)
        lay = QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(6)
        title = QLabel("FOLDERS")
        f = title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 0.85)
        title.setFont(f)
        muted(title)
        lay.addWidget(title)
        self.folder_list = QListWidget()
        self.folder_list.setToolTip("Folders to index — drop a folder on the window to add it")
        self.folder_list.setFrameShape(QFrame.Shape.NoFrame)
        self.folder_list.setMinimumHeight(80)
        lay.addWidget(self.folder_list, 1)
        row = QHBoxLayout()
        st = self.style()
        self.add_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder), "Add…")
        self.add_btn.setToolTip("Add a folder to index (Ctrl+O)")
        self.add_btn.clicked.connect(self.choose_folder)
        self.remove_btn = QPushButton("Remove")
        self.remove_btn.clicked.connect(self._remove_selected_folder)
        self.remove_btn.setEnabled(False)
        self.folder_list.currentRowChanged.connect(lambda r: self.remove_btn.setEnabled(r >= 0))
        row.addWidget(self.add_btn)
        row.addWidget(self.remove_btn)
        lay.addLayout(row)
        self.reindex_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Update index")
        self.reindex_btn.setToolTip("Look for new, changed and removed photos")
        self.reindex_btn.clicked.connect(lambda: self.start_indexing())
        lay.addWidget(self.reindex_btn)
        lay.addSpacing(10)
        ftitle = QLabel("FILTERS")
        ftitle.setFont(f)
        muted(ftitle)
        lay.addWidget(ftitle)
        self.folder_filter = QComboBox()
        self.folder_filter.addItem("All folders", "")  # "" not None: see ResultsModel.path_at
        self.folder_filter.currentIndexChanged.connect(lambda _i: self._filters_changed())
        lay.addWidget(self.folder_filter)
        today = QDate.currentDate()
        self.after_check = QCheckBox("Taken after")
        self.after_date = QDateEdit(today.addYears(-1))
        self.before_check = QCheckBox("Taken before")
        self.before_date = QDateEdit(today)
        for chk, de in ((self.after_check, self.after_date), (self.before_check, self.before_date)):
            de.setCalendarPopup(True)
            de.setDisplayFormat("yyyy-MM-dd")
            de.setEnabled(False)
            chk.toggled.connect(de.setEnabled)
            chk.toggled.connect(lambda _v: self._filters_changed())
            de.dateChanged.connect(lambda _d: self._filters_changed())
            r = QHBoxLayout()
            r.addWidget(chk)
            r.addWidget(de, 1)
            lay.addLayout(r)
        lay.addStretch(1)
        return side

    def _build_index_bar(self) -> QWidget:
        self.index_bar = QFrame()
        lay = QHBoxLayout(self.index_bar)
        lay.setContentsMargins(0, 2, 0, 2)
        self.index_label = QLabel()
        self.index_progress = QProgressBar()
        self.index_progress.setMaximumWidth(320)
        self.index_progress.setTextVisible(False)
        self.index_progress.setFixedHeight(12)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel_indexing)
        lay.addWidget(self.index_progress, 1)
        lay.addWidget(self.index_label, 2)
        lay.addWidget(self.pause_btn)
        lay.addWidget(self.cancel_btn)
        self.index_bar.hide()
        return self.index_bar

    def _build_actions(self) -> None:
        menu = self.menuBar()
        filem = menu.addMenu("&File")
        self._act(filem, "&Add folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self._act(filem, "&Update index", lambda: self.start_indexing(), "Ctrl+R")
        filem.addSeparator()
        self._act(filem, "&Settings…", self.open_settings, "Ctrl+,")
        filem.addSeparator()
        self._act(filem, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        viewm = menu.addMenu("&View")
        self._act(viewm, "Zoom &in", lambda: self.zoom.setValue(self.zoom.value() + 32), "Ctrl+=")
        self._act(viewm, "Zoom &out", lambda: self.zoom.setValue(self.zoom.value() - 32), "Ctrl+-")
        self._act(viewm, "&Preview pane", self.toggle_preview, None)
        viewm.addAction(self.skipped_dock.toggleViewAction())
        toolsm = menu.addMenu("&Tools")
        self._act(toolsm, "&Fine-tune on Flickr8k…", self.open_finetune, None)
        helpm = menu.addMenu("&Help")
        self._act(helpm, "&About PhotoSearch", self._about, None)
        for key in ("Ctrl+F", "Ctrl+L"):
            QShortcut(QKeySequence(key), self, activated=self.focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.clear_search)
        QShortcut(QKeySequence(Qt.Key.Key_Down), self.search_box, activated=self._focus_grid,
                  context=Qt.ShortcutContext.WidgetShortcut)
        # Result actions: the grid's context menu, and the preview pane's buttons.
        for text, fn in (("Open", self.open_path), ("Show in folder", self.reveal_path),
                         ("Copy path", self.copy_path), ("More like this", self.search_like)):
            a = QAction(text, self.view)
            a.triggered.connect(lambda _c=False, fn=fn: self._on_selected(fn))
            self.view.addAction(a)

    def _act(self, menu, text, fn, shortcut) -> QAction:
        a = menu.addAction(text)
        a.triggered.connect(lambda _c=False: fn())
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        return a

    def _restore(self) -> None:
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        else:
            self.resize(1320, 820)
        if self.settings.splitter is not None:
            self.splitter.restoreState(self.settings.splitter)
        self.zoom.setValue(self.settings.thumb_size)
        for f in self.settings.folders:
            self._add_folder_item(f)

    # ==== model ===================================================================================
    def load_model(self, name: str | None = None, device: str | None = None) -> None:
        """Load (or switch to) a model in the background; search and indexing wait for it."""
        if name:
            self.model_name = name
        device = device or self.settings.device
        self.loading_model = True
        self.model_busy.show()
        self.model_label.setText(f"Loading model {self.model_name or ''}…".replace("  ", " "))
        task = Task(_load_model_job(self.paths, self.model_name, device), "load-model")
        task.progress.connect(lambda msg: self.statusBar().showMessage(str(msg), 4000))
        task.succeeded.connect(lambda out: self.set_model(out[1], out[0]))
        task.failed.connect(self._on_model_failed)
        self.readers.submit(task)
        self._update_state()

    def set_model(self, model, name: str) -> None:
        self.model = model
        self.model_name = name
        self.loading_model = False
        self.search_service.set_model(model)
        self.model_busy.hide()
        dev = getattr(getattr(model, "device", None), "type", "")
        self.model_label.setText(f"Model: {name}" + (f" ({dev})" if dev else ""))
        self.modelReady.emit(name)
        if self._pending_index is not None or self.settings.folders:
            self.start_indexing()
        if self.current_query() or self.like_path:
            self.run_search()
        self._update_state()

    def _on_model_failed(self, msg: str) -> None:
        self.loading_model = False
        self.model_busy.hide()
        self.model_label.setText("No model")
        self.show_error(f"Could not load the model {self.model_name or ''}: {msg}")
        self.modelFailed.emit(msg)
        self._update_state()

    # ==== folders and indexing ====================================================================
    def choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of photos", str(Path.home()))
        if d:
            self.add_folder(d)

    def _add_folder_item(self, path: str) -> None:
        if self.folder_list.findItems(path, Qt.MatchFlag.MatchExactly):
            return
        item = QListWidgetItem(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon), os.path.basename(path) or path)
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        self.folder_list.addItem(item)
        self.folder_filter.addItem(os.path.basename(path) or path, path)

    def folders(self) -> list[str]:
        return [self.folder_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.folder_list.count())]

    def add_folder(self, path: str) -> bool:
        p = Path(path).expanduser()
        if not p.is_dir():
            self.show_error(f"Not a folder: {path}")
            return False
        p = str(p.resolve())
        if p not in self.folders():
            self._add_folder_item(p)
            self.settings.folders = self.folders()
        self.start_indexing([p])
        return True

    def _remove_selected_folder(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            self.remove_folder(item.data(Qt.ItemDataRole.UserRole))

    def remove_folder(self, path: str) -> None:
        for i in range(self.folder_list.count()):
            if self.folder_list.item(i).data(Qt.ItemDataRole.UserRole) == path:
                self.folder_list.takeItem(i)
                break
        i = self.folder_filter.findData(path)
        if i > 0:
            self.folder_filter.removeItem(i)
        self.settings.folders = self.folders()
        if self.index_task is not None:
            self.index_task.cancel()
        task = Task(_library_job(self.library_path, "remove", path), "remove-folder")
        task.failed.connect(self.show_error)
        task.succeeded.connect(lambda st: self._apply_status(st))
        task.succeeded.connect(lambda _st: self.run_search() if self.current_query() or self.like_path else None)
        self.writer.submit(task)
        self._update_state()

    def start_indexing(self, add: list[str] | None = None) -> None:
        """Index every folder (only what is new/changed, or what the active model lacks)."""
        add = list(add if add is not None else self.folders())
        if self.model is None or (self.index_task is not None and not self.index_task.done):
            self._pending_index = sorted(set((self._pending_index or []) + add))
            self._update_state()
            return
        self._pending_index = None
        if not add and not self.folders():
            return
        self.last_index_event = None
        task = Task(_index_job(self.library_path, self.model, add, self.settings.batch_size), "index")
        task.progress.connect(lambda ev, t=task: self._on_index_event(ev, t))
        task.succeeded.connect(lambda ev, t=task: self._on_index_done(ev, t))
        task.failed.connect(lambda msg, t=task: self._on_index_failed(msg, t))
        self.index_task = task
        self.index_progress.setRange(0, 0)
        self.index_label.setText("Looking for photos…")
        self.pause_btn.setText("Pause")
        self.pause_btn.setEnabled(True)
        self.cancel_btn.setEnabled(True)
        self.index_bar.show()
        self.writer.submit(task)
        self._update_state()

    def indexing(self) -> bool:
        return self.index_task is not None and not self.index_task.done

    def toggle_pause(self) -> None:
        t = self.index_task
        if t is None or t.done:
            return
        if t.paused:
            t.resume()
            self.pause_btn.setText("Pause")
        else:
            t.pause()
            self.pause_btn.setText("Resume")
            self.index_label.setText(self.index_label.text().split(" — ")[0] + " — paused")
            if self.current_query() or self.like_path:
                self.run_search(keep_selection=True)  # show everything indexed up to the pause

    def cancel_indexing(self) -> None:
        if self.index_task is not None and not self.index_task.done:
            self.index_task.cancel()
            self.cancel_btn.setEnabled(False)
            self.pause_btn.setEnabled(False)
            self.index_label.setText("Stopping… finished photos are kept")

    def _on_index_event(self, ev, task: Task) -> None:
        if task is not self.index_task:
            return
        self.last_index_event = ev
        for s in ev.new_skips or []:
            self._add_skip(s.get("path", ""), s.get("reason", ""))
        if ev.phase == "scan":
            self.index_progress.setRange(0, 0)
            self.index_label.setText(f"Looking for photos… {ev.total or ev.done} found")
        elif ev.phase == "embed":
            self.index_progress.setRange(0, max(1, ev.total))
            self.index_progress.setValue(ev.done)
            rate = f"{ev.rate:.1f} photos/s" if ev.rate else ""
            eta = f"about {format_duration(ev.eta)} left" if ev.eta is not None else ""
            parts = [f"Indexing {ev.done:,} of {ev.total:,}", rate, eta]
            text = " · ".join(p for p in parts if p)
            self.index_label.setText(text + (" — paused" if self.index_task.paused else ""))
            now = time.monotonic()
            if (self.current_query() or self.like_path) and now - self._last_live_refresh > LIVE_REFRESH_S:
                self._last_live_refresh = now
                self.run_search(keep_selection=True)
        self._update_state()

    def _on_index_done(self, ev, task: Task) -> None:
        if task is not self.index_task:
            return
        self.index_bar.hide()
        rep = getattr(ev, "report", None)
        if rep is not None:
            msg = (f"Indexing cancelled: {rep.indexed:,} photos indexed, the rest next time" if rep.cancelled
                   else f"Indexed {rep.indexed:,} new photos in {format_duration(rep.seconds)}"
                   + (f", {len(rep.skipped)} skipped" if rep.skipped else ""))
            self.statusBar().showMessage(msg, 8000)
            for s in rep.skipped or []:
                self._add_skip(s.get("path", ""), s.get("reason", ""))
        self.index_task = None
        self.indexingFinished.emit(ev)
        self.refresh_status()
        if self.current_query() or self.like_path:
            self.run_search(keep_selection=True)
        if self._pending_index is not None:
            QTimer.singleShot(0, lambda: self.start_indexing(self._pending_index))
        self._update_state()

    def _on_index_failed(self, msg: str, task: Task) -> None:
        if task is not self.index_task:
            return
        self.index_bar.hide()
        self.index_task = None
        self.show_error(f"Indexing stopped: {msg}")
        self.indexingFinished.emit(None)
        self.refresh_status()
        self._update_state()

    def _add_skip(self, path: str, reason: str) -> None:
        if not path or self._skips.get(path) == reason:
            return
        if path not in self._skips:
            item = QTreeWidgetItem([path, reason])
            item.setToolTip(0, path)
            item.setToolTip(1, reason)
            self.skipped_tree.addTopLevelItem(item)
        self._skips[path] = reason
        self.skipped_btn.setText(f"⚠ {len(self._skips)} skipped")
        self.skipped_btn.setToolTip("Files that could not be indexed, with reasons")
        self.skipped_btn.show()

    def skipped(self) -> dict[str, str]:
        return dict(self._skips)

    def refresh_status(self) -> None:
        task = Task(_library_job(self.library_path, "status"), "status")
        task.succeeded.connect(self._apply_status)
        task.failed.connect(lambda msg: self.show_error(f"Cannot open the library: {msg}"))
        self.readers.submit(task)

    def _apply_status(self, st: dict) -> None:
        self._status = dict(st or {})
        for f in self._status.get("folders", []):
            if f not in self.folders():
                self._add_folder_item(f)
        if self._status.get("folders") is not None:
            self.settings.folders = self.folders()
        for s in self._status.get("skipped", []):
            self._add_skip(s.get("path", ""), s.get("reason", ""))
        n = self._status.get("photos")
        self.count_label.setText(f"{n:,} photos" if isinstance(n, int) else "")
        self.libraryStatus.emit(self._status)
        self._update_state()

    # ==== search ==================================================================================
    def current_query(self) -> str:
        return self.search_box.text().strip()

    def _on_text_edited(self, _text: str) -> None:
        if self.like_path:
            self._set_like(None)
        self._debounce.start()

    def _filters_changed(self) -> None:
        if self.current_query() or self.like_path:
            self._debounce.start()

    def _request(self) -> SearchRequest:
        after = self.after_date.date().toString("yyyy-MM-dd") if self.after_check.isChecked() else None
        before = self.before_date.date().toString("yyyy-MM-dd") if self.before_check.isChecked() else None
        query = self.current_query() or None
        # The cut-off applies to typed queries; "more like this" always shows its nearest photos.
        cut = self.settings.min_score if query and not self.like_path and self.settings.min_score > 0 else None
        return SearchRequest(query=query, like=self.like_path, folder=self.folder_filter.currentData() or None,
                             after=after, before=before, min_score=cut)

    def run_search(self, keep_selection: bool = False) -> None:
        self._debounce.stop()
        self._keep_selection = keep_selection
        if not self.current_query() and not self.like_path:
            self.results.clear()
            self.last_outcome = None
            self.preview.show_path(None)
            self._update_state()
            return
        if self.model is None:
            self._update_state()  # the search runs when the model is ready (set_model)
            return
        self._searched_once = True
        self.search_service.submit(self._request())

    def search_like(self, path: str) -> None:
        """Query by example: photos that look like ``path`` (any image file, in the library or not)."""
        if not path:
            return
        self._set_like(path)
        self.search_box.clear()
        self.run_search()

    def _set_like(self, path: str | None) -> None:
        self.like_path = path
        if path:
            self.like_chip.setText(f"Like: {os.path.basename(path)}  ✕")
            pm = self.results.pixmaps.get(path)
            self.like_chip.setIcon(pm if pm is not None else self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
            self.search_box.setPlaceholderText("Searching by example — type to search by words instead")
            self.like_chip.show()
        else:
            self.like_chip.hide()
            self.search_box.setPlaceholderText("Describe a photo — e.g. “a dog on the beach” — or drop an image here")

    def clear_search(self) -> None:
        self.search_box.clear()
        self._set_like(None)
        self.run_search()
        self.focus_search()

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _focus_grid(self) -> None:
        if self.results.rowCount():
            self.view.setFocus()
            if not self.view.currentIndex().isValid():
                self.view.setCurrentIndex(self.results.index(0))

    def _on_search_results(self, outcome) -> None:
        req = outcome.request
        if req.query != (self.current_query() or None) or req.like != self.like_path:
            return  # the user has typed on since
        keep = getattr(self, "_keep_selection", False)
        selected = self.results.path_at(self.view.currentIndex()) if keep else None
        scroll = self.view.verticalScrollBar().value() if keep else 0
        self.last_outcome = outcome
        self.results.set_hits(outcome.hits, outcome.infos)
        what = f"“{req.query}”" if req.query else f"photos like {os.path.basename(req.like or '')}"
        n = len(outcome.hits)
        self.results_label.setText(f"{n:,} result{'s' if n != 1 else ''} for {what} · {outcome.seconds * 1000:.0f} ms"
                                   if n else "")
        if selected and selected in self.results._row_of and self.results._row_of[selected] < self.results.rowCount():
            self.view.setCurrentIndex(self.results.index(self.results._row_of[selected]))
            self.view.verticalScrollBar().setValue(scroll)
        elif n:
            self.view.scrollToTop()
        self._update_state()
        self.searchFinished.emit(outcome)

    def _on_search_failed(self, _rid: int, msg: str) -> None:
        if msg.startswith(QUERY_ERROR):
            self.results.clear()
            self.last_outcome = None
            self._update_state()
            self.results_label.setText(f"⚠ {msg[len(QUERY_ERROR):]}")
            self.empty.set_state("query-error", "Finish the query", msg[len(QUERY_ERROR):] + "\n\nCombine "
                                 "ideas with + and -, e.g. “snow + mountains - people”.", self.windowIcon())
        elif self.model is not None:
            self.show_error(f"Search failed: {msg}")
        self.searchFailed.emit(msg)

    # ==== selection, preview and result actions ===================================================
    def _on_current_changed(self, cur: QModelIndex, _prev=None) -> None:
        path = self.results.path_at(cur)
        if path is None:
            self.preview.show_path(None)
            return
        info = self.results.infos.get(path)
        self.preview.show_path(path, self.results.score_at(cur), info, self.results.pixmaps.get(path))
        self.thumbs.request(path, PREVIEW_PIXELS)
        if info is None:
            task = Task(_library_job(self.library_path, "info", path), "info")
            task.succeeded.connect(self._on_info)
            self.readers.submit(task)

    def _on_info(self, out) -> None:
        path, info = out
        if info:
            self.results.infos[path] = info
            if self.preview.path == path:
                self.preview.set_info(info)

    def _on_image_loaded(self, path: str, size: int, image) -> None:
        if size == PREVIEW_PIXELS and path == self.preview.path:
            self.preview.set_image(path, QPixmap.fromImage(image) if not image.isNull() else None)

    def _on_selected(self, fn) -> None:
        cur = self.results.path_at(self.view.currentIndex())
        paths = self.view.selected_paths() or ([cur] if cur else [])
        if paths and paths[0]:
            fn(paths[0])

    def toggle_preview(self) -> None:
        self.preview.setVisible(not self.preview.isVisible())

    def open_path(self, path: str | None) -> None:
        if path and not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            self.show_error(f"No application to open {path}")

    def reveal_path(self, path: str | None) -> None:
        if not path:
            return
        if sys.platform == "darwin":
            ok = QProcess.startDetached("open", ["-R", path])
            ok = ok[0] if isinstance(ok, tuple) else ok
        elif sys.platform.startswith("win"):
            ok = QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])
            ok = ok[0] if isinstance(ok, tuple) else ok
        else:
            # The FreeDesktop file-manager interface selects the file; plain folder opening is the fallback.
            ok = QProcess.startDetached("dbus-send", [
                "--session", "--dest=org.freedesktop.FileManager1", "--type=method_call",
                "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1.ShowItems",
                f"array:string:{QUrl.fromLocalFile(path).toString()}", "string:"])
            ok = ok[0] if isinstance(ok, tuple) else ok
            if not ok:
                ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))
        if not ok:
            self.show_error(f"Could not show {path} in the file manager")

    def copy_path(self, path: str | None) -> None:
        if path:
            QGuiApplication.clipboard().setText(path)
            self.statusBar().showMessage(f"Copied {path}", 3000)

    # ==== drag and drop onto the window ===========================================================
    def dragEnterEvent(self, e) -> None:
        paths = dropped_paths(e.mimeData())
        if any(os.path.isdir(p) or (os.path.isfile(p) and is_image_name(p)) for p in paths):
            e.acceptProposedAction()

    def dragMoveEvent(self, e) -> None:
        self.dragEnterEvent(e)

    def dropEvent(self, e) -> None:
        paths = dropped_paths(e.mimeData())
        dirs = [p for p in paths if os.path.isdir(p)]
        for d in dirs:
            self.add_folder(d)
        images = [p for p in paths if os.path.isfile(p) and is_image_name(p)]
        if not dirs and images:
            self.search_like(images[0])
        e.acceptProposedAction()

    # ==== state, messages, dialogs ================================================================
    def show_error(self, msg: str) -> None:
        log.warning("%s", msg)
        self.banner.show_message(msg, "error")

    def set_thumb_size(self, size: int) -> None:
        size = max(THUMB_MIN, min(THUMB_MAX, int(size)))
        self.view.set_thumb_size(size)
        self.settings.thumb_size = size

    def _on_empty_action(self, key: str) -> None:
        if key == "no-folders":
            self.choose_folder()
        elif key == "no-results":
            self.clear_search()
        elif key == "no-model":
            self.open_settings()

    def _update_state(self) -> None:
        """Pick the grid or the empty state that says what to do next."""
        ev = self.last_index_event
        querying = bool(self.current_query() or self.like_path)
        photos = self._status.get("photos") or 0
        icon = self.windowIcon()
        st = self.style()
        if querying and self.results.total():
            self.stack.setCurrentWidget(self.view)
            return
        self.stack.setCurrentWidget(self.empty)
        self.results_label.setText("")
        if not self.folders() and not photos:
            self.empty.set_state("no-folders", "Add a folder of photos",
                                 "PhotoSearch looks at the photos in your folders once, on this computer, so that "
                                 "you can find any of them by describing it in a few words.\n\nChoose a folder, or "
                                 "drop one onto this window.", icon, "Add folder…")
        elif self.model is None and self.loading_model:
            self.empty.set_state("loading", "Getting ready…",
                                 "Loading the search model in the background. You can type now; results appear as "
                                 "soon as it is ready.", icon)
        elif self.model is None:
            self.empty.set_state("no-model", "No search model",
                                 "The model could not be loaded. Pick another one in Settings.",
                                 st.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), "Open settings…")
        elif querying and self.like_path and not self._searched_once:
            self.empty.set_state("searching", "Searching…", "", icon)
        elif querying and self.last_outcome is not None:
            if self.indexing():
                self.empty.set_state("no-results-yet", "No matches yet",
                                     "Indexing is still running — matching photos appear here as they are indexed.",
                                     icon)
            else:
                self.empty.set_state("no-results", "No photos match well enough",
                                     f"Nothing scored above the cut-off ({self.settings.min_score:.2f}) for "
                                     f"“{self.current_query() or 'this photo'}” among {photos:,} photos. Try other "
                                     f"words, describe what is in the picture, remove filters, or lower the "
                                     f"minimum score in Settings.", st.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation),
                                     "Clear search")
        elif querying:
            self.empty.set_state("searching", "Searching…", "", icon)
        elif self.indexing() or (self._pending_index is not None and not photos):
            done = f"{ev.done:,} of {ev.total:,} photos so far. " if ev is not None and ev.phase == "embed" else ""
            self.empty.set_state("indexing", "Indexing your photos…",
                                 f"{done}You can already search: results appear as photos are indexed.", icon)
        else:
            self.empty.set_state("ready", "What are you looking for?",
                                 f"Describe a photo in a few words — “a cup of coffee”, “snow + mountains - people” "
                                 f"— or drop an image on the search box to find similar ones.\n\n{photos:,} photos "
                                 f"indexed in {len(self.folders())} folder{'s' if len(self.folders()) != 1 else ''}.",
                                 icon)

    def open_settings(self) -> None:
        from photosearch.gui.dialogs import SettingsDialog

        dlg = SettingsDialog(self, self.paths, self.settings, current_model=self.model_name, thumbs=self.thumbs,
                             folders=self.folders())
        dlg.modelChosen.connect(self.use_model)
        dlg.reindexRequested.connect(lambda: self.start_indexing())
        dlg.addFolderRequested.connect(self.choose_folder)
        dlg.removeFolderRequested.connect(self.remove_folder)
        dlg.cacheCleared.connect(self.results.pixmaps.clear)
        dlg.searchSettingsChanged.connect(self._filters_changed)
        dlg.show()
        self._settings_dialog = dlg

    def open_finetune(self) -> None:
        from photosearch.gui.finetune import FineTuneDialog

        dlg = FineTuneDialog(self, self.paths, self.settings)
        dlg.useModel.connect(self.use_model)
        dlg.show()
        self._finetune_dialog = dlg

    def use_model(self, name: str) -> None:
        """Switch models: load it, then index in the background only what it lacks."""
        if name == self.model_name and self.model is not None:
            return
        self.settings.model = name
        try:
            from photosearch.model.store import ModelStore

            ModelStore(self.paths).set_active(name)
        except Exception as e:  # noqa: BLE001 - a name the store does not know still loads by path
            log.debug("set_active(%s): %s", name, e)
        if self.index_task is not None:
            self.index_task.cancel()
        self.model = None
        self.search_service.set_model(None)
        self.load_model(name)

    def _about(self) -> None:
        from photosearch import __version__

        self.banner.show_message(f"PhotoSearch {__version__} — find photos in your own folders from a typed "
                                 f"sentence. Everything runs on this computer.", "info")

    # ==== closing =================================================================================
    def closeEvent(self, e) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.splitter = self.splitter.saveState()
        self.settings.thumb_size = self.zoom.value()
        if self.model_name:
            self.settings.model = self.model_name
        self.settings.sync()
        for dlg in (getattr(self, "_finetune_dialog", None), getattr(self, "_settings_dialog", None)):
            if dlg is not None:
                dlg.close()
        self.shutdown()
        super().closeEvent(e)

    def shutdown(self) -> bool:
        """Stop every worker and wait for it. Writers always finish (the library stays consistent); readers
        get ``reader_wait_ms`` — a model load stuck in ``import torch`` cannot be interrupted, so the launcher
        exits the process instead of waiting for it. Returns whether every thread has stopped."""
        self._debounce.stop()
        if self.index_task is not None:
            self.index_task.cancel()
        self.thumbs.shutdown()
        self.search_service.stop()
        self.writer.shutdown()
        self.clean_shutdown = self.readers.shutdown(self.reader_wait_ms)
        return self.clean_shutdown
