"""AMASS-style SMPL/SMPL-H parameter files (``poses``, ``trans``, ``betas``, frame rate) -> HumanMotion.

Needs the user's own SMPL model files (not redistributable): ``model_dir`` is the folder that
holds ``smpl/SMPL_NEUTRAL.pkl`` (or SMPL_MALE/FEMALE), as ``smplx.create`` expects. AMASS is
already z up and in metres; the reader says so in ``conventions``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.contracts.human_motion import HumanMotion, from_named_joints
from videomimic_offline.errors import BackendUnavailableError, InputError

#: SMPL joint index for each skeleton joint (toe = SMPL "foot" joint, wrist = SMPL wrist).
SMPL_INDEX: dict[str, int] = {
    "pelvis": 0, "left_hip": 1, "right_hip": 2, "spine": 3, "neck": 12, "head": 15,
    "left_shoulder": 16, "left_elbow": 18, "left_wrist": 20, "right_shoulder": 17, "right_elbow": 19,
    "right_wrist": 21, "left_knee": 4, "left_ankle": 7, "left_toe": 10, "right_knee": 5, "right_ankle": 8,
    "right_toe": 11,
}  # fmt: skip


def read_amass(path: Path, model_dir: Path | None, gender: str = "neutral", batch: int = 256) -> HumanMotion:
    """Run the SMPL body model over every frame and keep the 18 skeleton joints."""
    path = Path(path)
    try:
        data = dict(np.load(path, allow_pickle=False))
    except Exception as exc:
        raise InputError(f"{path} is not a readable AMASS npz ({exc})") from exc
    for key in ("poses", "trans"):
        if key not in data:
            raise InputError(f"{path}: key '{key}' missing; AMASS files hold poses, trans, betas, mocap_framerate")
    fps = float(data.get("mocap_framerate", data.get("mocap_frame_rate", np.nan)))
    if not np.isfinite(fps):
        raise InputError(f"{path}: no mocap_framerate; cannot tell the frame rate")
    if model_dir is None:
        raise BackendUnavailableError(
            "AMASS files need the SMPL body model: pass --smpl-model DIR (the folder holding smpl/SMPL_NEUTRAL.pkl)"
        )
    model_dir = Path(model_dir)
    sub = model_dir / "smpl"
    if not sub.is_dir() or not any(sub.glob("SMPL_*.pkl")):
        raise BackendUnavailableError(
            f"no SMPL model under {sub} (expected SMPL_NEUTRAL.pkl); download it from smpl.is.tue.mpg.de"
        )
    import smplx
    import torch

    poses = np.asarray(data["poses"], np.float64)
    trans = np.asarray(data["trans"], np.float64)
    if poses.ndim != 2 or poses.shape[1] < 66 or len(trans) != len(poses):
        raise InputError(f"{path}: poses {poses.shape} / trans {trans.shape} are not AMASS SMPL(-H) parameters")
    betas = np.asarray(data.get("betas", np.zeros(10)), np.float64).reshape(-1)[:10]
    model = smplx.create(str(model_dir), model_type="smpl", gender=gender, num_betas=len(betas), batch_size=1)
    T = len(poses)
    body = np.zeros((T, 69))
    body[:, :63] = poses[:, 3:66]
    if poses.shape[1] == 72:
        body[:, 63:] = poses[:, 66:72]
    out = []
    with torch.no_grad():
        for s in range(0, T, batch):
            e = min(T, s + batch)
            n = e - s
            res = model(
                betas=torch.tensor(np.tile(betas, (n, 1)), dtype=torch.float32),
                global_orient=torch.tensor(poses[s:e, :3], dtype=torch.float32),
                body_pose=torch.tensor(body[s:e], dtype=torch.float32),
                transl=torch.tensor(trans[s:e], dtype=torch.float32),
            )
            out.append(res.joints[:, :24].numpy().astype(np.float64))
    joints = np.concatenate(out)
    names = list(SMPL_INDEX)
    return from_named_joints(
        names, joints[:, [SMPL_INDEX[n] for n in names]], fps=fps, source=str(path),
        conventions={"units": "m (AMASS)", "up": "+z (AMASS)", "floor": "kept as in the file"},
    )  # fmt: skip
