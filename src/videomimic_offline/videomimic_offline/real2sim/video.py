"""Video input: validate a file, read its frames at the processing resolution.

Every way a user file can be unusable (missing, not a video, corrupt, empty, too short, too long
for the memory budget) becomes an InputError with one line saying what to do, before any stage
writes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from videomimic_offline.errors import InputError

#: Peak memory of a reconstruction: a fixed part (models, libraries) plus a cost per processed pixel
#: per frame (the RGB frames, the person masks and the camera stage's grey and background images
#: are held together, so the camera stage is the peak). Measured peak RSS on a 10-minute 1080p clip
#: processed at 640x360 with --max-frames: 1.34 GiB at 300 frames, 2.37 at 1200, 9.59 at 5400
#: (growing faster than linearly); this bound (1.0 GiB + 8 bytes per pixel and frame) lies above
#: all three.
BASE_BYTES = 1.0 * 2**30
BYTES_PER_PIXEL_FRAME = 8.0


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


def _stream_meta(path: Path) -> tuple[float, int, int, int]:
    """(fps, frame count from the metadata (0 = unknown), width, height) without decoding."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 30.0
        n = int(stream.frames or 0)
        if n <= 0 and stream.duration and stream.time_base:
            n = int(float(stream.duration * stream.time_base) * fps)
        if n <= 0 and container.duration:
            n = int(container.duration / 1e6 * fps)
        return fps, n, stream.codec_context.width, stream.codec_context.height
    finally:
        container.close()


def _mmss(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def check_memory(path: Path, max_side: int, max_frames: int | None, budget_gb: float) -> None:
    """Refuse, before decoding, a clip whose frames would not fit in ``budget_gb`` (GiB), with the
    commands that trim it. The length comes from the container's metadata (no decoding)."""
    path = Path(path)
    fps, n, src_w, src_h = _stream_meta(path)
    if n <= 0 or not src_w or not src_h:
        return  # no metadata: probe() decodes and checks the clip
    s = min(1.0, max_side / max(src_w, src_h))
    w, h = round(src_w * s), round(src_h * s)
    used = min(n, max_frames) if max_frames else n
    per_frame = BYTES_PER_PIXEL_FRAME * w * h
    need = BASE_BYTES + used * per_frame
    budget = budget_gb * 2**30
    if need <= budget:
        return
    fit = max(0, int((budget - BASE_BYTES) // per_frame))
    raise InputError(
        f"{path.name} is {_mmss(n / fps)} long ({n} frames at {fps:g} fps, {src_w}x{src_h}): reconstructing "
        f"{used} frames needs about {need / 2**30:.1f} GB of memory (each frame is held at {w}x{h}), more than "
        f"the {budget_gb:g} GB budget (--video.memory-budget-gb). Use at most {fit} frames ({_mmss(fit / fps)}): "
        f"--max-frames {fit} reconstructs the start, or cut the part you want first, e.g. "
        f"ffmpeg -ss 0:30 -i {path.name} -t {_mmss(fit / fps)} -c copy part.mp4"
    )


def iter_frames(path: Path, max_side: int, max_frames: int | None = None) -> Iterator[np.ndarray]:
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


def read_frames(path: Path, max_side: int, max_frames: int | None = None) -> np.ndarray:
    """All frames as one (T,H,W,3) uint8 array."""
    frames = list(iter_frames(path, max_side, max_frames))
    if not frames:
        raise InputError(f"{path} holds no decodable frames: re-export the video")
    return np.stack(frames)


def probe(path: Path, max_side: int, max_frames: int | None, min_frames: int) -> VideoInfo:
    """Decode the whole clip once (cheap at the processing size) to check it and count frames exactly."""
    path = Path(path)
    fps, _, src_w, src_h = _stream_meta(path)
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
