"""Gravity and focal length of a still camera from the straight lines of the scene.

A camera on a tripod sees the scene from one place, so nothing in its motion says which way is up
or how long its lens is; the person alone leaves the focal length unknown (depth and focal trade
exactly) and the gravity to a degree or two. Man-made scenes hold parallel lines that meet at
vanishing points: the vertical ones (walls' edges, posts, doors, stair risers) give the up
direction in the camera to a fraction of a degree, and two perpendicular horizontal families
(tiles, stair nosings, a kerb and the wall behind it) give the focal length, f^2 = -(v1 - c).(v2 - c)
for the principal point c.

Segments come from OpenCV's line segment detector on the median of a few frames (the person, who
moves, mostly leaves it), minus segments where the person stays. The vanishing points are found one
after another by RANSAC over pairs of segments, each scored by the length of the segments pointing
at it. Nothing here is trusted blindly: the caller compares the up direction with the person's, and
a focal length is only returned when two horizontal families lie on the horizon the vertical one
defines and the result is within ``FOCAL_RANGE`` of the prior.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Shortest segment kept, as a fraction of the image's longer side.
MIN_SEGMENT_FRAC = 0.04
#: A segment points at a vanishing point when its direction is within this angle (deg) of the
#: direction from its midpoint to the point.
INLIER_DEG = 1.5
#: A family of lines needs this many segments, and this total length (x the longer image side):
#: more for the horizontal families that fix the focal length than for the vertical one (its
#: direction is checked against the person's).
MIN_FAMILY_SEGMENTS = 4
MIN_FAMILY_LENGTH = 0.5
MIN_VERTICAL_LENGTH = 0.3
#: Focal lengths further than this from the prior (factors) are taken as a wrong pair of families.
FOCAL_RANGE = (0.7, 1.5)
#: Horizontal families must lie within this angle (deg) of the horizon of the vertical family.
HORIZON_DEG = 3.0


@dataclass
class SceneLines:
    """What the scene's lines say (camera axes: x right, y down, z forward)."""

    up_cam: np.ndarray | None  # (3,) unit up direction in the camera frame, or None
    focal_px: float | None  # focal length from two perpendicular horizontal families, or None
    info: dict = field(default_factory=dict)


