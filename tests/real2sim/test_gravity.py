"""Gravity without scene planes: the person's 2D body axes point at the vertical vanishing point."""

from __future__ import annotations

import numpy as np
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim import gravity as grav
from videomimic_offline.real2sim.body_template import rest_joints

from tests.real2sim.raycast import K, look

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def _walk_across(R_wc: np.ndarray, lean_deg: float = 0.0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """2D keypoints of a person walking 3 m across the view 4 m ahead of a camera at (0, 0, 1.6),
    leaning ``lean_deg`` forward (along the walk)."""
    rest = rest_joints(1.7)
    c, s = np.cos(np.radians(lean_deg)), np.sin(np.radians(lean_deg))
    lean = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # tips +z towards +x
    kp = []
    for x in np.linspace(-1.5, 1.5, n):
        P = rest @ lean.T + [x, 4.0, 0.0]
        pc = (P - [0.0, 0.0, 1.6]) @ R_wc
        kp.append((pc @ K.T)[:, :2] / pc[:, 2:3])
    return np.array(kp), np.full((n, len(HUMAN_JOINTS)), 0.9)


def test_body_axes_give_the_pitch_of_a_still_camera() -> None:
    """A camera pitched 12 deg down sees the walker's axes converge: with the roll prior, up is
    recovered within 0.5 deg from 2D alone. A forward lean of 4 deg (a tilt across the image, the
    same at every place) is what the roll prior has to hold against: it costs about 2 deg here,
    over a short 3 m walk (the dev clips' walkers end within 0.83 deg)."""
    R = look(0.0, 12.0)
    for lean in (0.0, 4.0):
        kp, conf = _walk_across(R, lean)
        n = len(kp)
        planes = grav.body_axis_planes(kp, conf, K, np.repeat(R[None], n, 0))
        assert len(planes) == n
        up, info = grav.fuse_up(
            np.array([0.0, 0.3, 1.0]), cam_x=np.repeat(R[None, :, 0], n, 0), roll_sigma_rad=np.radians(1.0),
            axis_planes=planes, axis_sigma_rad=np.radians(5.0),
        )  # fmt: skip
        assert "body_axes" in info["source"]
        assert _angle(up, np.array([0.0, 0.0, 1.0])) < (0.5 if lean == 0 else 2.5), lean


def test_short_or_unsure_axes_are_left_out() -> None:
    R = look(0.0, 12.0)
    kp, conf = _walk_across(R, n=10)
    conf[3, I["neck"]] = 0.2  # unsure
    kp[5, I["neck"]] = 0.5 * (kp[5, I["neck"]] + kp[5, I["left_ankle"]])  # half the height: sitting
    planes = grav.body_axis_planes(kp, conf, K, np.repeat(R[None], 10, 0))
    assert len(planes) == 8
