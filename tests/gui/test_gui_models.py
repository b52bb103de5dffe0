"""The Settings model page: catalog with sizes and on-disk state, Download with progress and cancel (from a
hub on 127.0.0.1), Use, and Fine-tune… for the selected model."""

import pytest

from hubserver import HubServer
from tiny_families import build

pytestmark = pytest.mark.gui


@pytest.fixture
def online(monkeypatch):
    import huggingface_hub.constants as hc

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)


@pytest.fixture
def dialog(qtbot):
    from photosearch.gui.app.dialogs import SettingsDialog
    from photosearch.gui.base.settings import Settings
    from photosearch.paths import app_paths

    paths = app_paths().ensure()
    dlg = SettingsDialog(None, paths, Settings(paths), current_model="starter", folders=[])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: len(dlg.models) >= 8, timeout=30_000)
    yield dlg
    dlg.reject()  # cancels a running download and joins the workers


def _select(dlg, name):
    row = next(i for i, m in enumerate(dlg.models) if m["name"] == name)
    dlg.model_list.setCurrentRow(row)
    return dlg.model_page


def test_download_from_the_page_then_use_it(qtbot, dialog, tmp_path, online, monkeypatch):
    page = _select(dialog, "siglip-b16-224")
    assert "[needs download]" in page.list.currentItem().text() and "MB" in page.list.currentItem().text()
    assert "Quality:" in page.details.text() and "SigLIP paper" in page.details.text()
    assert page.download_btn.isEnabled() and not page.use_btn.isEnabled() and not page.finetune_btn.isEnabled()
    src = build("siglip", tmp_path / "siglip")
    with HubServer({"google/siglip-base-patch16-224": src}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with qtbot.waitSignal(page.downloaded, timeout=120_000) as blocker:
            page.download_btn.click()
            assert page.progress.isVisible() and page.cancel_btn.isVisible()
    assert blocker.args == ["siglip-b16-224"]
    qtbot.waitUntil(lambda: "[offline]" in page.list.currentItem().text(), timeout=30_000)
    assert page.selected() == "siglip-b16-224" and page.use_btn.isEnabled() and not page.progress.isVisible()
    with qtbot.waitSignal(dialog.modelChosen) as chosen:
        page.use_btn.click()
    assert chosen.args == ["siglip-b16-224"]


def test_cancel_keeps_the_partial_download_and_the_page_usable(qtbot, dialog, tmp_path, online, monkeypatch):
    from photosearch.paths import app_paths

    page = _select(dialog, "siglip-b16-224")
    src = build("siglip", tmp_path / "siglip")
    monkeypatch.setattr("photosearch.model.download.CHUNK", 16 * 1024)
    with HubServer({"google/siglip-base-patch16-224": src}) as hub:
        hub.chunk_delay = 0.05
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        page.download_btn.click()
        qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=60_000)
        page.cancel_btn.click()
        qtbot.waitUntil(lambda: page.download_task is None, timeout=60_000)
    assert "cancelled" in page.details.text() and page.download_btn.isEnabled()
    assert list((app_paths().downloads / "siglip-b16-224").glob("*.incomplete"))


def test_finetune_from_the_page_names_the_selected_base(qtbot, dialog):
    page = _select(dialog, "starter")
    assert page.finetune_btn.isEnabled() and not page.download_btn.isEnabled()
    with qtbot.waitSignal(dialog.finetuneRequested) as req:
        page.finetune_btn.click()
    assert req.args == ["starter"]
