"""Sitting: while the person's pelvis rests on a seat (``seat_contact``), retargeting keeps the
G1's pelvis on the seat and its feet on the floor. Run on the ground-truth motion and terrain of
the synthetic sit-down / stand-up clips (chair, low ledge)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from videomimic_offline.body.model import BodyShape, build_body
from videomimic_offline.contracts.human_motion import HumanMotion
from videomimic_offline.real2sim.synthetic.heightfield import scene_heights
from videomimic_offline.real2sim.synthetic.motion import generate_motion
from videomimic_offline.real2sim.synthetic.scenes import build_scene
from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT
from videomimic_offline.retarget.pipeline import retarget
from videomimic_offline.retarget.seat import SEAT_INSET_M, seat_pelvis_height, seat_points
from videomimic_offline.retarget.targets import build_targets
from videomimic_offline.retarget.terrain import from_heights
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model


def _sit_clip(kind: str, seed: int, height: float):
    rng = np.random.default_rng(seed)
    scene = build_scene(kind, rng, seconds=8.0)
    body = build_body(BodyShape(height))
    m = generate_motion(scene, body, rng, 8.0)
    terrain = from_heights(*scene_heights(scene, m.joints_w[..., :2]), source=f"synthetic {kind}")
    human = HumanMotion(fps=30.0, joints_w=m.joints_w, contacts=m.contacts, height_m=height,
                        seat_contact=m.seat_contact, source=f"synthetic {kind}")  # fmt: skip
    return scene.layout, terrain, human


def test_seated_pelvis_targets_rest_on_the_seat_near_its_front_edge() -> None:
    lay, terrain, human = _sit_clip("chair", 4, 1.62)
    sole = np.zeros((4, 2))
    tg = build_targets(human, terrain, sole)
    seated = tg.seat_contact
    assert seated.any() and tg.seat_window[seated].all()
    p = tg.pelvis_pos[seated]
    np.testing.assert_allclose(p[:, 2], lay["seat_z"] + seat_pelvis_height(), atol=1e-9)
    assert seat_pelvis_height() == pytest.approx(0.16, abs=0.01)  # pelvis sphere 0.15, hip capsules 0.16 on the G1
    # the person faces -x: the robot sits SEAT_INSET_M behind the seat's front edge (2 cm cells)
    front = lay["seat_x"] - lay["seat_depth"] / 2
    np.testing.assert_allclose(p[:, 0], front + SEAT_INSET_M, atol=0.025)
    # lowering onto the seat and rising from it: never below the seated height
    win = tg.seat_window & ~seated
    assert (tg.pelvis_pos[win, 2] >= lay["seat_z"] + seat_pelvis_height() - 1e-9).all()
    # away from the seat nothing changes
    plain = build_targets(HumanMotion(human.fps, human.joints_w, human.contacts, human.height_m), terrain, sole)
    assert plain.seat_contact is None and plain.seat_window is None
    np.testing.assert_array_equal(tg.pelvis_pos[~tg.seat_window], plain.pelvis_pos[~tg.seat_window])
    # the scaled person's pelvis height would put the robot's pelvis into the seat
    assert plain.pelvis_pos[seated, 2].max() < lay["seat_z"] + seat_pelvis_height() - 0.02


def _robot_on_seat(res, terrain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 50 fps frame: pelvis z, the lowest seat point's clearance above the terrain under it,
    and both ankle links' heights above the terrain under them."""
    m = g1_model("29dof", actuators=False)
    d = mujoco.MjData(m)
    pts = seat_points(m)
    feet = [m.body(n).id for n in g1.FOOT_LINKS]
    T = len(res.motion.qpos)
    clear, ankle = np.zeros(T), np.zeros((T, 2))
    for t, q in enumerate(res.motion.qpos):
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        w = np.array([d.xpos[b] + d.xmat[b].reshape(3, 3) @ p for b, p, _ in pts])
        r = np.array([r for _, _, r in pts])
        clear[t] = np.nanmin(w[:, 2] - r - terrain.height(w[:, :2]))
        f = np.array([d.xpos[b] for b in feet])
        ankle[t] = f[:, 2] - terrain.height(f[:, :2])
    return res.motion.qpos[:, 2], clear, ankle


@pytest.mark.parametrize(
    ("kind", "seed", "height"), [("chair", 4, 1.62), pytest.param("ledge", 2, 1.88, marks=pytest.mark.slow)]
)
def test_robot_sits_on_the_seat_with_feet_on_the_floor(kind: str, seed: int, height: float) -> None:
    lay, terrain, human = _sit_clip(kind, seed, height)
    res = retarget(human, terrain)
    seated = res.targets.seat_contact
    pelvis_z, clear, ankle = _robot_on_seat(res, terrain)
    # the pelvis on the seat: within a couple of cm of its seated height, resting on its lowest point
    err = pelvis_z[seated] - (lay["seat_z"] + seat_pelvis_height())
    assert np.abs(np.median(err)) < 0.02 and np.abs(err).max() < 0.03, f"pelvis {err.min():.3f}..{err.max():.3f} m"
    assert clear[seated].min() > -0.01 and np.median(clear[seated]) < 0.02
    # both feet planted on the floor while seated
    assert res.motion.contacts[seated].all()
    np.testing.assert_allclose(ankle[seated], ANKLE_HEIGHT, atol=0.01)
    assert res.report.usable, res.report.reasons
    assert res.report.max_penetration_mm < 10.0


@pytest.mark.slow
def test_without_seat_contact_the_robot_sinks_into_the_seat() -> None:
    """The reason for the pin: the scaled person's pelvis height is inside a chair for the G1."""
    _, terrain, human = _sit_clip("chair", 4, 1.62)
    plain = HumanMotion(human.fps, human.joints_w, human.contacts, human.height_m)
    rep = retarget(plain, terrain).report
    assert not rep.usable and rep.max_penetration_mm > 10.0
