"""The scene scale from stance feet: their ground points must lie on the scene surface along their
camera rays (``scale_from_stance_rays``), and the joint optimisation applies that correction.

A person stands on a floor next to a raised platform while a handheld camera circles them; the
scene (cameras and points) is handed over at a wrong scale, the body's offsets from the cameras
stay metric, as they are after the scene-free first pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.real2sim.config import FitConfig
from videomimic_offline.real2sim.fit.scale import scale_from_stance_rays
from videomimic_offline.real2sim.optimize import OptInputs, optimize
from videomimic_offline.real2sim.synthetic.camera import look_at

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741
H = 1.7
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
DROP = 0.0255 * H  # the body model's ankle-toe midpoint height above the sole
T = 60


def _standing() -> np.ndarray:
    return np.repeat(rest_joints(H)[None], T, axis=0)


def _handheld(P: np.ndarray) -> np.ndarray:
    """(T,4,4) camera-to-world: 3-4 m away, swinging 1.5 m sideways at chest height, aimed at the pelvis."""
    s = np.linspace(0.0, 1.0, T)
    pos = np.c_[3.2 + 0.4 * np.sin(3 * s), -0.75 + 1.5 * s, 1.45 + 0.05 * np.cos(5 * s)]
    Twc = np.tile(np.eye(4), (T, 1, 1))
    Twc[:, :3, :3], Twc[:, :3, 3] = look_at(pos, P[:, I["pelvis"]].copy()), pos
    return Twc


def _scene(rng: np.random.Generator) -> np.ndarray:
    """Floor (z=0, 5 mm noise) plus a 0.3 m platform beyond x = 1.5 m, which must not count."""
    floor = np.c_[rng.uniform(-1.5, 1.5, 3000), rng.uniform(-1.5, 1.5, 3000), rng.normal(0.0, 0.005, 3000)]
    step = np.c_[rng.uniform(1.5, 3.0, 1500), rng.uniform(-1.5, 1.5, 1500), np.full(1500, 0.3)]
    return np.r_[floor, step]


def _wrong_scale(
    P: np.ndarray, Twc: np.ndarray, pts: np.ndarray, s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The world scaled by ``s`` about its origin, the body kept at its metric offset from each camera."""
    cams = Twc[:, :3, 3]
    return P - cams[:, None] + s * cams[:, None], s * cams, s * pts


@pytest.mark.parametrize("wrong", [1 / 1.05, 1.03])
def test_recovers_the_scale_that_puts_the_feet_on_the_floor(wrong: float) -> None:
    P = _standing()
    Twc = _handheld(P)
    J, cams, pts = _wrong_scale(P, Twc, _scene(np.random.default_rng(0)), wrong)
    k, info = scale_from_stance_rays(J, cams, pts, 30.0, DROP, 0.35)
    assert k is not None and abs(k * wrong - 1) < 0.003, info
    assert info["stance_scale_samples"] >= T  # both feet, every inner frame
    # already right: no correction
    k1, _ = scale_from_stance_rays(*_wrong_scale(P, Twc, _scene(np.random.default_rng(1)), 1.0), 30.0, DROP, 0.35)
    assert k1 is not None and abs(k1 - 1) < 0.002


def test_needs_a_horizontal_surface_under_the_feet() -> None:
    """Scene points only on a vertical plane through the feet (or almost none): no correction
    rather than a guess."""
    P = _standing()
    Twc = _handheld(P)
    rng = np.random.default_rng(2)
    wall = np.c_[rng.normal(0.0, 0.005, 3000), rng.uniform(-1.5, 1.5, 3000), rng.uniform(0.0, 2.0, 3000)]
    k, info = scale_from_stance_rays(P, Twc[:, :3, 3], wall, 30.0, DROP, 0.35)
    assert k is None and "stance frames" in info["stance_scale"]
    k, info = scale_from_stance_rays(P, Twc[:, :3, 3], wall[:20], 30.0, DROP, 0.35)
    assert k is None and "too few" in info["stance_scale"]


def test_moving_feet_are_not_stance() -> None:
    """A foot moving faster than the contact speed gives no sample."""
    P = _standing()
    feet = [I["left_ankle"], I["left_toe"], I["right_ankle"], I["right_toe"]]
    P[:, feet, 0] += np.arange(T)[:, None] * 0.02  # 0.6 m/s
    Twc = _handheld(P)
    k, info = scale_from_stance_rays(P, Twc[:, :3, 3], _scene(np.random.default_rng(3)), 30.0, DROP, 0.35)
    assert k is None and info["stance_scale"].startswith("only 0")


def test_optimisation_makes_an_sfm_scene_metric() -> None:
    """End to end: the SfM frame is in arbitrary units (x0.37) and, as in SfM on a real clip, has no
    points on the ground within 0.2 m of the feet (the person hid it and was masked out). The
    first scale, a depth look-up at the foot's pixel, reads the ground beyond that hole and comes
    out ~4 % off; the stance-ray correction must make the scene metric to within 1 %, the
    cameras with it, with the floor still at z = 0."""
    P = _standing()
    Twc = _handheld(P)
    pts = _scene(np.random.default_rng(4))
    feet_xy = P[0, [I["left_ankle"], I["right_ankle"]], :2]
    pts = pts[np.min(np.linalg.norm(pts[:, None, :2] - feet_xy[None], axis=2), axis=1) > 0.2]
    pc = np.einsum("tji,tkj->tki", Twc[:, :3, :3], P - Twc[:, None, :3, 3])
    kp = (pc @ K.T)[..., :2] / pc[..., 2:3]
    sfm = Twc.copy()
    sfm[:, :3, 3] *= 0.37
    kp_conf = np.full(kp.shape[:2], 0.9)
    inp = OptInputs(kp, kp_conf, pc - pc[:, I["pelvis"], None], K, sfm, pts * 0.37, 30.0, H, "vitpose")

    def config(on: bool) -> FitConfig:
        return FitConfig(surface_scale=on)

    off = optimize(inp, config(False))
    assert abs(off.scale * 0.37 - 1) > 0.02 and "stance_scale" not in off.info
    res = optimize(inp, config(True))
    assert isinstance(res.info["stance_scale"], float)
    assert abs(res.scale * 0.37 - 1) < 0.01
    path = np.linalg.norm(np.diff(res.T_world_cam[:, :3, 3], axis=0), axis=1).sum()
    assert abs(path / np.linalg.norm(np.diff(Twc[:, :3, 3], axis=0), axis=1).sum() - 1) < 0.01
    feet = res.joints_w[:, [I["left_ankle"], I["right_ankle"]], 2]
    assert np.abs(feet - rest_joints(H)[I["left_ankle"], 2]).max() < 0.03
