"""2D detectors swap the legs' labels for stretches of frames; the keypoints stage swaps them back."""

from __future__ import annotations

import numpy as np
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.keypoints import fix_leg_swaps

L = [HUMAN_JOINTS.index(n) for n in ("left_knee", "left_ankle", "left_toe")]
R = [HUMAN_JOINTS.index(n) for n in ("right_knee", "right_ankle", "right_toe")]


def _walk(T: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A walker seen from the front: legs apart in the image, each swinging up and down in antiphase.

    (Seen from the side, the legs pass each other in the image, where a label flip and a crossing
    look alike: the documented limitation of ``fix_leg_swaps``.)
    """
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 30.0
    kp = np.zeros((T, len(HUMAN_JOINTS), 2))
    kp[:] = [320.0, 200.0]
    kp[:, :, 0] += 15 * t[:, None]
    for leg, side, ph in ((L, -22.0, 0.0), (R, 22.0, np.pi)):
        lift = 12 * np.sin(2 * np.pi * 1.0 * t + ph)
        for depth, j in enumerate(leg):
            kp[:, j, 0] += side
            kp[:, j, 1] += 80 + 70 * depth + lift * (0.5 + 0.5 * depth)
    kp += rng.normal(0, 1.0, kp.shape)
    conf = np.tile(np.linspace(0.5, 0.9, len(HUMAN_JOINTS)), (T, 1))
    local = np.tile(np.arange(len(HUMAN_JOINTS), dtype=float)[None, :, None], (T, 1, 3))
    return kp, conf, local


def test_swapped_stretches_are_undone_and_clean_tracks_left_alone() -> None:
    kp, conf, local = _walk()
    same = fix_leg_swaps(kp, conf, local, 5.0)
    assert not same[3].any() and np.array_equal(same[0], kp)

    bad_kp, bad_conf, bad_local = kp.copy(), conf.copy(), local.copy()
    stretch = np.zeros(len(kp), bool)
    stretch[40:62] = stretch[90:96] = True
    for a in (bad_kp, bad_conf, bad_local):
        a[np.ix_(stretch, L + R)] = a[np.ix_(stretch, R + L)]
    bad_kp[70, L[1]] = np.nan  # a missing frame does not break the chain
    fixed_kp, fixed_conf, fixed_local, swapped = fix_leg_swaps(bad_kp, bad_conf, bad_local, 5.0)
    assert np.array_equal(swapped, stretch)
    ok = np.isfinite(fixed_kp).all(axis=(1, 2))
    assert np.allclose(fixed_kp[ok], kp[ok]) and np.allclose(fixed_conf, conf) and np.allclose(fixed_local, local)
