"""Camera trajectory + scene points (offline default: pycolmap SfM on the background).

SfM runs on evenly spaced keyframes with the (dilated) person mask blanked out, so the moving body
never pollutes the static scene. Keyframe poses are interpolated to every frame (slerp rotations,
linear centres). The result is up to an unknown scale; the joint optimisation fixes it with the
person's height.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.config import CamerasConfig

log = logging.getLogger(__name__)


@dataclass
class CameraTrack:
    """Per-frame cameras in the SfM world (arbitrary scale and orientation)."""

    K: np.ndarray  # (3,3)
    T_world_cam: np.ndarray  # (T,4,4) camera-to-world, OpenCV axes
    points: np.ndarray  # (N,3) scene points
    colors: np.ndarray  # (N,3) uint8
    keyframes: np.ndarray  # (M,) frame indices that SfM registered
    image_size: tuple[int, int]  # (w, h)


def check_camera_moves(frames: np.ndarray, masks: np.ndarray, min_px: float = 2.0) -> float:
    """Median background displacement (px) between first and later frames; InputError if ~static."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    bg = (masks[0] == 0).astype(np.uint8)
    pts = cv2.goodFeaturesToTrack(gray[0], 400, 0.01, 7, mask=bg)
    if pts is None or len(pts) < 10:
        raise InputError("the background has almost no texture: SfM cannot find the camera; film a textured scene")
    best = 0.0
    for t in np.linspace(1, len(frames) - 1, min(5, len(frames) - 1)).round().astype(int):
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(gray[0], gray[t], pts, None)
        ok = st.ravel() == 1
        if ok.sum() < 10:
            return float("inf")  # features lost: the view changed a lot, so the camera moved
        d = np.linalg.norm((nxt - pts)[ok].reshape(-1, 2), axis=1)
        best = max(best, float(np.median(d)))
    if best < min_px:
        raise InputError(
            f"the camera is static (background moves {best:.1f} px): SfM needs a moving, handheld camera; "
            "walk with the camera or give camera_backend=megasam outputs"
        )
    return best


