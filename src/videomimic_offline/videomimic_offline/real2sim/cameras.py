"""Camera trajectory for every regime a phone produces, from the background (the person masked out).

The regime is measured, not assumed (``classify_regime``): background features are tracked
with the person masked out and
- **static** (tripod, held still): the background does not move (``static_px``); the camera has
  one fixed pose;
- **rotation** (pan, tilt, a hand that turns but stays put): one homography per frame pair
  explains every background track to within ``parallax_px``; rotations come from those
  homographies (``rotation_track``), the centre stays fixed;
- **translating** (walking, orbiting, side tracking): pycolmap SfM on masked keyframes
  (``run_sfm``), poses interpolated to every frame (slerp rotations, linear centres), up to an
  unknown scale the joint fit sets with the person's body. When SfM cannot register the clip the
  rotations still come from the background and the fit moves the camera with the stance feet.

The focal length is the user's if given, else SfM's (translating), else a rotating camera's
self-calibration from its homographies when it turned far enough, else the phone prior
(``focal_prior_factor`` x the longer image side, a 24-28 mm equivalent main camera);
``focal_source`` says which.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from videomimic_offline.errors import InputError

log = logging.getLogger(__name__)

REGIMES = ("static", "rotation", "translating")
FOCAL_SOURCES = ("given", "sfm", "rotation", "prior")


@dataclass
class CameraTrack:
    """Per-frame cameras in the camera stage's world (arbitrary scale and orientation)."""

    K: np.ndarray  # (3,3)
    T_world_cam: np.ndarray  # (T,4,4) camera-to-world, OpenCV axes
    points: np.ndarray  # (N,3) scene points ((0,3) for static and rotation-only cameras)
    colors: np.ndarray  # (N,3) uint8
    keyframes: np.ndarray  # (M,) frame indices that SfM registered (all frames when no SfM)
    image_size: tuple[int, int]  # (w, h)
    regime: str = "translating"  # one of REGIMES
    focal_source: str = "sfm"  # one of FOCAL_SOURCES
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------ background motion


def _background(masks: np.ndarray, dilate_px: int) -> np.ndarray:
    """(T,H,W) uint8 1 where the background is (the person's mask grown by ``dilate_px``)."""
    if dilate_px <= 0:
        return (masks == 0).astype(np.uint8)
    kernel = np.ones((2 * dilate_px + 1, 2 * dilate_px + 1), np.uint8)
    return np.stack([(cv2.dilate(m, kernel) == 0).astype(np.uint8) for m in masks])


def _klt(g0: np.ndarray, g1: np.ndarray, pts: np.ndarray, bg1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Track ``pts`` (N,2) from g0 to g1: positions (N,2) and which are forward-backward consistent
    and land on g1's background."""
    if len(pts) == 0:
        return np.zeros((0, 2), np.float32), np.zeros(0, bool)
    p0 = pts.reshape(-1, 1, 2).astype(np.float32)
    opts = {"winSize": (21, 21), "maxLevel": 3}
    p1, st, _ = cv2.calcOpticalFlowPyrLK(g0, g1, p0, None, **opts)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **opts)
    p0, p1, back = p0.reshape(-1, 2), p1.reshape(-1, 2), back.reshape(-1, 2)
    h, w = g1.shape
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(back - p0, axis=1) < 0.5)
    ok &= (p1[:, 0] >= 0) & (p1[:, 0] < w - 1) & (p1[:, 1] >= 0) & (p1[:, 1] < h - 1)
    ok[ok] &= bg1[p1[ok, 1].astype(int), p1[ok, 0].astype(int)] > 0
    return p1, ok


def _corners(g: np.ndarray, bg: np.ndarray, n: int) -> np.ndarray:
    pts = cv2.goodFeaturesToTrack(g, n, 0.01, 7, mask=bg)
    return np.zeros((0, 2), np.float32) if pts is None else pts.reshape(-1, 2)


@dataclass
class BackgroundMotion:
    """What the masked background did over the clip."""

    steps: np.ndarray  # (S+1,) frame indices of the chained steps
    H_steps: list[np.ndarray | None]  # homography step k -> k+1 (None where too few tracks)
    static_px: float  # largest median displacement of background features vs frame 0
    parallax_px: float  # median over windows of the 95th percentile homography residual
    windows: list[dict]  # per window: frames, tracks, displacement, parallax
    features: int  # background features found on frame 0


