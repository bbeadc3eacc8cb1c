"""A person hides the ground under their feet from the camera (and the mask removes it from SfM): the
planted soles must make that ground known, so retargeting can rest the robot's feet on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.config import OutputsConfig, PipelineConfig

from videomimic_offline import artifacts

pytestmark = pytest.mark.slow


def test_planted_feet_land_on_known_cells_and_retarget_succeeds(tmp_path: Path) -> None:
    from videomimic_offline.real2sim import scene
    from videomimic_offline.real2sim.pipeline import run_pipeline
    from videomimic_offline.real2sim.synthetic.clip import make_clip
    from videomimic_offline.toolrun import run_tool_process

    # this clip used to fail retargeting: "the right foot is planted at x=2.70 ... over unseen cells"
    clip = make_clip("stairs_up", tmp_path / "clip", seconds=3.0, seed=3, progress=False)
    cfg = PipelineConfig(progress=False, outputs=OutputsConfig(write_overlay=False, write_snapshot=False))
    out = run_pipeline(clip / "video.mp4", tmp_path / "recon", cfg)

    m = artifacts.read_npz(out / "motion.npz", schema="videomimic.human_motion", max_version=1)
    hf = artifacts.read_npz(out / "heightfield.npz", schema="videomimic.heightfield", max_version=1)
    heights, origin, res = hf["heights"], hf["origin_xy"], float(hf["resolution"])
    j, c = m["joints_w"], m["contacts"]
    assert c.any()
    idx = HUMAN_JOINTS.index
    for k, (a, t) in enumerate((("left_ankle", "left_toe"), ("right_ankle", "right_toe"))):
        soles = scene.sole_samples(j[c[:, k], idx(a)], j[c[:, k], idx(t)])
        ij = np.rint((soles - origin) / res).astype(int)
        assert (ij >= 0).all() and (ij[..., 0] < heights.shape[1]).all() and (ij[..., 1] < heights.shape[0]).all()
        assert np.isfinite(heights[ij[..., 1], ij[..., 0]]).all(), f"{a}: a planted sole is over unknown cells"
    # joint rotations ride along (additive to human_motion v1; the retarget tool below still reads it)
    T, J = j.shape[:2]
    assert m["joint_rot_w"].shape == m["body_pose"].shape == (T, J, 4) and m["rest_joints"].shape == (J, 3)
    assert np.allclose(np.linalg.norm(m["body_pose"], axis=-1), 1, atol=1e-4)
    assert np.allclose(np.abs(np.sum(m["joint_rot_w"][:, 0] * m["root_quat_w"], -1)), 1, atol=1e-3)
    fc = hf["from_contact"]
    assert fc.shape == heights.shape and fc.any() and np.isfinite(heights[fc]).all()
    info = artifacts.read_json(out / "scene.json")
    assert info["heightfield_contact_only_cells"] > 0, "this clip's feet hid ground the camera never saw"
    assert np.isnan(heights).any(), "cells nobody saw or stood on stay unknown"

    run_tool_process(  # 0 usable, 3 written but not usable for training: either way the tool read the scene
        "retarget",
        str(out / "motion.npz"),
        "--scene",
        str(out / "heightfield.npz"),
        "--out",
        str(tmp_path / "robot"),
        ok=(0, 3),
    )
    assert (tmp_path / "robot" / "robot_motion.npz").is_file()
