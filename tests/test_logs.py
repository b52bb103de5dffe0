"""Log files and crash reports: real files under PHOTOSEARCH_HOME, real rotation, real crashes in subprocesses."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
from helpers import cli_env

from photosearch import __version__
from photosearch.logs import (BACKUP_COUNT, LOG_FILE, MAX_BYTES, crash_reports, setup_logging, summary_line,
                              write_crash_report)


@pytest.fixture(autouse=True)
def _restore_root_logging():
    """setup_logging changes the root logger; put it back so other tests' logging is untouched."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def _ours(root):
    return [h for h in root.handlers if getattr(h, "_photosearch_file", False)]


def test_logs_go_to_the_home_log_folder(home):
    path = setup_logging()
    assert path == (home / "logs" / LOG_FILE).resolve() or path == home / "logs" / LOG_FILE
    logging.getLogger("photosearch.test").info("hello from the test %d", 42)
    logging.getLogger("transformers.something").warning("a library warning")
    for h in _ours(logging.getLogger()):
        h.flush()
    text = path.read_text(encoding="utf-8")
    assert "photosearch.test: hello from the test 42" in text
    assert "a library warning" in text  # third-party loggers are captured too


def test_setup_is_idempotent_and_follows_home(home, tmp_path, monkeypatch):
    root = logging.getLogger()
    first = setup_logging()
    setup_logging()
    setup_logging(console=True)
    setup_logging(console=True)
    assert len(_ours(root)) == 1
    assert len([h for h in root.handlers if getattr(h, "_photosearch_console", False)]) == 1
    setup_logging(console=False)
    assert not [h for h in root.handlers if getattr(h, "_photosearch_console", False)]
    monkeypatch.setenv("PHOTOSEARCH_HOME", str(tmp_path / "other"))
    second = setup_logging()
    assert second != first and second.parent == (tmp_path / "other" / "logs").resolve()
    assert len(_ours(root)) == 1 and _ours(root)[0].baseFilename == str(second)


def test_rotation_keeps_five_files_of_one_megabyte(home):
    path = setup_logging()
    lg = logging.getLogger("photosearch.rot")
    chunk = "x" * 1000
    for i in range(int(MAX_BYTES * (BACKUP_COUNT + 2) / 1000)):  # ~7 MB: more than the whole budget
        lg.info("%06d %s", i, chunk)
    for h in _ours(logging.getLogger()):
        h.flush()
    files = sorted(p.name for p in path.parent.glob(LOG_FILE + "*"))
    assert files == [LOG_FILE] + [f"{LOG_FILE}.{i}" for i in range(1, BACKUP_COUNT + 1)]
    for p in path.parent.glob(LOG_FILE + ".*"):
        assert MAX_BYTES - 2000 < p.stat().st_size <= MAX_BYTES
    # The newest line is in the live file, the oldest were dropped.
    last = int(MAX_BYTES * (BACKUP_COUNT + 2) / 1000) - 1
    assert f"{last:06d} " in path.read_text()
    assert not any("000000 " in p.read_text() for p in path.parent.glob(LOG_FILE + "*"))


def test_unwritable_log_folder_does_not_crash(home, tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("I am a file")
    monkeypatch.setenv("PHOTOSEARCH_HOME", str(blocker))  # logs would be blocker/logs: cannot be created
    path = setup_logging()
    logging.getLogger("photosearch.test").warning("still logged")
    assert path.exists() and not str(path).startswith(str(blocker))


def test_crash_report_in_process_has_versions_traceback_and_log_tail(home):
    setup_logging()
    logging.getLogger("photosearch.test").info("the line before the crash")

    def inner():
        raise ValueError("bad thing\nsecond line")

    try:
        inner()
    except ValueError as e:
        path = write_crash_report(type(e), e, e.__traceback__, thread="worker-7")
    text = path.read_text(encoding="utf-8")
    assert path.parent == home.resolve() / "logs" and path.name.startswith("crash-")
    assert f"PhotoSearch:   {__version__}" in text
    assert "Thread:        worker-7" in text
    assert 'in inner\n    raise ValueError("bad thing\\nsecond line")' in text
    assert "the line before the crash" in text
    assert crash_reports()[0] == path
    # Two crashes in the same second keep both reports.
    again = write_crash_report(ValueError, ValueError("x"), None)
    assert again != path and again.exists()
    assert summary_line(ValueError("bad thing\nsecond line")) == "ValueError: bad thing"
    assert summary_line(KeyError()) == "KeyError"


CRASH_SCRIPT = r"""
import logging, sys, threading
from photosearch.logs import setup_logging, install_excepthook
setup_logging()
shown = []
install_excepthook(show=lambda path, summary: print("SHOWN", path, "|", summary, flush=True))
logging.getLogger("photosearch.app").info("about to fail in mode %s", sys.argv[1])
def fail_deep():
    {}["missing-key"]
if sys.argv[1] == "thread":
    t = threading.Thread(target=fail_deep, name="indexer")
    t.start(); t.join()
    print("MAIN CONTINUES", flush=True)
else:
    fail_deep()
"""


@pytest.mark.parametrize("mode", ["main", "thread"])
def test_uncaught_exception_in_subprocess_writes_report(home, mode):
    r = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, mode], env=cli_env(home), capture_output=True,
                       text=True, timeout=60)
    reports = list((home / "logs").glob("crash-*.txt"))
    assert len(reports) == 1, (r.stdout, r.stderr)
    text = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "in fail_deep" in text and "KeyError: 'missing-key'" in text
    assert "about to fail in mode " + mode in text  # the log tail
    assert f"SHOWN {reports[0]} | KeyError: 'missing-key'" in r.stdout
    assert "KeyError" in r.stderr  # the usual traceback still reaches stderr
    if mode == "main":
        assert r.returncode == 1
    else:
        assert "Thread:        indexer" in text
        assert "MAIN CONTINUES" in r.stdout and r.returncode == 0
    log_text = (home / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "uncaught exception" in log_text and "crash report written to" in log_text


def test_cli_commands_log_to_the_file(home):
    r = subprocess.run([sys.executable, "-m", "photosearch", "models", "--use", "no-such-model"], env=cli_env(home),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert (home / "logs" / LOG_FILE).exists()


def test_threads_log_with_their_names(home):
    path = setup_logging()
    t = threading.Thread(target=lambda: logging.getLogger("photosearch.w").info("from a worker"), name="embedder")
    t.start()
    t.join()
    for h in _ours(logging.getLogger()):
        h.flush()
    assert "embedder] photosearch.w: from a worker" in path.read_text()


def test_hub_and_transformers_warnings_go_to_the_log_not_the_terminal(home, capfd):
    import huggingface_hub  # noqa: F401 - installs its own stderr handler on import
    import transformers  # noqa: F401

    path = setup_logging()
    logging.getLogger("huggingface_hub.utils._http").warning("retrying a download")
    logging.getLogger("transformers.modeling_utils").warning("a transformers note")
    for h in _ours(logging.getLogger()):
        h.flush()
    text = path.read_text(encoding="utf-8")
    assert "retrying a download" in text and "a transformers note" in text
    err = capfd.readouterr().err  # fd level: their handlers hold the real stderr
    assert "retrying a download" not in err and "a transformers note" not in err

