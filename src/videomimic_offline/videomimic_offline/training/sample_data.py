"""A tiny offline training set (tests, benchmarks, a first try of the tools without real data).

Generated MoCap clips (stand, walk) without scene, and one "video" clip: the walk on its own
reconstructed-style heightfield with a 10 cm step, in the real artifact formats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
from videomimic_offline.contracts.robot_motion import read_robot_motion, write_robot_motion
from videomimic_offline.training import motions


def make_sample_data(root: Path, seconds: float = 1.5) -> dict[str, Path]:
    """``mocap/`` (stand, walk) and ``clips/stepclip/`` (robot_motion.npz + heightfield.npz) under ``root``."""
    root = Path(root)
    mocap = motions.generate_mocap(root / "mocap", ("stand", "walk"), seconds=seconds)
    clip_dir = root / "clips" / "stepclip"
    clip_dir.mkdir(parents=True, exist_ok=True)
    h = np.zeros((30, 30))
    h[:, 20:] = 0.1  # a 10 cm step 1 m ahead of the clip's start
    write_heightfield(clip_dir / "heightfield.npz", Heightfield(h, np.array([-1.0, -1.5]), 0.1))
    walk = read_robot_motion(mocap[1])
    walk.scene = clip_dir / "heightfield.npz"
    write_robot_motion(clip_dir / "robot_motion.npz", walk)
    return {"mocap": root / "mocap", "clips": root / "clips", "clip": clip_dir / "robot_motion.npz"}
