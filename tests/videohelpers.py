"""Test videos made here with PyAV: real photos shown in sequence, each for a known span, so a search for one of
them has a known right moment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_slideshow(path: Path, photos: list[np.ndarray], seconds_each: float = 3.0, fps: int = 10,
                    size: tuple[int, int] = (320, 240), codec: str = "libx264", rotate: int = 0,
                    gop: int | None = None) -> list[tuple[float, float]]:
    """Each photo on screen for ``seconds_each``; returns the (start, end) seconds of each. ``rotate``: the
    display rotation written as container metadata (a phone held upright), ``gop``: frames between keyframes."""
    import av

    spans = []
    with av.open(str(path), "w") as out:
        st = out.add_stream(codec, rate=fps)
        st.width, st.height = size
        st.pix_fmt = "yuv420p"
        if gop:
            st.codec_context.gop_size = gop
        if rotate:
            st.set_display_rotation(rotate)  # the display matrix phones write (counter-clockwise degrees)
        n = 0
        for i, arr in enumerate(photos):
            img = Image.fromarray(arr).convert("RGB").resize(size)
            spans.append((n / fps, (n + int(seconds_each * fps)) / fps))
            for _ in range(int(seconds_each * fps)):
                out.mux(st.encode(av.VideoFrame.from_image(img)))
                n += 1
        out.mux(st.encode())
    return spans


def write_audio_only(path: Path) -> Path:
    """A video container (say .mkv) holding one second of silence and no video stream."""
    import av

    with av.open(str(path), "w") as out:
        st = out.add_stream("flac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        for packet in st.encode(frame):
            out.mux(packet)
        out.mux(st.encode())
    return path