def background_motion(
    frames: np.ndarray, masks: np.ndarray, fps: float, dilate_px: int = 15, max_corners: int = 600
) -> BackgroundMotion:
    """Track the masked background: frame-0 displacement (static test), per-step homographies
    (rotation) and homography residuals over half-second windows (parallax = translation)."""
    T = len(frames)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    bg = _background(masks, dilate_px)
    pts0 = _corners(gray[0], bg[0], max_corners)
    if len(pts0) < 10:
        raise InputError(
            "the background has almost no texture (or the person fills the frame): the camera cannot be "
            "tracked; film with some textured background in view"
        )
    static = 0.0
    for t in np.unique(np.linspace(0, T - 1, min(T, 16)).round().astype(int))[1:]:
        p1, ok = _klt(gray[0], gray[t], pts0, bg[t])
        if ok.sum() < max(8, 0.1 * len(pts0)):
            static = float("inf")  # the view changed too much to track: the camera moved
            break
        static = max(static, float(np.median(np.linalg.norm(p1[ok] - pts0[ok], axis=1))))
    stride = max(1, int(round(fps / 15)))
    steps = np.unique(np.r_[np.arange(0, T, stride), T - 1])
    H_steps: list[np.ndarray | None] = []
    for a, b in zip(steps[:-1], steps[1:], strict=True):
        p = _corners(gray[a], bg[a], max_corners)
        q, ok = _klt(gray[a], gray[b], p, bg[b])
        H = None
        if ok.sum() >= 12:
            H, _ = cv2.findHomography(p[ok], q[ok], cv2.RANSAC, 1.0)
        H_steps.append(H)
    # parallax over windows of ~0.5 s: chained tracks, homography residuals of the static points
    span = max(2, int(round(0.5 * fps)))
    windows = []
    for a in np.unique(np.linspace(0, max(T - 1 - span, 0), min(8, max(T - span, 1))).round().astype(int)):
        b = min(a + span, T - 1)
        p = _corners(gray[a], bg[a], max_corners)
        cur, alive = p.copy(), np.ones(len(p), bool)
        for s0 in range(a, b, stride):
            s1 = min(s0 + stride, b)
            nxt, ok = _klt(gray[s0], gray[s1], cur, bg[s1])
            cur, alive = nxt, alive & ok
        A, B = p[alive], cur[alive]
        row = {"frames": [int(a), int(b)], "tracks": int(len(A))}
        if len(A) >= 20:
            H, _ = cv2.findHomography(A, B, cv2.RANSAC, 1.0)
            _, finl = cv2.findFundamentalMat(A, B, cv2.FM_RANSAC, 1.0, 0.999)
            static_pts = finl.ravel() > 0 if finl is not None and len(finl) == len(A) else np.ones(len(A), bool)
            if H is not None:
                r = np.linalg.norm(cv2.perspectiveTransform(A.reshape(-1, 1, 2), H).reshape(-1, 2) - B, axis=1)
                row["parallax_px"] = float(np.percentile(r[static_pts], 95))
                row["displacement_px"] = float(np.median(np.linalg.norm(B - A, axis=1)))
        windows.append(row)
    par = [w["parallax_px"] for w in windows if "parallax_px" in w]
    parallax = float(np.median(par)) if par else float("inf")
    return BackgroundMotion(steps, H_steps, static, parallax, windows, len(pts0))


def classify_regime(motion: BackgroundMotion, static_px: float, parallax_px: float) -> str:
    """static / rotation / translating from the background's motion (see the module docstring)."""
    if motion.static_px < static_px:
        return "static"
    if motion.parallax_px < parallax_px:
        return "rotation"
    return "translating"


# ------------------------------------------------------------------ rotation-only cameras


