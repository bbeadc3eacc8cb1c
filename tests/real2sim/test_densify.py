"""Dense stereo (real2sim/densify.py) on exactly known geometry: views of a textured plane."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from videomimic_offline.real2sim.densify import DenseConfig, dense_depths, depths_to_points, tsdf_mesh

W, H = 320, 240
K = np.array([[260.0, 0, 159.5], [0, 260.0, 119.5], [0, 0, 1]])


def _pose(x: float) -> np.ndarray:
    """Camera-to-world: looking along +z (world = first camera), shifted sideways by x."""
    T = np.eye(4)
    T[0, 3] = x
    return T


def _views(depth: float, n: int = 5, baseline: float = 0.12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """RGB frames (n,H,W,3) of a fronto-parallel textured plane z = depth, and their poses."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.random((H * 2, W * 2)).astype(np.float32), (0, 0), 1.5)
    tex = cv2.resize(tex, (W * 2, H * 2))
    poses = np.stack([_pose(i * baseline) for i in range(n)])
    frames = []
    # texture coordinates: world point (X, Y, depth) -> texel ((X + 2) * 80, (Y + 1.5) * 80)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    for T in poses:
        X = (xs - K[0, 2]) / K[0, 0] * depth + T[0, 3]
        Y = (ys - K[1, 2]) / K[1, 1] * depth
        img = cv2.remap(tex, ((X + 2) * 80).astype(np.float32), ((Y + 1.5) * 80).astype(np.float32), cv2.INTER_LINEAR)
        frames.append(np.repeat((np.clip(img, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2))
    return np.stack(frames), poses


def _plane_points(depth: float) -> np.ndarray:
    g = np.mgrid[-1:1:20j, -0.8:0.8:20j].reshape(2, -1).T
    return np.column_stack([g, np.full(len(g), depth)])


@pytest.mark.parametrize("depth", [2.0, 4.0])
def test_plane_depth_is_recovered(depth: float) -> None:
    frames, poses = _views(depth)
    masks = np.zeros(frames.shape[:3], np.uint8)
    cfg = DenseConfig(scale=1.0, neighbour_offsets=(-2, -1, 1, 2), ref_step=1)
    dd = dense_depths(frames, masks, K, poses, np.arange(len(frames)), _plane_points(depth), cfg)
    d = np.concatenate([x[np.isfinite(x)] for x in dd.depths])
    assert dd.info["dense_fraction"] > 0.4, dd.info
    assert np.median(d) == pytest.approx(depth, rel=0.01)
    assert np.percentile(np.abs(d - depth), 90) < 0.03 * depth
    pts, cols = depths_to_points(dd, stride=4)
    assert len(pts) == len(cols) > 1000 and np.median(np.abs(pts[:, 2] - depth)) < 0.01 * depth


def test_person_mask_and_texture_less_regions_get_no_depth() -> None:
    frames, poses = _views(3.0)
    frames[:, :, :60] = 128  # a flat band: nothing to match
    masks = np.zeros(frames.shape[:3], np.uint8)
    masks[:, 100:180, 140:200] = 255  # "the person"
    cfg = DenseConfig(scale=1.0, neighbour_offsets=(-2, -1, 1, 2), ref_step=1, mask_dilate_px=0)
    dd = dense_depths(frames, masks, K, poses, np.arange(len(frames)), _plane_points(3.0), cfg)
    for d in dd.depths:
        assert not np.isfinite(d[:, :55]).any()  # (a window reaching the texture may still match)
        assert not np.isfinite(d[100:180, 140:200]).any()
        assert np.isfinite(d[:, 200:]).mean() > 0.3


def test_tsdf_mesh_of_a_plane_is_flat_and_where_it_was_seen() -> None:
    depth = 3.0
    frames, poses = _views(depth)
    cfg = DenseConfig(scale=1.0, neighbour_offsets=(-2, -1, 1, 2), ref_step=1)
    dd = dense_depths(frames, np.zeros(frames.shape[:3], np.uint8), K, poses, np.arange(5), _plane_points(depth), cfg)
    v, f = tsdf_mesh(dd, voxel=0.03, trunc=0.1, max_depth=8.0)
    assert len(f) > 500
    assert np.percentile(np.abs(v[:, 2] - depth), 95) < 0.05
    # nothing outside the cameras' view of the plane (x within the frusta, |y| within the image)
    half_h = (H / 2) / K[1, 1] * depth
    assert np.abs(v[:, 1]).max() < half_h + 0.1


def test_no_depth_without_neighbours() -> None:
    frames, poses = _views(3.0, n=1)
    dd = dense_depths(
        frames, np.zeros(frames.shape[:3], np.uint8), K, poses, np.arange(1), _plane_points(3.0), DenseConfig()
    )
    assert dd.depths == [] and tsdf_mesh(dd, 0.03, 0.1, 8.0)[1].shape == (0, 3)
