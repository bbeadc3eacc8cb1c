"""Scene geometry from contacts: levels, floor and step boxes, the seat, and their heightfield cells."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim import scene, solids
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.real2sim.fit.contacts import group_levels, surface_height

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741
H = 1.7
ANKLE = 0.08


def test_levels_split_at_a_rise_and_merge_a_raised_heel() -> None:
    h = np.array([0.0, 0.01, -0.01, 0.17, 0.18, 0.34, 0.05])
    lab, lev = group_levels(h, tol=0.03, min_rise=0.08)
    assert lev == pytest.approx([0.005, 0.175, 0.34])  # 0.05 (a heel up) joined the floor
    assert list(lab) == [0, 0, 0, 1, 1, 2, 0]
    assert len(group_levels(h, tol=0.03)[1]) == 4  # without min_rise, 0.05 is its own level


def test_the_surface_under_a_foot_needs_three_points_and_may_lie_below_the_first_stance() -> None:
    """One or two stray points are not a surface (the foot's stance level is used there); a tread
    under the floor the clip started on (stairs walked down) keeps its height."""
    pts = np.array([[0.0, 0.0, -0.3], [0.05, 0.0, -0.32], [0.0, 0.05, -0.31], [2.0, 0.0, 0.5], [2.05, 0.0, 0.5]])
    h = surface_height(pts, np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 0.0]]), 0.15)
    assert h[0] == pytest.approx(-0.305, abs=0.01)
    assert np.isnan(h[1:]).all()
    assert np.isnan(surface_height(np.zeros((0, 3)), np.zeros((2, 2)), 0.15)).all()


def _stairs(rise: float = 0.17, tread: float = 0.3, steps: int = 3, per: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """A person standing on each of 1 + steps levels in turn along +x (both feet planted)."""
    rest = rest_joints(H)
    frames, contacts = [], []
    for k in range(steps + 1):
        pose = rest + [0.15 + k * tread, 0.0, k * rise + ANKLE - rest[I["left_ankle"], 2]]
        frames += [pose] * per
        contacts += [[True, True]] * (per - 4) + [[False, False]] * 4
    return np.array(frames), np.array(contacts)


def test_stairs_become_a_floor_and_one_box_per_step() -> None:
    J, C = _stairs()
    out = solids.contact_solids(J, C, np.zeros(len(J), bool), ANKLE, 0.078 * H, 0.05, 0.08)
    kinds = [s.kind for s in out]
    assert kinds == ["floor", "step", "step", "step"]
    floor_top = out[0].top
    assert floor_top == pytest.approx(0.0, abs=0.01)
    assert [round(s.top - floor_top, 3) for s in out[1:]] == pytest.approx([0.17, 0.34, 0.51], abs=0.01)
    for k, s in enumerate(out[1:], start=1):  # each step box sits on the floor under its footprints
        assert s.center[2] - s.size[2] / 2 == pytest.approx(floor_top, abs=1e-6)
        feet = J[C[:, 0] & (np.abs(J[:, I["left_ankle"], 2] - ANKLE - k * 0.17) < 0.01)][:, I["left_ankle"], :2]
        assert s.contains_xy(feet).all()


def test_a_step_box_leaves_out_the_foot_beside_it_on_the_floor() -> None:
    """One foot on a 0.15 m block, the other beside it on the floor (0.2 m to the side): the block's
    padding across the walk must stop short of the floor foot."""
    rest = rest_joints(H)
    pose = rest.copy()
    pose[[I["left_ankle"], I["left_toe"]], 2] += 0.15  # the left foot stands on the block
    J = np.array([rest] * 10 + [pose] * 20)
    J[:, :, 0] += np.linspace(0, 1.0, len(J))[:, None] * (np.arange(len(J)) < 10)[:, None]  # walks in first
    C = np.ones((len(J), 2), bool)
    C[8:12] = False
    out = solids.contact_solids(J, C, np.zeros(len(J), bool), ANKLE, 0.078 * H, 0.05, 0.08)
    step = [s for s in out if s.kind == "step"]
    assert len(step) == 1
    assert step[0].contains_xy(J[15, I["left_ankle"], :2][None]).all()
    assert not step[0].contains_xy(J[15, [I["right_ankle"], I["right_toe"]], :2]).any()


def test_a_tread_reaches_halfway_to_the_next_level_along_the_walk() -> None:
    """Walking down, a short stance stands at one end of its tread and the foot slides on after
    it: the tread box reaches halfway to the next level's footprint (here 0.15 m past the padded
    box), but not further than ``step_reach``."""
    rest = rest_joints(H)
    frames, contacts = [], []
    for x, z in ((0.0, 0.32), (0.3, 0.16), (0.9, 0.0)):  # landing, one tread, the floor 0.6 m on
        frames += [rest + [x, 0.0, z]] * 20
        contacts += [[True, True]] * 16 + [[False, False]] * 4
    J, C = np.array(frames), np.array(contacts)
    out = solids.contact_solids(J, C, np.zeros(len(J), bool), ANKLE, 0.078 * H, 0.05, 0.08)
    tread = next(s for s in out if s.kind == "step" and s.top < 0.2)
    toe, ankle = J[20, I["left_toe"], 0], J[20, I["left_ankle"], 0]
    floor_ankle = J[45, I["left_ankle"], 0]
    assert tread.contains_xy(np.array([[toe + 0.2, 0.0]])).all()  # past the old 0.05 m pad
    assert not tread.contains_xy(np.array([[0.5 * (toe + floor_ankle) + 0.02, 0.0]])).all()
    landing = next(s for s in out if s.kind == "step" and s.top > 0.2)
    assert landing.contains_xy(np.array([[0.5 * (J[0, I["left_toe"], 0] + ankle) - 0.02, 0.0]])).all()
    short = solids.contact_solids(J, C, np.zeros(len(J), bool), ANKLE, 0.078 * H, 0.05, 0.08, step_reach=0.1)
    tread = next(s for s in short if s.kind == "step" and s.top < 0.2)
    assert not tread.contains_xy(np.array([[toe + 0.12, 0.0]])).all()


def test_a_seated_pelvis_gives_a_seat_at_its_height_minus_the_offset() -> None:
    rest = rest_joints(H)
    sit = rest.copy()
    sit[:, 2] -= 0.35  # everything above the knees lower ...
    for n in ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_toe", "right_toe"):
        sit[I[n]] = rest[I[n]]
    sit[[I["left_knee"], I["right_knee"]], 0] += 0.4  # ... thighs forward, level with the pelvis
    sit[[I["left_knee"], I["right_knee"]], 2] = sit[I["pelvis"], 2]
    J = np.array([rest] * 20 + [sit] * 30 + [rest] * 20)
    C = np.ones((len(J), 2), bool)
    seated = solids.seat_frames(J, 30.0, H, np.zeros(len(J)))
    assert seated[25:45].all() and not seated[:18].any() and not seated[-18:].any()
    out = solids.contact_solids(J, C, seated, ANKLE, 0.078 * H, 0.05, 0.08)
    seat = [s for s in out if s.kind == "seat"]
    assert len(seat) == 1
    assert seat[0].top == pytest.approx(sit[I["pelvis"], 2] - 0.078 * H, abs=1e-6)
    assert seat[0].contains_xy(sit[I["pelvis"], :2][None]).all()


def _seated_at(pelvis_rel: float, jitter_m: float = 0.0, seed: int = 0) -> np.ndarray:
    """Stand 20 frames, sit 30 with the pelvis ``pelvis_rel`` x stature over the floor and thighs
    level (plus per-frame noise ``jitter_m`` on every joint, as a fit leaves it), stand 20."""
    rest = rest_joints(H)
    sit = rest.copy()
    above = [i for n, i in I.items() if not n.endswith(("knee", "ankle", "toe"))]
    sit[above, 2] += pelvis_rel * H - rest[I["pelvis"], 2]
    sit[[I["left_knee"], I["right_knee"]], 0] += 0.4
    sit[[I["left_knee"], I["right_knee"]], 2] = sit[I["pelvis"], 2]
    J = np.array([rest] * 20 + [sit] * 30 + [rest] * 20)
    return J + np.random.default_rng(seed).normal(0.0, jitter_m, J.shape)


def test_a_high_chair_is_a_seat() -> None:
    """The dev pan/tilt chair clip's fitted pelvis rested 0.40-0.43 x stature over the floor (0.37
    in truth); the old 0.4 bound found no seat there (seat error 0.47 m)."""
    seated = solids.seat_frames(_seated_at(0.42), 30.0, H, np.zeros(70))
    assert seated[25:45].all() and not seated[:18].any() and not seated[-18:].any()


def test_a_seated_pelvis_that_jitters_is_still_still() -> None:
    """A fitted seated pelvis jitters ~1 cm a frame: 0.2-0.3 m/s between neighbouring frames (half
    of the dev hand-held chair clip's seated frames failed the 0.25 m/s test)."""
    hits = [solids.seat_frames(_seated_at(0.33, 0.01, seed), 30.0, H, np.zeros(70))[25:45].mean() for seed in range(5)]
    assert min(hits) == 1.0


def test_standing_and_walking_are_not_sitting() -> None:
    rest = rest_joints(H)
    J = np.array([rest] * 60) + np.random.default_rng(1).normal(0.0, 0.01, (60, len(rest), 3))
    assert not solids.seat_frames(J, 30.0, H, np.zeros(60)).any()
    J[:, :, 0] += np.linspace(0.0, 2.4, 60)[:, None]  # walking 1.2 m/s
    assert not solids.seat_frames(J, 30.0, H, np.zeros(60)).any()


def test_a_seat_is_found_where_the_fit_sank_the_seated_legs_under_the_floor() -> None:
    """Seen from the front, a seated person's thighs were fitted hanging down and the planted feet
    0.28 m under the floor (follow-behind chair clip): the feet alone make a floor of their own.
    The floor the person stood on with straight legs stays the floor, and the thighs, whose pose is
    known wrong there, do not veto the seat."""
    rest = rest_joints(H)
    sunk = rest.copy()
    sunk[:, 2] -= 0.3  # the body 0.3 m down: pelvis low, legs a little bent, feet 0.22 m under the floor
    sunk[[I["left_knee"], I["right_knee"], I["left_ankle"], I["right_ankle"], I["left_toe"], I["right_toe"]], 2] += 0.08
    J = np.array([rest] * 20 + [sunk] * 30 + [rest] * 20)
    C = np.ones((len(J), 2), bool)
    C[18:22], C[48:52] = False, False  # lifting the feet to sit down and to stand up
    walked = solids.walked_floor(J, C, ANKLE)
    assert np.abs(walked - (rest[I["left_ankle"], 2] - ANKLE)).max() < 1e-6
    feet_floor = J[:, I["left_ankle"], 2] - ANKLE
    unreliable = walked - feet_floor > 0.08
    assert unreliable[22:48].all() and not unreliable[:18].any()
    assert not solids.seat_frames(J, 30.0, H, feet_floor)[22:48].any()  # the sunk feet hide the seat
    assert not solids.seat_frames(J, 30.0, H, walked)[22:48].any()  # the hanging thighs veto it
    seated = solids.seat_frames(J, 30.0, H, walked, legs_unreliable=unreliable)
    assert seated[25:45].all() and not seated[:18].any() and not seated[-18:].any()


def test_the_heightfield_takes_points_where_seen_and_solids_elsewhere() -> None:
    J, C = _stairs()
    sol = solids.contact_solids(J, C, np.zeros(len(J), bool), ANKLE, 0.078 * H, 0.05, 0.08)
    rng = np.random.default_rng(0)
    # scene points only over the floor behind the stairs' start
    pts = np.c_[rng.uniform(-1.0, 0.0, 2000), rng.uniform(-0.5, 0.5, 2000), np.zeros(2000)]
    hf = scene.build_heightfield(pts, np.zeros((0, 1, 2)), np.zeros(0), sol, 0.05, 0.1)
    src = hf.source
    assert (src == solids.SOURCE_SFM).any() and (src == solids.SOURCE_CONTACT).any()
    ij = np.rint((J[C[:, 0], I["left_ankle"], :2] - hf.origin_xy) / hf.resolution).astype(int)
    assert (src[ij[:, 1], ij[:, 0]] == solids.SOURCE_CONTACT).all()
    sole = J[C[:, 0], I["left_ankle"], 2] - ANKLE
    assert np.abs(hf.heights[ij[:, 1], ij[:, 0]] - sole).max() < 0.01
    # without any scene points (a still camera) the solids alone make the heightfield
    hf0 = scene.build_heightfield(np.zeros((0, 3)), np.zeros((0, 1, 2)), np.zeros(0), sol, 0.05, 0.1)
    assert hf0.known.any() and set(np.unique(hf0.source[hf0.known])) == {solids.SOURCE_CONTACT}
    faces_src = scene.face_sources(hf0)
    assert len(faces_src) == len(scene.heightfield_mesh(hf0)[1]) and (faces_src == solids.SOURCE_CONTACT).all()
