"""SMPL / SMPL-X body (heavy backend for ``body_backend="smpl"``) via ``smplx``, from a local folder.

Only the skeleton is needed by the optimisation: the rest-pose joints of the neutral body, scaled
to the person's height and mapped to ``HUMAN_JOINTS``. The licensed model files are never shipped;
the user points ``smpl_model_dir`` at a folder holding ``smpl/SMPL_NEUTRAL.pkl`` (or
``smplx/SMPLX_NEUTRAL.npz``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import BackendUnavailableError, ConfigError, InputError

# HUMAN_JOINTS -> SMPL joint index (the 22 body joints shared by SMPL and SMPL-X)
SMPL_INDEX = {
    "pelvis": 0, "left_hip": 1, "right_hip": 2, "spine": 3, "neck": 12, "head": 15,
    "left_shoulder": 16, "left_elbow": 18, "left_wrist": 20,
    "right_shoulder": 17, "right_elbow": 19, "right_wrist": 21,
    "left_knee": 4, "left_ankle": 7, "left_toe": 10, "right_knee": 5, "right_ankle": 8, "right_toe": 11,
}  # fmt: skip


def load_smpl(model_dir: Path | None, model_type: str = "smpl"):  # type: ignore[no-untyped-def]
    """An ``smplx`` body model from ``model_dir``; InputError naming the missing file."""
    if model_dir is None:
        raise ConfigError("--fit.body-backend smpl needs --fit.smpl-model-dir: a folder holding smpl/SMPL_NEUTRAL.pkl")
    model_dir = Path(model_dir)
    expected = model_dir / model_type / ("SMPL_NEUTRAL.pkl" if model_type == "smpl" else "SMPLX_NEUTRAL.npz")
    if not expected.is_file():
        raise InputError(f"{expected} is missing: download the SMPL model files yourself and put them there")
    try:
        import smplx
    except ImportError as exc:
        raise BackendUnavailableError("--fit.body-backend smpl needs the 'smplx' package: pip install smplx") from exc
    try:
        return smplx.create(str(model_dir), model_type=model_type, gender="neutral", batch_size=1)
    except Exception as exc:
        raise InputError(f"{expected} could not be loaded as {model_type} ({type(exc).__name__}: {exc})") from exc


def smpl_rest_joints(model_dir: Path | None, height_m: float, model_type: str = "smpl") -> np.ndarray:
    """(J,3) rest joints of the neutral body scaled to ``height_m``, z up, soles at z=0."""
    import torch

    model = load_smpl(model_dir, model_type)
    with torch.no_grad():
        out = model()
    verts = out.vertices[0].numpy().astype(float)
    joints = out.joints[0].numpy().astype(float)
    # SMPL is y-up, facing +z; ours is z-up facing +x (y left)
    R = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    verts, joints = verts @ R.T, joints @ R.T
    h = verts[:, 2].max() - verts[:, 2].min()
    if not np.isfinite(h) or h <= 1e-6:
        raise InputError(f"{model_dir}: the SMPL template has no height; is the model file valid?")
    s = height_m / h
    j = np.array([joints[SMPL_INDEX[n]] for n in HUMAN_JOINTS])
    j = (j - [0.0, 0.0, verts[:, 2].min()]) * s
    return j