def run_sfm(
    frames: np.ndarray,
    masks: np.ndarray,
    work: Path,
    cfg: CamerasConfig,
    focal_px: float | None,
) -> CameraTrack:
    """pycolmap incremental SfM on masked keyframes, interpolated to all T frames (``focal_px``: known focal)."""
    import pycolmap

    num_keyframes, max_features, overlap = cfg.sfm_keyframes, cfg.sfm_max_features, cfg.sfm_overlap
    focal_init_factor, min_registered, camera_model = (
        cfg.focal_init_factor,
        cfg.sfm_min_registered,
        cfg.sfm_camera_model,
    )
    dilate_px = cfg.mask_dilate_px

    pycolmap.logging.minloglevel = 2  # errors only: progress is ours
    T, H, W = frames.shape[:3]
    keys = np.unique(np.linspace(0, T - 1, min(num_keyframes, T)).round().astype(int))
    img_dir, mask_dir, out_dir = work / "images", work / "masks", work / "sparse"
    for d in (img_dir, mask_dir, out_dir):
        d.mkdir(parents=True, exist_ok=True)
    kernel = np.ones((2 * dilate_px + 1, 2 * dilate_px + 1), np.uint8)
    names = []
    for k in keys:
        name = f"{k:06d}.jpg"
        cv2.imwrite(str(img_dir / name), cv2.cvtColor(frames[k], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        person = cv2.dilate(masks[k], kernel) if dilate_px > 0 else masks[k]
        cv2.imwrite(str(mask_dir / f"{name}.png"), np.where(person > 0, 0, 255).astype(np.uint8))
        names.append(name)
    db = work / "database.db"
    if db.exists():
        db.unlink()

    f0 = float(focal_px) if focal_px else focal_init_factor * max(W, H)
    reader = pycolmap.ImageReaderOptions()
    reader.mask_path = str(mask_dir)
    model = "SIMPLE_PINHOLE" if focal_px else camera_model
    reader.camera_model = model
    reader.camera_params = f"{f0},{W / 2},{H / 2}" + (",0" if model == "SIMPLE_RADIAL" else "")
    extract = pycolmap.FeatureExtractionOptions()
    extract.sift.max_num_features = max_features
    extract.num_threads = 2
    extract.use_gpu = False
    pycolmap.extract_features(
        db, img_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
        reader_options=reader, extraction_options=extract, device=pycolmap.Device.cpu,
    )  # fmt: skip
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = 2
    matching.use_gpu = False
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = overlap
    pairing.loop_detection = False
    pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing, device=pycolmap.Device.cpu)

    recs = {}
    # handheld clips have small baselines: start with a low initial triangulation angle and relax
    # further (and allow more forward motion) once if the first attempt cannot initialise
    for attempt, (tri_angle, fwd) in enumerate(((4.0, 0.95), (1.5, 0.99))):
        opts = pycolmap.IncrementalPipelineOptions()
        opts.num_threads = 2
        opts.multiple_models = False
        opts.random_seed = 0
        opts.min_model_size = 3
        opts.mapper.init_min_tri_angle = tri_angle
        opts.mapper.init_max_forward_motion = fwd
        if focal_px:
            opts.ba_refine_focal_length = False
            opts.ba_refine_extra_params = False
        opts.ba_refine_principal_point = False
        run_dir = out_dir / f"try{attempt}"
        run_dir.mkdir(parents=True, exist_ok=True)
        recs = pycolmap.incremental_mapping(db, img_dir, run_dir, options=opts)
        if recs and max(r.num_reg_images() for r in recs.values()) >= min_registered * len(keys):
            break
    if not recs:
        raise InputError(
            "SfM could not initialise: the camera must translate (not only rotate or stand still) over a "
            "textured static background; film while walking, or give camera_backend=megasam outputs"
        )
    rec = max(recs.values(), key=lambda r: r.num_reg_images())
    reg = {img.name: img for img in rec.images.values() if img.has_pose}
    frac = len(reg) / len(keys)
    if frac < min_registered:
        raise InputError(
            f"SfM registered only {len(reg)}/{len(keys)} keyframes: the background is too plain, blurred or "
            "occluded; film a textured, static scene with a moving camera"
        )
    cam = next(iter(rec.cameras.values()))
    K = np.asarray(cam.calibration_matrix(), float)
    reg_idx, R_wc, c_w = [], [], []
    for k, name in zip(keys, names):
        if name not in reg:
            continue
        m = (
            reg[name].cam_from_world().matrix()
            if callable(reg[name].cam_from_world)
            else reg[name].cam_from_world.matrix()
        )
        R_cw, t_cw = m[:3, :3], m[:3, 3]
        reg_idx.append(k)
        R_wc.append(R_cw.T)
        c_w.append(-R_cw.T @ t_cw)
    reg_idx = np.array(reg_idx)
    T_wc = interpolate_poses(reg_idx, np.array(R_wc), np.array(c_w), T)
    pts = np.array([p.xyz for p in rec.points3D.values()], float).reshape(-1, 3)
    cols = np.array([p.color for p in rec.points3D.values()], np.uint8).reshape(-1, 3)
    err = np.array([p.error for p in rec.points3D.values()], float)
    track = np.array([p.track.length() for p in rec.points3D.values()], int)
    keep = (err < 1.5) & (track >= 3)  # seen consistently in 3+ keyframes: static scene, not the person
    shutil.rmtree(img_dir, ignore_errors=True)
    return CameraTrack(K, T_wc, pts[keep], cols[keep], reg_idx, (W, H))


def interpolate_poses(idx: np.ndarray, R_wc: np.ndarray, c_w: np.ndarray, T: int) -> np.ndarray:
    """(T,4,4) poses from poses at frames ``idx`` (slerp; held constant beyond the ends)."""
    ts = np.clip(np.arange(T), idx[0], idx[-1])
    if len(idx) == 1:
        rots = Rotation.from_matrix(np.repeat(R_wc, T, axis=0))
    else:
        rots = Slerp(idx, Rotation.from_matrix(R_wc))(ts)
    out = np.tile(np.eye(4), (T, 1, 1))
    out[:, :3, :3] = rots.as_matrix()
    out[:, :3, 3] = np.stack([np.interp(ts, idx, c_w[:, k]) for k in range(3)], axis=1)
    return out
