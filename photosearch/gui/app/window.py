"""The main window: it lays out the parts and wires them together.

The parts own their widgets and state and talk by signals: :class:`~photosearch.gui.search.searchbar.SearchBar`
(query, example image, zoom), :class:`~photosearch.gui.library.sidebar.FolderSidebar` (folders, filters),
:class:`~photosearch.gui.library.indexing.Indexer` with its :class:`~photosearch.gui.library.indexing.IndexingBar`,
:class:`~photosearch.gui.library.skipped.SkippedPanel`, :class:`~photosearch.gui.search.preview.PreviewPane`,
:class:`~photosearch.gui.models.modelhost.ModelHost`; the empty-state texts come from
:func:`~photosearch.gui.search.states.empty_state` and what can be done with a result from
:class:`~photosearch.gui.app.resultactions.ResultActions`.

Dependencies come in through the constructor (paths, settings, and optionally a ready model), so tests drive
the real widgets with a tiny model while production loads the active model in the background after the
first paint.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMainWindow, QVBoxLayout, QWidget

from photosearch import APP_NAME
from photosearch.gui.app.banner import Banner
from photosearch.gui.app.menus import MenuActions, about_text, build_menus
from photosearch.gui.app.resultactions import ResultActions
from photosearch.gui.app.splitter import PanelSplitter
from photosearch.gui.app.statusline import StatusLine
from photosearch.gui.app.windowdialogs import DialogActions, WindowDialogs
from photosearch.gui.app.wiring import wire
from photosearch.gui.base.desktop import dropped_folders_and_images
from photosearch.gui.base.resources import app_icon
from photosearch.gui.base.screen import fit_window
from photosearch.gui.base.settings import THUMB_MAX, THUMB_MIN, Settings
from photosearch.gui.library.indexing import IndexingBar, index_summary
from photosearch.gui.library.libwork import LibraryWork
from photosearch.gui.library.sidebar import FolderSidebar
from photosearch.gui.library.skipped import SkippedPanel
from photosearch.gui.models.modelhost import ModelHost
from photosearch.gui.models.suggest import SuggestionBar
from photosearch.gui.people.panel import PeoplePanel
from photosearch.gui.search.preview import PreviewPane
from photosearch.gui.search.results import ResultsPane
from photosearch.gui.search.resultsmodel import ResultsModel
from photosearch.gui.search.searchbar import SearchBar
from photosearch.gui.search.searcher import Searcher, is_query_error
from photosearch.gui.search.states import Situation, empty_state
from photosearch.gui.search.thumbnails import ThumbnailLoader
from photosearch.gui.tasks.workers import TaskRunner, error_text
from photosearch.library.status import LibraryStatus
from photosearch.paths import AppPaths
from photosearch.session import index_on_open, on_model_promoted

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """PhotoSearch's window: search bar, folder sidebar, results grid, preview, indexing bar, status bar."""

    def __init__(self, paths: AppPaths, settings: Settings | None = None, *, model=None, model_name: str | None = None,
                 library_path: str | Path | None = None, autoload: bool = True):
        super().__init__()
        self.paths = paths
        self.settings = settings or Settings(paths)
        self.library_path = Path(library_path) if library_path else paths.library_db
        self.library_status: LibraryStatus | None = None  # the library's last status (photos, folders, skipped)
        self.reader_wait_ms = -1  # the launcher lowers it: see shutdown()
        self.clean_shutdown = True

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.readers = TaskRunner(2, self)
        self.writer = TaskRunner(1, self)  # every library write goes through this one thread
        self.thumbs = ThumbnailLoader(paths.thumbnails, threads=2, parent=self)
        self.results = ResultsModel(self.thumbs, self)
        self.models = ModelHost(paths, self.readers, self.settings, self, self.library_path)
        self.models.name = model_name or self.settings.model
        self.work = LibraryWork(self.writer, self.library_path, self.models, self.folders,
                                lambda: self.settings.batch_size, self)
        self.indexer, self.live, self.text_pass = self.work.indexer, self.work.live, self.work.text_pass

        # -- the parts ---------------------------------------------------------------------------
        self.search_bar = SearchBar(self.settings.thumb_size)
        self.banner = Banner()
        self.suggestion = SuggestionBar(self.settings, self.readers)  # first run: a stronger model to download
        self.sidebar = FolderSidebar(self.library_path, self.readers, self.writer)
        self.results_pane = ResultsPane(self.results, self.settings.thumb_size, self.windowIcon())
        self.preview = PreviewPane(self.thumbs, self.readers, self.library_path, writer=self.writer)
        self.splitter = PanelSplitter(self.results_pane.grid_min_width)
        self.index_bar = IndexingBar(self.indexer)
        self.skipped_panel = SkippedPanel(self)
        self.people_panel = PeoplePanel(self.library_path, self.readers, self.writer, self)
        self.status_line = StatusLine([self.skipped_panel.button])
        self.searcher = Searcher(self.library_path, self.search_bar, self.sidebar, self.settings,
                                 self.results_pane, self)
        self.view = self.results_pane.view  # the grid: the window wires it to the preview, menus and actions
        self.actions = ResultActions(self._selected_paths, self.show_error,
                                     lambda text, ms: self.statusBar().showMessage(text, ms),
                                     moment_of=lambda path: self.results.moment_of(path))
        # Settings and Fine-tune, one of each, closed with the window
        self.dialogs = WindowDialogs(self, paths, self.settings, self.thumbs, self._dialog_actions())
        self._lay_out()
        wire(self)
        build_menus(self, self._menu_actions(), self.view,
                    [self.skipped_panel.toggleViewAction(), self.people_panel.view_action()])
        self._restore()
        if model is not None:
            self.set_model(model, self.models.name or model.config.name)
        # The model loads after the first paint (paintEvent): the window is up before torch is imported. A
        # zero-delay timer from here is not enough: on a busy machine it can fire before the first paint.
        self._load_after_paint = model is None and autoload
        QTimer.singleShot(0, self.refresh_status)
        self._update_state()

    # ==== layout and wiring =======================================================================
    def _lay_out(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 8, 10, 6)
        outer.setSpacing(6)
        outer.addWidget(self.search_bar)
        outer.addWidget(self.banner)
        outer.addWidget(self.suggestion)
        self.splitter.add_panels(self.sidebar, self.results_pane, self.preview)
        self.splitter.setSizes([230, 760, 330])
        outer.addWidget(self.splitter, 1)
        outer.addWidget(self.index_bar)
        self.setCentralWidget(central)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.skipped_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.people_panel)
        self.setStatusBar(self.status_line)

    def _menu_actions(self) -> MenuActions:
        return MenuActions(
            add_folder=self.choose_folder, update_index=lambda: self.start_indexing(), settings=self.open_settings,
            quit=self.close, zoom=lambda d: self.search_bar.zoom.setValue(self.search_bar.zoom.value() + 32 * d),
            toggle_sidebar=self.toggle_sidebar, toggle_preview=self.toggle_preview, finetune=self.open_finetune,
            about=lambda: self.banner.show_message(about_text(), "info"), focus_search=self.focus_search,
            clear_search=self.clear_search,
            open_path=self.actions.open_path, reveal_path=self.actions.reveal_path, copy_path=self.actions.copy_path,
            search_like=self.search_like, on_selected=self.actions.on_selected)

    def _dialog_actions(self) -> DialogActions:
        return DialogActions(
            model_name=lambda: self.model_name, folders=self.folders,
            read_text=lambda: self.library_status.text.enabled if self.library_status else True,
            use_model=self.use_model, reload_model=lambda: self.load_model(), set_read_text=self.set_read_text,
            open_finetune=self.open_finetune, reindex=lambda: self.start_indexing(), add_folder=self.choose_folder,
            remove_folder=self.remove_folder, cache_cleared=self.results.pixmaps.clear,
            search_settings_changed=self.search_bar.schedule)

    def _selected_paths(self) -> list[str]:
        cur = self.results_pane.current_path()
        return self.view.selected_paths() or ([cur] if cur else [])

    def _restore(self) -> None:
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
            fit_window(self)  # saved on another screen, or on this one before it shrank
        else:
            fit_window(self, QSize(1320, 820))
        if self.settings.splitter is not None:
            self.splitter.restoreState(self.settings.splitter)
        for f in self.settings.take_folders():  # an older version's list: into the library, once
            if Path(f).is_dir():
                self.sidebar.add(f)

    # ==== model ===================================================================================
    @property
    def model(self):
        return self.models.model

    @property
    def model_name(self) -> str | None:
        return self.models.name

    def load_model(self, name: str | None = None, device: str | None = None) -> None:
        """Load (or switch to) a model in the background; the model in use stays until it is ready, search
        and indexing wait for it when there is none."""
        self.models.load(name, device or self.settings.device)

    def set_model(self, model, name: str) -> None:
        self.models.set(model, name)

    def use_model(self, name: str) -> None:
        """Switch models: load it, then index in the background only what it lacks. It becomes the saved
        choice once it has loaded; until then (and if it cannot load) the model in use stays."""
        if name == self.model_name and self.model is not None:
            self.banner.clear("model")  # back to the working model: an earlier failure no longer matters
            return
        self.indexer.cancel()
        self.models.choose(name)

    def _on_model_ready(self, name: str) -> None:
        self.banner.clear("model")
        self.searcher.set_model(self.models.searching)
        then = self.models.session.model_ready(index_pending=self.indexer.pending is not None,
                                               has_folders=bool(self.folders()))
        if then.transition is not None:
            self.banner.show_message(then.transition, "info", "transition")
        else:
            self.banner.clear("transition")
        if then.start_indexing:
            self.start_indexing()
        if then.rerun_search:
            self.run_search()  # the query, or the library newest first when the box is empty
        self._update_state()

    def _on_model_promoted(self, name: str) -> None:
        """The model that indexed the library now serves search itself (its vectors are complete)."""
        self.banner.clear("transition")
        self.searcher.set_model(self.model)
        self.statusBar().showMessage(on_model_promoted(name), 6000)
        self.run_search(keep_selection=True)

    def _on_model_failed(self, name: str, msg: str) -> None:
        then = self.models.session.model_failed(name, msg, has_folders=bool(self.folders()))
        self.show_error(then.message, "model")  # a failed switch keeps the working model, and its index
        if then.start_indexing:
            self.start_indexing()
        self._update_state()

    # ==== folders and indexing ====================================================================
    def folders(self) -> list[str]:
        return self.sidebar.folders()

    def choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of photos", str(Path.home()))
        if d:
            self.add_folder(d)

    def add_folder(self, path: str) -> bool:
        """Add a folder to the library and index it; False (and a message) when it is not a folder."""
        p = self.sidebar.add(path)
        if p is not None:
            self.banner.clear("library")
            self.start_indexing([p])
        return p is not None

    def remove_folder(self, path: str) -> None:
        self.indexer.cancel()
        self.banner.clear("library")
        self.sidebar.remove(path)  # the search re-runs when the library says it is done (_on_status)
        self.work.folders_changed()
        self._update_state()

    def start_indexing(self, add: list[str] | None = None) -> None:
        """Index every folder (only what is new/changed, or what the active model lacks)."""
        self.work.start(add)
        self._update_state()

    def indexing(self) -> bool:
        return self.indexer.running()

    def _on_index_event(self, ev) -> None:
        self.skipped_panel.add_all(ev.new_skips)
        self._update_state()

    def _on_library_grew(self) -> None:
        self.refresh_status()  # the photo count
        self.run_search(keep_selection=True)  # results (or the library) appear as photos are indexed

    def _on_index_finished(self, rep) -> None:
        if rep is not None:
            self.banner.clear("library")
            self.statusBar().showMessage(index_summary(rep), 8000)
            self.skipped_panel.add_all(rep.skipped)
        self.refresh_status()
        if rep is not None:
            self.run_search(keep_selection=True)
        self._update_state()

    def _on_text_read(self) -> None:
        if self.search_bar.active():
            self.run_search(keep_selection=True)  # text matches can lift photos now
        self.refresh_status()

    def skipped(self) -> dict[str, str]:
        return self.skipped_panel.skipped()

    def refresh_status(self) -> None:
        self.sidebar.refresh()

    def _on_status(self, st: LibraryStatus) -> None:
        first = self.library_status is None
        removed = set(self.library_status.folders if self.library_status else []) - set(st.folders)
        self.library_status = st
        if first and index_on_open(bool(st.folders), self.model is not None,
                                   self.indexing() or self.indexer.pending is not None):
            self.start_indexing()
        self.skipped_panel.add_all(st.skipped)
        self.status_line.set_photos(st.photos)
        if removed:
            self.run_search()  # the removed folder's photos are gone from the results
        self._update_state()

    # ==== search ==================================================================================
    @property
    def last_outcome(self):
        return self.searcher.last_outcome

    def current_query(self) -> str:
        return self.search_bar.query()

    def run_search(self, keep_selection: bool = False) -> None:
        self.searcher.run(keep_selection)
        self._update_state()

    def search_like(self, path: str) -> None:
        """Query by example: photos that look like ``path`` (any image file, in the library or not)."""
        if path:
            self.search_bar.search_box.clear()
            self.search_bar.set_like(path, self.results.pixmaps.get(path))
            self.run_search()

    def add_feedback(self, path: str, sign: int) -> None:
        """More like this photo (+1) or less like it (-1): the ranking refines at once around the query."""
        self.searcher.add_feedback(path, sign)
        self.run_search()

    def remove_feedback(self, path: str) -> None:
        self.searcher.remove_feedback(path)
        self.run_search()

    def set_sort(self, sort: str) -> None:
        self.searcher.sort = sort
        self.run_search()

    def clear_search(self) -> None:
        self.search_bar.clear()
        self.searcher.clear_feedback()
        self.run_search()
        self.focus_search()

    def focus_search(self) -> None:
        self.search_bar.focus()

    def _on_answer(self, outcome) -> None:
        self.banner.clear("search")
        self.preview.set_query(outcome.query.text)  # its words are highlighted in a photo's text
        if self.results_pane.current_path() is None:
            self.preview.show_path(None)  # a new answer: the old photo and its score are gone
        self._update_state()

    def _on_search_failed(self, exc: BaseException) -> None:
        if is_query_error(exc):  # shown as a quiet note in the results pane
            self.preview.show_path(None)
        elif self.model is not None:
            self.show_error(f"Search failed: {error_text(exc)}", "search")

    # ==== panels ================================================================================
    def toggle_preview(self) -> None:
        self.preview.setVisible(not self.preview.isVisible())

    def toggle_sidebar(self) -> None:
        self.sidebar.setVisible(not self.sidebar.isVisible())

    # ==== drag and drop onto the window ===========================================================
    def dragEnterEvent(self, e) -> None:
        if any(dropped_folders_and_images(e.mimeData())):
            e.acceptProposedAction()

    def dragMoveEvent(self, e) -> None:
        self.dragEnterEvent(e)

    def dropEvent(self, e) -> None:
        dirs, images = dropped_folders_and_images(e.mimeData())
        for d in dirs:
            self.add_folder(d)
        if not dirs and images:
            self.search_like(images[0])
        e.acceptProposedAction()

    # ==== state, messages, dialogs ================================================================
    def show_error(self, msg: str, topic: str = "") -> None:
        """A dismissable message in the window (``topic``: see :meth:`Banner.show_message`)."""
        log.warning("%s", msg)
        self.banner.show_message(msg, "error", topic)

    def set_thumb_size(self, size: int) -> None:
        size = max(THUMB_MIN, min(THUMB_MAX, int(size)))
        self.view.set_thumb_size(size)
        self.settings.thumb_size = size

    def _on_empty_action(self, key: str) -> None:
        actions = {"no-folders": self.choose_folder, "no-results": self.clear_search, "no-model": self.open_settings}
        if key in actions:
            actions[key]()

    def situation(self) -> Situation:
        """The facts the empty state depends on."""
        photos = self.library_status.photos if self.library_status is not None else 0
        ev = self.indexer.last_event
        embedding = ev is not None and ev.phase == "embed"
        return Situation(
            folders=len(self.folders()), photos=photos, model_ready=self.model is not None,
            model_loading=self.models.is_loading, model_progress=str(self.models.last_progress or ""),
            query=self.current_query(), like=self.search_bar.like_path,
            searched=self.searcher.searched_once, outcome=self.last_outcome is not None, results=self.results.total(),
            indexing=self.indexing() or (self.indexer.pending is not None and not photos),
            index_done=ev.done if embedding else None, index_total=ev.total if embedding else None,
            min_score=self.settings.min_score, feedback=bool(self.searcher.more or self.searcher.less),
            note=(self.last_outcome.note or "") if self.last_outcome is not None else "")

    def _update_state(self) -> None:
        """Show the grid, or the empty state that says what to do next."""
        text = empty_state(self.situation())
        if text is None:
            self.results_pane.show_grid()
        else:
            self.results_pane.show_empty(text)

    def open_settings(self, select: str | None = None) -> None:
        """The Settings dialog; ``select``: the model its model page starts on (else the one in use)."""
        self.dialogs.settings_dialog(select)

    def set_read_text(self, on: bool) -> None:
        """The library's text-pass setting (Settings): saved by the writer; on starts reading, off stops it."""
        self.work.set_read_text(on, self._on_status, self.show_error)

    def open_finetune(self, base: str | None = None) -> None:
        self.dialogs.finetune(base)

    # ==== closing =================================================================================
    def paintEvent(self, e) -> None:
        super().paintEvent(e)
        if self._load_after_paint:
            self._load_after_paint = False
            QTimer.singleShot(0, self.load_model)

    def closeEvent(self, e) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.splitter = self.splitter.saveState()
        self.settings.thumb_size = self.search_bar.zoom.value()
        if self.model_name:
            self.settings.model = self.model_name
        self.settings.sync()
        self.dialogs.close_all()
        self.shutdown()
        super().closeEvent(e)

    def shutdown(self) -> bool:
        """Stop every worker and wait for it. Writers always finish (the library stays consistent); readers
        get ``reader_wait_ms`` — a model load stuck in ``import torch`` cannot be interrupted, so the launcher
        exits the process instead of waiting for it. Returns whether every thread has stopped."""
        self.search_bar.stop()
        watcher_ended = self.work.shutdown()
        self.people_panel.faces.shutdown()
        self.thumbs.shutdown()
        searches_ended = self.searcher.stop(self.reader_wait_ms)
        self.writer.shutdown()
        self.clean_shutdown = self.readers.shutdown(self.reader_wait_ms) and searches_ended and watcher_ended
        return self.clean_shutdown

