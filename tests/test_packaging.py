"""Desktop integration files, icons, the wheel's contents and the packaging scripts (the fast checks; the
bundle itself is checked by packaging/verify_bundle.sh, which takes minutes)."""

from __future__ import annotations

import configparser
import io
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

from photosearch import APP_ID, __version__

PACKAGING = REPO / "packaging"
DESKTOP = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"
ICONS = PACKAGING / "icons"
SVG = REPO / "resources" / "photosearch.svg"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
sys.path.insert(0, str(PACKAGING))
import make_icons  # noqa: E402


def _desktop() -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # keys are case-sensitive in desktop files
    cp.read_string(DESKTOP.read_text(encoding="utf-8"))
    assert cp.sections() == ["Desktop Entry"]
    return cp["Desktop Entry"]


def test_desktop_entry_has_the_required_keys_and_runs_the_gui_script():
    d = _desktop()
    assert d["Type"] == "Application"
    assert d["Name"] == "PhotoSearch" and d["Comment"]
    assert d["Icon"] == APP_ID  # themed icon name = the hicolor file names below
    assert d["Terminal"] == "false"
    cats = d["Categories"]
    assert cats.endswith(";") and {"Graphics", "Photography"} <= set(cats.split(";"))
    # Exec and TryExec name the command pyproject installs (a gui-script, so no console window on Windows).
    command = d["Exec"].split()[0]
    assert command == d["TryExec"] == "photosearch-gui"
    assert command in PYPROJECT["project"]["gui-scripts"]


def test_desktop_entry_passes_desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if not tool:
        pytest.skip("desktop-file-validate not installed (apt-get install desktop-file-utils)")
    r = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_metainfo_describes_this_app_and_release():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launch = root.find("launchable")
    assert launch is not None and launch.get("type") == "desktop-id" and launch.text == DESKTOP.name
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]["text"]
    assert root.findtext("name") == _desktop()["Name"]
    assert root.findtext("summary") and root.find("description/p") is not None
    # The newest release listed is the version being packaged.
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == __version__ == PYPROJECT["project"]["version"]
    binaries = {b.text for b in root.findall("provides/binary")}
    assert binaries == set(PYPROJECT["project"]["scripts"]) | set(PYPROJECT["project"]["gui-scripts"])


def test_metainfo_passes_appstreamcli_validate():
    tool = shutil.which("appstreamcli")
    if not tool:
        pytest.skip("appstreamcli not installed (apt-get install appstream)")
    r = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " E: " not in r.stdout and " W: " not in r.stdout, r.stdout


def _png(path: Path):
    from PIL import Image

    im = Image.open(path)
    im.load()
    return im


