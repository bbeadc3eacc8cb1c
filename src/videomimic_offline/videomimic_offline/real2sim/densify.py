"""Dense scene points from the video itself: plane-sweep stereo between SfM keyframes (CPU, no weights).

SfM triangulates a few thousand corners; the surfaces between them (most of a floor, a wall, a
stair tread) stay empty, so a heightfield or mesh built from them is mostly guesswork. With the
camera poses known, every keyframe can be matched densely against its neighbours:

1. for a reference keyframe, sweep fronto-parallel planes over the depth range its SfM points
   span (uniform in inverse depth); warp each neighbour keyframe onto the reference through the
   plane's homography;
2. score each pixel and plane by zero-mean normalised cross-correlation over a small window
   (robust to exposure changes), keep the mean of the best half of the neighbours (a surface
   occluded in one neighbour is still seen by another), take the best plane with a parabolic
   sub-plane refinement;
3. keep a pixel only if it is textured, its best score is high and unambiguous (no other depth
   scores nearly as well at a match 2 px or more away), it is not on the person (mask) and it
   is not at either end of the depth range;
4. keep a depth only where another keyframe's depth map agrees with it (cross-view geometric
   consistency), which removes most of what survives by chance on repetitive texture.

The person's region is removed from every image before matching, so the moving body never
becomes scene. Runs on half-resolution grey images: about 0.5 s of CPU per keyframe (30 keyframes
of a 640x480 clip in ~15 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from videomimic_offline.real2sim.config import DenseConfig


def _scaled_k(K: np.ndarray, s: float) -> np.ndarray:
    Ks = K.astype(np.float64).copy()
    Ks[0, 0] *= s
    Ks[1, 1] *= s
    Ks[0, 2] = (K[0, 2] + 0.5) * s - 0.5
    Ks[1, 2] = (K[1, 2] + 0.5) * s - 0.5
    return Ks


def _box(a: np.ndarray, w: int) -> np.ndarray:
    return cv2.boxFilter(a, cv2.CV_32F, (w, w), normalize=True, borderType=cv2.BORDER_REFLECT)


def _depth_range(points_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray, size: tuple[int, int]) -> tuple[float, float] | None:  # fmt: skip
    """Near and far depth of the SfM points this camera sees (widened), or None if it sees too few."""
    Tcw = np.linalg.inv(T_world_cam)
    pc = points_w @ Tcw[:3, :3].T + Tcw[:3, 3]
    z = pc[:, 2]
    front = z > 0.1
    uv = pc[front] @ K.T
    uv = uv[:, :2] / uv[:, 2:]
    w, h = size
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    zs = z[front][inside]
    if len(zs) < 20:
        return None
    return float(np.percentile(zs, 2) * 0.8), float(np.percentile(zs, 98) * 1.25)


def depth_map(
    ref: np.ndarray,
    neighbours: list[tuple[np.ndarray, np.ndarray]],
    K: np.ndarray,
    near: float,
    far: float,
    cfg: DenseConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (H,W; NaN = no reliable depth) and best ZNCC for a reference grey image (float32 0-1,
    NaN on the person) against ``neighbours`` = [(grey image with NaN on the person, T_nbr_ref 4x4)]."""
    H, W = ref.shape
    w = cfg.window
    inv = np.linspace(1.0 / near, 1.0 / far, cfg.planes)  # inverse depth, near to far
    r0 = np.nan_to_num(ref)
    mr = _box(r0, w)
    var_r = np.maximum(_box(r0 * r0, w) - mr * mr, 0.0)
    Kinv = np.linalg.inv(K)
    scores = np.full((len(neighbours), cfg.planes, H, W), -1.0, np.float32)
    for n, (img, T) in enumerate(neighbours):
        R, t = T[:3, :3], T[:3, 3:4]
        e = np.array([[0.0, 0.0, 1.0]])
        for d, rho in enumerate(inv):
            Hm = K @ (R + rho * (t @ e)) @ Kinv  # ref pixel -> neighbour pixel for the plane z = 1/rho
            wimg = cv2.warpPerspective(img, Hm, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))  # fmt: skip
            valid = np.isfinite(wimg)
            wimg = np.where(valid, wimg, 0.0).astype(np.float32)  # running-sum box filters spread NaN
            whole = _box(valid.astype(np.float32), w) > 0.999  # window free of border and person
            mw = _box(wimg, w)
            var_w = _box(wimg * wimg, w) - mw * mw
            cov = _box(r0 * wimg, w) - mr * mw
            z = cov / np.sqrt(np.maximum(var_r * var_w, 1e-12))
            scores[n, d] = np.where(whole, z, -1.0)
    # mean of the best half of the neighbours: a surface hidden in one of them is still scored
    k = max(1, len(neighbours) // 2)
    best_n = np.sort(scores, axis=0)[-k:].mean(axis=0) if len(neighbours) > 1 else scores[0]
    i = np.argmax(best_n, axis=0)
    s_best = np.take_along_axis(best_n, i[None], 0)[0]
    # unambiguous: nothing that moves the match by 2 px or more (at the widest baseline) scores
    # nearly as well; in planes that depends on the baseline and the depth range
    baseline = max(float(np.linalg.norm(T[:3, 3])) for _, T in neighbours)
    px_per_plane = K[0, 0] * baseline * abs(inv[0] - inv[1])
    excl = max(2, int(np.ceil(cfg.ambiguity_px / max(px_per_plane, 1e-6))))
    idx = np.arange(cfg.planes)[:, None, None]
    far_away = np.abs(idx - i[None]) >= excl
    s_other = np.where(far_away, best_n, -1.0).max(axis=0)
    ok = (s_best >= cfg.min_zncc) & (s_best - s_other >= cfg.min_margin)
    ok &= (i > 0) & (i < cfg.planes - 1) & (np.sqrt(var_r) >= cfg.min_texture_std) & np.isfinite(ref)
    # parabolic sub-plane refinement in inverse depth
    ic = np.clip(i, 1, cfg.planes - 2)
    a = np.take_along_axis(best_n, (ic - 1)[None], 0)[0]
    c = np.take_along_axis(best_n, (ic + 1)[None], 0)[0]
    b = np.take_along_axis(best_n, ic[None], 0)[0]
    den = a - 2 * b + c
    off = np.where(den < -1e-6, 0.5 * (a - c) / np.where(den < -1e-6, den, -1.0), 0.0)
    step = inv[1] - inv[0]
    rho = inv[ic] + np.clip(off, -0.5, 0.5) * step
    depth = np.where(ok, 1.0 / rho, np.nan).astype(np.float32)
    return depth, s_best


def _consistent(depths: list[np.ndarray], poses: list[np.ndarray], K: np.ndarray, r: int, others: list[int], tol: float) -> np.ndarray:  # fmt: skip
    """Pixels of depth map ``r`` that another map among ``others`` confirms (relative depth within tol)."""
    H, W = depths[r].shape
    v, u = np.nonzero(np.isfinite(depths[r]))
    z = depths[r][v, u]
    pc = np.linalg.inv(K) @ np.vstack([u, v, np.ones_like(u)]) * z
    good = np.zeros(len(z), bool)
    for o in others:
        T = np.linalg.inv(poses[o]) @ poses[r]
        q = T[:3, :3] @ pc + T[:3, 3:4]
        uv = K @ q
        with np.errstate(divide="ignore", invalid="ignore"):
            uo, vo = np.rint(uv[0] / uv[2]).astype(np.int64), np.rint(uv[1] / uv[2]).astype(np.int64)
        inside = (q[2] > 0) & (uo >= 0) & (uo < W) & (vo >= 0) & (vo < H)
        zo = np.full(len(z), np.nan)
        zo[inside] = depths[o][vo[inside], uo[inside]]
        with np.errstate(invalid="ignore"):
            good |= np.abs(zo - q[2]) <= tol * q[2]
    out = np.zeros((H, W), bool)
    out[v[good], u[good]] = True
    return out


@dataclass
class DenseDepths:
    """Consistency-filtered depth maps (NaN = none) of the keyframes, at the matching scale."""

    depths: list[np.ndarray]
    poses: list[np.ndarray]  # camera-to-world 4x4
    rgb: list[np.ndarray]  # (H,W,3) uint8 at the matching scale
    K: np.ndarray  # intrinsics at the matching scale
    info: dict[str, float]


def dense_depths(
    frames: np.ndarray,
    masks: np.ndarray,
    K: np.ndarray,
    T_world_cam: np.ndarray,
    keyframes: np.ndarray,
    sparse_points_w: np.ndarray,
    cfg: DenseConfig,
    progress: bool = False,
) -> DenseDepths:
    """Depth maps of ``keyframes`` by plane-sweep stereo, kept where another keyframe agrees.

    ``frames`` (T,H,W,3) RGB, ``masks`` (T,H,W) person masks (non-zero = person), ``T_world_cam``
    (T,4,4) camera-to-world poses in the same frame as ``sparse_points_w`` (which set each
    keyframe's depth range).
    """
    kf = [int(k) for k in keyframes if 0 <= int(k) < len(frames)]
    H0, W0 = frames.shape[1:3]
    Ks = _scaled_k(K, cfg.scale)
    W, H = int(round(W0 * cfg.scale)), int(round(H0 * cfg.scale))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * cfg.mask_dilate_px + 1,) * 2)
    grey, rgb = [], []
    for k in kf:
        g = cv2.resize(cv2.cvtColor(frames[k], cv2.COLOR_RGB2GRAY), (W, H), interpolation=cv2.INTER_AREA)
        m = cv2.dilate(cv2.resize(masks[k], (W, H), interpolation=cv2.INTER_NEAREST), kernel) > 0
        g = g.astype(np.float32) / 255.0
        g[m] = np.nan
        grey.append(g)
        rgb.append(cv2.resize(frames[k], (W, H), interpolation=cv2.INTER_AREA))
    poses = [np.asarray(T_world_cam[k], np.float64) for k in kf]
    raw: list[np.ndarray] = []
    partners: list[list[int]] = []
    it = range(len(kf))
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="dense stereo", unit="keyframe")
    for r in it:
        nb = [r + o for o in cfg.neighbour_offsets if 0 <= r + o < len(kf)] if r % cfg.ref_step == 0 else []
        rng = _depth_range(sparse_points_w, poses[r], Ks, (W, H))
        partners.append(nb)
        if not nb or rng is None:
            raw.append(np.full((H, W), np.nan, np.float32))
            continue
        pairs = [(grey[n], np.linalg.inv(poses[n]) @ poses[r]) for n in nb]
        raw.append(depth_map(grey[r], pairs, Ks, rng[0], rng[1], cfg)[0])
    refs = [r for r in range(len(kf)) if partners[r]]
    depths, ref_poses, ref_rgb = [], [], []
    for r in refs:  # confirmed by the depth maps of the nearest other references
        others = sorted((o for o in refs if o != r), key=lambda o: abs(o - r))[:4]
        ok = _consistent(raw, poses, Ks, r, others, cfg.consistency)
        depths.append(np.where(ok, raw[r], np.nan).astype(np.float32))
        ref_poses.append(poses[r])
        ref_rgb.append(rgb[r])
    info = {
        "dense_depth_maps": float(len(refs)),
        "dense_raw_fraction": float(np.mean([np.isfinite(raw[r]).mean() for r in refs])) if refs else 0.0,
        "dense_fraction": float(np.mean([np.isfinite(d).mean() for d in depths])) if depths else 0.0,
    }
    return DenseDepths(depths, ref_poses, ref_rgb, Ks, info)


