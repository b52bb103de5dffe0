import sys
from pathlib import Path as _P
sys.path.insert(0, str(_P(__file__).parent))  # tests/helpers.py

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub; loading code is tested on local files
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own PHOTOSEARCH_HOME: no test sees the user's (or another test's) state."""
    home = tmp_path / "home"
    monkeypatch.setenv("PHOTOSEARCH_HOME", str(home))
    return home


@pytest.fixture(scope="session", autouse=True)
def _session_onnx_cache():
    """The command-line runs' shared folder of exported ONNX graphs (helpers.cli_env) goes with the session."""
    import shutil

    from helpers import SESSION_ONNX_CACHE

    yield SESSION_ONNX_CACHE
    shutil.rmtree(SESSION_ONNX_CACHE, ignore_errors=True)


@pytest.fixture
def home(_isolated_home) -> Path:
    return _isolated_home


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory) -> Path:
    """A home whose model store is shared by the whole session, so the starter is built once."""
    return tmp_path_factory.mktemp("shared-home")


_STARTER_BUILD_EVENTS: list = []  # what building the session's starter reported (tests/test_first_use.py)


@pytest.fixture(scope="session")
def starter_model(shared_home):
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    return ModelStore(app_paths(shared_home)).load("starter", device="cpu", progress=_STARTER_BUILD_EVENTS.append)


@pytest.fixture(scope="session")
def starter_build_events(starter_model) -> list:
    """The progress messages of the session's starter build, in order."""
    return list(_STARTER_BUILD_EVENTS)


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    from helpers import real_photos

    d = tmp_path_factory.mktemp("photos")
    real_photos(d)
    return d


@pytest.fixture(scope="session")
def captioned_photos(photo_dir):
    from helpers import real_photos

    return real_photos(photo_dir)


@pytest.fixture(scope="session")
def photos_by_stem(captioned_photos) -> dict:
    """The session's real photos by file stem ("chelsea", "coffee", ...)."""
    return {p.stem: p for p, _ in captioned_photos}


@pytest.fixture(scope="session")
def ocr_engine():
    """One offline OCR engine (rapidocr's bundled models) for the session: loading it costs seconds."""
    from photosearch.ocr import OcrEngine

    e = OcrEngine()
    yield e
    e.close()


@pytest.fixture
def tiny(tmp_path):
    from helpers import tiny_model

    return tiny_model(tmp_path)
