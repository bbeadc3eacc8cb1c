"""Scene geometry from the person's contacts: the floor, each step and a seat, as boxes.

Vision cannot see the ground under a tripod clip's feet (no parallax) or the seat a person hides
by sitting on it, but the body measured it: a planted foot rests on a surface at its sole's
height, and a seated pelvis rests on a seat at its own height minus the buttocks' thickness. So:

- stance feet are grouped into **levels** by their sole heights (a step's rise apart); the lowest
  level is the **floor** (a wide, thin box around everything the person did), every higher one a
  **step**: a block from the floor up to its top, over the cells whose nearest footprint stood on it;
- while the person sits (``seat_contact``), the **seat** is a block from the floor up to the
  pelvis height minus ``seat_offset`` (the hip joints' height above the seat top), under the thighs.

Boxes, not a noisy surface: the simulator needs flat treads and a flat seat, and a box is what a
user would model by hand. ``rasterize`` turns them into heightfield cells (source code 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videomimic_offline.body.skeleton import index
from videomimic_offline.real2sim.fit.contacts import group_levels, stance_segments

PELVIS = index("pelvis")
HIPS = (index("left_hip"), index("right_hip"))
KNEES = (index("left_knee"), index("right_knee"))
FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))

#: Heightfield ``source`` codes (the board's interface): per cell, where its height came from.
SOURCE_UNKNOWN, SOURCE_DENSE, SOURCE_SFM, SOURCE_CONTACT = 0, 1, 2, 3


@dataclass
class Solid:
    """An oriented box in the world (z up): ``size`` along its own x (``yaw``), y and z."""

    kind: str  # "floor" | "step" | "seat"
    center: np.ndarray  # (3,)
    size: np.ndarray  # (3,)
    yaw: float

    @property
    def top(self) -> float:
        return float(self.center[2] + self.size[2] / 2)

    def to_contract(self):  # type: ignore[no-untyped-def]
        """The scene contract's record (``contracts.scene.Solid``) for scene.json."""
        from videomimic_offline.contracts.scene import Solid as SceneSolid

        return SceneSolid(self.kind, tuple(np.round(self.center, 4)), tuple(np.round(self.size, 4)), round(self.yaw, 4))

    def contains_xy(self, xy: np.ndarray) -> np.ndarray:
        d = np.asarray(xy) - self.center[:2]
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        u, v = d[..., 0] * c + d[..., 1] * s, -d[..., 0] * s + d[..., 1] * c
        return (np.abs(u) <= self.size[0] / 2) & (np.abs(v) <= self.size[1] / 2)