def depths_to_points(dd: DenseDepths, stride: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """World points (N,3) and colours (N,3 uint8) of every ``stride``-th valid depth pixel."""
    pts, cols = [], []
    Kinv = np.linalg.inv(dd.K)
    for depth, pose, rgb in zip(dd.depths, dd.poses, dd.rgb):
        keep = np.zeros(depth.shape, bool)
        keep[::stride, ::stride] = True
        v, u = np.nonzero(np.isfinite(depth) & keep)
        z = depth[v, u].astype(np.float64)
        pc = (Kinv @ np.vstack([u, v, np.ones_like(u)])) * z
        pts.append((pose[:3, :3] @ pc + pose[:3, 3:4]).T)
        cols.append(rgb[v, u])
    if not pts:
        return np.zeros((0, 3)), np.zeros((0, 3), np.uint8)
    return np.concatenate(pts), np.concatenate(cols).astype(np.uint8)


def tsdf_mesh(dd: DenseDepths, voxel: float, trunc: float, max_depth: float) -> tuple[np.ndarray, np.ndarray]:
    """Fuse the depth maps into a truncated signed distance volume (Open3D) and mesh its zero level.

    Only voxels some depth map observed get a surface, so nothing the camera never saw is
    invented; averaging over keyframes removes most per-map noise.
    """
    import open3d as o3d

    if not dd.depths:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    H, W = dd.depths[0].shape
    vol = o3d.pipelines.integration.ScalableTSDFVolume(
        voxel_length=voxel, sdf_trunc=trunc, color_type=o3d.pipelines.integration.TSDFVolumeColorType.RGB8
    )
    K = dd.K
    intr = o3d.camera.PinholeCameraIntrinsic(W, H, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    for depth, pose, rgb in zip(dd.depths, dd.poses, dd.rgb):
        d = np.nan_to_num(depth, nan=0.0).astype(np.float32)
        rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
            o3d.geometry.Image(np.ascontiguousarray(rgb)), o3d.geometry.Image(d),
            depth_scale=1.0, depth_trunc=max_depth, convert_rgb_to_intensity=False,
        )  # fmt: skip
        vol.integrate(rgbd, intr, np.linalg.inv(pose))
    mesh = vol.extract_triangle_mesh()
    return np.asarray(mesh.vertices), np.asarray(mesh.triangles)
