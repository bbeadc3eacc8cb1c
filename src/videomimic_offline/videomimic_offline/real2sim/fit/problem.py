"""Problem building for the joint fit: weights from the config, the terms' data from the arrays.

Everything numeric the terms need is decided here (once), so the terms stay pure and the solver
knows nothing about cameras, contacts or seats.
"""

from __future__ import annotations

import numpy as np
import torch

from videomimic_offline.real2sim.config import FitConfig
from videomimic_offline.real2sim.fit.body import PELVIS
from videomimic_offline.real2sim.fit.terms import CHILDREN, FitData, FitWeights


def weights_from_config(cfg: FitConfig) -> FitWeights:
    """The one place config fields become term weights and normalisers."""
    return FitWeights(
        reproj=cfg.w_reproj,
        reproj_robust_px=cfg.reproj_robust_px,
        bone=cfg.w_bone,
        bone_sigma_m=cfg.bone_sigma_m,
        pose_prior=cfg.w_pose_prior,
        pose_sigma_m=cfg.pose_sigma_m,
        smooth=cfg.w_smooth,
        accel_sigma_m=cfg.accel_sigma_m,
        occlusion=cfg.w_occlusion,
        occlusion_sigma_m=cfg.occlusion_sigma_m,
        contact=cfg.w_contact,
        slide_sigma_m=cfg.slide_sigma_m,
        floor=cfg.w_floor,
        floor_sigma_m=cfg.floor_sigma_m,
        floor_robust_m=cfg.opt_floor_robust_m,
        seat=cfg.w_seat,
        seat_sigma_m=cfg.seat_sigma_m,
        heading=cfg.w_heading,
        heading_sigma_rad=float(np.radians(cfg.heading_sigma_deg)),
    )


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64)


def fit_data(
    T_world_cam: np.ndarray,
    K: np.ndarray,
    kp2d: np.ndarray,
    conf: np.ndarray,
    bones: np.ndarray,
    prior_rel_w: np.ndarray,
    prior_valid: np.ndarray,
    occ: tuple[np.ndarray, ...] | None = None,
) -> FitData:
    """The terms' data for cameras ``T_world_cam`` (T,4,4), keypoints and the pose prior (world axes).

    ``bones`` (J,) are indexed by child joint (as ``body_template.bone_lengths``); ``occ`` is
    ``body.occlusion_pairs``'s output (None or empty: no occlusion constraints).
    """
    occ_t = None
    if occ is not None and len(occ[0]):
        occ_t = tuple(torch.as_tensor(v) for v in occ[:4]) + (_t(occ[4]), _t(occ[5]))
    rel = prior_rel_w - prior_rel_w[:, PELVIS : PELVIS + 1]
    return FitData(
        R_cw=_t(np.transpose(T_world_cam[:, :3, :3], (0, 2, 1))),
        cam_c=_t(T_world_cam[:, :3, 3]),
        K=_t(K),
        uv=_t(np.nan_to_num(kp2d)),
        w2d=_t(conf),
        bones=_t(bones[CHILDREN]),
        prior_rel=_t(rel),
        prior_valid=_t(prior_valid.astype(float)),
        occ=occ_t,  # type: ignore[arg-type]
    )


def with_contacts(
    d: FitData,
    contacts: np.ndarray | None,
    foot_surface: np.ndarray | None,
    seat: np.ndarray | None = None,
    seat_height: np.ndarray | None = None,
    toe_floor: np.ndarray | None = None,
    floor_firm: np.ndarray | None = None,
) -> FitData:
    """A copy of ``d`` with (or without: None) planted feet, the ankle height they rest at, a seat,
    the lowest height a planted foot's toe may take, and where that surface is known for sure
    (``floor_firm`` (T,2): the ankle is pulled there however far off it is)."""
    from dataclasses import replace

    return replace(
        d,
        contacts=None if contacts is None else _t(contacts.astype(float)),
        foot_surface=None if foot_surface is None else _t(foot_surface),
        toe_floor=None if toe_floor is None else _t(toe_floor),
        floor_firm=None if floor_firm is None else _t(floor_firm.astype(float)),
        seat=None if seat is None else _t(seat.astype(float)),
        seat_height=None if seat_height is None else _t(seat_height),
    )


def with_travel(d: FitData, pelvis: np.ndarray, fps: float, walk_speed: float) -> FitData:
    """A copy of ``d`` with the direction of travel of the (smooth) ``pelvis`` path (T,3): weight
    0 below ``walk_speed`` (m/s, standing or turning on the spot), 1 from twice it; the frames
    before the first steps get the first steps' direction at half weight."""
    from dataclasses import replace

    v = np.gradient(pelvis[:, :2], axis=0) * fps
    speed = np.linalg.norm(v, axis=1)
    direction = np.c_[v / np.maximum(speed, 1e-9)[:, None], np.zeros(len(v))]
    weight = np.clip((speed - walk_speed) / walk_speed, 0.0, 1.0)
    walking = np.flatnonzero(weight >= 1.0)
    if len(walking) and walking[0] > 0:  # before the first steps: people set off the way they face
        first = walking[0]
        direction[:first] = direction[first]
        weight[:first] = np.maximum(weight[:first], 0.5)
    return replace(d, travel_dir=_t(direction), travel_w=_t(weight))


def with_cameras(d: FitData, T_world_cam: np.ndarray) -> FitData:
    """A copy of ``d`` seen from other cameras (after a scale correction)."""
    from dataclasses import replace

    return replace(d, R_cw=_t(np.transpose(T_world_cam[:, :3, :3], (0, 2, 1))), cam_c=_t(T_world_cam[:, :3, 3]))