def median_background(frames: np.ndarray, masks: np.ndarray | None, n: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """(H,W) uint8 grey median of ``n`` frames spread over the clip, and where the person stays
    (masked in most of them): the median keeps what does not move."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int))
    f = frames[idx].astype(np.float32)
    grey = f @ np.array([0.299, 0.587, 0.114], np.float32) if f.ndim == 4 else f
    med = np.median(grey, axis=0).astype(np.uint8)
    if masks is None:
        return med, np.zeros(med.shape, bool)
    return med, np.asarray(masks)[idx].astype(bool).mean(axis=0) > 0.3


def segments(grey: np.ndarray, person: np.ndarray) -> np.ndarray:
    """(N,4) line segments x1,y1,x2,y2 (px), long enough and not on the person."""
    import cv2

    found = cv2.createLineSegmentDetector().detect(grey)[0]
    if found is None:
        return np.zeros((0, 4))
    s = found.reshape(-1, 4).astype(np.float64)
    s = s[np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1]) >= MIN_SEGMENT_FRAC * max(grey.shape)]
    if person.any() and len(s):
        import scipy.ndimage as ndi

        near = ndi.binary_dilation(person, iterations=8)
        mid = np.clip((0.5 * (s[:, :2] + s[:, 2:])).round().astype(int), 0, [grey.shape[1] - 1, grey.shape[0] - 1])
        s = s[~near[mid[:, 1], mid[:, 0]]]
    return s


def _pointing(seg: np.ndarray, v: np.ndarray) -> np.ndarray:
    """|cos| between each segment and the direction from its midpoint to the homogeneous point v."""
    d = seg[:, 2:] - seg[:, :2]
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
    if abs(v[2]) > 1e-9 * np.linalg.norm(v[:2]):
        u = v[:2] / v[2] - 0.5 * (seg[:, :2] + seg[:, 2:])
    else:  # a point at infinity: a direction
        u = np.tile(v[:2], (len(seg), 1))
    u /= np.linalg.norm(u, axis=1, keepdims=True) + 1e-12
    return np.abs((u * d).sum(axis=1))


def vanishing_points(
    seg: np.ndarray, n_points: int = 4, iters: int = 2000, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Up to ``n_points`` (homogeneous point, inlier mask over ``seg``), strongest first."""
    rng = np.random.default_rng(seed)
    lines = np.cross(np.c_[seg[:, :2], np.ones(len(seg))], np.c_[seg[:, 2:], np.ones(len(seg))])
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    cos_tol = np.cos(np.radians(INLIER_DEG))
    free = np.ones(len(seg), bool)
    out = []
    for _ in range(n_points):
        idx = np.flatnonzero(free)
        if len(idx) < MIN_FAMILY_SEGMENTS:
            break
        best, best_in = -1.0, None
        for _ in range(iters):
            i, j = rng.choice(idx, 2, replace=False)
            v = np.cross(lines[i], lines[j])
            if not np.isfinite(v).all() or np.linalg.norm(v) < 1e-12:
                continue
            inl = free & (_pointing(seg, v) > cos_tol)
            score = length[inl].sum()
            if score > best:
                best, best_in = score, inl
        if best_in is None or best_in.sum() < MIN_FAMILY_SEGMENTS:
            break
        # refine: the point closest to every inlier line (lines normalised, weighted by length)
        ln = lines[best_in] / np.linalg.norm(lines[best_in][:, :2], axis=1, keepdims=True)
        v = np.linalg.svd(ln * length[best_in, None])[2][-1]
        inl = free & (_pointing(seg, v) > cos_tol)
        out.append((v, inl))
        free &= ~inl
    return out


def _direction(v: np.ndarray, K: np.ndarray) -> np.ndarray:
    d = np.linalg.solve(K, v)
    return d / np.linalg.norm(d)


def scene_lines(frames: np.ndarray, masks: np.ndarray | None, f_prior: float) -> SceneLines:
    """Up direction and focal length of a still camera from the scene's vanishing points."""
    grey, person = median_background(frames, masks)
    H, W = grey.shape
    seg = segments(grey, person)
    info: dict = {"line_segments": len(seg)}
    if len(seg) < 2 * MIN_FAMILY_SEGMENTS:
        info["scene_lines"] = "too few straight lines"
        return SceneLines(None, None, info)
    c = np.array([W / 2, H / 2])
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    side = max(H, W)
    fams = []  # (point, segments, vertical?, strong enough for a focal length?)
    for v, inl in vanishing_points(seg):
        d = seg[inl, 2:] - seg[inl, :2]
        steep = float(np.median(np.abs(d[:, 1]) / (np.linalg.norm(d, axis=1) + 1e-12)))
        finite = abs(v[2]) > 1e-9 * np.linalg.norm(v[:2])
        # verticals are steep and meet far above or below the image (a pitch under ~35 deg);
        # receding floor lines can be as steep but meet on the horizon, near the middle
        far = not finite or abs(v[1] / v[2] - c[1]) > side
        vertical = steep > 0.8 and far and length[inl].sum() >= MIN_VERTICAL_LENGTH * side
        strong = finite and not far and length[inl].sum() >= MIN_FAMILY_LENGTH * side
        fams.append((v, int(inl.sum()), vertical, strong))
    info["line_families"] = [[n, "vertical" if vert else ("horizontal" if st else "weak")] for _, n, vert, st in fams]
    vertical = [f for f in fams if f[2]]
    if not vertical:
        info["scene_lines"] = "no family of vertical lines"
        return SceneLines(None, None, info)
    vv = vertical[0][0]
    K0 = np.array([[f_prior, 0, c[0]], [0, f_prior, c[1]], [0, 0, 1.0]])
    # focal: two horizontal families perpendicular to each other and on the vertical's horizon
    focal = None
    horiz = [f[0] for f in fams if f[3]]
    for i in range(len(horiz)):
        for j in range(i + 1, len(horiz)):
            a, b = horiz[i][:2] / horiz[i][2], horiz[j][:2] / horiz[j][2]
            f2 = -float(np.dot(a - c, b - c))
            if f2 <= 0:
                continue
            f = float(np.sqrt(f2))
            if not FOCAL_RANGE[0] * f_prior <= f <= FOCAL_RANGE[1] * f_prior:
                continue
            K = np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1.0]])
            up = _direction(vv, K)
            off = [np.degrees(np.arcsin(min(1.0, abs(_direction(h, K) @ up)))) for h in (horiz[i], horiz[j])]
            if max(off) <= HORIZON_DEG:
                focal = f
                info["focal_from_lines_horizon_deg"] = round(max(off), 2)
                break
        if focal is not None:
            break
    up = _direction(vv, K0 if focal is None else np.array([[focal, 0, c[0]], [0, focal, c[1]], [0, 0, 1.0]]))
    if up[1] > 0:  # image y points down: up has a negative y component
        up = -up
    info["scene_lines"] = "up" + (" and focal" if focal is not None else "")
    return SceneLines(up, focal, info)
