"""Ground-truth-free quality figures: each equals what was put into a constructed reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.real2sim.quality import (
    ANKLES,
    foot_slide_mm_per_frame,
    joint_accel_rms,
    quality,
    reprojection_px,
    sole_ground_mm,
)
from videomimic_offline.real2sim.visualize import project

T, J = 20, len(HUMAN_JOINTS)
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])


def _walker(step_m: float = 0.0) -> np.ndarray:
    """(T,J,3) a standing body (soles on z=0) translated ``step_m`` along x per frame."""
    J0 = rest_joints(1.7)
    return J0[None] + np.arange(T)[:, None, None] * np.array([step_m, 0.0, 0.0])


def _camera() -> np.ndarray:
    """Cameras 4 m in front of the body, 1 m up, looking back along -x (OpenCV axes: x right, y down)."""
    Twc = np.tile(np.eye(4), (T, 1, 1))
    Twc[:, :3, :3] = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]]).T  # columns: x, y, z axes
    Twc[:, :3, 3] = [4.0, 0.0, 1.0]
    return Twc


def _flat(z: float = 0.0):  # type: ignore[no-untyped-def]
    return lambda xy: np.full(np.shape(xy)[:-1], z)


def test_reprojection_is_the_pixel_offset_and_ignores_low_confidence() -> None:
    X, Twc = _walker(), _camera()
    uv, z = project(X, Twc, K)
    assert (z > 0).all()
    conf = np.full((T, J), 0.9)
    assert np.nanmax(reprojection_px(X, Twc, K, uv, conf, 0.3)) < 1e-9
    shifted = uv + np.array([3.0, 4.0])
    conf[:, 0] = 0.1
    err = reprojection_px(X, Twc, np.repeat(K[None], T, axis=0), shifted, conf, 0.3)
    assert np.isnan(err[:, 0]).all() and np.allclose(err[:, 1:], 5.0)


def test_sole_distance_to_the_ground_under_the_foot() -> None:
    X = _walker()
    contacts = np.ones((T, 2), bool)
    ankle_h = float(X[0, ANKLES[0], 2])  # the fit's sole model: ankle minus this = sole on z=0
    assert np.allclose(sole_ground_mm(X, contacts, _flat(0.0), ankle_h), 0.0, atol=1e-6)
    assert np.allclose(sole_ground_mm(X, contacts, _flat(-0.012), ankle_h), 12.0)
    # ground unknown under the right foot only: its frames are left out, not counted as 0
    half = lambda xy: np.where(xy[..., 1] > 0, 0.0, np.nan)  # noqa: E731
    assert len(sole_ground_mm(X, contacts, half, ankle_h)) == T
    assert len(sole_ground_mm(X, np.zeros((T, 2), bool), _flat(), ankle_h)) == 0


def test_slide_counts_only_planted_frame_pairs() -> None:
    X = _walker(step_m=0.002)
    contacts = np.zeros((T, 2), bool)
    assert np.isnan(foot_slide_mm_per_frame(X, contacts))
    contacts[5:10, 0] = True
    assert foot_slide_mm_per_frame(X, contacts) == pytest.approx(2.0)


def test_joint_acceleration_rms() -> None:
    assert joint_accel_rms(_walker(step_m=0.05), 30.0) == pytest.approx(0.0, abs=1e-9)
    t = np.arange(300) / 30.0
    X = np.zeros((300, J, 3))
    X[..., 2] = (0.01 * np.sin(2 * np.pi * 2.0 * t))[:, None]  # 1 cm at 2 Hz: a = 0.01 (4 pi)^2 sin
    expect = 0.01 * (2 * np.pi * 2.0) ** 2 / np.sqrt(2)
    assert joint_accel_rms(X, 30.0) == pytest.approx(expect, rel=0.02)


def test_quality_summary_is_json_ready() -> None:
    import json

    X, Twc = _walker(), _camera()
    uv, _ = project(X, Twc, K)
    q = quality(X, np.ones((T, 2), bool), 30.0, Twc, K, 480, uv + 4.8, np.full((T, J), 0.9), 0.3, _flat(), 0.039 * 1.7)
    json.dumps(q)
    assert q["reproj_pct_of_height"] == pytest.approx(100 * 4.8 * np.sqrt(2) / 480, abs=1e-3)
    assert len(q["reproj_px_per_frame"]) == T and q["slide_mm_per_frame"] == 0.0
    assert q["ground_known_fraction"] == 1.0