def _nearest_rotation(A: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(A)
    R = U @ Vt
    if np.linalg.det(R) < 0:
        R = U @ np.diag([1.0, 1.0, -1.0]) @ Vt
    return R


def _conjugate(H: np.ndarray, K: np.ndarray) -> np.ndarray:
    """K^-1 H K normalised to unit determinant (a rotation if H is a pure rotation's homography)."""
    A = np.linalg.inv(K) @ H @ K
    d = np.linalg.det(A)
    return A / np.cbrt(d) if d > 0 else A


def _chain(H_steps: list[np.ndarray | None]) -> list[np.ndarray]:
    """Homographies frame-0 -> step k (a missing step repeats the previous one: no motion known)."""
    out = [np.eye(3)]
    for H in H_steps:
        out.append((H if H is not None else np.eye(3)) @ out[-1])
        out[-1] = out[-1] / out[-1][2, 2]
    return out


def self_calibrate_focal(H_0k: list[np.ndarray], size: tuple[int, int], f0: float) -> tuple[float | None, dict]:
    """Focal (px) that makes every frame-0 -> k homography of a rotating camera a rotation.

    Needs the camera to have turned well (>= ~8 deg); returns None (use the prior) otherwise, or
    when the best focal is at the search range's edge (no minimum: the data does not fix it).
    """
    w, h = size
    ang = []
    for H in H_0k:
        K = np.array([[f0, 0, w / 2], [0, f0, h / 2], [0, 0, 1.0]])
        ang.append(np.degrees(Rotation.from_matrix(_nearest_rotation(_conjugate(H, K))).magnitude()))
    turned = float(max(ang)) if ang else 0.0
    info: dict = {"turned_deg": round(turned, 2)}
    if turned < 8.0:
        info["focal_self_calibration"] = "too little rotation"
        return None, info
    use = [H for H, a in zip(H_0k, ang, strict=True) if a > 0.3 * turned]
    fs = np.exp(np.linspace(np.log(0.3 * max(w, h)), np.log(3.0 * max(w, h)), 121))

    def cost(f: float) -> float:
        K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
        return float(sum(np.sum((A - _nearest_rotation(A)) ** 2) for A in (_conjugate(H, K) for H in use)))

    c = np.array([cost(f) for f in fs])
    k = int(np.argmin(c))
    info["focal_self_calibration_cost"] = float(c[k])
    if k in (0, len(fs) - 1):
        info["focal_self_calibration"] = "no minimum in range"
        return None, info
    return float(fs[k]), info


def rotation_track(motion: BackgroundMotion, K: np.ndarray, T: int) -> np.ndarray:
    """(T,4,4) camera-to-world of a camera that only rotates (world = the first frame's camera)."""
    H_0k = _chain(motion.H_steps)
    R_wc = np.stack([_nearest_rotation(_conjugate(H, K)).T for H in H_0k])  # camera k -> camera 0
    return interpolate_poses(motion.steps, R_wc, np.zeros((len(R_wc), 3)), T)


def estimate_cameras(
    frames: np.ndarray,
    masks: np.ndarray,
    fps: float,
    work: Path,
    *,
    focal_px: float | None = None,
    focal_prior_factor: float = 0.8,
    static_px: float = 1.5,
    parallax_px: float = 2.5,
    regime: str | None = None,
    dilate_px: int = 15,
    sfm: dict,
) -> CameraTrack:
    """Find the camera regime and the cameras for it (see the module docstring).

    ``regime`` forces one (None = measured). ``sfm`` holds ``run_sfm``'s other keyword arguments
    (the pipeline config's ``sfm_*`` fields).
    """
    T, H, W = frames.shape[:3]
    motion = background_motion(frames, masks, fps, dilate_px)
    found = classify_regime(motion, static_px, parallax_px)
    use = regime or found
    info: dict = {
        "regime_measured": found,
        "background_static_px": round(motion.static_px, 3),
        "background_parallax_px": round(motion.parallax_px, 3),
        "background_features": motion.features,
        "background_windows": motion.windows,
    }
    f_prior = focal_prior_factor * max(W, H)

    def intrinsics(f: float) -> np.ndarray:
        return np.array([[f, 0.0, W / 2], [0.0, f, H / 2], [0.0, 0.0, 1.0]])

    empty = (np.zeros((0, 3)), np.zeros((0, 3), np.uint8), np.arange(T), (W, H))
    if use == "static":
        f, src = (focal_px, "given") if focal_px else (f_prior, "prior")
        return CameraTrack(intrinsics(f), np.tile(np.eye(4), (T, 1, 1)), *empty, "static", src, info)
    if use == "translating":
        try:
            ct = run_sfm(frames, masks, work, focal_px=focal_px, focal_init_factor=focal_prior_factor, **sfm)
            ct.regime, ct.focal_source = "translating", ("given" if focal_px else "sfm")
            ct.info = {**info, "camera_model": "sfm"}
            return ct
        except InputError as exc:
            # the background could not carry SfM (too little parallax or texture): rotations from
            # the background, the translation from the person's stance feet in the joint fit
            log.warning("SfM failed (%s); using background rotations and the person's feet for the path", exc)
            info["sfm_error"] = str(exc)
    if focal_px:
        f, src = focal_px, "given"
    else:
        f_est, finfo = self_calibrate_focal(_chain(motion.H_steps), (W, H), f_prior)
        info.update(finfo)
        f, src = (f_est, "rotation") if f_est is not None else (f_prior, "prior")
    info["camera_model"] = "rotation" if use == "rotation" else "rotation+person"
    return CameraTrack(intrinsics(f), rotation_track(motion, intrinsics(f), T), *empty, use, src, info)


def run_sfm(
    frames: np.ndarray,
    masks: np.ndarray,
    work: Path,
    *,
    num_keyframes: int,
    max_features: int,
    overlap: int,
    focal_px: float | None,
    focal_init_factor: float,
    min_registered: float,
    dilate_px: int,
    camera_model: str,
) -> CameraTrack:
    """pycolmap incremental SfM on masked keyframes, interpolated to all T frames."""
    import pycolmap

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
