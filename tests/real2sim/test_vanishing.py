"""A still camera's gravity and focal length from the vanishing points of the scene's lines."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.real2sim.vanishing import scene_lines

W, H, F = 640, 360, 480.0


def _rot(pitch_deg: float, roll_deg: float, yaw_deg: float) -> np.ndarray:
    """World (x, y forward-ish, z up) -> camera (x right, y down, z forward)."""
    base = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # level camera looking along world +y
    p, r, y = np.radians([pitch_deg, roll_deg, yaw_deg])
    Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    Rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return Rz @ Rx @ Ry @ base


def _room(R: np.ndarray, f: float = F) -> np.ndarray:
    """Grey frames of a tiled floor and two tiled walls (a box room seen from 1.5 m up)."""
    import cv2

    K = np.array([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1]])
    cam = np.array([0.0, 0.0, 1.5])
    img = np.full((H, W), 90, np.uint8)
    segs = []
    for a in np.arange(-4, 4.01, 0.5):  # floor tiles, 2-8 m ahead
        segs.append(((a, 2, 0), (a, 8, 0)))
    for b in np.arange(2, 8.01, 0.5):
        segs.append(((-4, b, 0), (4, b, 0)))
    for a in np.arange(-4, 4.01, 0.5):  # back wall at y = 8: verticals and horizontals
        segs.append(((a, 8, 0), (a, 8, 3)))
    for z in np.arange(0.5, 3.01, 0.5):
        segs.append(((-4, 8, z), (4, 8, z)))
    for b in np.arange(2, 8.01, 0.5):  # side wall at x = -4
        segs.append(((-4, b, 0), (-4, b, 3)))
    for p, q in segs:
        P = np.array([p, q], float) - cam
        c = P @ R.T
        if (c[:, 2] < 0.3).any():
            continue
        uv = (c @ K.T)[:, :2] / (c @ K.T)[:, 2:]
        cv2.line(img, tuple(int(v) for v in uv[0].round()), tuple(int(v) for v in uv[1].round()), 230, 2, cv2.LINE_AA)
    return np.repeat(img[None, :, :, None], 3, axis=3).repeat(4, axis=0)


@pytest.mark.parametrize("pitch,roll,yaw", [(12.0, 1.5, 25.0), (25.0, -2.0, -30.0)])
def test_up_and_focal_come_from_a_tiled_room(pitch: float, roll: float, yaw: float) -> None:
    R = _rot(pitch, roll, yaw)
    found = scene_lines(_room(R), None, 0.72 * W)
    up_true = R @ np.array([0.0, 0.0, 1.0])
    assert found.up_cam is not None, found.info
    assert np.degrees(np.arccos(np.clip(found.up_cam @ up_true, -1, 1))) < 0.5
    assert found.focal_px is not None and abs(found.focal_px / F - 1) < 0.03, found.info


def test_a_scene_without_straight_lines_says_nothing() -> None:
    rng = np.random.default_rng(0)
    blobs = (rng.random((4, H, W, 3)) * 40 + 100).astype(np.uint8)
    found = scene_lines(blobs, None, 0.72 * W)
    assert found.up_cam is None and found.focal_px is None and "scene_lines" in found.info


def test_lines_on_the_person_are_not_the_scene() -> None:
    """Where the person stays (their mask in most frames), straight edges do not count."""
    R = _rot(12.0, 1.5, 25.0)
    frames = _room(R)
    everywhere = np.ones(frames.shape[:3], bool)
    found = scene_lines(frames, everywhere, 0.72 * W)
    assert found.up_cam is None and found.info["line_segments"] == 0


def test_the_lines_up_outweighs_the_person_in_gravity_fusion() -> None:
    from videomimic_offline.real2sim.gravity import fuse_up

    lines = np.array([0.0, np.sin(np.radians(3.0)), np.cos(np.radians(3.0))])
    person = np.array([np.sin(np.radians(10.0)), 0.0, np.cos(np.radians(10.0))])
    up, info = fuse_up(
        np.array([0.0, 0.0, 1.0]), person, np.radians(30.0), lines_up=lines, lines_sigma_rad=np.radians(0.5)
    )
    assert np.degrees(np.arccos(np.clip(up @ lines, -1, 1))) < 0.1 and info["source"].startswith("lines")
    alone, _ = fuse_up(np.array([0.0, 0.0, 1.0]), person, np.radians(30.0))
    assert np.degrees(np.arccos(np.clip(alone @ person, -1, 1))) < 0.1
