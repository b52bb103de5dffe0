"""A minimal Hugging Face hub on 127.0.0.1 for tests: serves files of local folders as repos, so the real
download code (huggingface_hub / transformers / timm) runs end to end without the internet.

Besides files (``/{repo}/resolve/{rev}/{path}``, with HTTP ranges for resumed downloads) it answers the model
info API (``/api/models/{repo}[/revision/{rev}]``) with each file's size, git blob id and, for weights, LFS
sha256, as the real hub does.

A hub can also lie, to test what the app trusts: ``overrun[name] = n`` sends n bytes more than the file
holds, without a Content-Length; ``declared[name] = size`` lists a size the file does not have;
``drip[name] = s`` sends the body one byte every s seconds; ``extra_siblings`` adds listed files that do
not exist. ``sent[name]`` counts the body bytes the client accepted."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class HubServer:
    def __init__(self, repos: dict[str, Path]):
        self.repos = repos
        self.requests: list[str] = []
        self.chunk_delay = 0.0  # seconds between 64 KiB chunks of a file body (to test cancelling mid-file)
        self.overrun: dict[str, int] = {}
        self.declared: dict[str, int] = {}
        self.drip: dict[str, float] = {}
        self.extra_siblings: list[dict] = []
        self.sent: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _file(self):
                path = unquote(urlparse(self.path).path)
                server.requests.append(f"{self.command} {path}")
                for repo, folder in server.repos.items():
                    prefix = f"/{repo}/resolve/"
                    if path.startswith(prefix):
                        rel = path[len(prefix):].split("/", 1)[1]  # drop the revision
                        f = folder / rel
                        return f if f.is_file() else None
                return None

            def _send_headers(self, f: Path | None):
                if f is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("X-Error-Message", "Entry not found")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                data = f.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                return data

            def _api(self) -> bool:
                path = unquote(urlparse(self.path).path)
                if not path.startswith("/api/models/"):
                    return False
                server.requests.append(f"GET {path}")
                parts = path[len("/api/models/"):].split("/")
                repo, tail = "/".join(parts[:2]), parts[2:]
                folder = server.repos.get(repo)
                if folder is None or (tail and tail[0] != "revision"):
                    # unknown repos, and listings such as tree/main/additional_chat_templates: not found
                    self._send_headers(None)
                    return True
                siblings = [_sibling(folder, f) for f in sorted(folder.rglob("*")) if f.is_file()]
                for sib in siblings:
                    if sib["rfilename"] in server.declared:
                        sib["size"] = server.declared[sib["rfilename"]]
                body = json.dumps({"id": repo, "modelId": repo, "sha": COMMIT, "private": False,
                                   "siblings": siblings + server.extra_siblings}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return True

            def do_HEAD(self):
                self._send_headers(self._file())

            def do_GET(self):
                if self._api():
                    return
                f = self._file()
                if f is not None and (f.name in server.overrun or f.name in server.drip):
                    self._lie(f)
                    return
                rng = self.headers.get("Range")
                if f is not None and rng and rng.startswith("bytes="):
                    server.requests[-1] += f" range={rng}"
                    data = f.read_bytes()
                    start = int(rng[len("bytes="):].split("-")[0])
                    body = data[start:]
                    self.send_response(206)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                    self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
                    self.send_header("X-Repo-Commit", COMMIT)
                    self.end_headers()
                    self._write(body)
                    return
                data = self._send_headers(f)
                if data:
                    self._write(data)

            def _lie(self, f: Path) -> None:
                """No Content-Length: the body ends when the connection closes (HTTP/1.0)."""
                self.send_response(200)
                self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                data = f.read_bytes() + b" " * server.overrun.get(f.name, 0)
                step = 1 if f.name in server.drip else 64 * 1024
                server.sent[f.name] = 0
                try:
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i:i + step])
                        self.wfile.flush()
                        server.sent[f.name] += len(data[i:i + step])
                        if f.name in server.drip:
                            time.sleep(server.drip[f.name])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _write(self, data: bytes) -> None:
                step = 64 * 1024
                try:
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i:i + step])
                        if server.chunk_delay:
                            self.wfile.flush()
                            time.sleep(server.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (a cancelled download)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _sibling(folder: Path, f: Path) -> dict:
    data = f.read_bytes()
    entry = {"rfilename": f.relative_to(folder).as_posix(), "size": len(data),
             "blobId": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
    if f.suffix in (".safetensors", ".bin", ".model", ".h5", ".msgpack"):
        entry["lfs"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pointerSize": 134}
    return entry
