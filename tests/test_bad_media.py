"""The bad inputs a phone or camera folder holds, all in one library run (issue 23): a truncated MP4 (its index,
the moov box, missing), a zero-length video, a video with no video stream, a GIF of 100,000 frames and a RAW that
LibRaw cannot read. Each is one fault record with a reason, the good photo beside them is indexed, nothing hangs
(the run is bounded), and a second run does not read them again."""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image
from videohelpers import write_audio_only, write_slideshow

from photosearch.library import Library

GIF_FRAMES = 100_000


def _huge_gif(path) -> None:
    """A GIF of ``GIF_FRAMES`` 2x2 frames (alternating colours, so no encoder merges them): Pillow writes three,
    and the second and third frames' bytes are repeated (~3 MB, written in milliseconds)."""
    frames = [Image.new("P", (2, 2), c) for c in (0, 1, 0)]
    for f in frames:
        f.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=20, loop=0, optimize=False)
    data = buf.getvalue()
    marks = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\x21\xf9"]  # each frame's control block
    assert len(marks) == 3 and data.endswith(b"\x3b")
    head, pair = data[:marks[1]], data[marks[1]:-1]  # header + frame 1; frames 2 and 3
    path.write_bytes(head + pair * (GIF_FRAMES // 2) + b"\x3b")


def test_each_bad_file_is_one_fault_record_and_nothing_else_is_affected(tmp_path, tiny):
    d = tmp_path / "phone"
    d.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), np.uint8)).save(d / "good.jpg")
    good = tmp_path / "good.mp4"
    write_slideshow(good, [np.full((240, 320, 3), 90, np.uint8), np.full((240, 320, 3), 200, np.uint8)])
    (d / "cut.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # moov is written last: gone
    (d / "empty.mov").write_bytes(b"")
    write_audio_only(d / "sound.mkv")
    _huge_gif(d / "endless.gif")
    (d / "IMG_0001.CR3").write_bytes(b"\x00\x00\x00\x18ftypcrx " + bytes(range(256)) * 64)  # not a RAW LibRaw reads
    with Image.open(d / "endless.gif") as im:
        assert getattr(im, "n_frames", 1) > GIF_FRAMES  # the file is what it says (read here, not by the library)

    with Library.open(tmp_path / "lib.db") as lib:
        t0 = time.monotonic()
        rep = lib.run_index(tiny, [str(d)])
        seconds = time.monotonic() - t0
        skipped = {s["path"].rsplit("/", 1)[1]: s["reason"] for s in rep.skipped}
        assert sorted(skipped) == ["IMG_0001.CR3", "cut.mp4", "empty.mov", "sound.mkv"], skipped
        assert all(r and "Traceback" not in r for r in skipped.values())
        assert "no video stream" in skipped["sound.mkv"] and skipped["empty.mov"] == "empty file"
        # The GIF is a photo (its first frame), indexed like the JPEG; neither waits for the 100,000 frames.
        indexed = {r[0].rsplit("/", 1)[1] for r in lib.conn.execute("SELECT path FROM photos")}
        assert indexed == {"good.jpg", "endless.gif"}
        assert seconds < 120  # a generous bound on a hang, not a speed target (benchmarks/ measures speed)
        assert len(lib.skipped()) == 4  # one record each, kept
        again = lib.run_index(tiny, [str(d)])
        assert again.skipped == [] and again.indexed == 0 and len(lib.skipped()) == 4  # not read again
