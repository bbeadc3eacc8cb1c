"""Synthetic camera regimes: each moves (or does not) the way its casual-video counterpart does,
keeps the person in view, films with a phone lens, and is recorded in the ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.model import BodyShape, build_body
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.synthetic import CAMERA_REGIMES, REGIME_MOTION
from videomimic_offline.real2sim.synthetic.camera import REGIME_PATHS, focal_px, must_see, project
from videomimic_offline.real2sim.synthetic.clip import load_gt, main, make_clip
from videomimic_offline.real2sim.synthetic.motion import generate_motion
from videomimic_offline.real2sim.synthetic.render import intrinsics
from videomimic_offline.real2sim.synthetic.scenes import build_scene

SIZE = (640, 360)


def _walk(kind: str = "stairs_up", seed: int = 4, seconds: float = 6.0, height: float = 1.8):
    rng = np.random.default_rng(seed)
    scene = build_scene(kind, rng, seconds=seconds)
    body = build_body(BodyShape(height))
    return scene, generate_motion(scene, body, rng, seconds), height


def _path(regime: str, kind: str = "stairs_up", seed: int = 4, size=SIZE, seconds: float = 6.0):
    scene, m, h = _walk(kind, seed, seconds)
    f = focal_px(26.0, size)
    K = intrinsics(*size, float(np.degrees(2 * np.arctan(0.5 * size[1] / f))))
    Tw, info = REGIME_PATHS[regime](m.joints_w, 30.0, np.random.default_rng(seed), K, size, h, scene.surface_height)
    return Tw, info, m, K


def _angle_deg(Ra: np.ndarray, Rb: np.ndarray) -> float:
    c = (np.trace(Ra.T @ Rb) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def _check_in_view(Tw: np.ndarray, m, K: np.ndarray, size, height: float) -> None:
    uv, z = project(must_see(m.joints_w, height), Tw, K)
    assert (z > 0.3).all()
    assert (uv[..., 0] >= 0).all() and (uv[..., 0] <= size[0] - 1).all()
    assert (uv[..., 1] >= 0).all() and (uv[..., 1] <= size[1] - 1).all()
    R = Tw[:, :3, :3]
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.tile(np.eye(3), (len(R), 1, 1)), atol=1e-9)


@pytest.mark.parametrize("kind", ["stairs_up", "chair"])
def test_tripod_is_one_fixed_pose(kind: str) -> None:
    Tw, info, m, K = _path("tripod", kind)
    assert np.array_equal(Tw, np.repeat(Tw[:1], len(Tw), 0))
    _check_in_view(Tw, m, K, SIZE, 1.8)
    assert 0.9 <= Tw[0, 2, 3] <= 1.6 + 1e-9  # on the floor, at tripod height
    assert info["regime"] == "tripod"


@pytest.mark.parametrize("kind", ["stairs_up", "curb", "ledge"])
def test_pan_tilt_rotates_without_translating(kind: str) -> None:
    Tw, info, m, K = _path("pan_tilt", kind)
    assert np.array_equal(Tw[:, :3, 3], np.repeat(Tw[:1, :3, 3], len(Tw), 0))  # zero translation
    swept = max(_angle_deg(Tw[0, :3, :3], R) for R in Tw[:, :3, :3])
    assert swept > 10.0, f"the camera only turned {swept:.1f} degrees to follow a walk"
    _check_in_view(Tw, m, K, SIZE, 1.8)


@pytest.mark.parametrize("kind", ["stairs_down", "chair"])
def test_handheld_still_drifts_a_few_centimetres(kind: str) -> None:
    Tw, info, m, K = _path("handheld_still", kind)
    p = Tw[:, :3, 3]
    excursion = np.linalg.norm(p - p.mean(0), axis=1).max()
    assert 0.01 <= excursion <= 0.10, f"{excursion * 100:.1f} cm is not a hand holding still"
    # it shakes: frame-to-frame rotation is not smooth panning alone
    steps = [_angle_deg(a, b) for a, b in zip(Tw[:-1, :3, :3], Tw[1:, :3, :3], strict=True)]
    assert np.std(np.diff(steps)) > 0.005
    _check_in_view(Tw, m, K, SIZE, 1.8)


@pytest.mark.parametrize("kind", ["stairs_up", "curb", "chair"])
def test_follow_behind_walks_after_the_person(kind: str) -> None:
    Tw, info, m, K = _path("follow_behind", kind, seconds=10.0)
    cam = Tw[:, :3, 3]
    walk = m.joints_w[-1, 0, :2] - m.joints_w[0, 0, :2]
    moved = cam[-1, :2] - cam[0, :2]
    assert np.linalg.norm(moved) > 1.0, "the camera did not walk"
    cos = moved @ walk / (np.linalg.norm(moved) * np.linalg.norm(walk))
    assert cos > 0.9, f"camera moved at {np.degrees(np.arccos(cos)):.0f} degrees to the walking direction"
    # behind the person: the person is ahead of the camera along the walk at the start
    ahead = (m.joints_w[0, 0, :2] - cam[0, :2]) @ walk / np.linalg.norm(walk)
    assert ahead > 1.5
    # it climbs after the person on stairs (the operator walks the same treads)
    if kind == "stairs_up":
        assert cam[-1, 2] - cam[0, 2] > 0.25
    _check_in_view(Tw, m, K, SIZE, 1.8)


def test_portrait_frames_keep_the_person_in_view() -> None:
    for regime in ("tripod", "follow_behind"):
        Tw, _, m, K = _path(regime, "curb", size=(360, 640))
        _check_in_view(Tw, m, K, (360, 640), 1.8)


@pytest.mark.parametrize("regime", [r for r in CAMERA_REGIMES if r != "orbit"])
def test_rendered_regime_clip_records_its_camera(tmp_path: Path, regime: str) -> None:
    out = make_clip("curb", tmp_path / "c", seconds=1.5, seed=2, width=160, height=90, regime=regime, progress=False)
    gt = load_gt(out)
    meta = json.loads((out / "meta.json").read_text())
    assert str(gt["camera_regime"]) == regime == meta["camera_regime"] == meta["camera"]["regime"]
    assert str(gt["camera_motion"]) == REGIME_MOTION[regime] == meta["camera_motion"]
    assert 24.0 <= float(gt["focal_mm_equiv"]) <= 28.0
    assert float(gt["focal_mm_equiv"]) == pytest.approx(gt["K"][0, 0] / 160 * 36)
    assert gt["image_size"].tolist() == [160, 90]
    assert gt["seat_contact"].shape == (45,) and not gt["seat_contact"].any()
    assert np.isnan(gt["seat_top_z"])
    # the same kind and seed film the same person and scene whatever the camera
    orbit = make_clip("curb", tmp_path / "o", seconds=1.5, seed=2, width=160, height=120, progress=False)
    np.testing.assert_array_equal(load_gt(orbit)["joints_w"], gt["joints_w"])
    np.testing.assert_array_equal(load_gt(orbit)["scene_vertices"], gt["scene_vertices"])


def test_phone_defaults_and_cli(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--kind", "curb", "--camera", "tripod", "--seconds", "1", "--portrait", "--width", "90",
              "--height", "160", "--focal-mm", "26", "--out", str(tmp_path / "p")])  # fmt: skip
    assert done.value.code == 0
    gt = load_gt(tmp_path / "p")
    assert gt["image_size"].tolist() == [90, 160]  # portrait: the long side vertical
    assert float(gt["focal_mm_equiv"]) == pytest.approx(26.0)
    assert json.loads((tmp_path / "p" / "meta.json").read_text())["portrait"] is True
    with pytest.raises(InputError, match="unknown camera regime"):
        make_clip("curb", tmp_path / "x", regime="drone")
    assert not (tmp_path / "x").exists()