def test_icons_exist_in_every_size_with_transparency():
    for size in make_icons.SIZES:
        p = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        im = _png(p)
        assert im.format == "PNG" and im.size == (size, size) and im.mode == "RGBA", p
        alpha = im.getchannel("A")
        assert alpha.getextrema() == (0, 255), f"{p}: expected transparent corners and an opaque body"
    assert (ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").read_bytes() == SVG.read_bytes()
    from PIL import Image

    ico = Image.open(ICONS / "photosearch.ico")
    assert set(make_icons.ICO_SIZES) == {w for w, _ in ico.info["sizes"]}
    icns = Image.open(ICONS / "photosearch.icns")
    assert icns.size == (1024, 1024)


@pytest.mark.parametrize("size", [16, 48, 256])
def test_committed_icons_match_the_svg(size):
    """Fails when resources/photosearch.svg changed and packaging/make_icons.py was not rerun."""
    import numpy as np

    fresh = np.asarray(_png(io.BytesIO(make_icons.render_png(SVG, size))), dtype=np.int16)
    committed = np.asarray(_png(ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"), dtype=np.int16)
    assert fresh.shape == committed.shape
    assert np.abs(fresh - committed).mean() < 2.0


def test_make_icons_writes_the_whole_layout(tmp_path):
    r = subprocess.run([sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(SVG), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(str(p.relative_to(ICONS)) for p in ICONS.rglob("*") if p.is_file())
    assert made == committed


def test_install_desktop_script_installs_and_uninstalls(tmp_path):
    exe = tmp_path / "bin" / "photosearch-gui"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    prefix = tmp_path / "prefix"
    script = PACKAGING / "linux" / "install-desktop.sh"
    r = subprocess.run(["sh", str(script), "--prefix", str(prefix), "--exec", str(exe)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    share = prefix / "share"
    installed = share / "applications" / DESKTOP.name
    text = installed.read_text()
    assert f"Exec={exe}\n" in text and f"TryExec={exe}\n" in text
    assert (share / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    for size in make_icons.SIZES:
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    if shutil.which("desktop-file-validate"):
        v = subprocess.run(["desktop-file-validate", str(installed)], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout
    r = subprocess.run(["sh", str(script), "--prefix", str(prefix), "--uninstall"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    assert not installed.exists() and not list(share.rglob(f"{APP_ID}.*"))
    # A missing executable is refused with one clear line, not a broken menu entry.
    r = subprocess.run(["sh", str(script), "--prefix", str(prefix), "--exec", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "is not an executable" in r.stderr and not installed.exists()


def test_wheel_ships_the_package_with_its_resources_and_both_commands(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", "dist", ".venv*", "__pycache__",
                                                             "*.egg-info", ".pytest_cache"))
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(tmp_path / "whl")]
    # Offline with this venv's setuptools when it is new enough (>= 70.1 builds wheels by itself); else pip
    # fetches pyproject's build requirements into an isolated environment.
    r = subprocess.run(cmd + ["--no-build-isolation"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = (tmp_path / "whl").glob("photosearch-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = z.read(f"photosearch-{__version__}.dist-info/entry_points.txt").decode()
    assert "photosearch/resources/photosearch.svg" in names
    assert {"photosearch/logs.py", "photosearch/cli/__init__.py", "photosearch/model/starter.py"} <= names
    assert not any(n.startswith(("tests/", "packaging/", "resources/")) for n in names)
    assert "photosearch = photosearch.cli:main" in entry_points
    assert "[gui_scripts]\nphotosearch-gui = photosearch.gui.app.launcher:main" in entry_points
    # Every source module of the checkout is in the wheel (a sub-package missed by setup.py would not be).
    modules = {str(p.relative_to(REPO)) for p in (REPO / "photosearch").rglob("*.py")}
    assert modules <= names
    # ...and so is its package data (the built-in model catalog).
    data = {str(p.relative_to(REPO)) for p in (REPO / "photosearch").rglob("*.json")}
    assert "photosearch/model/catalog.json" in data and data <= names


def test_shell_scripts_parse():
    for script in [PACKAGING / "build.sh", PACKAGING / "verify_bundle.sh"]:
        r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert r.returncode == 0, f"{script}: {r.stderr}"
    r = subprocess.run(["sh", "-n", str(PACKAGING / "linux" / "install-desktop.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_bundle_entry_script_runs_the_cli(home):
    """The frozen bundle's entry script, run unfrozen: an executable not named *-gui is the command line."""
    from helpers import cli_env

    entry = PACKAGING / "pyinstaller" / "photosearch_entry.py"
    r = subprocess.run([sys.executable, str(entry), "--version"], env=cli_env(home), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"photosearch {__version__}", r.stderr
    compile((PACKAGING / "photosearch.spec").read_text(), "photosearch.spec", "exec")  # the spec is valid Python


def test_windows_installer_script_matches_the_bundle():
    iss = (PACKAGING / "windows" / "photosearch.iss").read_text()
    assert f'#define AppVersion "{__version__}"' in iss and f'#define AppId "{APP_ID}"' in iss
    spec = (PACKAGING / "photosearch.spec").read_text()
    # The shortcut targets the windowed executable the spec builds, inside the folder it collects.
    assert 'name="photosearch-gui", console=False' in spec and 'name="PhotoSearch")' in spec
    assert '{app}\\photosearch-gui.exe' in iss and 'dist\\PhotoSearch\\*' in iss
    assert "SetupIconFile=..\\icons\\photosearch.ico" in iss and (PACKAGING / "icons" / "photosearch.ico").is_file()
