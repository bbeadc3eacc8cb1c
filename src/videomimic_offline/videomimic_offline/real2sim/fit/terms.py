"""The joint fit's loss terms: small pure functions ``term(X, data, w) -> cost``.

``X`` (T,J,3) is the state (world joints, z up), ``data`` a :class:`FitData` (everything the
measurements and the problem building fixed) and ``w`` a :class:`FitWeights` (each term's weight
and the normaliser that turns its residual into a unitless number). Each term returns its weighted,
normalised scalar contribution to the objective; the solver (``fit.solve``) sums the active ones.
A term whose data is absent (no contacts yet, no seat) contributes exactly zero.

Normalisers are the size of residual a term tolerates (``sigma``): a residual of one sigma on
every element costs that term's weight, so weights compare terms by how much each matters, not by
their units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from videomimic_offline.body.skeleton import HUMAN_PARENTS, index

PELVIS = index("pelvis")
HIPS = (index("left_hip"), index("right_hip"))
SHOULDERS = (index("left_shoulder"), index("right_shoulder"))
FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))
_PAR = np.array(HUMAN_PARENTS)
CHILDREN = np.flatnonzero(_PAR >= 0)
PARENTS = _PAR[CHILDREN]

Tensor = torch.Tensor


@dataclass(frozen=True)
class FitWeights:
    """Weight and normaliser of every term, built from the ``FitConfig`` in one place
    (``fit.problem.weights_from_config``): the defaults are the FitConfig's, never repeated here."""

    reproj: float
    reproj_robust_px: float  # Geman-McClure scale: keypoints further off stop pulling
    bone: float
    bone_sigma_m: float
    pose_prior: float
    pose_sigma_m: float
    smooth: float
    accel_sigma_m: float  # per-frame second difference of a joint
    occlusion: float
    occlusion_sigma_m: float
    contact: float
    slide_sigma_m: float  # per-frame motion of a planted foot
    floor: float
    floor_sigma_m: float
    floor_robust_m: float  # 0 = plain least squares
    seat: float
    seat_sigma_m: float
    heading: float
    heading_sigma_rad: float


@dataclass
class FitData:
    """Tensors the terms read (float64). Optional parts are None when the problem has none."""

    R_cw: Tensor  # (T,3,3) world-to-camera rotations
    cam_c: Tensor  # (T,3) camera centres (world)
    K: Tensor  # (3,3)
    uv: Tensor  # (T,J,2) detected keypoints (px; 0 where missing)
    w2d: Tensor  # (T,J) keypoint confidences (0 = ignored)
    bones: Tensor  # (len(CHILDREN),) bone lengths (child order of CHILDREN)
    prior_rel: Tensor  # (T,J,3) pose prior, pelvis-relative, world axes
    prior_valid: Tensor  # (T,) 1 where the prior exists
    # occlusion: (frame, hidden joint, segment end a, segment end b, position on segment, depth gap)
    occ: tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor] | None = None
    contacts: Tensor | None = None  # (T,2) 1 where the foot is planted
    foot_surface: Tensor | None = None  # (T,2) height the planted ankle rests at (surface + ankle height)
    toe_floor: Tensor | None = None  # (T,2) lowest height a planted foot's toe may take (surface + toe height)
    floor_firm: Tensor | None = None  # (T,2) 1 where the surface under a planted foot is known: no robust cap
    seat: Tensor | None = None  # (T,) 1 where the pelvis rests on a seat
    seat_height: Tensor | None = None  # (T,) height the pelvis rests at when seated
    travel_dir: Tensor | None = None  # (T,3) horizontal unit direction the person walks in
    travel_w: Tensor | None = None  # (T,) how much that direction counts (0 when standing)
    extras: dict = field(default_factory=dict)


def project(X: Tensor, d: FitData) -> tuple[Tensor, Tensor]:
    """Pixels (T,J,2) and camera depths (T,J) of world joints ``X``."""
    pc = torch.einsum("tij,tkj->tki", d.R_cw, X - d.cam_c[:, None])
    z = pc[..., 2].clamp(min=0.05)
    proj = torch.einsum("ij,tkj->tki", d.K, pc)
    return proj[..., :2] / z[..., None], pc[..., 2]


