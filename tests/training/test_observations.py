"""The training task's student observation equals the deploy-side numpy builder on the same state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.policy import observations as pobs
from videomimic_offline.robot import g1

pytestmark = pytest.mark.slow


def test_student_observation_matches_deploy_builder(data, flat_teacher_env):
    env = flat_teacher_env
    base = env.unwrapped
    robot = base.scene["robot"]
    ids = robot.find_joints(g1.JOINT_NAMES_23, preserve_order=True)[0]
    torch.manual_seed(0)
    prev = None
    for _ in range(4):
        obs, *_ = env.step(torch.rand(2, 23) * 0.6 - 0.3)
        student = obs["student"][0].numpy()
        if prev is not None:  # history is newest first: last step's newest frame moved to slot 1
            np.testing.assert_allclose(student[75:150], prev[:75], atol=1e-6)
        prev = student
    d = robot.data
    frame = pobs.proprio_frame(
        d.root_link_ang_vel_b[0].numpy(),
        d.root_link_quat_w[0].numpy(),
        d.joint_pos[0, ids].numpy(),
        d.joint_vel[0, ids].numpy(),
        base.action_manager.action[0].numpy(),
    )
    np.testing.assert_allclose(student[:75], frame, atol=1e-5)
    # Heightmap: same grid and sign convention as the deploy builder, on the clip's terrain.
    torso = robot.body_names.index(g1.TORSO_LINK)
    tpos = d.body_link_pos_w[0, torso].numpy().astype(np.float64)
    tyaw = pobs.yaw_of(d.body_link_quat_w[0, torso].numpy())
    origin = base.scene.env_origins[0].numpy()
    hf = read_heightfield(data["clip"].parent / "heightfield.npz")
    pts = pobs.heightmap_points_w(tpos, tyaw) - origin[:2]
    ground = np.nan_to_num(hf.height_at(pts), nan=hf.surface.min())  # training's floor ring outside the field
    expect = pobs.heightmap_values(tpos[2], ground + origin[2])
    got = student[-121:]
    assert np.median(np.abs(got - expect)) < 0.01
    assert np.mean(np.abs(got - expect) < 0.03) > 0.9
