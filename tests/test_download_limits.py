"""What a download trusts: a hub that lies about sizes, drips bytes, or lists impossible names ends in one
clear line, without filling the disk or hanging (photosearch/download.py, model/download.py)."""

from __future__ import annotations

import threading
import time

import pytest
from hubserver import HubServer
from tiny_families import build

from photosearch.download import Limits, free_bytes, stream
from photosearch.errors import DownloadError
from photosearch.model.download import download_model
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths

REPO = "tiny/clip"


@pytest.fixture
def online(monkeypatch):
    import huggingface_hub.constants as hc

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return build("clip", tmp_path_factory.mktemp("hub") / "clip")


def _download(hub, home, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    store = ModelStore(app_paths(home))
    return store, list(download_model(store, REPO))


def test_a_file_longer_than_declared_stops_at_the_declared_size(repo, home, online, monkeypatch):
    with HubServer({REPO: repo}) as hub:
        hub.overrun["config.json"] = 300 * 1024**2  # "config.json" streamed without end
        t = time.monotonic()
        with pytest.raises(DownloadError, match="config.json: the server sent more than the [0-9,]+ bytes"):
            _download(hub, home, monkeypatch)
        assert time.monotonic() - t < 30
    declared = (repo / "config.json").stat().st_size
    # Socket buffers aside, the client stopped reading at the declared size.
    assert hub.sent["config.json"] < declared + 16 * 1024**2


def test_a_small_file_declared_huge_is_refused_before_downloading(repo, home, online, monkeypatch):
    with HubServer({REPO: repo}) as hub:
        hub.declared["tokenizer.json"] = 5 * 1024**3
        with pytest.raises(DownloadError, match="tokenizer.json is declared as 5.*never that large"):
            _download(hub, home, monkeypatch)
    assert not any("/resolve/" in r for r in hub.requests)


def test_a_dripping_server_is_abandoned(repo, home, online, monkeypatch):
    monkeypatch.setenv("PHOTOSEARCH_DOWNLOAD_STALL_S", "1")
    with HubServer({REPO: repo}) as hub:
        hub.drip["config.json"] = 0.25  # one byte every 0.25 s: a read never times out
        t = time.monotonic()
        with pytest.raises(DownloadError, match="config.json stalled .* run again to resume"):
            _download(hub, home, monkeypatch)
        assert time.monotonic() - t < 15
    assert 0 < hub.sent["config.json"] < 40


def test_a_listed_name_too_long_for_the_disk_is_one_clear_line(repo, home, online, monkeypatch):
    with HubServer({REPO: repo}) as hub:
        hub.extra_siblings.append({"rfilename": "x" * 300 + ".json", "size": 10, "blobId": "0" * 40})
        with pytest.raises(DownloadError) as e:
            _download(hub, home, monkeypatch)
    msg = str(e.value)
    assert "file name of 305 characters" in msg and "Errno" not in msg and "\n" not in msg
    assert not any("/resolve/" in r for r in hub.requests)


def test_the_disk_keeps_its_reserve_while_bytes_arrive(tmp_path):
    """Free space is checked as the file grows, not only before: a reserve that the download would cross
    stops it and removes the partial file."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = b"\0" * (48 * 1024**2)

    class Big(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Big)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        limits = Limits(keep_free=free_bytes(tmp_path) - 12 * 1024**2)  # room for 12 MB of the 48
        with pytest.raises(DownloadError, match="disk is nearly full"):
            list(stream(f"http://127.0.0.1:{srv.server_address[1]}/big.bin", tmp_path / "big.bin", limits=limits))
    finally:
        srv.shutdown()
        srv.server_close()
    assert list(tmp_path.iterdir()) == []


def test_a_pickle_that_is_not_plain_tensors_is_refused_in_one_line(repo, tmp_path, home, online, monkeypatch):
    import fractions
    import shutil

    import torch

    evil = tmp_path / "evil"
    shutil.copytree(repo, evil)
    (evil / "model.safetensors").unlink()
    torch.save({"logit_scale": torch.zeros(()), "note": fractions.Fraction(1, 3)}, evil / "pytorch_model.bin")
    with HubServer({REPO: evil}) as hub:
        with pytest.raises(DownloadError) as e:
            _download(hub, home, monkeypatch)
    msg = str(e.value)
    assert "holds more than plain tensors" in msg and "\n" not in msg and "Weights only" not in msg
