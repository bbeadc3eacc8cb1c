"""Cameras ``cameras.npz``: schema ``videomimic.cameras`` v1 — the record, its one writer and one reader.

Written by real2sim's export; read by the reconstruction metrics, the viewers and the report.

Conventions:

- ``K`` (T,3,3) pinhole intrinsics in pixels of the *processed* frames (``image_size``), per frame.
- ``T_world_cam`` (T,4,4) camera-to-world pose in the motion's world frame (z up, metres, floor
  z = 0), OpenCV camera axes (x right, y down, z forward). A frame whose camera was not recovered
  holds NaN.
- ``image_size`` (2,) = (width, height) px; ``fps`` () frames per second.
- ``regime`` () str, optional: how the camera moved — "static", "rotation" (turning in place) or
  "translating" (the only regime in which SfM triangulates the scene).
- ``focal_source`` () str, optional: where the focal length came from — "given" (the user),
  "sfm", "rotation" (self-calibrated from a camera turning in place), "lines" (vanishing points of
  the scene's straight lines, a still camera), "person" (the body's known size) or "prior" (a
  field-of-view assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError

SCHEMA = "videomimic.cameras"
VERSION = 1
FILE = "cameras.npz"
REGIMES = ("static", "rotation", "translating")
FOCAL_SOURCES = ("given", "sfm", "rotation", "lines", "person", "prior")


@dataclass
class Cameras:
    """Per-frame intrinsics and poses of the video's camera (see the module docstring)."""

    K: np.ndarray  # (T, 3, 3)
    T_world_cam: np.ndarray  # (T, 4, 4)
    image_size: tuple[int, int]  # (w, h)
    fps: float
    regime: str | None = None
    focal_source: str | None = None

    def __post_init__(self) -> None:
        K = np.asarray(self.K, np.float64)
        if K.shape == (3, 3):  # one intrinsics matrix for every frame
            K = np.repeat(K[None], len(self.T_world_cam), axis=0)
        self.K = K
        self.T_world_cam = np.asarray(self.T_world_cam, np.float64)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        T = len(self.T_world_cam)
        if self.K.shape != (T, 3, 3) or self.T_world_cam.shape != (T, 4, 4):
            raise ArtifactError(f"cameras: K {self.K.shape} / T_world_cam {self.T_world_cam.shape} for {T} frames")
        if self.regime is not None and self.regime not in REGIMES:
            raise ArtifactError(f"cameras: regime {self.regime!r} is not one of {REGIMES}")
        if self.focal_source is not None and self.focal_source not in FOCAL_SOURCES:
            raise ArtifactError(f"cameras: focal_source {self.focal_source!r} is not one of {FOCAL_SOURCES}")

    @property
    def num_frames(self) -> int:
        return int(len(self.T_world_cam))

    @property
    def positions(self) -> np.ndarray:
        """(T, 3) camera centres in the world frame."""
        return self.T_world_cam[:, :3, 3]


def write_cameras(path: Path, cams: Cameras) -> None:
    """Write ``cameras.npz`` (the only writer of this schema)."""
    optional = {k: np.array(getattr(cams, k)) for k in ("regime", "focal_source") if getattr(cams, k) is not None}
    artifacts.write_npz(
        Path(path), schema=SCHEMA, version=VERSION, K=cams.K, T_world_cam=cams.T_world_cam,
        image_size=np.array(cams.image_size), fps=np.array(float(cams.fps)), **optional,
    )  # fmt: skip


def read_cameras(path: Path) -> Cameras:
    """Read ``cameras.npz`` (the only reader of this schema)."""
    path = Path(path)
    d = artifacts.read_npz(path, schema=SCHEMA, max_version=VERSION)
    missing = [k for k in ("K", "T_world_cam", "image_size", "fps") if k not in d]
    if missing:
        raise ArtifactError(f"{path} lacks {missing}; re-run the reconstruction")
    optional = {k: str(d[k]) for k in ("regime", "focal_source") if k in d}
    return Cameras(d["K"], d["T_world_cam"], tuple(d["image_size"].tolist()), float(d["fps"]), **optional)
