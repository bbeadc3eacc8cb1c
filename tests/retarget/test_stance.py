"""Footholds at the robot's proportions: each planted foot moves towards the pelvis within its own tread.

The G1 is ~0.75-0.85x the person; at the person's footholds its stance is too long for its legs
and it crouches. ``targets.fit_stance`` moves each foothold (and the pelvis path) towards the
person's stance scaled to the robot, as far as the surface the person stood on allows.
"""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.retarget import terrain as tr
from videomimic_offline.retarget.config import RetargetConfig, StanceConfig
from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT
from videomimic_offline.retarget.pipeline import _solver, retarget
from videomimic_offline.retarget.procedural import walking_clip
from videomimic_offline.retarget.targets import _on_surface, _segments, _sole_grid, foothold_box


@pytest.fixture(scope="module")
def sole_xy() -> np.ndarray:
    return _solver(RetargetConfig().weights, 2, "29dof").sole[:, :2]


def _tread(run: float) -> tr.Terrain:
    h, o, res = tr.staircase(n_steps=3, rise=0.15, run=run, start_x=1.0, resolution=0.01)
    return tr.from_heights(h, o, res, source="stairs")


def test_box_is_the_tread_less_the_sole_and_margin(sole_xy):
    cfg = StanceConfig()
    stairs = _tread(run=0.35)
    xy, z = np.array([1.5, 0.0]), 0.30  # second tread: x from 1.35 to 1.70
    box = foothold_box(stairs, xy, 0.0, z, sole_xy, cfg)
    length = np.ptp(sole_xy[:, 0]) + 2 * cfg.margin
    # along the foot: the tread's depth less the sole, the margins and the riser's 2 cm dilation
    assert 0.35 - length - 0.02 - 0.03 <= box[0, 1] - box[0, 0] <= 0.35 - length
    # across it: the stairs are 2 m wide, so only the reach limits it
    assert box[1] == pytest.approx([-cfg.max_shift, cfg.max_shift])
    sole = _sole_grid(sole_xy, cfg.margin)
    for end in box[0]:
        assert _on_surface(stairs, xy + [end, 0.0], 0.0, z, sole)
        assert not _on_surface(stairs, xy + [end + np.sign(end) * 2 * cfg.step, 0.0], 0.0, z, sole)


def test_foothold_that_does_not_fit_stays_put(sole_xy):
    stairs = _tread(run=0.2)  # shallower than the robot's sole plus its margins
    box = foothold_box(stairs, np.array([1.3, 0.0]), 0.0, 0.30, sole_xy, StanceConfig())
    assert not box.any()


def test_flat_footholds_move_at_most_the_reach(sole_xy):
    cfg = StanceConfig(max_shift=0.1)
    box = foothold_box(tr.flat(), np.zeros(2), 0.3, 0.0, sole_xy, cfg)
    assert box == pytest.approx(np.array([[-0.1, 0.1], [-0.1, 0.1]]))


def _stance_error(res) -> float:
    """Mean distance (m) between the robot's planted-foot targets relative to its pelvis target and
    the person's ankles relative to the pelvis, scaled to the robot (what the scaled person stands like)."""
    tg = res.targets
    idx = HUMAN_JOINTS.index
    ankles = tg.human[:, [idx("left_ankle"), idx("right_ankle")], :2]
    pelvis = tg.human[:, idx("pelvis"), :2]
    robot = tg.foot_pos[..., :2] - tg.pelvis_pos[:, None, :2]
    person = tg.scale * (ankles - pelvis[:, None])
    return float(np.linalg.norm(robot - person, axis=-1)[tg.contacts].mean())


def test_stairs_stance_at_robot_size_feet_on_the_same_treads(stairs, stair_holds, sole_xy):
    human = walking_clip(stairs, stair_holds)
    off = retarget(human, stairs, RetargetConfig(stance=StanceConfig(enabled=False)))
    on = retarget(human, stairs)
    assert off.targets.scale < 0.9  # the robot is smaller than the procedural person
    # the stance is closer to the scaled person's ...
    assert _stance_error(on) < 0.7 * _stance_error(off), (_stance_error(on), _stance_error(off))
    # ... with every foothold on the surface the person stood on, its sole away from the edges
    cfg = RetargetConfig().stance
    sole = _sole_grid(sole_xy, cfg.margin)
    moved = 0.0
    for k in range(2):
        for s, e in _segments(on.targets.contacts[:, k]):
            a, b = on.targets.foot_pos[s:e, k], off.targets.foot_pos[s:e, k]
            assert np.ptp(a, axis=0).max() == 0.0  # pinned for the whole contact: no slide
            assert a[0, 2] == b[0, 2]  # same surface height
            z = a[0, 2] - ANKLE_HEIGHT
            if _on_surface(stairs, b[0, :2], on.targets.foot_yaw[s, k], z, sole):
                assert _on_surface(stairs, a[0, :2], on.targets.foot_yaw[s, k], z, sole)
            else:  # the person's foothold did not fit the robot's sole with its margins: kept
                assert np.array_equal(a[0], b[0])
            moved = max(moved, float(np.linalg.norm(a[0, :2] - b[0, :2])))
    assert 0.02 < moved <= cfg.max_shift + 1e-9
    # the robot stands closer to the person's posture and still meets every feasibility figure
    rep_on, rep_off = on.report, off.report
    assert rep_on.usable, rep_on.reasons
    assert rep_on.keypoint_err_mm < rep_off.keypoint_err_mm
    assert rep_on.self_collisions == 0 and rep_on.limit_violations == 0
    assert rep_on.max_penetration_mm <= 10.0 and rep_on.foot_slide_mm_per_frame <= 2.0
