"""Video input: validate a file, read its frames at the processing resolution.

Every way a user file can be unusable (missing, not a video, corrupt, empty, too short) becomes an
InputError with one line saying what to do, before any stage writes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from videomimic_offline.errors import InputError


@dataclass(frozen=True)
class VideoInfo:
    """What the stages need to know about a clip, at the processing resolution."""

    path: Path
    fps: float
    num_frames: int
    width: int
    height: int
    scale: float  # processed pixels per source pixel

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "fps": self.fps,
            "num_frames": self.num_frames,
            "width": self.width,
            "height": self.height,
            "scale": self.scale,
        }


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av

    if not path.exists():
        raise InputError(f"{path} does not exist: give the path of a video file (.mp4, .mov, ...)")
    if path.is_dir():
        raise InputError(f"{path} is a folder: give the path of a video file (.mp4, .mov, ...)")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is an empty file: re-export or re-copy the video")
    try:
        container = av.open(str(path))
    except Exception as exc:  # av.error.InvalidDataError and friends
        raise InputError(f"{path} is not a readable video ({type(exc).__name__}); give an .mp4/.mov file") from exc
    if not container.streams.video:
        container.close()
        raise InputError(f"{path} has no video stream (audio only or not a video); give a video file")
    return container


def iter_frames(path: Path, max_side: int = 640, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames resized so the longer side is <= ``max_side``."""
    container = _open(Path(path))
    try:
        n = 0
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="rgb24")
            h, w = img.shape[:2]
            s = min(1.0, max_side / max(h, w))
            if s < 1.0:
                img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            yield img
            n += 1
            if max_frames is not None and n >= max_frames:
                break
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path} is corrupt: decoding stopped at frame {n} ({exc}); re-export the video") from exc
    finally:
        container.close()


def read_frames(path: Path, max_side: int = 640, max_frames: int | None = None) -> np.ndarray:
    """All frames as one (T,H,W,3) uint8 array."""
    frames = list(iter_frames(path, max_side, max_frames))
    if not frames:
        raise InputError(f"{path} holds no decodable frames: re-export the video")
    return np.stack(frames)


def probe(path: Path, max_side: int = 640, max_frames: int | None = None, min_frames: int = 10) -> VideoInfo:
    """Decode the whole clip once (cheap at 640 px) to check it and count frames exactly."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 30.0
        src_w, src_h = stream.codec_context.width, stream.codec_context.height
    finally:
        container.close()
    n = 0
    for _ in iter_frames(path, max_side=max_side, max_frames=max_frames):
        n += 1
    if n == 0:
        raise InputError(f"{path} holds no decodable frames: re-export the video")
    if n < min_frames:
        raise InputError(
            f"{path} has only {n} frames; at least {min_frames} are needed to recover the camera: use a longer clip"
        )
    if not src_w or not src_h:
        raise InputError(f"{path} has no frame size; re-export the video")
    s = min(1.0, max_side / max(src_w, src_h))
    return VideoInfo(path, fps, n, round(src_w * s), round(src_h * s), s)
