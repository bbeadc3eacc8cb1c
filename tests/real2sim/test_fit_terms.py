"""Each loss term of the joint fit on its own: zero where its physical statement holds, the
documented weighted and normalised cost where it is broken by a known amount, and a solve that
uses only that term (plus what pins the rest) restores the statement."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.body_template import bone_lengths, rest_joints
from videomimic_offline.real2sim.config import FitConfig
from videomimic_offline.real2sim.fit import terms
from videomimic_offline.real2sim.fit.problem import fit_data, weights_from_config, with_contacts, with_travel
from videomimic_offline.real2sim.fit.solve import solve
from videomimic_offline.real2sim.fit.terms import FitWeights

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741
H = 1.7
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
T, J = 5, len(HUMAN_JOINTS)
W = weights_from_config(FitConfig())


def _camera() -> np.ndarray:
    """A camera 4 m along -y from the person, at 1 m height, looking along +y (level)."""
    Twc = np.eye(4)
    Twc[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # columns: x, y, z of the camera
    Twc[:3, 3] = [0.0, -4.0, 1.0]
    return np.repeat(Twc[None], T, axis=0)


def _truth() -> np.ndarray:
    return np.repeat(rest_joints(H)[None], T, axis=0)


def _project(X: np.ndarray, Twc: np.ndarray) -> np.ndarray:
    pc = np.einsum("tji,tkj->tki", Twc[:, :3, :3], X - Twc[:, None, :3, 3])
    return (pc @ K.T)[..., :2] / pc[..., 2:3]


def _data(X: np.ndarray | None = None, conf: float = 1.0) -> terms.FitData:
    X = _truth() if X is None else X
    Twc = _camera()
    return fit_data(Twc, K, _project(X, Twc), np.full((T, J), conf), bone_lengths(H), X.copy(), np.ones(T, bool), None)


def _cost(term: terms.Term, X: np.ndarray, d: terms.FitData, w: FitWeights = W) -> float:
    return float(term(torch.tensor(X, dtype=torch.float64), d, w))


def test_every_term_is_zero_at_the_truth_and_the_objective_is_their_sum() -> None:
    X = _truth()
    feet = [I["left_ankle"], I["right_ankle"]]
    d = with_contacts(_data(), np.ones((T, 2), bool), X[:, feet, 2], np.ones(T, bool), X[:, I["pelvis"], 2])
    d = with_travel(d, X[:, I["pelvis"]] + np.arange(T)[:, None] * [0.05, 0.0, 0.0], 30.0, 0.3)  # walks along +x
    for name, f in terms.TERMS.items():
        assert _cost(f, X, d) == pytest.approx(0.0, abs=1e-12), name
    Y = X + np.random.default_rng(0).normal(0, 0.03, X.shape)
    parts = terms.breakdown(torch.tensor(Y), d, W)
    assert set(parts) == set(terms.TERMS) and all(v > 0 for v in parts.values() if v)
    assert float(terms.total(torch.tensor(Y), d, W)) == pytest.approx(sum(parts.values()))


def test_reprojection_is_robust_and_confidence_weighted() -> None:
    X, d = _truth(), _data(conf=0.8)
    Y = X.copy()
    Y[2, I["head"], 0] += 15.0 * 4.0 / 500.0  # 15 px sideways at 4 m: e = rho -> half the weight
    full = _cost(terms.reprojection, Y, d)
    assert full == pytest.approx(W.reproj * 0.8 * 0.5 / (0.8 * T * J), rel=1e-3)
    Y[2, I["head"], 0] += 100.0  # far off: the cost saturates at the keypoint's weight, no more
    assert _cost(terms.reprojection, Y, d) == pytest.approx(W.reproj / (T * J), rel=1e-3)
    d.w2d[2, I["head"]] = 0.0  # a missing keypoint costs nothing wherever the joint is
    assert _cost(terms.reprojection, Y, d) == pytest.approx(0.0, abs=1e-12)


def test_bone_length_cost_per_stretched_bone() -> None:
    X, d = _truth(), _data()
    Y = X.copy()
    along = X[0, I["head"]] - X[0, I["neck"]]
    Y[:, I["head"]] += W.bone_sigma_m * along / np.linalg.norm(along)  # neck -> head stretched one sigma
    assert _cost(terms.bone_length, Y, d) == pytest.approx(W.bone / len(terms.CHILDREN), rel=1e-6)
    assert _cost(terms.bone_length, X + [1.0, 2.0, 3.0], d) == pytest.approx(0.0, abs=1e-12)  # moving is free


def test_pose_prior_compares_pelvis_relative_poses_only_where_the_prior_exists() -> None:
    X, d = _truth(), _data()
    assert _cost(terms.pose_prior, X + [0.5, 0.0, 0.0], d) == pytest.approx(0.0, abs=1e-12)
    Y = X.copy()
    Y[0, I["left_wrist"]] += [W.pose_sigma_m, 0.0, 0.0]
    assert _cost(terms.pose_prior, Y, d) == pytest.approx(W.pose_prior / (T * J), rel=1e-6)
    d.prior_valid[0] = 0.0
    assert _cost(terms.pose_prior, Y, d) == pytest.approx(0.0, abs=1e-12)


def test_smoothness_charges_acceleration_not_velocity() -> None:
    X, d = _truth(), _data()
    walk = X + np.arange(T)[:, None, None] * np.array([0.05, 0.0, 0.0])
    assert _cost(terms.smoothness, walk, d) == pytest.approx(0.0, abs=1e-12)
    Y = X.copy()
    Y[2, I["pelvis"]] += [W.accel_sigma_m, 0.0, 0.0]  # second differences +s, -2s, +s at frames 1..3
    assert _cost(terms.smoothness, Y, d) == pytest.approx(W.smooth * 6 / ((T - 2) * J), rel=1e-6)


def test_occlusion_pushes_only_joints_in_front_of_their_hider() -> None:
    X, d = _truth(), _data()
    gap = 0.14
    # frame 0: the left wrist is hidden by the torso (pelvis-neck midpoint) and must be >= gap behind it
    d.occ = tuple(torch.tensor(v) for v in ([0], [I["left_wrist"]], [I["pelvis"]], [I["neck"]])) + (
        torch.tensor([0.5], dtype=torch.float64),
        torch.tensor([gap], dtype=torch.float64),
    )
    mid_y = 0.5 * (X[0, I["pelvis"], 1] + X[0, I["neck"], 1])
    Y = X.copy()
    Y[0, I["left_wrist"], 1] = mid_y + gap + 0.01  # behind (depth = +y here) by more than the gap
    assert _cost(terms.occlusion, Y, d) == pytest.approx(0.0, abs=1e-12)
    Y[0, I["left_wrist"], 1] = mid_y + gap - W.occlusion_sigma_m  # one sigma short
    assert _cost(terms.occlusion, Y, d) == pytest.approx(W.occlusion / (T * J), rel=1e-6)


def test_foot_slide_charges_planted_feet_only() -> None:
    X = _truth()
    contacts = np.zeros((T, 2), bool)
    contacts[1:3, 0] = True  # the left foot planted in frames 1 and 2
    d = with_contacts(_data(), contacts, None)
    Y = X.copy()
    Y[2:, [I["left_ankle"], I["left_toe"]]] += [W.slide_sigma_m, 0.0, 0.0]  # moves between frames 1 and 2
    Y[:, [I["right_ankle"], I["right_toe"]]] += np.arange(T)[:, None, None] * 0.1  # the swinging foot may move
    assert _cost(terms.foot_slide, Y, d) == pytest.approx(W.contact / 1.0, rel=1e-6)
    assert _cost(terms.foot_slide, Y, with_contacts(d, None, None)) == 0.0
    Z = X.copy()
    Z[2:, I["left_toe"]] += [W.slide_sigma_m, 0.0, 0.0]  # the planted foot swivels about its ankle
    assert _cost(terms.foot_slide, Z, d) == pytest.approx(W.contact / 2.0, rel=1e-6)


def test_foot_floor_holds_planted_ankles_at_the_surface_robustly() -> None:
    X = _truth()
    feet = [I["left_ankle"], I["right_ankle"]]
    surface = X[:, feet, 2].copy()
    d = with_contacts(_data(), np.ones((T, 2), bool), surface)
    Y = X.copy()
    Y[:, feet, 2] += W.floor_sigma_m
    r2 = W.floor_sigma_m**2
    expect = W.floor * (r2 / (1 + r2 / W.floor_robust_m**2)) / W.floor_sigma_m**2
    assert _cost(terms.foot_floor, Y, d) == pytest.approx(expect, rel=1e-6)
    plain = dataclasses.replace(W, floor_robust_m=0.0)
    assert _cost(terms.foot_floor, Y, d, plain) == pytest.approx(plain.floor, rel=1e-6)
    toes = [I["left_toe"], I["right_toe"]]
    lowest = X[:, toes, 2] - W.floor_sigma_m
    dt = with_contacts(_data(), np.ones((T, 2), bool), surface, toe_floor=lowest)
    assert _cost(terms.foot_floor, X, dt, plain) == pytest.approx(0.0, abs=1e-12)
    Z = X.copy()
    Z[:, toes, 2] += 0.05  # a heel-down foot's toe above its lowest: free
    assert _cost(terms.foot_floor, Z, dt, plain) == pytest.approx(0.0, abs=1e-12)
    Z[:, toes, 2] -= 0.05 + 2 * W.floor_sigma_m  # toes pitched one sigma through the floor
    assert _cost(terms.foot_floor, Z, dt, plain) == pytest.approx(plain.floor, rel=1e-6)
    Y[:, feet, 2] += 1.0  # a surface a metre off pulls no harder than ~ robust scale / sigma
    assert _cost(terms.foot_floor, Y, d) < W.floor * W.floor_robust_m**2 / W.floor_sigma_m**2 * 1.01


def test_seat_holds_the_seated_pelvis_at_the_seat_height() -> None:
    X = _truth()
    seated = np.array([False, True, True, False, False])
    d = with_contacts(_data(), None, None, seated, np.full(T, X[0, I["pelvis"], 2]))
    Y = X.copy()
    Y[:, I["pelvis"], 2] -= W.seat_sigma_m  # sinks one sigma into the seat in every frame
    assert _cost(terms.seat, Y, d) == pytest.approx(W.seat, rel=1e-6)
    Y[1:3, I["pelvis"], 2] += W.seat_sigma_m  # back on it while seated; the standing frames are free
    assert _cost(terms.seat, Y, d) == pytest.approx(0.0, abs=1e-12)


def test_heading_turns_the_hips_across_the_direction_of_travel() -> None:
    """The rest pose's hips lie along y: walking along +x costs nothing, along a direction
    asin(sigma) off it costs the weight; standing still (below the speed) costs nothing."""
    X = _truth()
    pelvis = X[:, I["pelvis"]]
    walk = pelvis + np.arange(T)[:, None] * [0.05, 0.0, 0.0]  # 1.5 m/s along +x
    assert _cost(terms.heading, X, with_travel(_data(), walk, 30.0, 0.3)) == pytest.approx(0.0, abs=1e-12)
    a = np.arcsin(W.heading_sigma_rad)
    off = pelvis + np.arange(T)[:, None] * 0.05 * np.array([np.cos(a), np.sin(a), 0.0])
    assert _cost(terms.heading, X, with_travel(_data(), off, 30.0, 0.3)) == pytest.approx(W.heading, rel=1e-6)
    still = pelvis + np.arange(T)[:, None] * [0.005, 0.0, 0.0]  # 0.15 m/s: turning on the spot
    assert _cost(terms.heading, X, with_travel(_data(), still, 30.0, 0.3)) == 0.0
    # standing first, then walking off asin(sigma) off: the standing frames face that way too (half weight)
    start = off.copy()
    start[:2] = start[2]
    d = with_travel(_data(), start, 30.0, 0.3)
    assert float(d.travel_w[0]) == 0.5 and np.allclose(d.travel_dir[0].numpy(), d.travel_dir[3].numpy())


@pytest.mark.parametrize(
    ("term", "broken"),
    [("foot_floor", "feet lifted 5 cm"), ("seat", "pelvis lifted 5 cm"), ("foot_slide", "foot dragged 5 cm")],
)
def test_solving_restores_what_a_term_states(term: str, broken: str) -> None:
    """From a start that breaks the statement, a solve with reprojection off and the term on fixes it
    while the other terms keep the body's shape."""
    X = _truth()
    feet = [I["left_ankle"], I["right_ankle"]]
    d = with_contacts(
        _data(),
        np.ones((T, 2), bool),
        X[:, feet, 2],
        np.ones(T, bool) if term == "seat" else None,
        X[:, I["pelvis"], 2] if term == "seat" else None,
    )
    X0 = X.copy()
    if term == "foot_slide":
        X0[3:, I["left_ankle"]] += [0.05, 0.0, 0.0]
    elif term == "foot_floor":
        X0[:, :, 2] += 0.05
    else:
        X0[:, :, 2] += 0.05
    active = {k: terms.TERMS[k] for k in ("bone_length", "pose_prior", term)}
    out = solve(X0, d, W, 100, active).X
    if term == "foot_slide":
        step = np.linalg.norm(np.diff(out[:, I["left_ankle"]], axis=0), axis=1)
        assert step.max() < 0.005, broken
    elif term == "foot_floor":
        assert np.abs(out[:, feet, 2] - X[:, feet, 2]).max() < 0.005, broken
    else:
        assert np.abs(out[:, I["pelvis"], 2] - X[:, I["pelvis"], 2]).max() < 0.005, broken
