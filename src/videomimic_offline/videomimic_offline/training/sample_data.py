"""A tiny offline training set (tests, benchmarks, a first try of the tools without real data).

Generated MoCap clips (stand, walk) without scene, and one "video" clip: the walk on its own
reconstructed-style heightfield with a 10 cm step, in the real artifact formats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.artifacts import write_npz
from videomimic_offline.training import motions


def make_sample_data(root: Path, seconds: float = 1.5) -> dict[str, Path]:
    """``mocap/`` (stand, walk) and ``clips/stepclip/`` (robot_motion.npz + heightfield.npz) under ``root``."""
    root = Path(root)
    mocap = motions.generate_mocap(root / "mocap", ("stand", "walk"), seconds=seconds)
    clip_dir = root / "clips" / "stepclip"
    clip_dir.mkdir(parents=True, exist_ok=True)
    h = np.zeros((30, 30))
    h[:, 20:] = 0.1  # a 10 cm step 1 m ahead of the clip's start
    write_npz(
        clip_dir / "heightfield.npz",
        schema="videomimic.heightfield",
        version=1,
        heights=h,
        known=np.ones_like(h, bool),
        origin_xy=np.array([-1.0, -1.5]),
        resolution=np.array(0.1),
        T_world_scene=np.eye(4),
    )
    with np.load(mocap[1]) as d:
        arr = {k: d[k] for k in d.files if k not in ("schema", "version", "scene")}
    motions.write_motion(clip_dir / "robot_motion.npz", arr, scene="heightfield.npz")
    return {"mocap": root / "mocap", "clips": root / "clips", "clip": clip_dir / "robot_motion.npz"}
