"""Drives mounted inside library folders and drives back under another device number (issue #24.6, #24.9).

Real mounts need root: they run in a child process with a mount namespace of its own (``unshare -m``), so
nothing is left mounted on the machine whatever happens. The detection logic is also tested unprivileged, by
the record the scan keeps of where drives were mounted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import cli_env
from libhelpers import write_jpeg

from photosearch.library import Library
from photosearch.library import queries as sql


def _photos(d: Path, seeds) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        write_jpeg(d / f"p{s}.jpg", s)


def test_an_unmounted_drive_inside_a_library_folder_keeps_its_photos(tmp_path, tiny):
    """#24.9, unprivileged: where the scan recorded a mount point, an empty or vanished folder on its parent's
    device is a drive that is not mounted; an emptied ordinary sub-folder is still a deletion."""
    root = tmp_path / "pics"
    _photos(root, [1])
    _photos(root / "usb", [2, 3])
    _photos(root / "camera", [4, 5])
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.run_index(tiny, [root]).indexed == 5
        usb = str(root / "usb")
        # What the walk records for a folder on another device than its parent (see test_real_nested_mount).
        lib.conn.execute("BEGIN")
        sql.set_mount_points(lib.conn, {usb: os.stat(usb).st_dev + 1})
        lib.conn.execute("COMMIT")
        for p in (root / "usb").iterdir():  # unmounted: the bare mount point is left
            p.unlink()
        for p in (root / "camera").iterdir():  # really deleted
            p.unlink()
        rep = lib.run_index(tiny)
        assert rep.removed == 2 and rep.missing_folders == [usb]
        assert lib.status().photos == 3
        (root / "usb").rmdir()  # an automounter removes the mount point too
        rep = lib.run_index(tiny)
        assert rep.removed == 0 and rep.missing_folders == [usb] and lib.status().photos == 3
        assert usb in sql.mount_points(lib.conn), "kept until the drive is back"


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs"
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "needs util-linux's unshare and mount"
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "d=$(mktemp -d) && mount -t tmpfs none $d && umount $d && rmdir $d"], capture_output=True)
    return None if r.returncode == 0 else f"cannot mount in a private mount namespace here: {r.stderr[-200:]!r}"


SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path
    from photosearch.library import Library
    from photosearch.model.checkpoint import load_checkpoint

    base, ckpt = Path(sys.argv[1]), sys.argv[2]
    model = load_checkpoint(ckpt)
    root, usb, drive = base / "pics", base / "pics" / "usb", base / "drive"
    sh = lambda *a: subprocess.run(a, check=True)
    out = {}
    with Library.open(base / "lib.db") as lib:
        sh("mount", "-t", "tmpfs", "usbstick", str(usb))  # a drive mounted inside the library folder
        sh("cp", "-a", *[str(p) for p in sorted((base / "stick").iterdir())], str(usb))
        out["first"] = lib.run_index(model, [str(root)]).to_dict()
        sh("umount", str(usb))
        out["unmounted"] = lib.run_index(model).to_dict()
        sh("mount", "-t", "tmpfs", "usbstick2", str(usb))  # plugged in again: a new device number
        sh("cp", "-a", *[str(p) for p in sorted((base / "stick").iterdir())], str(usb))
        out["back"] = lib.run_index(model).to_dict()
        # A library folder that is a drive of its own, back under another device number (#24.6).
        sh("mount", "-t", "tmpfs", "drive1", str(drive))
        sh("cp", "-a", *[str(p) for p in sorted((base / "stick").iterdir())], str(drive))
        out["drive_first"] = lib.run_index(model, [str(drive)]).to_dict()
        sh("umount", str(drive))
        out["drive_away"] = lib.run_index(model).to_dict()
        sh("mount", "-t", "tmpfs", "drive2", str(drive))
        sh("cp", "-a", *[str(p) for p in sorted((base / "stick").iterdir())], str(drive))
        out["drive_back"] = lib.run_index(model).to_dict()
        out["photos"] = lib.status().photos
    print(json.dumps(out))
""")


@pytest.mark.skipif(_can_mount() is not None, reason=str(_can_mount()))
def test_real_nested_mount_and_a_drive_back_on_another_device(tmp_path, tiny):
    """#24.9: a tmpfs mounted inside a library folder, unmounted, lost its photos on the next index. #24.6: a
    folder back on a new device number stayed offline for good. Neither re-embeds anything on return."""
    from photosearch.model.checkpoint import save_checkpoint

    ckpt = save_checkpoint(tiny, tmp_path / "ckpt")
    _photos(tmp_path / "pics", [1])
    (tmp_path / "pics" / "usb").mkdir()
    (tmp_path / "drive").mkdir()
    _photos(tmp_path / "stick", [2, 3])
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", SCRIPT, str(tmp_path),
                        str(ckpt)], capture_output=True, text=True, env=cli_env(tmp_path / "home"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    usb = str(tmp_path / "pics" / "usb")
    assert out["first"]["indexed"] == 3
    assert out["unmounted"]["removed"] == 0 and out["unmounted"]["missing_folders"] == [usb]
    assert (out["back"]["indexed"], out["back"]["unchanged"], out["back"]["missing_folders"]) == (0, 3, [])
    assert out["drive_first"]["indexed"] == 2
    assert out["drive_away"]["removed"] == 0 and out["drive_away"]["missing_folders"] == [str(tmp_path / "drive")]
    assert (out["drive_back"]["indexed"], out["drive_back"]["missing_folders"]) == (0, [])
    assert out["photos"] == 5
