"""Videos as moments: a bounded set of frames sampled at scene changes and at most every few seconds, each with
its time, so a search finds the moment ("the birthday cake" at 0:42), not just the file.

Decoding is bounded in every direction a hostile or huge file could push it: keyframes only where they are dense
enough (a decoder skipping all other frames costs a fraction of full decoding), a seek to fill long gaps, at most
``max_frames`` frames, a wall-clock budget, frames converted straight to a small RGB size (a 4K frame never exists
in memory as a full-size image), and the file is streamed, never read whole. Core module: no Qt.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".3g2", ".mts", ".m2ts"})


@dataclass(frozen=True)
class Sampling:
    """How frames are chosen. Defaults: a phone video of 1 minute gives ~15-30 frames."""

    max_gap_s: float = 4.0  # never more than this between two sampled moments
    min_gap_s: float = 0.75  # scene changes closer than this to the last sample are one moment
    scene_diff: float = 18.0  # mean absolute difference of 16x16 grey thumbnails (0-255) that counts as a cut
    max_frames: int = 120  # a long video is sampled more sparsely rather than growing without bound
    short_side: int = 256  # frames are converted straight to this short side
    budget_s: float = 120.0  # wall-clock limit for one video; what was sampled by then is kept


@dataclass
class Moment:
    t: float  # seconds from the start of the video
    image: Image.Image  # RGB, upright, short side ~Sampling.short_side


@dataclass
class VideoInfo:
    width: int  # as shown (rotation applied)
    height: int
    duration_s: float
    codec: str
    moments: list[Moment]
    taken_at: str | None = None  # the container's creation time (UTC, as phones write it), ISO 8601


class VideoSkip(Exception):
    """This video cannot be read; ``reason`` says why in words a user understands."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_video_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def _small_rgb(frame, short_side: int) -> Image.Image:
    """The frame at ``short_side`` (never upscaled), upright."""
    w, h = frame.width, frame.height
    s = min(1.0, short_side / max(1, min(w, h)))
    img = frame.to_image(width=max(1, round(w * s)), height=max(1, round(h * s)))
    rot = int(getattr(frame, "rotation", 0) or 0) % 360  # the display matrix: counter-clockwise degrees
    if rot:
        img = img.rotate(rot, expand=True)
    return img