def reprojection(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """Confidence-weighted robust (Geman-McClure) 2D distance to the detections, per keypoint."""
    uv, _ = project(X, d)
    e2 = ((uv - d.uv) ** 2).sum(-1)
    rho2 = w.reproj_robust_px**2
    return w.reproj * (d.w2d * e2 / (e2 + rho2)).sum() / d.w2d.sum().clamp(min=1.0)


def bone_length(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """Bones keep the template's (height-scaled) lengths."""
    bl = torch.linalg.norm(X[:, CHILDREN] - X[:, PARENTS], dim=-1)
    return w.bone * ((bl - d.bones) ** 2).mean() / w.bone_sigma_m**2


def pose_prior(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """Pelvis-relative joints stay near the 3D pose estimate (where it exists)."""
    rel = X - X[:, PELVIS : PELVIS + 1]
    sq = ((rel - d.prior_rel) ** 2).sum(-1)  # (T,J)
    return w.pose_prior * (d.prior_valid[:, None] * sq).mean() / w.pose_sigma_m**2


def smoothness(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """Small joint accelerations (second differences over frames)."""
    if X.shape[0] < 3:
        return X.new_zeros(())
    acc = X[2:] - 2 * X[1:-1] + X[:-2]
    return w.smooth * (acc**2).sum(-1).mean() / w.accel_sigma_m**2


def occlusion(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """A joint hidden behind a visible body part stays at least the parts' radii behind it (depth)."""
    if d.occ is None or len(d.occ[0]) == 0:
        return X.new_zeros(())
    t, j, a, b, s, gap = d.occ
    _, z = project(X, d)
    z_front = (1 - s) * z[t, a] + s * z[t, b]
    short = torch.relu(z_front + gap - z[t, j])
    return w.occlusion * (short**2).sum() / X[..., 0].numel() / w.occlusion_sigma_m**2


def foot_slide(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """A foot planted in two consecutive frames does not move between them: its ankle and its toe.

    The ankle alone left the planted foot free to swivel about it: on a real clip filmed from
    behind (glamr, toes hidden behind the heels) the ankles moved 2 mm/frame and the toes 18.
    """
    if d.contacts is None:
        return X.new_zeros(())
    both = d.contacts[1:] * d.contacts[:-1]
    out = X.new_zeros(())
    for joints in (FEET, TOES):
        vel = X[1:, list(joints)] - X[:-1, list(joints)]
        out = out + (both[..., None] * vel**2).sum()
    return w.contact * out / 2 / both.sum().clamp(min=1.0) / w.slide_sigma_m**2


def foot_floor(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """A planted ankle rests at the surface height under it (robust: a wrong surface stops pulling,
    except where ``floor_firm`` says the surface is known), and the planted foot's toe does not dip
    below the surface (one-sided: a heel may rise).

    The ankle alone let a planted foot pitch toe-down through the floor: on a real clip from an
    elevated static camera (intel) the planted toes sat 2 cm under the floor the ankles stood on
    (ankle-toe drop 0.10 m against ~0.06 for a flat foot), and the retargeted G1 copied the pitch
    into the ground (13 mm penetration).
    """
    if d.contacts is None or d.foot_surface is None:
        return X.new_zeros(())
    dz2 = (X[:, list(FEET), 2] - d.foot_surface) ** 2
    if d.toe_floor is not None:
        dz2 = dz2 + torch.relu(d.toe_floor - X[:, list(TOES), 2]) ** 2
    if w.floor_robust_m > 0:
        capped = dz2 / (1 + dz2 / w.floor_robust_m**2)
        dz2 = capped if d.floor_firm is None else d.floor_firm * dz2 + (1 - d.floor_firm) * capped
    return w.floor * (d.contacts * dz2).sum() / d.contacts.sum().clamp(min=1.0) / w.floor_sigma_m**2


def seat(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """A seated pelvis rests at the seat's height (the seat carries it: it neither sinks nor floats)."""
    if d.seat is None or d.seat_height is None:
        return X.new_zeros(())
    dz2 = (X[:, PELVIS, 2] - d.seat_height) ** 2
    return w.seat * (d.seat * dz2).sum() / d.seat.sum().clamp(min=1.0) / w.seat_sigma_m**2


def heading(X: Tensor, d: FitData, w: FitWeights) -> Tensor:
    """A walking person faces where they go: hips and shoulders lie across the direction of travel.

    A monocular pose knows its facing direction least when the hips line up with the view (a
    walker seen from the side), and the first frames' facing sets how a world-aligned comparison
    swings the whole path; the travel direction (from the first pass) is well seen there.
    """
    if d.travel_dir is None or d.travel_w is None:
        return X.new_zeros(())
    out = X.new_zeros(())
    for a, b in (HIPS, SHOULDERS):  # both: shoulders counter-rotate only ~5-10 deg while walking
        h = X[:, a, :2] - X[:, b, :2]
        h = h / (torch.linalg.norm(h, dim=-1, keepdim=True) + 1e-9)
        s = (h * d.travel_dir[:, :2]).sum(-1)  # sine of the angle off facing the direction
        out = out + (d.travel_w * s**2).sum()
    return w.heading * out / 2 / d.travel_w.sum().clamp(min=1.0) / w.heading_sigma_rad**2


Term = Callable[[Tensor, FitData, FitWeights], Tensor]

#: Every term of the objective, by name (the solver sums them; tests break each one in turn).
TERMS: dict[str, Term] = {
    "reprojection": reprojection,
    "bone_length": bone_length,
    "pose_prior": pose_prior,
    "smoothness": smoothness,
    "occlusion": occlusion,
    "foot_slide": foot_slide,
    "foot_floor": foot_floor,
    "seat": seat,
    "heading": heading,
}


def total(X: Tensor, d: FitData, w: FitWeights, terms: dict[str, Term] | None = None) -> Tensor:
    """The objective: the sum of ``terms`` (default: all of ``TERMS``)."""
    out = X.new_zeros(())
    for f in (terms or TERMS).values():
        out = out + f(X, d, w)
    return out


def breakdown(X: Tensor, d: FitData, w: FitWeights) -> dict[str, float]:
    """Each term's value (for info.json: which term dominates a bad fit)."""
    with torch.no_grad():
        return {k: float(f(X, d, w)) for k, f in TERMS.items()}
