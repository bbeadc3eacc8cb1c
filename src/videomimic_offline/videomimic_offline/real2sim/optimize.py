"""Joint human-scene optimisation: metric, gravity-aligned world motion from 2D keypoints + cameras.

The stage is built from three parts (``real2sim/fit/``):
- problem building: the person in the camera frame with the body size as the ruler
  (``fit.body``), the camera path's metric scale (``fit.scale``), gravity and the floor
  (``real2sim.gravity``), and the terms' data (``fit.problem``);
- the loss terms (``fit.terms``): small pure functions, one per physical statement;
- the solve (``fit.solve``): L-BFGS over the world joints.

Steps:
1. per-frame camera-frame body: the pose prior rescaled to the template bone lengths, placed by a
   linear least-squares solve of its 2D reprojection (depth from known body size);
2. a first scale of the camera path: the feet's metric depth vs. the scene depth at the same pixels;
3. gravity: shared normal of the horizontal scene planes (fallback: the person's spine), floor z=0;
4. a first fit without the scene: reprojection, bone lengths, pose prior (its lean along the view
   partly removed, see ``fit.body.unlean_towards_camera``), smoothness, occlusion; its
   body-to-camera offsets are metric;
5. the final scale from that pass: stance feet's ground points lie on the scene surface along
   their camera rays (``fit.scale.scale_from_stance_rays``);
6. a second fit adding foot contacts (no sliding) and feet on the surface (robust), with contacts
   detected on the first pass's result rather than on the jittery per-frame initialisation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, index
from videomimic_offline.errors import InputError, NumericalError
from videomimic_offline.real2sim import gravity as grav
from videomimic_offline.real2sim.body_template import bone_lengths
from videomimic_offline.real2sim.fit.body import (
    fill_missing,
    occlusion_pairs,
    place_in_camera,
    prior_from_ray,
    rescale_local,
    unlean_towards_camera,
)
from videomimic_offline.real2sim.fit.contacts import (
    detect_contacts,
    group_levels,
    lowpass,
    ray_stance,
    stance_segments,
    surface_height,
)
from videomimic_offline.real2sim.fit.problem import (
    fit_data,
    weights_from_config,
    with_cameras,
    with_contacts,
    with_travel,
)
from videomimic_offline.real2sim.fit.scale import (
    estimate_scale,
    scale_from_ground_near_feet,
    scale_from_ground_plane,
    scale_from_stance_feet,
    scale_from_stance_rays,
)
from videomimic_offline.real2sim.fit.solve import solve
from videomimic_offline.real2sim.keypoints import landmark_bone_scale, sole_drop, view_size_factor
from videomimic_offline.real2sim.solids import seat_frames, walked_floor

PELVIS, NECK = index("pelvis"), index("neck")
FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))


@dataclass
class OptInputs:
    kp2d: np.ndarray  # (T,J,2) px
    conf: np.ndarray  # (T,J)
    local3d: np.ndarray  # (T,J,3) camera axes, metric-ish, NaN where missing
    K: np.ndarray  # (3,3)
    T_world_cam: np.ndarray  # (T,4,4) SfM frame
    points: np.ndarray  # (N,3) SfM frame
    fps: float
    height_m: float  # the metric ruler (the one place the fit reads the height from)
    keypoint_backend: str  # which detector produced kp2d (its landmarks' bone and sole offsets)
    regime: str = "translating"  # cameras.REGIMES: static and rotation cameras have no path to scale
    scene_up: np.ndarray | None = None  # (3,) up in the first camera's axes from the scene's lines


@dataclass
class OptResult:
    joints_w: np.ndarray  # (T,J,3) final world (z up, floor z=0)
    contacts: np.ndarray  # (T,2) bool
    T_world_cam: np.ndarray  # (T,4,4) metric, gravity aligned
    points: np.ndarray  # (N,3) metric, gravity aligned
    scale: float  # metres per SfM unit
    T_align: np.ndarray  # (4,4) maps scaled SfM frame -> final world
    info: dict
    seat_contact: np.ndarray | None = None  # (T,) bool: the pelvis rests on a seat


def optimize(inp: OptInputs, cfg, progress: bool = False) -> OptResult:  # type: ignore[no-untyped-def]
    """Run the whole joint optimisation (see module docstring); ``cfg`` is the ``FitConfig``."""
    import torch

    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small problem: thread hand-offs cost more than they gain on a shared CPU
    try:
        return _optimize(inp, cfg, t0)
    finally:
        torch.set_num_threads(threads)


@dataclass
class _CameraBody:
    """The person in each camera frame (metric), before any world geometry."""

    conf: np.ndarray  # (T,J) confidences cut at min_keypoint_conf
    valid: np.ndarray  # (T,) frames with a pose estimate
    bones: np.ndarray  # (J,) bone lengths in the detector's landmark space
    local: np.ndarray  # (T,J,3) pose prior rescaled to the bones, camera axes
    tau: np.ndarray  # (T,3) its placement in the camera
    info: dict

    @property
    def joints(self) -> np.ndarray:
        return self.local + self.tau[:, None]


def _camera_body(inp: OptInputs, cfg) -> _CameraBody:  # type: ignore[no-untyped-def]
    """Step 1: per-frame metric body in the camera frame (depth from the body's known size)."""
    # fit in the detector's landmark space (see keypoints.MEDIAPIPE_BONE_SCALE)
    bones = bone_lengths(inp.height_m, cfg.body_backend, cfg.smpl_model_dir) * landmark_bone_scale(inp.keypoint_backend)
    conf = np.where(inp.conf >= cfg.min_keypoint_conf, inp.conf, 0.0)
    valid = np.isfinite(inp.local3d).all(axis=(1, 2)) & (conf.sum(axis=1) > 0)
    if valid.sum() < 2:
        raise InputError("the person was not found in enough frames to reconstruct: use a clip where they are visible")
    kp = np.nan_to_num(inp.kp2d)
    local3d = np.nan_to_num(inp.local3d)
    # only where the body is the ruler: a translating camera's scale comes from the scene and the
    # stance feet (``scale_from_stance_rays``, calibrated without it); there the correction moved
    # the dev orbit clips' Chamfer from 0.046 to 0.052 m
    ruler = inp.regime != "translating"
    view = (
        view_size_factor(inp.keypoint_backend, local3d[valid], kp[valid], inp.K) if cfg.opt_view_size and ruler else 1.0
    )
    bones = bones * view
    if cfg.opt_prior_ray > 0:  # the prior was estimated along the ray to the person, not the optical axis
        local3d = prior_from_ray(local3d, inp.kp2d, inp.K, cfg.opt_prior_ray)

    def place(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        local = fill_missing(rescale_local(local3d, valid, b), valid)
        tau = place_in_camera(local, kp, conf, inp.K)
        ok = np.isfinite(tau).all(axis=1) & (tau[:, 2] > 0.2)
        return local, fill_missing(np.nan_to_num(tau), ok), ok

    local, tau, ok_tau = place(bones)
    if ok_tau.sum() < 2:
        raise InputError("the person's keypoints could not be placed in 3D: is a whole person visible?")
    pinfo: dict = {}
    if cfg.opt_proportions:
        from videomimic_offline.real2sim.proportions import apply_factors, estimate_proportions

        leg, arm, pinfo = estimate_proportions(local, tau, kp, conf, inp.K, bones)
        bones = apply_factors(bones, leg, arm)
        local, tau, _ = place(bones)
    pinfo["view_size_factor"] = round(view, 4)
    return _CameraBody(conf, valid, bones, local, tau, pinfo)


def _path_scale(body: _CameraBody, inp: OptInputs, cfg) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    """Step 2: metres per unit of a translating camera's path, from the first ruler that works.

    The scene's depth at the stance foot's pixel (``estimate_scale``), else the ground seen around
    the feet in the image (``scale_from_ground_near_feet``), else the camera's height above the
    ground plane the person stands on (``scale_from_ground_plane``), else stance feet staying still
    while the camera moves (``scale_from_stance_feet``).
    """
    Twc = inp.T_world_cam
    R = Twc[:, :3, :3]
    info: dict = {}
    try:
        s, sinfo = estimate_scale(body.joints, np.nan_to_num(inp.kp2d), body.conf, inp.K, Twc, inp.points, inp.height_m)
        return s, {"scale_source": "scene depth at the feet", **sinfo}
    except InputError as exc:
        info["scene_depth_scale"] = str(exc)
    cam = body.joints
    up_w = np.einsum("tij,tj->i", R[body.valid], cam[body.valid, NECK] - cam[body.valid, PELVIS])
    feet_w = np.einsum("tij,tkj->tki", R, cam[:, list(FEET)]) @ (up_w / np.linalg.norm(up_w))
    lower = np.argmin(feet_w, axis=1)
    drop = sole_drop(inp.keypoint_backend) * inp.height_m
    down_cam = np.einsum("tji,j->ti", R, -up_w / np.linalg.norm(up_w))
    ground = 0.5 * (cam[np.arange(len(cam)), np.array(FEET)[lower]] + cam[np.arange(len(cam)), np.array(TOES)[lower]])
    ground = ground + drop * down_cam
    ground[~body.valid] = np.nan
    s, ninfo = scale_from_ground_near_feet(ground, inp.K, Twc, inp.points, up_w)
    info.update(ninfo)
    if s is not None:
        return s, {"scale_source": "scene ground around the feet", **info}
    s, ginfo = scale_from_ground_plane(ground, R, Twc[:, :3, 3], inp.points, up_w)
    info.update(ginfo)
    if s is not None:
        return s, {"scale_source": "camera height above the ground plane", **info}
    s, finfo = scale_from_stance_feet(cam[:, list(FEET)], R, Twc[:, :3, 3], inp.fps)
    info.update(finfo)
    if s is not None:
        return s, {"scale_source": "stance feet still in the world", **info}
    why = "; ".join(str(info[k]) for k in ("ground_near_feet_scale", "ground_scale", "feet_scale") if k in info)
    raise InputError(
        "the camera moved, but neither the scene near the person's feet nor their planted feet fixed how far "
        f"({why}): film the ground the person walks on, or keep the camera still"
    )


def _rotate_world(R: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """Points (...,3) rotated by R about the origin."""
    return [a @ R.T for a in arrays]


def _optimize(inp: OptInputs, cfg, t0: float) -> OptResult:  # type: ignore[no-untyped-def]
    T = len(inp.conf)
    w = weights_from_config(cfg)
    ankle_h = cfg.ankle_height(inp.height_m)
    body = _camera_body(inp, cfg)
    conf, valid, local, tau = body.conf, body.valid, body.local, body.tau
    cam_joints = body.joints
    path = float(np.sum(np.linalg.norm(np.diff(inp.T_world_cam[:, :3, 3], axis=0), axis=1)))
    translating = inp.regime == "translating" and path > 0

    # --- step 2: the camera path's metric scale (a camera that does not translate has none) ---
    if translating:
        scale, sinfo = _path_scale(body, inp, cfg)
    else:
        scale, sinfo = 1.0, {"scale_source": f"none ({inp.regime} camera: the body alone is the ruler)"}
    Twc = inp.T_world_cam.copy()
    Twc[:, :3, 3] *= scale
    pts = inp.points * scale
    R = Twc[:, :3, :3]
    joints0 = np.einsum("tij,tkj->tki", R, cam_joints) + Twc[:, None, :3, 3]

    # --- step 3: gravity + floor ---
    person_up = np.nanmean(joints0[valid, NECK] - joints0[valid, PELVIS], axis=0)
    person_up /= np.linalg.norm(person_up)
    cam_up = -np.mean(R[:, :, 1], axis=0)  # handheld cameras are held roughly upright
    up_guess = person_up + 0.5 * cam_up / np.linalg.norm(cam_up)
    up_guess /= np.linalg.norm(up_guess)
    # keep only points near where the person and camera were (drops far background and sky)
    centre = np.median(joints0[:, PELVIS], axis=0)
    reach = np.linalg.norm(joints0[:, PELVIS] - centre, axis=1).max() + 8.0
    near = np.linalg.norm(pts - centre, axis=1) < reach
    # the lower foot over the first third of the clip marks the floor (z = 0)
    first = slice(0, max(3, T // 3))
    fj = joints0[first][:, list(FEET)]
    low = np.argmin(fj @ up_guess, axis=1)
    early_feet = fj[np.arange(len(fj)), low]
    up, floor_d, ginfo = grav.estimate_gravity(pts[near], up_guess, inp.height_m, early_feet, ankle_h)
    scene_planes = ginfo["source"] == "planes"
    axes = grav.body_axis_planes(inp.kp2d, conf, inp.K, R)  # in the stage's frame
    lines_up = None  # the scene's vertical lines (a still camera), where they agree with the person
    if inp.scene_up is not None and not scene_planes:
        u = R[0] @ inp.scene_up
        off = float(np.degrees(np.arccos(np.clip(u @ person_up, -1.0, 1.0))))
        ginfo["scene_lines_vs_person_deg"] = round(off, 2)
        if off <= cfg.gravity_lines_max_deg:
            lines_up = u / np.linalg.norm(u)
    if lines_up is not None:
        up = lines_up
        ginfo["source"] = "scene lines"
    elif not scene_planes:  # no scene planes: the person, the camera's roll and (after pass 1) the feet
        up, finfo = grav.fuse_up(
            up_guess, person_up, np.radians(cfg.gravity_person_sigma_deg), R[:, :, 0],
            np.radians(cfg.gravity_roll_sigma_deg), axis_planes=axes, axis_sigma_rad=np.radians(cfg.gravity_axis_sigma_deg),
        )  # fmt: skip
        ginfo.update(finfo)
        ginfo["debug_up_person"] = person_up.tolist()
        ginfo["debug_up_fused"] = up.tolist()
    if not scene_planes:  # the floor under the first steps
        floor_d = float(np.median(early_feet @ up)) - ankle_h
    fwd = np.mean(R[:, :, 2], axis=0)
    Ra = grav.rotation_to_z(up, fwd)
    T_align = np.eye(4)
    T_align[:3, :3] = Ra
    T_align[2, 3] = -floor_d
    joints_init = joints0 @ Ra.T + T_align[:3, 3]
    pts_w = pts @ Ra.T + T_align[:3, 3]
    Twc_w = np.einsum("ij,tjk->tik", T_align, Twc)

    # --- the terms' data ---
    R_w = np.einsum("ij,tjk->tik", Ra, R)
    prior_w = np.einsum("tij,tkj->tki", R_w, local - local[:, PELVIS : PELVIS + 1])
    if cfg.opt_prior_lean < 1:
        prior_w = unlean_towards_camera(prior_w, R_w, cfg.opt_prior_lean)
    occ = occlusion_pairs(inp.kp2d, conf, tau[:, 2], inp.K, inp.height_m) if w.occlusion > 0 else None
    n_occ = 0 if occ is None else len(occ[0])
    data = fit_data(Twc_w, inp.K, inp.kp2d, conf, body.bones, prior_w, valid, occ)

    def feet_surface(X: np.ndarray, contacts: np.ndarray | None) -> np.ndarray:
        """(T,2) surface height under each foot: scene points where there are enough, else the
        height its stance (when ``contacts`` are given) stood at, grouped into levels; else the floor.

        "Enough" is one rule, ``surface_height``'s: a foot near one or two stray points used to
        count as seen and read the floor (0) there. On the dev set's stairs walked down from behind,
        that pinned the foot on the 0.32 m tread to the 0.48 m landing, and the tread vanished.
        Surfaces below the first stance are kept: walking down, every tread is.
        """
        surf = surface_height(pts_w[near], X[:, list(FEET), :2].reshape(-1, 2), 0.15).reshape(T, 2)
        if contacts is not None:
            surf = np.where(np.isnan(surf), contact_levels(X, contacts), surf)
        return np.nan_to_num(surf, nan=0.0)

    def contact_levels(X: np.ndarray, contacts: np.ndarray) -> np.ndarray:
        """(T,2) ground height of each planted foot's stance level (NaN where not planted)."""
        segs = stance_segments(contacts)
        out = np.full((T, 2), np.nan)
        if not segs:
            return out
        h = np.array([np.median(X[a:b, FEET[k], 2]) - ankle_h for k, a, b in segs])
        lab, lev = group_levels(h, cfg.level_tolerance_m, cfg.step_min_rise_m)
        for (k, a, b), li in zip(segs, lab, strict=True):
            out[a:b, k] = lev[li]
        return out

    def planted(X: np.ndarray) -> np.ndarray:
        """(T,2) slow feet: by their viewing rays when the camera does not translate (robust to the
        body-size depth's jitter), else by their 3D speed."""
        if translating:
            return detect_contacts(X, inp.fps, cfg.contact_speed, np.inf, np.zeros((T, 2)))
        pc = np.einsum("tji,tkj->tki", Twc_w[:, :3, :3], X[:, list(FEET)] - Twc_w[:, None, :3, 3])
        return ray_stance(
            inp.kp2d, conf, Twc_w[:, :3, :3], inp.K, pc[..., 2], inp.fps, cfg.stance_ray_speed, cfg.stance_ray_cutoff_hz
        )

    def feet_contacts(X: np.ndarray, height_slack: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Contacts (T,2) and the surface height under each foot (T,2) for joints ``X``."""
        surf = feet_surface(X, None)
        if not translating:  # planted by their rays, on the level they stand on
            slow = planted(X)
            surf = feet_surface(X, slow)
            return slow & (X[:, list(FEET), 2] - ankle_h - surf < cfg.contact_height + height_slack), surf
        # slow feet are planted at the level they stand on wherever no scene point was seen under
        # them (all of them without a scene): the unseen ground is not the floor. Read as the floor,
        # a walker followed from behind stepping up a 0.17 m curb had no contact on it, and no step
        # (follow-behind dev curb: feet 0.25-0.33 m over the assumed 0, contact_height 0.2)
        slow = detect_contacts(X, inp.fps, cfg.contact_speed, np.inf, surf)
        surf = feet_surface(X, slow)
        return detect_contacts(X, inp.fps, cfg.contact_speed, cfg.contact_height + height_slack, surf), surf

    def correct_scale(X: np.ndarray) -> float:
        """Rescale the world about its origin (on the floor) by the stance-ray correction for the
        scene-free joints ``X``; the body keeps its metric offset from each camera. Returns k."""
        nonlocal Twc_w, pts_w, scale, data
        k, kinfo = scale_from_stance_rays(
            X, Twc_w[:, :3, 3], pts_w[near], inp.fps, sole_drop(inp.keypoint_backend) * inp.height_m, cfg.contact_speed
        )
        sinfo.update(kinfo)
        if k is None:
            return 1.0
        Twc_w = Twc_w.copy()
        Twc_w[:, :3, 3] *= k
        pts_w = pts_w * k
        T_align[:3, 3] *= k
        scale *= k
        data = with_cameras(data, Twc_w)
        return k

    def moved(X: np.ndarray, k: float) -> np.ndarray:
        """Joints that kept their offsets from cameras whose centres were scaled by k."""
        return X + (k - 1) * Twc_w[:, None, :3, 3] / k

    def level_gravity(X: np.ndarray, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Without scene planes: refine up with the levels the first pass's stance feet stood on
        and put the floor under the first steps at z = 0; returns X, Xs in the corrected world."""
        nonlocal Twc_w, T_align, data
        segs = stance_segments(planted(Xs))
        if not segs:
            return X, Xs
        ground = []
        for k, a, b in segs:
            ground.append(np.median(Xs[a:b, FEET[k]], axis=0) - [0.0, 0.0, ankle_h])
            ground.append(np.median(Xs[a:b, TOES[k]], axis=0) - [0.0, 0.0, ankle_h / 2])
        ground = np.array(ground)
        lab, _ = group_levels(ground[0::2, 2], cfg.level_tolerance_m, cfg.step_min_rise_m)
        lab = np.repeat(lab, 2)
        levels = [ground[lab == k] for k in np.unique(lab)]
        pu = np.nanmean(Xs[valid, NECK] - Xs[valid, PELVIS], axis=0)
        up2, finfo = grav.fuse_up(
            np.array([0.0, 0.0, 1.0]), pu, np.radians(cfg.gravity_person_sigma_deg), Twc_w[:, :3, 0],
            np.radians(cfg.gravity_roll_sigma_deg), levels if cfg.gravity_feet_sigma_m > 0 else None,
            cfg.gravity_feet_sigma_m, axes @ T_align[:3, :3].T, np.radians(cfg.gravity_axis_sigma_deg),
            lines_up=None if lines_up is None else T_align[:3, :3] @ lines_up,
            lines_sigma_rad=np.radians(cfg.gravity_lines_sigma_deg),
        )  # fmt: skip
        ginfo.update({f"refined_{k}": v for k, v in finfo.items()})
        Ainv = np.linalg.inv(T_align[:3, :3])
        ginfo["debug_up_refined"] = (Ainv @ up2).tolist()
        ginfo["debug_up_pass1_person"] = (Ainv @ (pu / np.linalg.norm(pu))).tolist()
        ginfo["debug_levels"] = [(Ainv @ q.T).T.tolist() for q in levels]
        ginfo["debug_cam_x"] = (Ainv @ Twc_w[:, :3, 0].T).T.tolist()
        Rc = grav.rotation_to_z(up2, np.array([1.0, 0.0, 0.0]))
        X, Xs, ground = _rotate_world(Rc, X, Xs, ground)
        floor = float(np.median(ground[lab == lab[0], 2]))  # the level of the first stance
        shift = np.array([0.0, 0.0, -floor])
        A = np.eye(4)
        A[:3, :3], A[:3, 3] = Rc, shift
        Twc_w = np.einsum("ij,tjk->tik", A, Twc_w)
        T_align = A @ T_align
        data = with_cameras(data, Twc_w)
        R_w2 = Twc_w[:, :3, :3]
        pw = np.einsum("tij,tkj->tki", R_w2, local - local[:, PELVIS : PELVIS + 1])
        if cfg.opt_prior_lean < 1:
            pw = unlean_towards_camera(pw, R_w2, cfg.opt_prior_lean)
        from dataclasses import replace

        data = replace(data, prior_rel=fit_data(Twc_w, inp.K, inp.kp2d, conf, body.bones, pw, valid).prior_rel)
        return X + shift, Xs + shift

    def seated(X: np.ndarray, contacts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Sitting frames (T,) of joints ``X``, the height (T,) the pelvis rests at in each, the
        floor (T,) under the person and where (T,) the planted feet sank under the floor walked on
        (their fitted legs are wrong there: ``solids.walked_floor``)."""
        feet_z = X[:, list(FEET), 2] - ankle_h
        floor = np.where(contacts, feet_z, np.nan)
        floor = np.where(np.isnan(floor).all(axis=1, keepdims=True), feet_z, floor)
        floor_z = lowpass(np.nanmin(floor, axis=1), inp.fps, 1.0)
        walked = walked_floor(X, contacts, ankle_h)
        sunk = np.nan_to_num(walked - floor_z, nan=0.0) > cfg.step_min_rise_m
        floor_z = np.where(sunk, walked, floor_z)
        sit = seat_frames(X, inp.fps, inp.height_m, floor_z, legs_unreliable=sunk)
        rest = np.full(T, np.nan)
        for _, a, b in stance_segments(sit[:, None], min_frames=1):
            rest[a:b] = np.median(X[a:b, PELVIS, 2])
        return sit, rest, floor_z, sunk

    def fit_with_feet(X0: np.ndarray, contacts: np.ndarray, surf: np.ndarray, X0s: np.ndarray | None = None):  # type: ignore[no-untyped-def]
        """The fit with the feet (and a seat) from ``X0``; sitting is judged on its smooth ``X0s``
        (the first pass's per-frame jitter reads as a moving pelvis: 0.28 m/s while seated)."""
        sit, rest, floor_z, sunk = seated(X0 if X0s is None else X0s, contacts)
        firm = None
        if (sit & sunk).any():  # a seated person's feet rest on the floor they walked on
            surf, firm = surf.copy(), np.zeros((T, 2), bool)
            contacts = contacts | (sit & sunk)[:, None]
            for k, a, b in stance_segments(contacts):
                if (sit[a:b] & sunk[a:b]).any():
                    surf[a:b, k], firm[a:b, k] = floor_z[a:b], True
        d = with_contacts(
            data, contacts, surf + ankle_h, sit if sit.any() else None, np.nan_to_num(rest),
            surf + cfg.toe_height_m if cfg.toe_height_m > 0 else None, firm,
        )  # fmt: skip
        if firm is not None:  # the 3D pose estimate is what bent those legs the wrong way
            from dataclasses import replace

            import torch

            d = replace(d, prior_valid=d.prior_valid * torch.as_tensor(~(sit & sunk), dtype=torch.float64))
        d = with_travel(d, lowpass(X0[:, PELVIS], inp.fps, 1.0), inp.fps, cfg.heading_speed)
        return solve(X0, d, w, cfg.opt_iters)

    if cfg.opt_contact_pass:
        # pass 1 without the scene; its result sets the scale (feet on the scene surface along
        # their camera rays), then contacts and the surface under the feet are read off its smooth
        # result instead of the per-frame initialisation, whose depth jitter hides slow feet
        # (missed contacts) and moves them over the wrong part of the scene (wrong surface)
        first_pass = solve(joints_init, data, w, cfg.opt_iters)
        X1 = first_pass.X
        X1s = lowpass(X1, inp.fps, cfg.smooth_cutoff_hz)
        if cfg.surface_scale and translating:
            k = correct_scale(X1s)
            X1, X1s = moved(X1, k), moved(X1s, k)
        if not scene_planes:
            X1, X1s = level_gravity(X1, X1s)
        contacts, surf = feet_contacts(X1s)
        final = fit_with_feet(X1, contacts, surf)
        loss0 = first_pass.loss_init
    else:  # contacts from the per-frame initialisation (a looser height: it is noisier)
        if cfg.surface_scale and translating:
            joints_init = moved(joints_init, correct_scale(lowpass(joints_init, inp.fps, cfg.smooth_cutoff_hz)))
        contacts, surf = feet_contacts(joints_init, 0.1)
        final = fit_with_feet(joints_init, contacts, surf)
        loss0 = final.loss_init
    joints = final.X
    if not np.isfinite(joints).all():
        raise NumericalError("the joint optimisation diverged (NaN); try a lower opt_iters or check the keypoints")
    joints = lowpass(joints, inp.fps, cfg.smooth_cutoff_hz)
    contacts, surf = feet_contacts(joints)
    sit, _, _, sunk = seated(joints, contacts)
    passes = 2 if cfg.opt_contact_pass else 1
    if (sit & sunk).any():
        # seated with the planted feet sunk under the floor walked on: the legs were fitted along
        # the wrong side of their viewing rays (``solids.walked_floor``); fit again with those feet
        # held on that floor, judged on this smooth result (the first pass's jitter hid the sitting)
        final = fit_with_feet(final.X, contacts, surf, joints)
        joints = lowpass(final.X, inp.fps, cfg.smooth_cutoff_hz)
        contacts, _ = feet_contacts(joints)
        passes += 1
    else:
        sit[:] = False
    seat_contact = seated(joints, contacts)[0] | sit  # still seated where the refit lifted the sunk feet
    info = {
        "regime": inp.regime,
        "seated_frames": int(seat_contact.sum()),
        "ankle_height_m": round(ankle_h, 4),
        "fit_passes": passes,
        "scale": scale,
        **sinfo,
        "gravity": ginfo,
        "loss_init": loss0,
        "loss_final": final.loss_final,
        "loss_terms": final.terms,
        "seconds": time.perf_counter() - t0,
        "frames_with_person": int(valid.sum()),
        "occluded_joint_frames": n_occ,
        **body.info,
    }
    return OptResult(joints, contacts, Twc_w, pts_w, scale, T_align, info, seat_contact)


__all__ = ["OptInputs", "OptResult", "optimize", "HUMAN_JOINTS"]
