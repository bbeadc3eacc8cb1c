"""Tiny training data made offline: generated MoCap clips and one clip on its own stepped terrain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from videomimic_offline.artifacts import write_npz
from videomimic_offline.training import motions


def make_data(root: Path) -> dict[str, Path]:
    """``mocap/`` (stand, walk; no scene) and ``clips/stepclip/`` (walk on a 10 cm step terrain)."""
    mocap = motions.generate_mocap(root / "mocap", ("stand", "walk"), seconds=1.5)
    clip_dir = root / "clips" / "stepclip"
    clip_dir.mkdir(parents=True, exist_ok=True)
    h = np.zeros((30, 30))
    h[:, 20:] = 0.1
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


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Tiny offline training data for one test module."""
    return make_data(tmp_path_factory.mktemp("train_data"))
