"""How the main window's parts talk: every signal connected to its slot, in one place. The parts own their widgets
and state (gui/app/window.py lays them out); this only connects them."""

from __future__ import annotations


def wire(win) -> None:
    """Connect the parts of ``win`` (a gui/app/window.py MainWindow, not imported: the window imports this)."""
    bar = win.search_bar
    bar.searchRequested.connect(win.run_search)
    bar.likeRequested.connect(win.search_like)
    bar.clearRequested.connect(win.clear_search)
    bar.feedbackRemoved.connect(win.remove_feedback)
    win.view.feedbackRequested.connect(win.add_feedback)
    win.results_pane.sortChanged.connect(win.set_sort)
    bar.intoResults.connect(win.results_pane.focus_grid)
    bar.zoomChanged.connect(win.set_thumb_size)
    bar.settingsRequested.connect(win.open_settings)
    bar.finetuneRequested.connect(win.open_finetune)
    side = win.sidebar
    side.addRequested.connect(win.choose_folder)
    side.removeRequested.connect(win.remove_folder)
    side.reindexRequested.connect(lambda: win.start_indexing())
    side.filtersChanged.connect(win.search_bar.schedule)
    side.statusLoaded.connect(win._on_status)
    side.failed.connect(lambda msg: win.show_error(msg, "library"))
    win.searcher.answered.connect(win._on_answer)
    win.searcher.failed.connect(win._on_search_failed)
    win.searcher.cleared.connect(lambda: win.preview.show_path(None))
    win.results_pane.empty.actionTriggered.connect(win._on_empty_action)
    win.preview.follow(win.view, win.results)
    win.preview.explain_context = lambda: (win.models.searching, win.current_query() or None)
    win.view.activated.connect(lambda idx: win.actions.open_path(win.results.path_at(idx)))
    win.view.spacePressed.connect(win.toggle_preview)
    win.view.zoomRequested.connect(lambda d: win.search_bar.zoom.setValue(win.search_bar.zoom.value() + 16 * d))
    win.preview.openRequested.connect(win.actions.open_path)
    win.preview.moments.momentRequested.connect(win.actions.play_at)
    win.preview.moments.like_of = lambda: win.search_bar.like_path
    win.preview.revealRequested.connect(win.actions.reveal_path)
    win.preview.copyRequested.connect(win.actions.copy_path)
    win.preview.moreLikeRequested.connect(win.search_like)
    win.status_line.follow(win.models)
    win.models.loading.connect(win._update_state)
    win.models.progress.connect(win._update_state)  # first use: what is being built, how far
    win.models.ready.connect(win._on_model_ready)
    win.models.promoted.connect(win._on_model_promoted)
    win.models.failed.connect(win._on_model_failed)
    win.models.ready.connect(win.suggestion.check)
    win.suggestion.openRequested.connect(lambda name: win.open_settings(select=name))
    win.indexer.started.connect(win._update_state)
    win.indexer.progress.connect(win._on_index_event)
    win.indexer.grew.connect(win._on_library_grew)
    # Library errors (topic "library") go when the library changes: a folder added or removed, an index run
    # that finishes; a search error when a search answers.
    win.indexer.failed.connect(lambda msg: win.show_error(f"Indexing stopped: {msg}", "library"))
    win.indexer.finished.connect(win._on_index_finished)
    win.live.statesChanged.connect(win.sidebar.set_folder_states)
    win.live.failed.connect(lambda msg: win.show_error(msg, "library"))
    win.work.message.connect(lambda text, ms: win.statusBar().showMessage(text, ms))
    win.work.textRead.connect(win._on_text_read)
    win.text_pass.failed.connect(lambda msg: win.show_error(f"Reading text in photos stopped: {msg}", "library"))
    win.people_panel.faces.follow(win.indexer, win.text_pass)
    win.people_panel.message.connect(lambda line: win.statusBar().showMessage(line, 5000))
    win.people_panel.showPhotos.connect(win.searcher.show_person)
    win.preview.faces.changed.connect(win.people_panel.refresh)  # and the panel's changes show in the boxes:
    win.people_panel.model.modelReset.connect(win.preview.faces.reload)
