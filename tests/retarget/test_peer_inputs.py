"""The retargeting bench hands every peer the same inputs: terrain boxes and GMR body frames are exact."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import peer_inputs as pi  # noqa: E402
from videomimic_offline.body.skeleton import HUMAN_JOINTS  # noqa: E402
from videomimic_offline.retarget import terrain as tr  # noqa: E402
from videomimic_offline.retarget.keypoints import robot_keypoints  # noqa: E402


def _box_heights(boxes: np.ndarray, floor: float, xy: np.ndarray) -> np.ndarray:
    h = np.full(len(xy), floor)
    for lo, hi in boxes:
        inside = np.all((xy >= lo[:2]) & (xy <= hi[:2]), axis=1)
        h[inside] = np.maximum(h[inside], hi[2])
    return h


def test_terrain_boxes_rebuild_the_staircase():
    h, o, res = tr.staircase()
    terrain = tr.from_heights(h, o, res)
    floor, boxes = pi.terrain_boxes(terrain)
    assert floor == 0.0
    assert len(boxes) == 4  # one box per step (the landing is the last step's level)
    rng = np.random.default_rng(0)
    xy = rng.uniform([-0.9, -0.9], [4.9, 0.9], (2000, 2))
    # away from cell borders the boxes give exactly the heightfield's height
    cell = (xy - o) / res
    away = np.all(np.abs(cell - np.rint(cell)) < 0.45, axis=1)
    np.testing.assert_allclose(_box_heights(boxes, floor, xy[away]), terrain.height(xy[away]), atol=1e-9)


def test_gmr_bone_rotations_are_identity_on_the_robot_rest_pose():
    rest = robot_keypoints().rest_points
    j = np.repeat(np.stack([rest[n] for n in HUMAN_JOINTS])[None], 3, axis=0)
    names, pos, rot = pi.gmr_inputs(j, np.ones((3, 2), bool))
    assert names[0] == "Hips" and pos.shape == (3, len(names), 3)
    np.testing.assert_allclose(rot, np.broadcast_to(np.eye(3), rot.shape), atol=1e-9)


@pytest.mark.parametrize("yaw", [0.3, -2.0])
def test_gmr_bone_rotations_follow_a_turned_body(yaw: float):
    """The whole rest skeleton turned about z: every bone rotation is that turn."""
    c, s = np.cos(yaw), np.sin(yaw)
    Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    rest = robot_keypoints().rest_points
    j = (np.stack([rest[n] for n in HUMAN_JOINTS]) @ Rz.T)[None]
    _, _, rot = pi.gmr_inputs(j, np.ones((1, 2), bool))
    np.testing.assert_allclose(rot[0], np.broadcast_to(Rz, rot[0].shape), atol=1e-9)


def test_layouts_keep_the_joints():
    rng = np.random.default_rng(1)
    j = rng.normal(size=(5, len(HUMAN_JOINTS), 3))
    lafan = pi.lafan_layout(j)[..., [0, 2, 1]]  # back to z-up
    np.testing.assert_allclose(lafan[:, pi.LAFAN_NAMES.index("LeftFoot")], j[:, HUMAN_JOINTS.index("left_ankle")])
    spine1 = lafan[:, pi.LAFAN_NAMES.index("Spine1")] - [0, 0, pi.LAFAN_SPINE1_DROP]
    np.testing.assert_allclose(spine1, j[:, HUMAN_JOINTS.index("pelvis")])
    mocap = pi.mocap_layout(j)
    assert mocap.shape == (5, 53, 3) and len(set(pi.mocap_names())) == 53
    np.testing.assert_allclose(mocap[:, pi.mocap_names().index("RightToeBase")], j[:, HUMAN_JOINTS.index("right_toe")])
