"""2D detectors swap the legs' labels for stretches of frames; the keypoints stage swaps them back."""

from __future__ import annotations

from pathlib import Path

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
    fixed_kp, fixed_conf, fixed_local, swapped, _ = fix_leg_swaps(bad_kp, bad_conf, bad_local, 5.0)
    assert np.array_equal(swapped, stretch)
    ok = np.isfinite(fixed_kp).all(axis=(1, 2))
    assert np.allclose(fixed_kp[ok], kp[ok]) and np.allclose(fixed_conf, conf) and np.allclose(fixed_local, local)


def _side_walk(T: int = 120, seed: int = 0) -> np.ndarray:
    """A walker seen from the side: the legs swing in antiphase along the image's x and pass each
    other about every 15 frames (the knees at t = 0, 15, 30, ...; the ankles and toes a little
    later), where a label flip costs only a small jump."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    kp = np.zeros((T, len(HUMAN_JOINTS), 2))
    kp[:] = [320.0, 200.0]
    for leg, side in ((L, 1.0), (R, -1.0)):
        for depth, j in enumerate(leg):
            kp[:, j, 0] += side * 20.0 * (0.5 + 0.5 * depth) * np.sin(2 * np.pi * t / 30.0 - 0.2 * depth)
            kp[:, j, 1] += 80 + 70 * depth
    return kp + rng.normal(0, 0.5, kp.shape)


def _flip(kp: np.ndarray, frames: slice) -> np.ndarray:
    out = kp.copy()
    out[frames, L + R] = kp[frames, R + L]
    return out


def test_a_second_pass_settles_a_flip_one_pass_cannot() -> None:
    """The first pass flips the legs where they pass each other (frame 30) and flips back near the
    next crossing (frame 58): two small jumps, cheaper than paying for 28 swapped frames, so one
    pass keeps the flip; the mirrored pass, itself flipped elsewhere, is right there, and the two passes
    together are right in every frame. A frame the second pass has no legs in is not taken from it."""
    truth = _side_walk()
    conf = np.full(truth.shape[:2], 0.9)
    local = np.tile(np.arange(len(HUMAN_JOINTS), dtype=float)[None, :, None], (len(truth), 1, 3))
    first = _flip(truth, slice(30, 58))
    second = _flip(_side_walk(seed=1), slice(75, 88))
    second[100, L[1]] = np.nan

    def wrong(kp: np.ndarray) -> np.ndarray:
        return np.linalg.norm(kp[:, L] - truth[:, R], axis=-1).sum(1) < np.linalg.norm(
            kp[:, L] - truth[:, L], axis=-1
        ).sum(1)

    alone = fix_leg_swaps(first, conf, local, 5.0)
    assert wrong(alone[0]).sum() >= 20, "one pass cannot tell most of this flip from the crossings"

    kp, _, _, swapped, mirrored = fix_leg_swaps(first, conf, local, 5.0, (second, conf, local))
    assert not wrong(kp).any()
    assert mirrored[30:58].all() and not mirrored[100] and not swapped.any()
    assert not mirrored[76:87].any(), "where the second pass is flipped, the first is taken"


def test_the_mirrored_pass_lands_on_the_same_body_with_the_same_sides(tmp_path: Path) -> None:
    """MediaPipe on the mirrored frames, mapped back: the same landmarks within a few pixels, left
    still left, on the whole frame and through a person crop."""
    from videomimic_offline.real2sim.persons import run_mediapipe
    from videomimic_offline.real2sim.synthetic.clip import make_clip
    from videomimic_offline.real2sim.video import read_frames

    clip = make_clip("curb", tmp_path / "clip", seconds=1.0, seed=3, progress=False)
    frames = read_frames(clip / "video.mp4", 640)
    T, H, W = frames.shape[:3]
    a2d, a3d, masks = run_mediapipe(frames, None)
    found = np.isfinite(a2d[:, 0, 0])
    assert found.mean() > 0.9 and masks.any()
    body = np.arange(11, 33)  # shoulders down
    ankles = (27, 28)
    p = a2d[found][:, :, :2]
    x0, y0 = np.nanmin(p[..., 0]) - 20, np.nanmin(p[..., 1]) - 20
    crop = np.tile(
        [max(0.0, x0), max(0.0, y0), min(W, np.nanmax(p[..., 0]) + 20), min(H, np.nanmax(p[..., 1]) + 20)], (T, 1)
    )
    for boxes in (None, crop):
        m2d, m3d, m_masks = run_mediapipe(frames, boxes, mirror=True)
        ok = found & np.isfinite(m2d[:, 0, 0])
        assert ok.mean() > 0.9 and not m_masks.any()
        d = np.linalg.norm(m2d[ok][:, body, :2] - a2d[ok][:, body, :2], axis=-1)
        assert np.median(d) < 0.02 * H, np.median(d)
        # where the feet are apart, the mirrored pass's left ankle is at the first pass's left ankle
        apart = ok & (np.abs(a2d[:, ankles[0], 0] - a2d[:, ankles[1], 0]) > 0.04 * H)
        same = np.linalg.norm(m2d[apart][:, ankles, :2] - a2d[apart][:, ankles, :2], axis=-1).sum(1)
        crossed = np.linalg.norm(m2d[apart][:, ankles[::-1], :2] - a2d[apart][:, ankles, :2], axis=-1).sum(1)
        assert apart.sum() >= 5 and np.mean(same < crossed) > 0.8
        # the 3D prior is mirrored back too: the hips' left-right axis points the same way
        m_hips, a_hips = m3d[ok][:, 23] - m3d[ok][:, 24], a3d[ok][:, 23] - a3d[ok][:, 24]
        assert np.mean(np.sum(m_hips * a_hips, axis=1) > 0) > 0.8
