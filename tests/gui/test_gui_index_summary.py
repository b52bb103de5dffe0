"""The indexing summary line names the folders whose photos were kept (issue #10.2, #10.3)."""

from __future__ import annotations


def test_gui_summary_names_unreadable_and_offline_folders():
    """#10.2: the window says which folders could not be read (the GUI shows the core's report)."""
    from photosearch.gui.library.indexing import index_summary
    from photosearch.library.index import IndexReport

    rep = IndexReport(indexed=1, unchanged=0, moved=0, removed=0, skipped=[], seconds=1.0, images_per_second=1.0,
                      missing_folders=["/media/disk"], unreadable_folders=["/p/private"])
    text = index_summary(rep)
    assert "could not be read" in text and "/p/private" in text and "/media/disk" in text
