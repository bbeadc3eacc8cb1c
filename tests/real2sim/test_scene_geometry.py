"""Heightfield (unknown stays NaN), meshing, gravity from planes, the SfM-scale and placement maths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.real2sim import gravity, scene
from videomimic_offline.real2sim.fit.body import place_in_camera
from videomimic_offline.real2sim.fit.contacts import lowpass


def _step_points(rng: np.random.Generator) -> np.ndarray:
    """A floor (z=0, x<1) and a 0.2 m step (x in 1..2), y in 0..1, sampled sparsely."""
    floor = np.c_[rng.uniform(0, 1, 3000), rng.uniform(0, 1, 3000), np.zeros(3000)]
    step = np.c_[rng.uniform(1, 2, 3000), rng.uniform(0, 1, 3000), np.full(3000, 0.2)]
    return np.concatenate([floor, step]) + rng.normal(0, 0.003, (6000, 3))


def test_heightfield_marks_unseen_cells_unknown() -> None:
    pts = _step_points(np.random.default_rng(0))
    pts = pts[~((pts[:, 0] > 0.3) & (pts[:, 0] < 0.7) & (pts[:, 1] > 0.3) & (pts[:, 1] < 0.7))]  # a 0.4 m hole
    hf = scene.grid_heightfield(pts, resolution=0.05, fill_radius=0.06, min_points=1)
    assert hf.heights.shape == hf.known.shape
    assert np.array_equal(np.isnan(hf.heights), ~hf.known)
    cy, cx = ((0.5 - hf.origin_xy[1]) / 0.05, (0.5 - hf.origin_xy[0]) / 0.05)
    assert not hf.known[int(cy), int(cx)], "the centre of the unseen hole must stay unknown"
    x = hf.origin_xy[0] + np.arange(hf.heights.shape[1]) * 0.05
    row = hf.heights[int((0.85 - hf.origin_xy[1]) / 0.05)]
    assert np.nanmax(np.abs(row[x < 0.9])) < 0.02 and np.nanmin(row[x > 1.1]) > 0.18
    verts, faces = scene.heightfield_mesh(hf)
    assert len(faces) > 0 and faces.max() < len(verts)


def test_ply_roundtrip(tmp_path: Path) -> None:
    hf = scene.grid_heightfield(_step_points(np.random.default_rng(1)), 0.1, 0.1, 1)
    v, f = scene.heightfield_mesh(hf)
    scene.write_ply(tmp_path / "m.ply", v, f)
    v2, f2 = scene.read_ply(tmp_path / "m.ply")
    assert np.allclose(v2, v, atol=1e-5) and np.array_equal(f2, f)


def test_gravity_from_tilted_planes() -> None:
    rng = np.random.default_rng(2)
    pts = _step_points(rng)
    wall = np.c_[np.full(1500, 2.0), rng.uniform(0, 1, 1500), rng.uniform(0, 1.5, 1500)]
    pts = np.concatenate([pts, wall])
    ang = np.radians(12.0)
    R = np.array([[1, 0, 0], [0, np.cos(ang), -np.sin(ang)], [0, np.sin(ang), np.cos(ang)]])
    tilted = pts @ R.T + [0.3, -0.2, 1.0]
    up_true = R @ [0, 0, 1]
    person_up = R @ [0.15, 0.1, 1.0]  # the spine is a rough guess (8+ degrees off)
    up, floor, info = gravity.estimate_gravity(tilted, person_up / np.linalg.norm(person_up), 1.7, None, 0.08)
    err = np.degrees(np.arccos(np.clip(up @ up_true, -1, 1)))
    assert err < 0.5, err
    assert info["num_planes"] >= 2
    assert abs(floor - up_true @ [0.3, -0.2, 1.0]) < 0.02  # the lowest plane is the floor
    Ra = gravity.rotation_to_z(up)
    assert np.allclose(Ra @ up, [0, 0, 1], atol=1e-9)


def test_place_in_camera_recovers_depth() -> None:
    rng = np.random.default_rng(3)
    K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
    local = rng.normal(0, 0.3, (1, 18, 3))
    tau_true = np.array([0.4, -0.1, 4.0])
    pc = local[0] + tau_true
    uv = (pc @ K.T)[:, :2] / pc[:, 2:]
    tau = place_in_camera(local, uv[None], np.ones((1, 18)), K)
    assert np.allclose(tau[0], tau_true, atol=1e-6)


def test_lowpass_keeps_slow_motion() -> None:
    t = np.arange(300) / 30.0
    slow = np.sin(2 * np.pi * 0.5 * t)
    noisy = slow + np.random.default_rng(4).normal(0, 0.05, len(t))
    out = lowpass(noisy[:, None], 30.0, 4.0)[:, 0]
    assert np.abs(out - slow).mean() < 0.5 * np.abs(noisy - slow).mean()


@pytest.mark.parametrize(
    ("bad", "names"),
    [
        ({"scene": {"mesh_backend": "marching"}}, "mesh_backend"),
        ({"height_m": 17.0}, "height_m"),
        ({"height_m": 0.9}, "height_m"),
        ({"person": -1}, "person"),
        ({"fit": {"w_occlusion": -1.0}}, "w_occlusion"),
        ({"fit": {"opt_prior_lean": 1.5}}, "opt_prior_lean"),
        ({"fit": {"opt_floor_robust_m": -0.05}}, "opt_floor_robust_m"),
        ({"scene": {"dense": {"planes": 2}}}, "dense.planes"),
        ({"scene": {"tsdf_voxel_m": 0.2, "tsdf_trunc_m": 0.1}}, "tsdf_trunc_m"),
    ],
)
def test_config_rejects_bad_values(bad: dict, names: str) -> None:
    """One clear line naming the field, at construction, before any stage runs."""
    from videomimic_offline.errors import ConfigError
    from videomimic_offline.real2sim.config import PipelineConfig

    from videomimic_offline import settings

    with pytest.raises(ConfigError, match=names):
        settings.from_dict(PipelineConfig, bad)
    fine = {"fit": {"w_occlusion": 0.0, "opt_prior_lean": 1.0, "opt_floor_robust_m": 0.0}, "height_m": 1.2}
    settings.from_dict(PipelineConfig, fine)  # the limits themselves are fine


def test_landmark_bone_scale_symmetric_and_backend_specific() -> None:
    from videomimic_offline.body.skeleton import HUMAN_JOINTS
    from videomimic_offline.real2sim.keypoints import landmark_bone_scale

    mp = landmark_bone_scale("mediapipe")
    assert mp[0] == 1.0 and np.all((mp > 0.7) & (mp < 1.4))
    for j, n in enumerate(HUMAN_JOINTS):
        if n.startswith("left_"):
            assert mp[j] == mp[HUMAN_JOINTS.index("right_" + n[5:])]
    assert np.all(landmark_bone_scale("vitpose") == 1.0)


def test_planted_soles_mark_hidden_ground_known_and_nothing_else() -> None:
    """The person hides the ground under their feet; a planted sole is evidence of its height."""
    pts = _step_points(np.random.default_rng(2))
    hole = (pts[:, 0] > 1.2) & (pts[:, 0] < 1.8) & (pts[:, 1] > 0.2) & (pts[:, 1] < 0.8)
    pts = pts[~hole]  # the ground the person stood on, masked out of the SfM points
    ankle = np.array([[1.4, 0.5, 0.28], [1.45, 0.5, 0.29]])  # on the step (0.2 m), sole 8 cm below
    toe = ankle + np.array([0.15, 0.0, -0.05])
    soles = scene.sole_samples(ankle, toe)
    extent = np.r_[soles.reshape(-1, 2), [[2.6, 0.5]]]  # a foot beyond the points widens the grid
    hf = scene.grid_heightfield(pts, 0.05, 0.06, 1, extent_xy=extent)
    far = np.array([[1.5, 1.5]])
    assert hf.origin_xy[0] <= 1.2 and hf.heights.shape[1] * 0.05 + hf.origin_xy[0] >= 2.6

    def cell(xy):  # type: ignore[no-untyped-def]
        c = np.rint((np.asarray(xy) - hf.origin_xy) / 0.05).astype(int)
        return c[..., 1], c[..., 0]

    assert not hf.known[cell(soles[0, 40])], "before stamping the hidden ground is unknown"
    out = scene.stamp_contacts(hf, soles, ankle[:, 2] - 0.08)
    under = cell(soles.reshape(-1, 2))
    assert out.known[under].all(), "every cell under a planted sole is known"
    assert np.allclose(out.heights[under][~hf.seen[under]], 0.205, atol=0.01)
    assert out.from_contact[under].any() and out.from_contact.sum() < 40
    # nothing invented elsewhere: cells nobody saw or stood on stay unknown
    assert not out.known[cell(np.array([2.6, 0.5]))]
    assert np.array_equal(out.known & ~out.from_contact, hf.known & ~out.from_contact)
    assert far[0, 1] > hf.origin_xy[1] + hf.heights.shape[0] * 0.05 or not out.known[cell(far[0])]
    # a seen cell that disagrees (a footprint overhanging the step edge onto the floor) keeps its points
    edge = scene.stamp_contacts(
        hf, scene.sole_samples(np.array([[1.02, 0.1, 0.28]]), np.array([[1.17, 0.1, 0.2]])), [0.2]
    )
    floor_cell = cell(np.array([0.95, 0.1]))
    assert hf.seen[floor_cell] and abs(edge.heights[floor_cell]) < 0.02 and not edge.from_contact[floor_cell]
    v, f = scene.heightfield_mesh(out)
    assert len(f) > len(scene.heightfield_mesh(hf)[1]), "the stood-on cells are meshed"
