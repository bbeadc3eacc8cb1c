"""Foot contact labels for a robot motion that came without them (LAFAN1 CSV)."""

from __future__ import annotations

import mujoco
import numpy as np

from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT
from videomimic_offline.retarget.terrain import Terrain
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model


def robot_contacts(qpos: np.ndarray, terrain: Terrain, fps: float = 50.0) -> np.ndarray:
    """(T, 2) contact = ankle link within 3 cm of resting height over the terrain and slower than 0.3 m/s."""
    m = g1_model("29dof", actuators=False)
    d = mujoco.MjData(m)
    feet = [m.body(n).id for n in g1.FOOT_LINKS]
    p = np.zeros((len(qpos), 2, 3))
    for t, q in enumerate(qpos):
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        p[t] = d.xpos[feet]
    ground = terrain.height(p[..., :2])
    ground = np.where(np.isfinite(ground), ground, 0.0)
    v = np.linalg.norm(np.gradient(p, axis=0), axis=-1) * fps
    return (p[..., 2] - ground - ANKLE_HEIGHT < 0.03) & (v < 0.3)