def _oriented_box(xy: np.ndarray, pad_along: float, pad_across: float, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre (2,) and size (2,) of the box with heading ``yaw`` around points ``xy`` (N,2), padded."""
    c, s = np.cos(yaw), np.sin(yaw)
    u = xy @ np.array([c, s])
    v = xy @ np.array([-s, c])
    lo = np.array([u.min() - pad_along, v.min() - pad_across])
    hi = np.array([u.max() + pad_along, v.max() + pad_across])
    mid = 0.5 * (lo + hi)
    return np.array([mid[0] * c - mid[1] * s, mid[0] * s + mid[1] * c]), hi - lo


def _heading(xy: np.ndarray) -> float:
    """Main direction of a set of xy points (the way the person went), 0 if they are one spot."""
    if len(xy) < 2:
        return 0.0
    q = xy - xy.mean(axis=0)
    d = np.linalg.svd(q, full_matrices=False)[2][0]
    return float(np.arctan2(d[1], d[0]))


@dataclass
class Footprint:
    """One stance segment: which foot, frames, sole height and ground points under heel and toe."""

    foot: int
    frames: tuple[int, int]
    height: float
    xy: np.ndarray  # (2,2) ankle and toe ground xy


def footprints(joints: np.ndarray, contacts: np.ndarray, ankle_height: float) -> list[Footprint]:
    """Every stance segment's footprint (median over its frames)."""
    out = []
    for k, a, b in stance_segments(contacts):
        ank = np.median(joints[a:b, FEET[k]], axis=0)
        toe = np.median(joints[a:b, TOES[k]], axis=0)
        out.append(Footprint(k, (a, b), float(ank[2] - ankle_height), np.stack([ank[:2], toe[:2]])))
    return out


def seat_frames(
    joints: np.ndarray,
    fps: float,
    height_m: float,
    floor_z: np.ndarray,
    max_thigh_deg: float = 35.0,
    legs_unreliable: np.ndarray | None = None,
    still_s: float = 0.3,
) -> np.ndarray:
    """(T,) bool: the person sits (pelvis low over its floor, thighs near horizontal, pelvis still).

    Sitting puts the pelvis 0.2-0.45 x stature above the floor (standing: 0.5 or more; a high
    chair: 0.37 in ground truth, 0.40-0.43 as fitted) with the thighs within ``max_thigh_deg`` of
    horizontal; the pelvis must be slow (0.25 m/s, measured over ``still_s``: the fitted pelvis
    jitters by about 1 cm a frame, which reads as 0.2-0.3 m/s between neighbouring frames) for
    0.3 s or more. ``floor_z`` (T,) is the floor under the person in each frame. Where
    ``legs_unreliable`` (T,) the thighs are not asked about (their fitted pose is known wrong:
    ``walked_floor``).
    """
    T = len(joints)
    pel = joints[:, PELVIS]
    rel = (pel[:, 2] - floor_z) / height_m
    thigh = joints[:, list(KNEES)] - joints[:, list(HIPS)]
    ang = np.degrees(np.arctan2(np.abs(thigh[..., 2]), np.linalg.norm(thigh[..., :2], axis=-1))).mean(axis=1)
    speed = np.zeros(T)
    k = max(1, int(round(still_s * fps / 2)))
    if 2 * k < T:
        speed[k:-k] = np.linalg.norm(pel[2 * k :] - pel[: -2 * k], axis=1) * fps / (2 * k)
        speed[:k], speed[-k:] = speed[k], speed[-k - 1]
    thighs_ok = ang < max_thigh_deg
    if legs_unreliable is not None:
        thighs_ok |= np.asarray(legs_unreliable, bool)
    sit = (rel < 0.45) & (rel > 0.12) & thighs_ok & (speed < 0.25)
    out = np.zeros(T, bool)
    for _, a, b in stance_segments(sit[:, None], min_frames=max(3, int(0.3 * fps))):
        out[a:b] = True
    return out


def walked_floor(joints: np.ndarray, contacts: np.ndarray, ankle_height: float, straight: float = 0.95) -> np.ndarray:
    """(T,) height of the floor the person stood on with straight legs: the sole heights of the
    stances whose pelvis stands at least ``straight`` x the clip's standing height (the 90th
    percentile over stances) above the sole, interpolated over time; NaN without any.

    A bent leg's planted foot can have been fitted anywhere along its viewing ray: a person sitting
    on a chair facing the camera (one followed from behind turns to sit) was fitted with thighs
    hanging 60 deg down and the planted feet 0.28 m under the floor (follow-behind benchmark chair
    clip), so the feet made a floor of their own and the seat was never found. A straight leg
    leaves no such freedom, and a person reaches another floor only by standing on it.
    """
    T = len(joints)
    segs = stance_segments(contacts)
    if not segs:
        return np.full(T, np.nan)
    sole = np.array([float(np.median(joints[a:b, FEET[k], 2])) - ankle_height for k, a, b in segs])
    stand = np.array([float(np.median(joints[a:b, PELVIS, 2])) for _, a, b in segs]) - sole
    keep = stand >= straight * np.percentile(stand, 90)
    mids = np.array([0.5 * (a + b - 1) for _, a, b in segs])[keep]
    order = np.argsort(mids)
    return np.interp(np.arange(T), mids[order], sole[keep][order])


def contact_solids(
    joints: np.ndarray,
    contacts: np.ndarray,
    seated: np.ndarray,
    ankle_height: float,
    seat_offset: float,
    level_tol: float,
    min_rise: float,
    floor_margin: float = 1.0,
    step_pad: tuple[float, float] = (0.05, 0.25),
    step_reach: float = 0.3,
) -> list[Solid]:
    """Floor, step and seat boxes from stance footprints and seated frames (module docstring).

    ``step_pad`` pads each step's footprints along the walking direction and across it (a tread is
    wider than the feet that used it, and only a little deeper). Along the walk, a step reaches
    further, towards the nearest footprint of another level: halfway to it, at most ``step_reach``
    past its own footprints (``_reach_along``).
    """
    prints = footprints(joints, contacts, ankle_height)
    touched = [p.xy for p in prints]
    if seated.any():
        touched.append(thigh_xy(joints[seated]))
    if not prints and not seated.any():
        return []
    all_xy = np.concatenate([np.asarray(x).reshape(-1, 2) for x in touched] + [joints[:, PELVIS, :2]])
    yaw = _heading(all_xy)
    heights = np.array([p.height for p in prints])
    labels, levels = group_levels(heights, level_tol, min_rise) if len(prints) else (np.zeros(0, int), np.zeros(1))
    floor = float(levels[0]) if len(prints) else 0.0
    thick = 0.1
    c2, s2 = _oriented_box(all_xy, floor_margin, floor_margin, yaw)
    solids = [Solid("floor", np.r_[c2, floor - thick / 2], np.r_[s2, thick], yaw)]
    for li in range(1, len(levels)):
        xy = np.concatenate([p.xy for p, lab in zip(prints, labels, strict=True) if lab == li])
        lower = [p.xy for p, lab in zip(prints, labels, strict=True) if lab < li]
        c2, s2 = _oriented_box(xy, step_pad[0], step_pad[1], yaw)
        other = [p.xy for p, lab in zip(prints, labels, strict=True) if lab != li]
        if other:
            c2, s2 = _reach_along(c2, s2, yaw, xy, np.concatenate(other), step_reach)
        if lower:
            c2, s2 = _clear_of(c2, s2, yaw, xy, np.concatenate(lower))
        h = float(levels[li] - floor)
        solids.append(Solid("step", np.r_[c2, floor + h / 2], np.r_[s2, h], yaw))
    if seated.any():
        top = float(np.median(joints[seated, PELVIS, 2])) - seat_offset
        xy = thigh_xy(joints[seated])
        c2, s2 = _oriented_box(xy, 0.05, 0.05, _heading(xy) if len(xy) > 4 else yaw)
        h = max(top - floor, 0.05)
        solids.append(Solid("seat", np.r_[c2, floor + h / 2], np.r_[s2, h], _heading(xy) if len(xy) > 4 else yaw))
    return solids


def _reach_along(
    c2: np.ndarray, s2: np.ndarray, yaw: float, own: np.ndarray, others: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """Extend a step box (centre, size, heading) along the walk to halfway towards the nearest
    footprint of another level beyond each end, at most ``reach`` past its own footprints.

    Where one level ends between two footprints is unknown; halfway is the least wrong guess.
    A short stance lies at one end of its tread, and a foot that slid on after it stood past the
    padded box: on the dev set's stairs walked down from behind, the 0.16 m tread read 0 under
    the foot that stood on it.
    """
    c, s = np.cos(yaw), np.sin(yaw)
    axes = np.array([[c, s], [-s, c]])
    lo, hi = axes @ c2 - s2 / 2, axes @ c2 + s2 / 2
    u, ou = own @ axes[0], others @ axes[0]
    ahead, behind = ou[ou > u.max()], ou[ou < u.min()]
    if len(ahead):
        hi[0] = max(hi[0], min(u.max() + reach, 0.5 * (u.max() + ahead.min())))
    if len(behind):
        lo[0] = min(lo[0], max(u.min() - reach, 0.5 * (u.min() + behind.max())))
    mid = 0.5 * (lo + hi)
    return axes.T @ mid, hi - lo


def _clear_of(
    c2: np.ndarray, s2: np.ndarray, yaw: float, own: np.ndarray, others: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink a padded box (centre, size, heading) so no footprint of a lower level lies inside it:
    a foot that stood beside the step, on the floor, must not end up inside the step. Each side
    facing such a point moves to halfway between it and the step's own nearest footprint."""
    c, s = np.cos(yaw), np.sin(yaw)
    axes = np.array([[c, s], [-s, c]])
    lo, hi = axes @ c2 - s2 / 2, axes @ c2 + s2 / 2
    own_uv, oth_uv = own @ axes.T, others @ axes.T
    olo, ohi = own_uv.min(axis=0), own_uv.max(axis=0)
    for p in oth_uv:
        if not ((p >= lo) & (p <= hi)).all():
            continue
        # the axis on which the point is furthest outside the footprints' own extent
        out_hi, out_lo = p - ohi, olo - p
        k = int(np.argmax(np.maximum(out_hi, out_lo)))
        if out_hi[k] >= out_lo[k] and out_hi[k] > 0:
            hi[k] = min(hi[k], 0.5 * (ohi[k] + p[k]))
        elif out_lo[k] > 0:
            lo[k] = max(lo[k], 0.5 * (olo[k] + p[k]))
    mid = 0.5 * (lo + hi)
    return axes.T @ mid, hi - lo


def thigh_xy(joints: np.ndarray) -> np.ndarray:
    """(N,2) xy under the seated thighs: pelvis, hips and the first half of each thigh."""
    pts = [joints[:, PELVIS, :2]]
    for h, k in zip(HIPS, KNEES, strict=True):
        for f in (0.0, 0.25, 0.5):
            pts.append(joints[:, h, :2] + f * (joints[:, k, :2] - joints[:, h, :2]))
    return np.concatenate(pts)


def rasterize(solids: list[Solid], origin_xy: np.ndarray, resolution: float, shape: tuple[int, int]) -> np.ndarray:
    """(H,W) top height of the highest solid over each cell centre (NaN where none)."""
    ny, nx = shape
    ys, xs = np.mgrid[0:ny, 0:nx]
    xy = np.stack([origin_xy[0] + xs * resolution, origin_xy[1] + ys * resolution], axis=-1)
    out = np.full(shape, np.nan)
    for s in solids:
        out = np.where(s.contains_xy(xy), np.fmax(out, s.top), out)
    return out


def solids_extent(solids: list[Solid]) -> np.ndarray:
    """(N,2) corner points of every solid (for sizing a heightfield around them)."""
    pts = []
    for s in solids:
        c, si = np.cos(s.yaw), np.sin(s.yaw)
        for du in (-0.5, 0.5):
            for dv in (-0.5, 0.5):
                u, v = du * s.size[0], dv * s.size[1]
                pts.append(s.center[:2] + [u * c - v * si, u * si + v * c])
    return np.array(pts).reshape(-1, 2)


def box_mesh(center: np.ndarray, size: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """(8,3) corners and (12,3) triangles of an oriented box (corners 0-3 bottom, 4-7 top, CCW)."""
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    unit = np.array(
        [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]]
    )
    verts = (unit * np.asarray(size) / 2) @ R.T + np.asarray(center)
    faces = np.array([
        [0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
        [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7],
    ])  # fmt: skip
    return verts, faces
