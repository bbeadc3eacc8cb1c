"""Each kind of bad input gives one clear InputError (not a traceback or a silent wrong result)."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.human_motion import SCHEMA, write_human_motion
from videomimic_offline.errors import InputError
from videomimic_offline.motion_io.load import load_human
from videomimic_offline.retarget import terrain as tr
from videomimic_offline.retarget.pipeline import retarget
from videomimic_offline.retarget.procedural import fk_clip, walking_clip

from videomimic_offline import artifacts


def _write(path, names, joints, fps=50.0):
    T = len(joints)
    artifacts.write_npz(path, schema=SCHEMA, version=1, fps=np.float64(fps), joint_names=np.array(names),
                        joints_w=joints, contacts=np.zeros((T, 2), bool), height_m=np.float64(1.7))  # fmt: skip


def test_wrong_skeleton(tmp_path):
    names = [f"bone{i}" for i in range(18)]
    _write(tmp_path / "m.npz", names, np.zeros((50, 18, 3)))
    with pytest.raises(InputError, match="wrong skeleton"):
        load_human(tmp_path / "m.npz")


def test_missing_joints(tmp_path):
    motion, _ = fk_clip(50)
    keep = [i for i, n in enumerate(HUMAN_JOINTS) if n != "left_wrist"]
    _write(tmp_path / "m.npz", [HUMAN_JOINTS[i] for i in keep], motion.joints_w[:, keep])
    with pytest.raises(InputError, match=r"missing joints \['left_wrist'\]"):
        load_human(tmp_path / "m.npz")


def test_nan_frames(tmp_path):
    motion, _ = fk_clip(50)
    motion.joints_w[10:13, 4] = np.nan
    write_human_motion(tmp_path / "m.npz", motion)
    with pytest.raises(InputError, match=r"3 frame\(s\) contain NaN.*first \[10, 11, 12\]"):
        load_human(tmp_path / "m.npz")


def test_too_short(tmp_path):
    motion, _ = fk_clip(6)
    write_human_motion(tmp_path / "m.npz", motion)
    with pytest.raises(InputError, match="clip too short"):
        load_human(tmp_path / "m.npz")


def test_scene_does_not_cover_motion(stairs):
    human = walking_clip(tr.flat(), [0.0, 0.3, 0.9, 1.5, 2.1, 2.1])
    human.joints_w[..., 1] += 3.0  # walk beside the staircase's 2 m wide strip
    with pytest.raises(InputError, match="scene does not cover the motion"):
        retarget(human, stairs, report=False)


def test_unknown_cells_under_a_planted_foot():
    h, o, res = tr.staircase()
    h[:, :] = np.where(np.arange(h.shape[1])[None, :] * res + o[0] > 0.5, np.nan, h)  # only x <= 0.5 seen
    scene = tr.from_heights(h, o, res, source="partial.npz")
    human = walking_clip(tr.flat(), [0.0, 0.3, 0.9, 1.5, 1.5])
    with pytest.raises(InputError, match="unseen cells of partial.npz"):
        retarget(human, scene, report=False)
