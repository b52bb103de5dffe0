"""download-flickr8k against an HTTP server on 127.0.0.1: resume, truncation, checksums, unsafe archives."""

import hashlib
import io
import json
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from photosearch.errors import DownloadError
from photosearch.train import download_flickr8k, load_captions
from photosearch.train.synthetic import make_shapes_dataset


class Files(BaseHTTPRequestHandler):
    """Serves ``server.files`` (path -> bytes) with Range support. ``server.truncate[path] = n`` sends the
    full Content-Length but only n bytes, then closes (a dropped connection)."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and srv.ranges:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        cut = srv.truncate.pop(self.path, None)
        self.wfile.write(body[start:cut] if cut is not None else body[start:])
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    srv.files, srv.truncate, srv.requests, srv.ranges = {}, {}, [], True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()
    t.join(5)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A small data set zipped in the real layout: Flicker8k_Dataset/*.jpg (+ a __MACOSX entry), and its JSON."""
    src = make_shapes_dataset(tmp_path_factory.mktemp("src"), n_images=20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((src / "Flicker8k_Dataset").iterdir()):
            zf.write(p, f"Flicker8k_Dataset/{p.name}")
        zf.writestr("__MACOSX/Flicker8k_Dataset/._x.jpg", b"junk")
    return buf.getvalue(), (src / "dataset_flickr8k.json").read_bytes()


def serve(server, zip_bytes, json_bytes):
    server.files["/Flickr8k_Dataset.zip"] = zip_bytes
    server.files["/dataset_flickr8k.json"] = json_bytes
    return dict(images_url=server.url + "/Flickr8k_Dataset.zip", captions_url=server.url + "/dataset_flickr8k.json")


def test_download_extract_and_load(server, archive, tmp_path):
    urls = serve(server, *archive)
    seen = []
    dest = download_flickr8k(tmp_path / "f8k", progress=lambda d, t: seen.append((d, t)), **urls)
    data = load_captions(dest)
    assert len(data.images) == 20 and (dest / "Flicker8k_Dataset").is_dir()
    assert not (dest / "__MACOSX").exists() and not (dest / "Flickr8k_Dataset.zip").exists()
    assert seen[-1] == (len(archive[0]), len(archive[0]))
    n = len(server.requests)
    download_flickr8k(dest, **urls)  # done already: no second download
    assert len(server.requests) == n


def test_truncated_download_fails_clearly_then_resumes_with_range(server, archive, tmp_path):
    urls = serve(server, *archive)
    size = len(archive[0])
    server.truncate["/Flickr8k_Dataset.zip"] = size // 3
    with pytest.raises(DownloadError, match=r"incomplete|broke off") as e:
        download_flickr8k(tmp_path / "f8k", **urls)
    assert "resume" in str(e.value)
    part = tmp_path / "f8k" / "Flickr8k_Dataset.zip.part"
    assert part.stat().st_size == size // 3
    dest = download_flickr8k(tmp_path / "f8k", **urls)
    assert server.requests[-1] == ("/Flickr8k_Dataset.zip", f"bytes={size // 3}-")
    assert len(load_captions(dest).images) == 20


def test_server_without_range_support_restarts_cleanly(server, archive, tmp_path):
    urls = serve(server, *archive)
    server.ranges = False
    (tmp_path / "f8k").mkdir()
    (tmp_path / "f8k" / "Flickr8k_Dataset.zip.part").write_bytes(b"garbage from an older attempt")
    dest = download_flickr8k(tmp_path / "f8k", **urls)
    assert len(load_captions(dest).images) == 20


def test_checksum_mismatch_is_refused_and_removed(server, archive, tmp_path):
    urls = serve(server, *archive)
    good = hashlib.sha256(archive[0]).hexdigest()
    with pytest.raises(DownloadError, match="checksum"):
        download_flickr8k(tmp_path / "f8k", images_sha256="0" * 64, **urls)
    assert not list((tmp_path / "f8k").glob("*.zip*"))
    download_flickr8k(tmp_path / "f8k", images_sha256=good, **urls)


@pytest.mark.parametrize("evil", ["../evil.txt", "Flicker8k_Dataset/../../evil.txt", "/tmp/evil-abs.txt"])
def test_archive_member_escaping_dest_is_refused_before_writing(server, archive, tmp_path, evil):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Flicker8k_Dataset/ok.jpg", b"x")
        zf.writestr(zipfile.ZipInfo(evil), b"pwned")
    urls = serve(server, buf.getvalue(), archive[1])
    dest = tmp_path / "a" / "f8k"
    with pytest.raises(DownloadError, match="outside"):
        download_flickr8k(dest, **urls)
    assert not (tmp_path / "a" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not Path("/tmp/evil-abs.txt").exists()
    assert not (dest / "Flicker8k_Dataset" / "ok.jpg").exists()  # nothing extracted at all


def test_symlink_member_is_refused(server, archive, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("Flicker8k_Dataset/link.jpg")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    urls = serve(server, buf.getvalue(), archive[1])
    with pytest.raises(DownloadError, match="outside"):
        download_flickr8k(tmp_path / "f8k", **urls)


def test_offline_and_http_errors_are_clear(server, archive, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DownloadError, match="cannot reach 127.0.0.1.*offline"):
        download_flickr8k(tmp_path / "x", images_url=f"http://127.0.0.1:{port}/a.zip",
                          captions_url=f"http://127.0.0.1:{port}/c.json")
    with pytest.raises(DownloadError, match="404"):
        download_flickr8k(tmp_path / "y", images_url=server.url + "/a.zip", captions_url=server.url + "/c.json")
    server.files["/c.json"] = b"<html>not json</html>"
    with pytest.raises(DownloadError, match="Karpathy split"):
        download_flickr8k(tmp_path / "z", images_url=server.url + "/a.zip", captions_url=server.url + "/c.json")
    assert not (tmp_path / "z" / "dataset_flickr8k.json").exists()


def test_cli_download_json(server, archive, tmp_path, home):
    from helpers import cli_env

    urls = serve(server, *archive)
    r = subprocess.run([sys.executable, "-m", "photosearch", "download-flickr8k", str(tmp_path / "d"),
                        "--images-url", urls["images_url"], "--captions-url", urls["captions_url"], "--json"],
                       capture_output=True, text=True, env=cli_env(home), timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["images"] == 20 and out["captions"] == 100 and out["splits"]["train"] == 12


def test_cancel_keeps_the_partial_download_for_resume(server, archive, tmp_path):
    import os
    import threading

    from photosearch.errors import Cancelled

    buf = io.BytesIO()  # the small set plus 512 KiB of incompressible bytes, so the download takes many chunks
    with zipfile.ZipFile(io.BytesIO(archive[0])) as src, zipfile.ZipFile(buf, "w") as zf:
        for info in src.infolist():
            zf.writestr(info, src.read(info))
        zf.writestr("Flicker8k_Dataset/padding.bin", os.urandom(512 * 1024))
    big = buf.getvalue()
    urls = serve(server, big, archive[1])
    cancel = threading.Event()

    def progress(done, total):
        if total == len(big) and done >= 128 * 1024:
            cancel.set()

    with pytest.raises(Cancelled):
        download_flickr8k(tmp_path / "f8k", progress=progress, cancel=cancel, **urls)
    part = tmp_path / "f8k" / "Flickr8k_Dataset.zip.part"
    kept = part.stat().st_size
    assert 128 * 1024 <= kept < len(big)
    dest = download_flickr8k(tmp_path / "f8k", **urls)
    assert server.requests[-1] == ("/Flickr8k_Dataset.zip", f"bytes={kept}-")
    assert len(load_captions(dest).images) == 20