def _signature(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L").resize((16, 16), Image.Resampling.BILINEAR), dtype=np.float32)


class _Picker:
    """Keeps a frame when the scene changed or the gap since the last kept one grew too long."""

    def __init__(self, sampling: Sampling):
        self.s = sampling
        self.moments: list[Moment] = []
        self._last_sig: np.ndarray | None = None

    @property
    def last_t(self) -> float:
        return self.moments[-1].t if self.moments else -1e9

    def offer(self, t: float, frame) -> None:
        gap = t - self.last_t
        if gap < self.s.min_gap_s:
            return
        img = _small_rgb(frame, self.s.short_side)
        sig = _signature(img)
        cut = self._last_sig is None or float(np.abs(sig - self._last_sig).mean()) >= self.s.scene_diff
        if cut or gap >= self.s.max_gap_s:
            self.moments.append(Moment(round(t, 3), img))
            self._last_sig = sig


def _open(path):
    import av

    try:
        return av.open(os.fspath(path), metadata_errors="ignore")
    except av.error.FileNotFoundError:
        raise VideoSkip("no such file") from None
    except av.error.PermissionError:
        raise VideoSkip("unreadable: permission denied") from None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise VideoSkip(f"damaged or not a video: {_msg(e)}") from None


def _msg(e: BaseException) -> str:
    return (getattr(e, "strerror", None) or str(e) or type(e).__name__).strip()


def read_video(path: str | os.PathLike, sampling: Sampling = Sampling()) -> VideoInfo:
    """Sample a video's moments. Raises :class:`VideoSkip` for anything that is not a readable video."""
    import av

    if os.path.getsize(path) == 0:
        raise VideoSkip("empty file")
    deadline = time.monotonic() + sampling.budget_s
    with _open(path) as container:
        if not container.streams.video:
            raise VideoSkip("no video stream (an audio file?)")
        stream = container.streams.video[0]
        duration = _duration(container, stream)
        s = sampling
        if duration > 0 and duration / s.max_gap_s > s.max_frames:  # long videos: spread the frames out
            s = Sampling(**{**s.__dict__, "max_gap_s": duration / s.max_frames,
                            "min_gap_s": max(s.min_gap_s, duration / (2 * s.max_frames))})
        picker = _Picker(s)
        try:
            _keyframes(container, stream, picker, deadline)
            _fill_gaps(container, stream, picker, duration, deadline)
        except av.error.FFmpegError as e:
            if not picker.moments:
                raise VideoSkip(f"damaged video: {_msg(e)}") from None
        if not picker.moments:
            raise VideoSkip("no frame could be decoded")
        first = picker.moments[0].image
        w, h = stream.codec_context.width, stream.codec_context.height
        if (first.width > first.height) != (w > h) and w != h:
            w, h = h, w  # rotated phone video: report the size as shown
        picker.moments.sort(key=lambda m: m.t)
        return VideoInfo(w, h, duration, stream.codec_context.name, picker.moments[: s.max_frames],
                         _creation_time(container))


def video_duration(path: str | os.PathLike) -> float | None:
    """Seconds, from the container's header only (None: not a readable video or no duration written)."""
    try:
        with _open(path) as container:
            if not container.streams.video:
                return None
            return _duration(container, container.streams.video[0]) or None
    except Exception:  # noqa: BLE001 - any failure just means "unknown" to the caller (library/pairs.py)
        return None


def _creation_time(container) -> str | None:
    from datetime import datetime

    raw = (container.metadata or {}).get("creation_time")
    try:
        dt = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None
    if dt is None or dt.year < 1980:  # 1904/1970: the container's zero, written by tools that know no date
        return None
    return dt.replace(tzinfo=None, microsecond=0).isoformat()


def _duration(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # av.time_base
    return 0.0


def _keyframes(container, stream, picker: _Picker, deadline: float) -> None:
    """One pass over the keyframes only (the decoder drops every other frame unread)."""
    stream.codec_context.skip_frame = "NONKEY"
    try:
        for frame in container.decode(stream):
            if frame.time is not None:
                picker.offer(float(frame.time), frame)
            if time.monotonic() > deadline or len(picker.moments) >= picker.s.max_frames:
                return
    finally:
        stream.codec_context.skip_frame = "DEFAULT"


def _fill_gaps(container, stream, picker: _Picker, duration: float, deadline: float) -> None:
    """Sparse keyframes (screen recordings, long GOPs): seek into each gap longer than ``max_gap_s`` and take
    the first frame decoded there."""
    if duration <= 0:
        return
    s = picker.s
    times = sorted(m.t for m in picker.moments)
    bounds = [0.0, *times, duration]
    wanted = []
    for a, b in zip(bounds, bounds[1:]):
        n = int((b - a) // s.max_gap_s)
        wanted += [a + (i + 1) * (b - a) / (n + 1) for i in range(n)]
    for t in wanted[: max(0, s.max_frames - len(picker.moments))]:
        if time.monotonic() > deadline:
            return
        container.seek(int(t / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 0.5 / max(1.0, float(stream.average_rate or 30)) < t:
                continue  # still before the wanted time after seeking back to a keyframe
            img = _small_rgb(frame, s.short_side)
            picker.moments.append(Moment(round(float(frame.time), 3), img))
            break


def frame_at(path: str | os.PathLike, t: float, short_side: int = 320) -> Image.Image:
    """The frame shown at second ``t`` (the first frame at or after it; the last one when ``t`` is past the end),
    upright at ``short_side``: a moment's thumbnail. Decodes from the keyframe before ``t`` only, for at most
    :data:`FRAME_BUDGET_S`. Raises :class:`VideoSkip`."""
    return frame_and_scale(path, t, short_side)[0]


def frame_and_scale(path: str | os.PathLike, t: float, short_side: int) -> tuple[Image.Image, float]:
    """:func:`frame_at`, and the video's pixels per pixel of the returned frame (>= 1: frames are never
    upscaled), to give what is found in the frame in the video's own pixels, as shown."""
    import av

    deadline = time.monotonic() + FRAME_BUDGET_S
    with _open(path) as container:
        if not container.streams.video:
            raise VideoSkip("no video stream (an audio file?)")
        stream = container.streams.video[0]
        last = None
        try:
            if t > 0 and stream.time_base:
                container.seek(int(t / stream.time_base), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                last = frame
                if frame.time is None or frame.time + 0.5 / max(1.0, float(stream.average_rate or 30)) >= t \
                        or time.monotonic() > deadline:
                    break
        except av.error.FFmpegError as e:
            if last is None:
                raise VideoSkip(f"damaged video: {_msg(e)}") from None
        if last is None:
            raise VideoSkip("no frame could be decoded")
        img = _small_rgb(last, short_side)
        return img, min(last.width, last.height) / max(1, min(img.size))


FRAME_BUDGET_S = 5.0  # one moment's thumbnail: a few keyframe intervals of decoding at most


# -- playing a moment ---------------------------------------------------------------------------------------
PLAYERS = ("mpv", "vlc")  # players whose command line takes a start time, in order of preference


def player_command(path: str | os.PathLike, t: float | None, which=shutil.which) -> list[str] | None:
    """The command that plays ``path`` from second ``t`` in a player that can start there (mpv, else VLC,
    whichever ``which`` finds on PATH); None when ``t`` is None or no such player is installed (then the file
    is opened with the desktop's default application, from the start)."""
    if t is None or t != t or t < 0:
        return None
    p = os.path.abspath(os.fspath(path))  # absolute: never mistaken for an option
    for name in PLAYERS:
        exe = which(name)
        if exe:
            start = f"{t:.2f}".rstrip("0").rstrip(".")
            return [exe, f"--start={start}", p] if name == "mpv" else [exe, f"--start-time={start}", p]
    return None
