"""Render docs/face-boxes.png: the preview pane of a 1366x768 window showing a group photo's face boxes with names
(one named, one being named in the editor, a small background face drawn fainter).

    python scripts/screenshot_faces.py [--out docs]

Qt's offscreen platform; the tiny random model from tests/helpers.py (the preview does not depend on ranking) and
the real faces of tests/facehelpers.py (Eileen Collins, Grace Hopper).
"""

from __future__ import annotations

from pathlib import Path

from shotkit import offscreen_main


def main() -> int:
    return offscreen_main("ps-faces-shot-", run)


def photos(d: Path) -> Path:
    """Two portraits of each person and a group photo with a small face far behind them."""
    from facehelpers import astronaut, group_photo, hopper, variant

    d.mkdir(parents=True)
    for s in range(2):
        variant(astronaut(), 10 + s).save(d / f"collins{s}.jpg", quality=88)
        variant(hopper(), 20 + s).save(d / f"hopper{s}.jpg", quality=88)
    group = group_photo([astronaut(), hopper()])
    small = hopper().resize((44, 52))
    group.paste(small, (group.width // 2 - 22, 30))
    group.save(d / "group.jpg", quality=90)
    return d / "group.jpg"


def run(out: Path, work: Path) -> int:
    from helpers import tiny_model
    from PySide6.QtWidgets import QApplication

    from photosearch.faces import people
    from photosearch.faces.engine import FaceEngine
    from photosearch.gui.app.launcher import make_app
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.base.theme import apply_scheme
    from photosearch.library import Library
    from photosearch.paths import app_paths
    from screenshots import wait_until

    app = make_app([])
    app.setStyle("Fusion")
    apply_scheme(app, "light")
    paths = app_paths().ensure()
    group = photos(work / "Pictures")
    model = tiny_model(work)
    with Library.open(paths.library_db) as lib:
        lib.run_index(model, [str(group.parent)], faces=True, face_engine=FaceEngine())
        faces = lib.conn.execute("SELECT f.person_id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path = ? "
                                 "ORDER BY f.x", (str(group),)).fetchall()
        people.name(lib.conn, faces[0][0], "Eileen Collins")
    settings = Settings(paths)
    settings.min_score = 0.0
    win = MainWindow(paths, settings, model=model, model_name="tiny", autoload=False)
    win.resize(1366, 768)
    win.show()
    answered = []
    win.searcher.answered.connect(answered.append)
    win.run_search()
    wait_until(app, lambda: bool(answered), 60)
    win.results_pane.view.setFocus()
    win.results_pane.view.setCurrentIndex(win.results.index(win.results.row_of(str(group))))
    fb = win.preview.faces
    wait_until(app, lambda: len(fb.faces()) == 3 and win.preview.image.pixmap() is not None, 60)
    wait_until(app, lambda: False, 0.5)  # the large image
    fb.open_editor(max(j for j, f in enumerate(fb.faces()) if f.usable and f.name is None))
    fb.editor.name_box.setText("Grace Hopper")
    wait_until(app, lambda: False, 0.3)
    out.mkdir(parents=True, exist_ok=True)
    win.preview.grab().save(str(out / "face-boxes.png"))
    print("wrote", out / "face-boxes.png", fb.labels(), [f.usable for f in fb.faces()], flush=True)
    win.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
