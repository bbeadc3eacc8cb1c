"""Camera trajectory for every regime a phone produces, from the background (the person masked out).

The regime is measured, not assumed (``classify_regime``): background features are tracked
with the person masked out and
- **static** (tripod, held still): the background does not move (``static_px``); the camera has
  one fixed pose;
- **rotation** (pan, tilt, a hand that turns but stays put): one homography per frame pair
  explains every background track to within ``parallax_px``; rotations come from those
  homographies (``rotation_track``), the centre stays fixed;
- **translating** (walking, orbiting, side tracking; also a camera that walks for part of the clip
  only: any half-second window with ``walk_parallax_px`` of parallax): pycolmap SfM on masked
  keyframes (``run_sfm``), poses interpolated to every frame (slerp rotations, linear centres), up
  to an unknown scale the joint fit sets with the person's body. SfM's rotations are checked against
  the two-view rotations of background corners tracked between keyframes (``odometry.py``); where SfM
  fails or disagrees by more than ``sfm_rotation_check_deg`` (a camera walking behind the person:
  forward motion), track odometry gives the path instead (``info["camera_model"]``). When neither
  works the rotations still come from the background and the centre is held fixed: right for a hand
  that drifts a few centimetres, wrong for a camera that walks (the person's path then comes out
  relative to the camera; ``info["path_recovered"]`` is False and the log says so).

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
from typing import Any

import cv2
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.config import CamerasConfig

log = logging.getLogger(__name__)

REGIMES = ("static", "rotation", "translating")


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
    focal_source: str = "sfm"  # one of contracts.cameras.FOCAL_SOURCES
    info: dict = field(default_factory=dict)
    #: (3,) up in the first frame's camera axes from the scene's vertical lines (``vanishing.py``), or None
    scene_up: np.ndarray | None = None


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


def classify_regime(
    motion: BackgroundMotion, static_px: float, parallax_px: float, walk_parallax_px: float | None = None
) -> str:
    """static / rotation / translating from the background's motion (see the module docstring).

    The median window decides for a camera that translates all along; a camera that walks for part
    of the clip only (following someone who stops, stands, sits) is translating too when any window's
    parallax reaches ``walk_parallax_px``: a hand that turns in place never shows that much.
    """
    if motion.static_px < static_px:
        return "static"
    walk = [w["parallax_px"] for w in motion.windows if "parallax_px" in w]
    if walk_parallax_px is not None and walk and max(walk) >= walk_parallax_px:
        return "translating"
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
    return A / np.cbrt(np.linalg.det(A))  # (the sign too: a homography is defined up to any scale)


def _chain(H_steps: list[np.ndarray | None]) -> list[np.ndarray]:
    """Homographies frame-0 -> step k (a missing step repeats the previous one: no motion known)."""
    out = [np.eye(3)]
    for H in H_steps:
        nxt = (H if H is not None else np.eye(3)) @ out[-1]
        out.append(nxt / np.cbrt(np.linalg.det(nxt)))  # not by [2,2]: it crosses 0 past a ~55 deg pan
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
    cfg: CamerasConfig,
    focal_px: float | None,
    progress: bool = False,
) -> CameraTrack:
    """Find the camera regime and the cameras for it (see the module docstring).

    ``cfg.regime`` forces one (None = measured); ``focal_px`` is the user's focal, if known.
    """
    T, H, W = frames.shape[:3]
    motion = background_motion(frames, masks, fps, cfg.mask_dilate_px)
    found = classify_regime(motion, cfg.static_px, cfg.parallax_px, cfg.walk_parallax_px)
    use = cfg.regime or found
    info: dict = {
        "regime_measured": found,
        "background_static_px": round(motion.static_px, 3),
        "background_parallax_px": round(motion.parallax_px, 3),
        "background_features": motion.features,
        "background_windows": motion.windows,
    }
    f_prior = cfg.focal_init_factor * max(W, H)

    def intrinsics(f: float) -> np.ndarray:
        return np.array([[f, 0.0, W / 2], [0.0, f, H / 2], [0.0, 0.0, 1.0]])

    empty = (np.zeros((0, 3)), np.zeros((0, 3), np.uint8), np.arange(T), (W, H))
    if use == "static":
        f, src = (focal_px, "given") if focal_px else (f_prior, "prior")
        up = None
        if cfg.scene_lines:
            from videomimic_offline.real2sim.vanishing import scene_lines

            lines = scene_lines(frames, masks, f_prior)
            info.update(lines.info)
            up = lines.up_cam
            if lines.focal_px is not None and not focal_px:
                f, src = lines.focal_px, "lines"
        return CameraTrack(intrinsics(f), np.tile(np.eye(4), (T, 1, 1)), *empty, "static", src, info, up)
    if use == "translating":
        ct = _translating(frames, masks, fps, work, cfg, focal_px, f_prior, info, progress)
        if ct is not None:
            return ct
        # neither SfM nor odometry could follow the background (too little parallax or texture):
        # rotations from the background, the centre held fixed (see the module docstring)
        log.warning("no camera path (%s); using background rotations with a fixed camera centre", info["sfm_error"])
        info["path_recovered"] = False
    if focal_px:
        f, src = focal_px, "given"
    else:
        f_est, finfo = self_calibrate_focal(_chain(motion.H_steps), (W, H), f_prior)
        info.update(finfo)
        f, src = (f_est, "rotation") if f_est is not None else (f_prior, "prior")
    info["camera_model"] = "rotation" if use == "rotation" else "rotation (SfM failed: fixed centre)"
    return CameraTrack(intrinsics(f), rotation_track(motion, intrinsics(f), T), *empty, use, src, info)


def _translating(
    frames: np.ndarray,
    masks: np.ndarray,
    fps: float,
    work: Path,
    cfg: CamerasConfig,
    focal_px: float | None,
    f_prior: float,
    info: dict,
    progress: bool,
) -> CameraTrack | None:
    """A translating camera: SfM, checked against two-view rotations of tracked background corners;
    track odometry (``odometry.py``) where SfM fails or disagrees; None where neither works (``info``
    then says why)."""
    from videomimic_offline.real2sim import odometry

    T, H, W = frames.shape[:3]
    keys = np.unique(np.linspace(0, T - 1, min(cfg.sfm_keyframes, T)).round().astype(int))
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    bg = _background(masks, cfg.mask_dilate_px)
    obs = odometry.keyframe_tracks(gray, bg, keys, max(1, int(round(fps / 15))))
    gap = max(1, int(round(0.5 * fps / max(1.0, (T - 1) / max(len(keys) - 1, 1)))))
    try:
        ct = run_sfm(frames, masks, work, cfg, focal_px, progress)
        pos = {int(k): n for n, k in enumerate(keys)}
        R_keys = {pos[int(k)]: ct.T_world_cam[int(k), :3, :3] for k in ct.keyframes if int(k) in pos}
        err = odometry.sfm_rotation_error_deg(R_keys, odometry.two_view_rotations(obs, ct.K, gap))
        info["sfm_rotation_check_deg"] = None if err is None else round(err, 3)
        if err is None or err <= cfg.sfm_rotation_check_deg:
            ct.info = {**info, "camera_model": "sfm"}
            return ct
        log.warning(
            "SfM's camera rotations differ from the tracked background's by %.1f deg (median over keyframe "
            "pairs %d apart): using track odometry",
            err,
            gap,
        )
        info["sfm_error"] = f"rotations {err:.1f} deg from the two-view ones"
    except InputError as exc:
        log.warning("SfM failed (%s); trying track odometry", exc)
        info["sfm_error"] = str(exc)
    f, src = (focal_px, "given") if focal_px else (f_prior, "prior")
    K = np.array([[f, 0.0, W / 2], [0.0, f, H / 2], [0.0, 0.0, 1.0]])
    try:
        idx, R_wc, c_w, X, where, oinfo = odometry.track_odometry(obs, K)
    except InputError as exc:
        info["odometry_error"] = str(exc)
        return None
    T_wc = interpolate_poses(keys[idx], R_wc, c_w, T)
    kf, u, v = where[:, 0].astype(int), np.clip(where[:, 1], 0, W - 1), np.clip(where[:, 2], 0, H - 1)
    cols = frames[keys[kf], v.astype(int), u.astype(int)].astype(np.uint8).reshape(-1, 3)
    info.update(oinfo)
    info["camera_model"] = "track odometry"
    return CameraTrack(K, T_wc, X, cols, keys[idx], (W, H), "translating", src, info)


def run_sfm(
    frames: np.ndarray,
    masks: np.ndarray,
    work: Path,
    cfg: CamerasConfig,
    focal_px: float | None,
    progress: bool = False,
) -> CameraTrack:
    """pycolmap incremental SfM on masked keyframes, interpolated to all T frames (``focal_px``: known
    focal); ``progress`` shows a bar over its steps (about half of a reconstruction's time)."""
    with _SfmProgress(progress) as bar:
        return _run_sfm(frames, masks, work, cfg, focal_px, bar)


class _SfmProgress:
    """One progress bar over SfM's steps: keyframes written, features, matches, keyframes registered.

    Feature extraction and matching are single pycolmap calls (the bar moves when each ends); the
    incremental mapping calls back after each keyframe it registers.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __enter__(self) -> _SfmProgress:
        return self

    def start(self, keyframes: int) -> None:
        from tqdm import tqdm

        # keyframes written + features + matches + registered, one unit per keyframe each
        self.bar = tqdm(total=4 * keyframes, desc="SfM", unit="step", disable=not self.enabled, leave=False)

    def step(self, what: str, units: int = 1) -> None:
        if self.bar is not None:
            self.bar.set_description(f"SfM: {what}", refresh=False)
            self.bar.update(units)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_sfm(
    frames: np.ndarray, masks: np.ndarray, work: Path, cfg: CamerasConfig, focal_px: float | None, bar: _SfmProgress
) -> CameraTrack:
    """:func:`run_sfm`'s work, stepping ``bar``."""
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
    bar.start(len(keys))
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
        bar.step("keyframes")
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
    # one thread everywhere: SfM is then deterministic, so a re-run (or a resume after Ctrl-C) gives
    # the same cameras; with 2 threads the focal moved 4 px and the joints 2.6 cm between two runs
    # of the same clip (threaded SIFT extraction), and on a shared 2-core CPU it gained little
    extract.num_threads = 1
    extract.use_gpu = False
    pycolmap.extract_features(
        db, img_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
        reader_options=reader, extraction_options=extract, device=pycolmap.Device.cpu,
    )  # fmt: skip
    bar.step("features", len(keys))
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = 1
    matching.use_gpu = False
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = overlap
    pairing.loop_detection = False
    pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing, device=pycolmap.Device.cpu)
    bar.step("matches", len(keys))

    def mapping(tag: str, tri_angle: float, fwd: float, refine_focal: bool, seed: int = 0) -> dict:
        opts = pycolmap.IncrementalPipelineOptions()
        opts.num_threads = 1
        opts.multiple_models = False
        opts.random_seed = seed
        opts.min_model_size = 3
        opts.mapper.init_min_tri_angle = tri_angle
        opts.mapper.init_max_forward_motion = fwd
        if not refine_focal:
            opts.ba_refine_focal_length = False
            opts.ba_refine_extra_params = False
        opts.ba_refine_principal_point = False
        run_dir = out_dir / tag
        run_dir.mkdir(parents=True, exist_ok=True)
        done = bar.bar.n if bar.bar is not None else 0
        recs = pycolmap.incremental_mapping(
            db, img_dir, run_dir, options=opts, next_image_callback=lambda: bar.step("registering keyframes")
        )
        if bar.bar is not None:  # another attempt starts the registration count again
            bar.bar.n = done
        return recs

    def registered(recs: dict) -> int:
        return max((r.num_reg_images() for r in recs.values()), default=0)

    recs = {}
    # handheld clips have small baselines: start with a low initial triangulation angle and relax
    # further (and allow more forward motion) once if the first attempt cannot initialise
    # (two threads make the mapping order vary: a run that registered 3/30 keyframes of a real
    # clip registered all 30 on the next try, so a third attempt starts from another seed)
    for attempt, (tri_angle, fwd, seed) in enumerate(((4.0, 0.95, 0), (1.5, 0.99, 0), (1.5, 0.99, 1))):
        recs = mapping(f"try{attempt}", tri_angle, fwd, not focal_px, seed)
        if recs and registered(recs) >= min_registered * len(keys):
            break
    focal_source = "given" if focal_px else "sfm"
    if recs and not focal_px:
        # forward motion (walking behind someone) leaves the focal length weakly determined and
        # bundle adjustment can wander far from any phone lens; then keep the prior fixed instead
        f_est = float(next(iter(max(recs.values(), key=lambda r: r.num_reg_images()).cameras.values())).focal_length)
        if not 0.75 < f_est / f0 < 1.33:
            log.warning("SfM's focal %.0f px is far from the prior %.0f px; mapping again with the prior", f_est, f0)
            fixed = mapping("fixed_focal", 1.5, 0.99, False)
            if fixed and registered(fixed) >= registered(recs) * 0.9:
                recs, focal_source = fixed, "prior"
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
    return CameraTrack(K, T_wc, pts[keep], cols[keep], reg_idx, (W, H), "translating", focal_source)


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
