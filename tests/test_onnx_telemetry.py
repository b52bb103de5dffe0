"""ONNX Runtime sends nothing and writes nothing outside the app's folders: its wheel's telemetry would
write a device id and an event database under $XDG_CACHE_HOME/Microsoft and look up Microsoft's
collector (photosearch/ortenv.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import cli_env
from libhelpers import write_jpeg
from texthelpers import sign


def _user_env(tmp_path, home) -> dict:
    env = cli_env(home, own_onnx_cache=True)
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the app sets it; the test's own environment must not
    env["HOME"] = str(tmp_path / "user")
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")
    (tmp_path / "user").mkdir()
    (tmp_path / "user-cache").mkdir()
    return env


def _written(tmp_path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for d in ("user", "user-cache") for p in (tmp_path / d).rglob("*"))


def test_index_with_onnx_runtime_writes_nothing_in_the_users_home(tmp_path, home, tiny):
    """Both users of ONNX Runtime in one run: the image tower (--backend onnx) and the text pass (OCR)."""
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    sign(seed=4, out_size=(640, 480)).save(pics / "sign.jpg", quality=85)
    write_jpeg(pics / "plain.jpg", 1, size=(320, 240))
    r = subprocess.run([sys.executable, "-m", "photosearch", "--library", str(tmp_path / "lib.db"), "index",
                        str(pics), "--model", str(model_dir), "--backend", "onnx", "--json"],
                       env=_user_env(tmp_path, home), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["text"]["with_text"] == 1  # ONNX Runtime did run
    assert any(home.rglob("*.onnx"))  # ... and so did the exported image tower, in the app's own cache
    assert _written(tmp_path) == []


def test_the_switch_is_set_before_onnxruntime_loads(tmp_path, home):
    """Importing photosearch is enough: any later import of onnxruntime (rapidocr's included) loads with
    telemetry off, and writes nothing."""
    code = "import photosearch, os, onnxruntime; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    r = subprocess.run([sys.executable, "-c", code], env=_user_env(tmp_path, home), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1" and _written(tmp_path) == []
