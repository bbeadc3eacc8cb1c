"""Robot motions that arrive without contact labels (LAFAN1 G1 CSV): their contacts, and the conversion.

The retarget tool and training both read a LAFAN1 CSV through :func:`lafan_motion`, so a clip has
the same contacts whichever of them loaded it. The contact rule is the project's one
(:func:`contracts.human_motion.detect_foot_contacts`) applied to the G1's ankle links.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from videomimic_offline.contracts.human_motion import detect_foot_contacts
from videomimic_offline.contracts.robot_motion import FPS, RobotMotion, from_qpos
from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT
from videomimic_offline.retarget.terrain import Terrain, flat
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model

#: A planted G1 foot: ankle link within this height (m) of its flat-foot height and slower than this (m/s).
MAX_HEIGHT_M = 0.03
MAX_SPEED = 0.3


def robot_contacts(qpos: np.ndarray, terrain: Terrain, fps: float = FPS) -> np.ndarray:
    """(T, 2) contacts of the G1's ankle links over ``terrain`` for configurations ``qpos``."""
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
    return detect_foot_contacts(p, ground + ANKLE_HEIGHT, fps, max_speed=MAX_SPEED, max_height=MAX_HEIGHT_M)


def lafan_motion(path: Path, csv_fps: float, terrain: Terrain | None = None) -> RobotMotion:
    """A LAFAN1 G1 CSV as a robot motion at 50 fps, with its contacts over ``terrain`` (default flat)."""
    from videomimic_offline.motion_io.lafan_csv import read_lafan_csv, resample_qpos

    qpos = resample_qpos(read_lafan_csv(path), csv_fps, FPS)
    return from_qpos(qpos, FPS, robot_contacts(qpos, terrain or flat()))
