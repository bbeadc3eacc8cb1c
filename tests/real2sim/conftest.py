"""Small generated inputs for the real2sim tests (videos written with PyAV in tmp folders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_VIDEO = Path(__file__).resolve().parents[2] / "../shared/data/video"


def write_video(path: Path, frames: np.ndarray, fps: int = 30) -> Path:
    """Encode (T,H,W,3) uint8 RGB frames as H.264 mp4."""
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height = frames.shape[2], frames.shape[1]
        s.pix_fmt = "yuv420p"
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def textured_frames(T: int, h: int = 240, w: int = 320, shift_px: float = 3.0, seed: int = 0) -> np.ndarray:
    """A random texture panning sideways (no person in it)."""
    rng = np.random.default_rng(seed)
    big = (rng.random((h // 4, (w + int(T * shift_px)) // 4 + 2, 3)) * 255).astype(np.uint8)
    big = np.kron(big, np.ones((4, 4, 1), np.uint8))
    return np.stack([big[:h, int(t * shift_px) : int(t * shift_px) + w] for t in range(T)])


@pytest.fixture
def noise_video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "noise.mp4", textured_frames(24))


@pytest.fixture
def shared_video() -> Path:
    d = SHARED_VIDEO.resolve()
    if not d.is_dir():
        pytest.skip("../shared/data is absent")
    return d
