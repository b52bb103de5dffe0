"""Videos as moments: are the right video and the right second found, what does sampling cost, is memory bounded.

1. Moments: the evaluation set's TEST-half photos (benchmarks/evalset.py) are cut into slideshow videos (each photo
   on screen for ``--seconds`` s, several codecs and containers, one rotated like a phone video), indexed with the
   starter, then every test-half query with a relevant photo inside a video is searched: a query counts as right
   when a video holding a relevant photo is among the top 3 hits (of ~24 videos, 4 photos each) and its
   ``time_s`` lies within 2 s of that photo's span. Photo-level recall of the same queries (the photos as files) is
   printed beside it, since a video cannot be found better than the model finds the photo. What the video path
   itself adds is measured apart from the model: the share of shown photos whose span holds a sampled moment, and,
   when the video is found, how often its moment is the photo the model itself scores best among that video's
   photos as files (100 %: every wrong moment is the model's pick, not a sampling or timing error).
2. Cost: CPU seconds (process time) of sampling one minute of 1080p30 H.264, and the frames it keeps; and of the
   faces pass on that minute (its moments decoded again at the detection size, faces found and described).
3. Memory: peak resident memory (VmHWM) while sampling a one-hour video (640x360, 2 fps, to keep writing it short).

    python benchmarks/bench_video.py [--dest /tmp/bench-video] [--seconds 3] [--skip-hour]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from evalset import assemble
from videohelpers import write_slideshow

PER_VIDEO = 4  # photos per video: ~24 videos, so finding the right one is not chance
LAYOUT = [("libx264", "mp4", 0), ("libvpx-vp9", "webm", 0), ("libx264", "mov", 90), ("mpeg4", "avi", 0),
          ("libx264", "mkv", 0)]  # (codec, container, display rotation)


def _photo(path: Path, rotate: int) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    img.thumbnail((640, 640))
    a = np.asarray(img)
    return np.ascontiguousarray(np.rot90(a, k=-1)) if rotate == 90 else a  # the sensor's view of a phone video


def moments(dest: Path, seconds: float) -> dict:
    from photosearch.library import Library
    from photosearch.library.query import Query
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    es = assemble(dest / "photos").split("test")
    ids = sorted(es.photos)
    vids = dest / "videos"
    vids.mkdir(parents=True, exist_ok=True)
    where: dict[str, tuple[str, float, float]] = {}  # photo id -> (video path, start, end)
    for k in range(0, (len(ids) + PER_VIDEO - 1) // PER_VIDEO):
        codec, ext, rot = LAYOUT[k % len(LAYOUT)]
        chunk = ids[k * PER_VIDEO:(k + 1) * PER_VIDEO]
        size = (240, 320) if rot else (320, 240)
        path = vids / f"v{k}.{ext}"
        spans = write_slideshow(path, [_photo(es.photos[i], rot) for i in chunk], seconds_each=seconds,
                                size=size, codec=codec, rotate=rot)
        for i, (a, b) in zip(chunk, spans):
            where[i] = (str(path), a, b)
    model = ModelStore(app_paths(dest / "home")).load("starter", device="cpu")
    right = video_found = photo_found = agree = n = 0
    errors = []
    with Library.open(dest / "videos.db") as lib_v, Library.open(dest / "photos.db") as lib_p:
        t0 = time.perf_counter()
        lib_v.run_index(model, [vids])
        index_s = time.perf_counter() - t0
        lib_p.run_index(model, [dest / "photos"])
        rel_paths = {i: str(es.photos[i]) for i in ids}
        for q in es.queries:
            rel = [i for i in q["relevant"] if i in where]
            if not rel:
                continue
            n += 1
            hits = lib_v.search(model, Query.of(q["text"], top_k=3))
            found = ok = False
            for h in hits:
                spans = [where[i][1:] for i in rel if where[i][0] == h.path]
                if spans:
                    found = True
                    ok = h.time_s is not None and any(a - 2.0 <= h.time_s <= b + 2.0 for a, b in spans)
                    break  # the best-ranked video (of the top 3) holding a right photo: is its moment right?
            video_found += found
            right += ok
            if not ok:
                errors.append(q["text"])
            photo_hits = lib_p.search(model, Query.of(q["text"], top_k=5))
            photo_found += any(h.path == rel_paths[i] for h in photo_hits for i in rel)
            if found:  # the moment against the model's own pick among that video's photos, scored as files
                scores = {x.path: x.score for x in lib_p.search(model, Query.of(q["text"], top_k=len(ids)))}
                mine = [i for i in ids if where[i][0] == h.path]
                pick = max(mine, key=lambda i: scores.get(rel_paths[i], -1.0))
                agree += h.time_s is not None and where[pick][1] <= h.time_s < where[pick][2]
        spans_sampled = _spans_sampled(lib_v, where)
    return {"queries": n, "moment_right_pct": round(100 * right / max(n, 1), 1),
            "video_in_top3_pct": round(100 * video_found / max(n, 1), 1),
            "moment_right_when_found_pct": round(100 * right / max(video_found, 1), 1),
            "photo_in_top5_pct": round(100 * photo_found / max(n, 1), 1), "spans_sampled_pct": spans_sampled,
            "moment_is_models_pick_pct": round(100 * agree / max(video_found, 1), 1),
            "videos": len({w[0] for w in where.values()}),
            "photos_in_videos": len(where), "index_s": round(index_s, 1), "missed": errors[:10]}


def _spans_sampled(lib, where: dict) -> float:
    """Percent of the shown photos whose span (start, end) holds a sampled moment: what the sampling can find."""
    held = 0
    for video, a, b in where.values():
        held += lib.conn.execute("SELECT count(*) FROM video_frames f JOIN photos p ON p.id = f.photo_id "
                                 "WHERE p.path = ? AND f.t >= ? AND f.t < ?", (video, a, b)).fetchone()[0] > 0
    return round(100 * held / max(len(where), 1), 1)


def cost(dest: Path) -> dict:
    from photosearch.video import read_video

    p = dest / "1080p.mp4"
    if not p.exists():
        from skimage import data

        frames = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
        write_slideshow(p, frames, seconds_each=15.0, fps=30, size=(1920, 1080), codec="libx264")
    runs = []
    for _ in range(3):
        c0 = time.process_time()
        info = read_video(p)
        runs.append(time.process_time() - c0)
    return {"cpu_s_per_min_1080p": round(float(np.median(runs)), 2), "frames_kept": len(info.moments),
            **faces_cost(p, [m.t for m in info.moments])}


def faces_cost(p: Path, times: list[float]) -> dict:
    """The faces pass on the same minute: its moments decoded again at the detection size, faces looked for."""
    from photosearch.faces.engine import FaceEngine
    from photosearch.faces.facepass import VIDEO_MOMENTS, _decode_one, find_in_frames
    from photosearch.library.frames import spread

    times = spread(times, VIDEO_MOMENTS)  # as the faces pass picks them
    engine = FaceEngine()
    engine.load()
    runs, found = [], 0
    for _ in range(3):
        c0 = time.process_time()
        frames, _why = _decode_one(str(p), times)
        found = len(find_in_frames(engine, frames)[0])
        runs.append(time.process_time() - c0)
    return {"faces_cpu_s_per_min_1080p": round(float(np.median(runs)), 2), "faces_moments": len(times),
            "faces_found": found}


def memory(dest: Path) -> dict:
    import subprocess

    p = dest / "hour.mp4"
    if not p.exists():
        from skimage import data

        frames = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()] * 15
        write_slideshow(p, frames, seconds_each=60.0, fps=2, size=(640, 360), codec="libx264")
    # VmHWM (peak resident memory of this process image); ru_maxrss would carry the parent's over fork+exec.
    code = ("import re, sys; from photosearch.video import read_video; import av, PIL, numpy; "
            "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "r0 = hwm(); i = read_video(sys.argv[1]); print(len(i.moments), round(i.duration_s), r0, hwm())")
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    frames, dur, before_kb, peak_kb = out.stdout.split()
    return {"hour_frames": int(frames), "hour_duration_s": int(dur), "hour_rss_after_imports_mb":
            round(int(before_kb) / 1024, 1), "hour_peak_rss_mb": round(int(peak_kb) / 1024, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=Path("/tmp/bench-video"))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--skip-hour", action="store_true")
    a = ap.parse_args()
    a.dest.mkdir(parents=True, exist_ok=True)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    res.update(moments(a.dest, a.seconds))
    res.update(cost(a.dest))
    if not a.skip_hour:
        res.update(memory(a.dest))
    print(f"{'measure':<34} value")
    for k, v in res.items():
        if k != "missed":
            print(f"{k:<34} {v}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
