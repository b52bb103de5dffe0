"""The first-run suggestion of a stronger model (issue #13): a quiet strip when the hub answers and the
window still uses the starter; its Download… opens Settings' model page on the suggested model; nothing
shows when the hub cannot be reached, and a dismissed suggestion stays dismissed."""

import pytest
from PySide6.QtCore import Qt

from hubserver import HubServer

pytestmark = pytest.mark.gui

WAIT = 30_000


@pytest.fixture
def hub_at(monkeypatch):
    """Point the probe (and the downloads) at ``url``, with the hub's offline switch off."""
    import huggingface_hub.constants as hc

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("PHOTOSEARCH_HUB_PROBE", raising=False)
    return lambda url: monkeypatch.setenv("HF_ENDPOINT", url)


def _starter_window(qtbot, make_window, model):
    """A window whose model becomes "starter" (the tiny model stands in for it) while we wait for the check."""
    win = make_window(None, model_name="starter")
    with qtbot.waitSignal(win.suggestion.checked, timeout=WAIT) as blocker:
        win.set_model(model, "starter")
    return win, blocker.args[0]


def test_a_reachable_hub_suggests_the_recommended_model_and_opens_its_page(qtbot, make_window, tiny_loaded, hub_at):
    from photosearch.model.recommend import recommend, this_machine

    expected = recommend(this_machine())
    with HubServer({}) as hub:
        hub_at(hub.url)
        win, entry = _starter_window(qtbot, make_window, tiny_loaded)
        assert any(r.startswith("HEAD") for r in hub.requests)
    assert entry is not None and entry.name == expected.name
    bar = win.suggestion
    assert bar.isVisible() and not win.banner.isVisible()
    assert bar.label.text().startswith(f"A stronger search model is available: {expected.name} (")
    assert "MB" in bar.label.text() or "GB" in bar.label.text()
    qtbot.mouseClick(bar.download_btn, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    dlg = win.dialogs.open["settings"]
    assert not dlg.isModal()
    qtbot.waitUntil(lambda: dlg.selected_model() == expected.name, timeout=WAIT)
    assert dlg.model_page.download_btn.isEnabled()  # the download itself waits for that click
    assert not (win.paths.downloads / expected.name).exists()


def test_an_unreachable_hub_shows_nothing(qtbot, make_window, tiny_loaded, hub_at):
    hub_at("http://127.0.0.1:9")  # nothing listens there
    win, entry = _starter_window(qtbot, make_window, tiny_loaded)
    assert entry is None and not win.suggestion.isVisible()


def test_no_suggestion_once_another_model_is_in_use(qtbot, make_window, tiny_loaded, hub_at):
    with HubServer({}) as hub:
        hub_at(hub.url)
        win = make_window(tiny_loaded, model_name="clip-vit-b32")
        qtbot.waitUntil(lambda: win.model is not None)
        assert not win.suggestion.isVisible() and not hub.requests


def test_a_dismissed_suggestion_stays_dismissed(qtbot, make_window, tiny_loaded, hub_at):

    with HubServer({}) as hub:
        hub_at(hub.url)
        win, entry = _starter_window(qtbot, make_window, tiny_loaded)
        assert entry is not None and win.suggestion.isVisible()
        qtbot.mouseClick(win.suggestion.dismiss_btn, Qt.MouseButton.LeftButton)
        assert not win.suggestion.isVisible() and win.settings.suggestion_dismissed
        win.close()
        asked = len(hub.requests)
        again, entry = _starter_window(qtbot, make_window, tiny_loaded)  # the next start reads the same settings
        assert entry is None and not again.suggestion.isVisible()
        assert len(hub.requests) == asked  # not even probed
