"""The simulated motor drivers apply a LowCmd's PD law exactly, clamp it, and give no torque when off."""

from __future__ import annotations

import mujoco
import numpy as np
from videomimic_offline.robot import g1
from videomimic_offline.sim.pd import JointPD, MotorCommand
from videomimic_offline.sim.terrain import scene_spec


def test_torque_is_the_driver_law_clamped_and_zero_when_off_or_not_finite() -> None:
    model = scene_spec().compile()
    data = mujoco.MjData(model)
    pd = JointPD(model)
    rng = np.random.default_rng(0)
    n = len(g1.JOINT_NAMES_29)
    data.qpos[2] = 2.0
    data.qpos[3] = 1.0
    data.qpos[pd.qpos_idx] = rng.uniform(-0.2, 0.2, n)
    data.qvel[pd.qvel_idx] = rng.uniform(-1.0, 1.0, n)
    cmd = MotorCommand(rng.uniform(-0.5, 0.5, n), rng.uniform(-1, 1, n), rng.uniform(-2, 2, n),
                       rng.uniform(0, 200, n), rng.uniform(0, 5, n), np.ones(n, dtype=bool))  # fmt: skip
    cmd.enabled[3] = False
    cmd.q[7] = np.nan
    cmd.kd[8] = np.inf
    pd.apply(data, cmd)
    mujoco.mj_forward(model, data)
    q, dq = data.qpos[pd.qpos_idx], data.qvel[pd.qvel_idx]
    with np.errstate(invalid="ignore"):
        law = cmd.tau + cmd.kp * (cmd.q - q) + cmd.kd * (cmd.dq - dq)
    effort = g1.as_array(g1.EFFORT_LIMITS, g1.JOINT_NAMES_29)
    expect = np.clip(np.where(np.isfinite(law), law, 0.0), -effort, effort)
    expect[3] = 0.0
    np.testing.assert_allclose(pd.torques(data), expect, atol=1e-9)
    assert np.abs(law[np.isfinite(law)]).max() > effort.min()  # some joints really hit their limit
