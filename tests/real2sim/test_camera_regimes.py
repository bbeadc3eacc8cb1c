"""The camera stage measures the regime (static / rotation / translating) and models each.

Quick tests use a ray-cast room (a textured floor and wall) and a textured sky sphere, where the
true cameras are known: a tripod, a pan-tilt from one spot, a camera that slides sideways.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from videomimic_offline.real2sim.cameras import (
    background_motion,
    classify_regime,
    estimate_cameras,
    rotation_track,
)
from videomimic_offline.real2sim.config import CamerasConfig

from tests.real2sim.raycast import H, K, W, look, poses, render_room, render_sky

T = 30
NO_PERSON = np.zeros((T, H, W), np.uint8)
CFG = CamerasConfig(sfm_keyframes=10, sfm_max_features=1024, sfm_overlap=5, mask_dilate_px=5)


def _pan(T: int, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    return np.stack([look(a, 5 + b) for a, b in zip(np.linspace(0, yaw_deg, T), np.linspace(0, pitch_deg, T))])


def _angle_deg(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.degrees(Rotation.from_matrix(np.einsum("tji,tjk->tik", A, B)).magnitude())


@pytest.fixture(scope="module")
def still() -> np.ndarray:
    return render_room(poses(np.repeat(look(0, 10)[None], T, 0), np.tile([0.0, 0.0, 1.5], (T, 1))))


@pytest.fixture(scope="module")
def sliding() -> np.ndarray:
    c = np.stack([[x, 0.0, 1.5] for x in np.linspace(0.0, 1.0, T)])
    return render_room(poses(np.repeat(look(0, 10)[None], T, 0), c))


def test_the_regime_is_measured_from_the_background(still: np.ndarray, sliding: np.ndarray) -> None:
    """Tripod: no background motion. Pan-tilt: large motion one homography explains. Sliding over
    a floor and a wall 8 m away: parallax no homography explains."""
    for frames, regime in ((still, "static"), (render_sky(_pan(T, 25, 8)), "rotation"), (sliding, "translating")):
        m = background_motion(frames, NO_PERSON, 30.0, CFG.mask_dilate_px)
        assert classify_regime(m, CFG.static_px, CFG.parallax_px) == regime, (regime, m.static_px, m.parallax_px)


def test_a_pan_gives_the_rotations_and_the_focal_length(tmp_path: Path) -> None:
    """A 25 deg pan with an 8 deg tilt: rotations within 0.3 deg of the truth, and the focal
    length self-calibrated from the homographies within 3 %."""
    R = _pan(T, 25, 8)
    ct = estimate_cameras(render_sky(R), NO_PERSON, 30.0, tmp_path, CFG, None)
    assert ct.regime == "rotation" and ct.focal_source == "rotation"
    assert abs(ct.K[0, 0] / K[0, 0] - 1) < 0.03
    truth = np.einsum("ji,tjk->tik", R[0], R)  # relative to the first camera
    assert _angle_deg(ct.T_world_cam[:, :3, :3], truth).max() < 0.3
    assert np.allclose(ct.T_world_cam[:, :3, 3], 0.0) and ct.points.shape == (0, 3)


def test_a_wide_pan_keeps_its_rotations() -> None:
    """Past ~55 deg the chained homography's [2,2] entry crosses zero; normalising by it flipped
    every later rotation. The chain is normalised by its determinant instead."""
    n = 60
    R = np.stack([look(a, 5) for a in np.linspace(0, 80, n)])
    m = background_motion(render_sky(R, seed=3), np.zeros((n, H, W), np.uint8), 30.0, CFG.mask_dilate_px)
    est = rotation_track(m, K, n)[:, :3, :3]
    truth = np.einsum("ji,tjk->tik", R[0], R)
    assert _angle_deg(est, truth).max() < 1.0


def test_a_static_camera_has_one_pose_and_a_prior_or_given_focal(still: np.ndarray, tmp_path: Path) -> None:
    ct = estimate_cameras(still, NO_PERSON, 30.0, tmp_path, CamerasConfig(focal_init_factor=0.72), None)
    assert ct.regime == "static" and ct.focal_source == "prior"
    assert np.allclose(ct.T_world_cam, np.eye(4)) and len(ct.T_world_cam) == T
    assert ct.K[0, 0] == pytest.approx(0.72 * W) and ct.points.shape == (0, 3)
    given = estimate_cameras(still, NO_PERSON, 30.0, tmp_path, CFG, 250.0)
    assert given.focal_source == "given" and given.K[0, 0] == 250.0


def test_a_forced_regime_is_used_and_the_measured_one_recorded(still: np.ndarray, tmp_path: Path) -> None:
    ct = estimate_cameras(still, NO_PERSON, 30.0, tmp_path, CamerasConfig(regime="rotation"), None)
    assert ct.regime == "rotation" and ct.info["regime_measured"] == "static"


def _walk(T: int, still: int, metres: float, yaw_deg: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """A camera that stands for ``still`` frames, then walks ``metres`` along its view (+y) into the
    room, pitched 10 deg down and turning ``yaw_deg`` as it goes: following someone from behind."""
    s = np.clip((np.arange(T) - still) / max(T - 1 - still, 1), 0.0, 1.0)
    R = np.stack([look(yaw_deg * a, 10) for a in s])
    c = np.stack([[0.0, -2.0 + metres * a, 1.5] for a in s])
    return R, c


def test_a_camera_that_walks_for_part_of_the_clip_is_translating() -> None:
    """Following someone who stops: half the clip still, half walking forward. The median window
    shows little parallax (a homography fits a still camera), so the median rule alone called it
    'rotation'; the windows where the camera walks show it translates."""
    n = 60
    R, c = _walk(n, 40, 0.8)
    m = background_motion(render_room(poses(R, c), seed=5), np.zeros((n, H, W), np.uint8), 30.0, CFG.mask_dilate_px)
    walked = max(w["parallax_px"] for w in m.windows if "parallax_px" in w)
    assert m.parallax_px < CFG.parallax_px and walked > CFG.walk_parallax_px, (m.parallax_px, walked)
    assert classify_regime(m, CFG.static_px, CFG.parallax_px) == "rotation"  # the median rule's answer
    assert classify_regime(m, CFG.static_px, CFG.parallax_px, CFG.walk_parallax_px) == "translating"


def test_track_odometry_follows_a_camera_walking_forward() -> None:
    """Walking 1.5 m along the optical axis (the weakest parallax: everything flows from the centre):
    odometry of corners tracked every second frame (as at 30 fps) gives the rotations within 0.5 deg
    and the path, up to its scale, within 3 % of its length (0.24 deg and 1.5 % measured; tracked
    every frame, KLT's chained error doubled both); the rotation check passes the true rotations and
    flags a drift."""
    from videomimic_offline.real2sim import odometry
    from videomimic_offline.real2sim.cameras import _background

    n = 30
    R, c = _walk(n, 0, 1.5, yaw_deg=4.0)
    frames = render_room(poses(R, c), seed=7)
    gray = [f[..., 0] for f in frames]
    keys = np.arange(0, n, 2)
    obs = odometry.keyframe_tracks(gray, _background(np.zeros((n, H, W), np.uint8), 0), keys, 2)
    idx, R_wc, c_w, X, _, _ = odometry.track_odometry(obs, K)
    assert len(idx) == len(keys) and len(X) > 50
    truth_R = np.einsum("ji,tjk->tik", R[0], R[keys])
    assert _angle_deg(R_wc, truth_R).max() < 0.5
    truth_c = (c[keys] - c[0]) @ R[0]  # in the first camera's axes
    s = np.sum(truth_c * c_w) / np.sum(c_w * c_w)
    assert np.linalg.norm(truth_c - s * c_w, axis=1).max() < 0.03 * 1.5
    pairs = odometry.two_view_rotations(obs, K, 3)
    assert pairs
    good = {k: R[keys[k]] for k in range(len(keys))}
    drift = {k: R[keys[k]] @ Rotation.from_euler("x", 1.5 * k, degrees=True).as_matrix() for k in range(len(keys))}
    assert odometry.sfm_rotation_error_deg(good, pairs) < 0.3
    assert odometry.sfm_rotation_error_deg(drift, pairs) > CFG.sfm_rotation_check_deg
