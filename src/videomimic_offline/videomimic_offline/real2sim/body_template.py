"""Metric skeleton for a given height: the ruler of the whole reconstruction.

The joint optimisation needs bone lengths in metres for a person of height H: the open body
model's joints at that height (``videomimic_offline.body.model``, anthropometric proportions of
Drillis & Contini), so reconstruction, synthetic ground truth and retargeting share one
definition; or, with ``body_backend="smpl"``, the user's SMPL model. A height the body model does
not cover is refused with its message, never answered with another skeleton.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS


def rest_joints(height_m: float, body_backend: str = "skeleton", smpl_model_dir: Path | None = None) -> np.ndarray:
    """(J,3) standing joints for a person of ``height_m``.

    ``body_backend="smpl"`` uses the user's SMPL files; otherwise the open body model.
    """
    if body_backend == "smpl":
        from videomimic_offline.real2sim.backends.smpl import smpl_rest_joints

        return smpl_rest_joints(smpl_model_dir, height_m)
    from videomimic_offline.body.model import BodyShape
    from videomimic_offline.body.model import rest_joints as model_rest_joints

    return np.asarray(model_rest_joints(BodyShape(height_m=float(height_m))), float)


def bone_lengths(height_m: float, body_backend: str = "skeleton", smpl_model_dir: Path | None = None) -> np.ndarray:
    """(J,) length of the bone from each joint's parent to it (0 for the root)."""
    rest = rest_joints(height_m, body_backend, smpl_model_dir)
    par = np.array(HUMAN_PARENTS)
    out = np.zeros(len(HUMAN_JOINTS))
    child = par >= 0
    out[child] = np.linalg.norm(rest[child] - rest[par[child]], axis=1)
    return out
