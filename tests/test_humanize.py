"""Durations and sizes as the CLI and the window print them."""


def test_humanize_durations_and_sizes():
    from photosearch.humanize import format_duration, format_size

    assert format_duration(59.6) == "1:00"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "--:--" and format_duration(float("nan")) == "--:--"
    assert format_duration(float("inf"), unknown="—") == "—" and format_duration(-1) == "--:--"
    assert format_size(None) == "—" and format_size(512) == "512 B" and format_size(1536) == "1.5 KB"


def test_sizes_are_decimal_everywhere_and_match_the_readme():
    """Issue 20.11: Settings said 580.8 MB (MiB, mislabelled) where the README said 609 MB for one download."""
    import json
    import re
    from pathlib import Path

    from photosearch.humanize import format_size

    assert format_size(609_000_000) == "609 MB" and format_size(58_123_000) == "58.1 MB"
    assert format_size(999_960) == "1.0 MB" and format_size(5 * 10 ** 12) == "5.0 TB"
    root = Path(__file__).resolve().parents[1]
    catalog = {m["name"]: m for m in json.loads((root / "photosearch/model/catalog.json").read_text())["models"]}
    readme = (root / "README.md").read_text()
    for name, size in re.findall(r"--download (\S+) .*?\((\d+(?:\.\d)? [KMG]B)\)", readme):
        assert format_size(catalog[name]["download_bytes"]) == size, name


def test_os_errors_read_as_words_without_errno_codes():
    """Issue 20.11: "[Errno -2] Name or service not known" reached users."""
    import socket
    import urllib.error

    from photosearch.gui.tasks.workers import error_text
    from photosearch.humanize import os_error_text

    offline = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    assert os_error_text(offline) == "no internet connection (the server's name could not be looked up)"
    try:
        open("/no/such/photosearch-file")
    except OSError as e:
        assert os_error_text(e) == "/no/such/photosearch-file: not found" and "Errno" not in error_text(e)
    assert os_error_text(OSError("[Errno 99] something odd")) == "something odd"
    assert "Errno" not in error_text(offline) and "Errno" not in error_text(ConnectionResetError(104, "reset"))


def test_the_cli_never_prints_negative_zero():
    """Issue 20.11: the CLI printed "-0.000"."""
    from photosearch.cli.library_cmd import _human_hits
    from photosearch.cli.models_cmd import _human_vectors
    from photosearch.cli.people_cmd import _human_faces
    from photosearch.humanize import fixed

    assert fixed(-0.0001) == "0.000" and fixed(-0.0) == "0.000" and fixed(-0.0006) == "-0.001"
    hit = {"path": "/p/a.jpg", "score": -0.0002, "relevant": False, "copies": [], "text_match": False,
           "snippet": None, "time_s": None}
    assert "-0.000" not in _human_hits([hit]) and "0.000  /p/a.jpg" in _human_hits([hit])
    assert _human_vectors([{"input": "a cat", "embedding": [-0.00001, 0.5]}]) == "a cat: [0.0000, 0.5000, ...]"
    face = {"box": [-0.2, 3, 40, 40], "score": -0.001, "usable": True}
    assert "-0" not in _human_faces({"path": "/p/a.jpg", "faces": [face]})
