"""Metrics math against hand-computed values (SLOPER4D-style chunked WA/W-MPJPE, Chamfer, scale,
gravity)."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.model import axis_angle_to_mat
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import IncompatibleError
from videomimic_offline.real2sim import metrics

J = len(HUMAN_JOINTS)


def _static_pose(T: int, seed: int = 0) -> np.ndarray:
    pose = np.random.default_rng(seed).normal(0, 0.4, (J, 3))
    return np.repeat(pose[None], T, 0)


def _moving(T: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.4, (J, 3))
    t = np.arange(T)[:, None, None] / 30.0
    return (
        base[None]
        + np.concatenate([t * 1.2, np.sin(t) * 0.3, 0.05 * np.cos(3 * t)], axis=2)
        + rng.normal(0, 0.05, (T, J, 3))
    )


def test_umeyama_recovers_a_known_similarity() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    R = axis_angle_to_mat(np.array([0.3, -0.5, 1.1]))
    y = 1.7 * x @ R.T + [1.0, -2.0, 0.5]
    s, R2, t = metrics.umeyama(x, y)
    assert s == pytest.approx(1.7, abs=1e-9)
    np.testing.assert_allclose(R2, R, atol=1e-9)
    np.testing.assert_allclose(t, [1.0, -2.0, 0.5], atol=1e-9)
    s_fixed, _, _ = metrics.umeyama(x, y, with_scale=False)
    assert s_fixed == 1.0


def test_similarity_transformed_prediction_scores_zero() -> None:
    gt = _moving(250)
    R = axis_angle_to_mat(np.array([0.1, 0.2, 2.0]))
    pred = 0.8 * gt @ R.T + [3.0, 1.0, -0.2]
    assert metrics.wa_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert metrics.w_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)


def test_each_chunk_is_aligned_on_its_own() -> None:
    """A different rigid transform per 100-frame chunk (incl. the short last one) costs nothing."""
    gt = _moving(250)
    pred = gt.copy()
    for k, a in enumerate(range(0, 250, 100)):
        R = axis_angle_to_mat(np.array([0.0, 0.0, 0.7 * (k + 1)]))
        pred[a : a + 100] = gt[a : a + 100] @ R.T + [k, -k, 0.1 * k]
    assert metrics.wa_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert metrics.w_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    # one transform over everything cannot fit all three chunks
    assert metrics.wa_mpjpe_mm(pred, gt, chunk=250) > 100.0


def test_a_jump_after_the_first_frames_hand_computed() -> None:
    """Static pose; frames 2..99 shifted 0.1 m in x.

    W: the first two frames match exactly, so the alignment is the identity and 98 of 100 frames
    are 100 mm off -> 98 mm. WA: with a static pose the best similarity is a pure translation by
    the mean offset (0.098 m) when fitted without scale, leaving 2 frames at 98 mm and 98 frames at 2 mm -> 3.92 mm.
    """
    gt = _static_pose(100)
    pred = gt.copy()
    pred[2:, :, 0] += 0.1
    assert metrics.w_mpjpe_mm(pred, gt) == pytest.approx(98.0, abs=1e-6)
    assert metrics.wa_mpjpe_mm(pred, gt, with_scale=False) == pytest.approx(3.92, abs=1e-6)
    # with scale the fit also shrinks slightly (least squares, not least mean error): close to it
    assert metrics.wa_mpjpe_mm(pred, gt) == pytest.approx(3.92, abs=0.05)


def test_only_eval_joints_count() -> None:
    gt = _moving(40)
    pred = gt.copy()
    pred[:, HUMAN_JOINTS.index("left_toe")] += 5.0  # toes are not in EVAL_JOINTS
    pred[:, HUMAN_JOINTS.index("spine")] += 5.0
    assert metrics.wa_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(IncompatibleError):
        metrics.wa_mpjpe_mm(pred[:, :5], gt[:, :5], joint_names=HUMAN_JOINTS[:5])


def test_chamfer_of_a_known_offset() -> None:
    g = np.stack(np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41), [0.0]), -1).reshape(-1, 3)
    assert metrics.chamfer_m(g, g)["chamfer"] == pytest.approx(0.0)
    c = metrics.chamfer_m(g + [0, 0, 0.01], g)
    assert c["accuracy"] == pytest.approx(0.01)
    assert c["completeness"] == pytest.approx(0.01)
    assert c["chamfer"] == pytest.approx(0.01)
    # a reconstruction covering only half of the seen region: accurate but incomplete
    half = g[g[:, 0] <= 0.5]
    c = metrics.chamfer_m(half, g)
    assert c["accuracy"] == pytest.approx(0.0)
    assert c["completeness"] > 0.1


def test_scale_error_of_a_scaled_reconstruction() -> None:
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(80, 3))
    R = axis_angle_to_mat(np.array([0.0, 0.0, 0.4]))
    assert metrics.scale_error_pct(1.05 * gt @ R.T + 2.0, gt) == pytest.approx(5.0, abs=1e-9)
    assert metrics.scale_error_pct(0.9 * gt, gt) == pytest.approx(10.0, abs=1e-9)


def test_gravity_error_ignores_yaw_and_sees_tilt() -> None:
    rng = np.random.default_rng(4)
    T = 20
    Tw = np.tile(np.eye(4), (T, 1, 1))
    Tw[:, :3, :3] = axis_angle_to_mat(rng.normal(0, 0.5, (T, 3)))
    Tw[:, :3, 3] = rng.normal(size=(T, 3))
    yawed = Tw.copy()
    yawed[:, :3, :3] = axis_angle_to_mat(np.array([0.0, 0.0, 1.3])) @ Tw[:, :3, :3]
    assert metrics.gravity_error_deg(yawed, Tw) == pytest.approx(0.0, abs=1e-9)
    tilted = Tw.copy()
    tilted[:, :3, :3] = axis_angle_to_mat(np.array([np.radians(3.0), 0.0, 0.0])) @ Tw[:, :3, :3]
    assert metrics.gravity_error_deg(tilted, Tw) == pytest.approx(3.0, abs=1e-9)


def _plane(z: float, size: float = 2.0, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    g = np.linspace(0, size, n)
    xx, yy = np.meshgrid(g, g)
    v = np.stack([xx.ravel(), yy.ravel(), np.full(n * n, z)], 1)
    f = [(r * n + c, r * n + c + 1, (r + 1) * n + c + 1) for r in range(n - 1) for c in range(n - 1)]
    f += [(r * n + c, (r + 1) * n + c + 1, (r + 1) * n + c) for r in range(n - 1) for c in range(n - 1)]
    return v, np.array(f)


def test_scene_chamfer_uses_exact_point_to_mesh_distances() -> None:
    pytest.importorskip("open3d")
    gv, gf = _plane(0.0)
    seen = metrics.sample_mesh(gv, gf, 3000, seed=1)
    # a reconstruction 1 cm above the truth, covering the same square: exactly 1 cm both ways
    pv, pf = _plane(0.01)
    c = metrics.scene_chamfer_m(pv, pf, gv, gf, seen, n_samples=5000)
    assert c["accuracy"] == pytest.approx(0.01, abs=1e-6)
    assert c["completeness"] == pytest.approx(0.01, abs=1e-6)
    assert c["chamfer"] == pytest.approx(0.01, abs=1e-6)
    # a perfect reconstruction of only the seen half (x <= 1) of a plane whose other half was
    # never seen: perfect, not penalised for the unseen half
    half_seen = seen[seen[:, 0] <= 1.0]
    hv, hf = _plane(0.0)
    hv[:, 0] *= 0.5  # the rectangle x in [0,1], y in [0,2]
    c = metrics.scene_chamfer_m(hv, hf, gv, gf, half_seen, n_samples=5000)
    assert c["chamfer"] == pytest.approx(0.0, abs=1e-6)
    # invented geometry 1 m away from anything seen counts by its distance to the seen region
    far_v = hv + [0.0, 0.0, 1.0]
    c = metrics.scene_chamfer_m(far_v, hf, gv, gf, half_seen, n_samples=5000)
    assert c["accuracy"] == pytest.approx(1.0, abs=0.02)


def test_frames_without_a_prediction_are_left_out() -> None:
    gt = _moving(120)
    R = axis_angle_to_mat(np.array([0.0, 0.0, 0.5]))
    pred = gt @ R.T + [1.0, 2.0, 0.0]
    pred[[0, 5, 50, 110]] = np.nan  # person not found in these frames
    assert metrics.wa_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert metrics.w_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    pred[:] = np.nan
    assert np.isnan(metrics.wa_mpjpe_mm(pred, gt))


def test_a_reconstruction_is_compared_from_its_first_frame(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The persons stage may trim the span's start (legs out of view, a collapsed detection): the
    reconstruction's frame 0 is then the video's frame ``frame_span[0]`` (report.json)."""
    import json

    assert metrics.first_frame(tmp_path) == 0  # no report: from the video's start
    (tmp_path / "report.json").write_text(json.dumps({"persons": {"frame_span": [22, 180]}}))
    assert metrics.first_frame(tmp_path) == 22
    assert "joints_w" in metrics.PER_FRAME_GT and "T_world_cam" in metrics.PER_FRAME_GT
