"""Metric skeleton for a given height: the ruler of the whole reconstruction.

The joint optimisation needs bone lengths in metres for a person of height H. The default comes
from standard anthropometric proportions (segment lengths as fractions of stature, Drillis &
Contini); when the open body model (``videomimic_offline.body.model``) is available its joints at
that height are used instead, so reconstruction and synthetic ground truth share one definition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS

# Standing rest pose as fractions of stature: x forward, y left, z up (feet on z=0).
_REST_FRAC: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.51),
    "left_hip": (0.0, 0.055, 0.51),
    "right_hip": (0.0, -0.055, 0.51),
    "spine": (0.0, 0.0, 0.60),
    "neck": (0.0, 0.0, 0.818),
    "head": (0.0, 0.0, 0.925),
    "left_shoulder": (0.0, 0.11, 0.818),
    "left_elbow": (0.0, 0.11, 0.632),
    "left_wrist": (0.0, 0.11, 0.486),
    "right_shoulder": (0.0, -0.11, 0.818),
    "right_elbow": (0.0, -0.11, 0.632),
    "right_wrist": (0.0, -0.11, 0.486),
    "left_knee": (0.0, 0.055, 0.285),
    "left_ankle": (0.0, 0.055, 0.039),
    "left_toe": (0.12, 0.065, 0.01),
    "right_knee": (0.0, -0.055, 0.285),
    "right_ankle": (0.0, -0.055, 0.039),
    "right_toe": (0.12, -0.065, 0.01),
}


def rest_joints(height_m: float, body_backend: str = "skeleton", smpl_model_dir: Path | None = None) -> np.ndarray:
    """(J,3) standing joints for a person of ``height_m``.

    ``body_backend="smpl"`` uses the user's SMPL files; otherwise the open body model, else anthropometry.
    """
    if body_backend == "smpl":
        from videomimic_offline.real2sim.backends.smpl import smpl_rest_joints

        return smpl_rest_joints(smpl_model_dir, height_m)
    model_joints = _body_model_rest(height_m)
    if model_joints is not None:
        return model_joints
    return np.array([_REST_FRAC[n] for n in HUMAN_JOINTS], float) * height_m


def bone_lengths(height_m: float, body_backend: str = "skeleton", smpl_model_dir: Path | None = None) -> np.ndarray:
    """(J,) length of the bone from each joint's parent to it (0 for the root)."""
    rest = rest_joints(height_m, body_backend, smpl_model_dir)
    par = np.array(HUMAN_PARENTS)
    out = np.zeros(len(HUMAN_JOINTS))
    child = par >= 0
    out[child] = np.linalg.norm(rest[child] - rest[par[child]], axis=1)
    return out


def _body_model_rest(height_m: float) -> np.ndarray | None:
    """Joints of the open body model at this height, if that module provides them."""
    try:
        from videomimic_offline.body import model as body_model  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(body_model, "rest_joints", None)
    shape_cls = getattr(body_model, "BodyShape", None)
    if fn is None or shape_cls is None:
        return None
    try:
        j = np.asarray(fn(shape_cls(height_m=float(height_m))), float)
    except Exception:
        return None
    if j.shape != (len(HUMAN_JOINTS), 3) or not np.isfinite(j).all():
        return None
    return j
