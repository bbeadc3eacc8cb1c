"""Feasibility report ``feasibility.json``: schema ``videomimic.feasibility`` v1 — the record, its one
writer and one reader.

Written by the ``retarget`` tool beside ``robot_motion.npz``; read by the batch processor, the
main job and the report. It says whether a tracking policy can train on that robot motion.

Conventions: millimetres for distances (``*_mm``), radians and rad/s for joints, frames at the
motion's ``fps`` (50). ``usable`` is the verdict and ``reasons`` say why not; ``advice`` says what to
try (e.g. the whole-clip refinement). A figure that does not apply (no human keypoints for a
robot-only input) is ``null`` in the file and NaN in the record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError

SCHEMA = "videomimic.feasibility"
VERSION = 1
FILE = "feasibility.json"


@dataclass
class Feasibility:
    """Per-clip figures; ``usable`` is the verdict, ``reasons`` say why not."""

    frames: int
    fps: float
    limit_violations: int
    min_limit_margin_rad: float
    min_limit_margin_joint: str
    velocity_violations: int
    peak_velocity_ratio: float  # max |qdot| / limit over joints
    peak_velocity_joint: str
    peak_joint_vel: dict[str, float]
    max_penetration_mm: float
    foot_slide_mm_per_frame: float  # mean over in-contact frame pairs
    foot_slide_max_mm: float
    self_collisions: int  # frames with any robot-robot penetration
    keypoint_err_mm: float
    joint_accel_rms: float = float("nan")  # rad/s^2, RMS over joints and frames: smoothness
    usable: bool = False
    reasons: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-safe dict (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}

    @property
    def verdict(self) -> str:
        """One line: "usable" or "NOT usable: <reasons>"."""
        return "usable" if self.usable else "NOT usable: " + "; ".join(self.reasons)


def write_feasibility(path: Path, rep: Feasibility) -> None:
    """Write ``feasibility.json`` (the only writer of this schema)."""
    artifacts.write_json(Path(path), {"schema": SCHEMA, "version": VERSION, **rep.as_dict()})


def read_feasibility(path: Path) -> Feasibility:
    """Read ``feasibility.json`` (the only reader of this schema; a file without ``schema`` is v1)."""
    path = Path(path)
    d = artifacts.read_json(path)
    if d.pop("schema", SCHEMA) != SCHEMA or int(d.pop("version", VERSION)) > VERSION:
        raise ArtifactError(f"{path} is not a {SCHEMA} v{VERSION} file; re-run retarget")
    names = {f.name for f in fields(Feasibility)}
    try:
        rep = Feasibility(**{k: v for k, v in d.items() if k in names})
    except TypeError as exc:
        raise ArtifactError(f"{path} is incomplete ({exc}); re-run retarget") from exc
    for f in fields(Feasibility):
        if f.type == "float" and getattr(rep, f.name) is None:
            setattr(rep, f.name, float("nan"))
    return rep
