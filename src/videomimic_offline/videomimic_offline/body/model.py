"""An open, parametric, skinned human body whose joints are exactly ``skeleton.HUMAN_JOINTS``.

Why our own and not Anny: Anny (the open MakeHuman-based model) needs ~180 s and a 790 MB cache
on its first construction and pulls warp-lang; the synthetic benchmark, the tests and RECON's
fitting need a body that builds in milliseconds, has exactly our 18-joint skeleton, and whose
shape is set by the one number the pipeline uses as its metric ruler: the height.

The model is a mannequin made of lofted, capped tubes (torso, limbs, neck), ellipsoids (head,
hands) and shaped feet, all in one triangle mesh with linear-blend-skinning weights on the 18
joints (blended across each joint so bends stay closed). Proportions follow standard
anthropometric height fractions (Drillis & Contini segment table); three extra parameters
change leg length, shoulder width and girth. It is textured through a small atlas (skin,
shirt, trousers, shoes, a painted face and hair) so a 2D pose detector sees a clothed person.

Conventions: rest pose standing upright, facing +x, z up, y to the person's left, soles at
z = 0 and the top of the head at z = height. Every joint's rest frame is the world frame, so a
pose is a set of local rotations (parent frame) per joint plus the root (pelvis) transform.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS
from videomimic_offline.errors import InputError

J = len(HUMAN_JOINTS)
_IDX = {n: i for i, n in enumerate(HUMAN_JOINTS)}

#: Heights the model (and the synthetic benchmark) is meant for, metres.
HEIGHT_RANGE = (1.5, 1.95)

#: Heights the model accepts at all (metres): the one range every height input is checked against.
VALID_HEIGHT_M = (1.2, 2.2)

#: Order of :attr:`BodyShape.as_array` / :meth:`BodyShape.from_array`.
SHAPE_PARAM_NAMES = ("height_m", "leg_ratio", "shoulder_ratio", "girth")


@dataclass(frozen=True)
class BodyShape:
    """Shape parameters: height plus three unitless proportions (1.0 = average)."""

    height_m: float = 1.75
    leg_ratio: float = 1.0  # leg length relative to the average fraction of height (0.93..1.07)
    shoulder_ratio: float = 1.0  # shoulder breadth factor (0.85..1.15)
    girth: float = 1.0  # limb/torso thickness factor (0.8..1.3)

    def __post_init__(self) -> None:
        lo, hi = VALID_HEIGHT_M
        if not lo <= self.height_m <= hi:
            raise InputError(f"body height {self.height_m} m is outside {lo}..{hi} m: give the height in metres")
        for name, (a, b) in {"leg_ratio": (0.85, 1.15), "shoulder_ratio": (0.7, 1.3), "girth": (0.6, 1.6)}.items():
            v = getattr(self, name)
            if not a <= v <= b:
                raise InputError(f"body {name}={v} is outside {a}..{b}")

    def as_array(self) -> np.ndarray:
        """Parameters as a float64 vector in :data:`SHAPE_PARAM_NAMES` order (for npz files)."""
        return np.array([self.height_m, self.leg_ratio, self.shoulder_ratio, self.girth], dtype=np.float64)

    @classmethod
    def from_array(cls, a: np.ndarray) -> BodyShape:
        """Inverse of :meth:`as_array`."""
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        return cls(*(float(x) for x in a[: len(SHAPE_PARAM_NAMES)]))


#: The ankle joint's height over the sole, as a fraction of stature (Drillis & Contini).
ANKLE_HEIGHT_FRAC = 0.039
#: The toe joint's height over the sole, as a fraction of stature.
TOE_HEIGHT_FRAC = 0.012


def rest_joints(shape: BodyShape) -> np.ndarray:
    """Rest-pose joint positions (J,3) for ``shape``; soles at z=0, head top at z=height."""
    h = shape.height_m
    lr, sr = shape.leg_ratio, shape.shoulder_ratio
    # Vertical fractions of height (Drillis & Contini); the legs stretch by leg_ratio and the
    # trunk absorbs the difference so the total height stays exactly h.
    ankle_z = ANKLE_HEIGHT_FRAC
    knee_z = ankle_z + (0.285 - ankle_z) * lr
    hip_z = ankle_z + (0.51 - ankle_z) * lr
    top_trunk = 0.83  # neck base

    def trunk(f: float) -> float:  # map an average-body fraction in [0.51, 0.83] onto the stretched trunk
        return hip_z + (f - 0.51) * (top_trunk - hip_z) / (top_trunk - 0.51)

    p = np.zeros((J, 3))
    p[_IDX["pelvis"]] = (0.0, 0.0, trunk(0.54))
    p[_IDX["left_hip"]] = (0.0, 0.05, hip_z)
    p[_IDX["right_hip"]] = (0.0, -0.05, hip_z)
    p[_IDX["spine"]] = (-0.005, 0.0, trunk(0.65))
    p[_IDX["neck"]] = (-0.005, 0.0, top_trunk)
    p[_IDX["head"]] = (0.0, 0.0, 0.912)
    sy = 0.112 * sr
    sh_z = trunk(0.812)
    arm = np.array([0.812 - 0.63, 0.63 - 0.485])  # upper arm, forearm lengths (fractions)
    for side, s in (("left", 1.0), ("right", -1.0)):
        p[_IDX[f"{side}_shoulder"]] = (0.0, s * sy, sh_z)
        p[_IDX[f"{side}_elbow"]] = (-0.01, s * (sy + 0.022), sh_z - arm[0])
        p[_IDX[f"{side}_wrist"]] = (0.0, s * (sy + 0.032), sh_z - arm.sum())
        p[_IDX[f"{side}_knee"]] = (0.005, s * 0.052, knee_z)
        p[_IDX[f"{side}_ankle"]] = (-0.005, s * 0.054, ankle_z)
        p[_IDX[f"{side}_toe"]] = (0.078, s * 0.058, TOE_HEIGHT_FRAC)
    return p * h


# ----------------------------------------------------------------------------------------------
# mesh construction


@dataclass
class _MeshBuilder:
    verts: list[np.ndarray] = field(default_factory=list)
    faces: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    uvs: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def add(self, v: np.ndarray, f: np.ndarray, w: np.ndarray, uv: np.ndarray) -> None:
        self.verts.append(v)
        self.faces.append(f + self.n)
        self.weights.append(w)
        self.uvs.append(uv)
        self.n += len(v)


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to ``axis`` (the first as close to +x/forward as possible)."""
    a = axis / np.linalg.norm(axis)
    ref = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    u = ref - a * (ref @ a)
    u /= np.linalg.norm(u)
    return u, np.cross(a, u)


def _grid_faces(rows: int, cols: int, closed: bool = True) -> np.ndarray:
    """Quads (as triangles) of a rows x cols vertex grid, wrapping around the columns."""
    f = []
    cmax = cols if closed else cols - 1
    for r in range(rows - 1):
        for c in range(cmax):
            a, b = r * cols + c, r * cols + (c + 1) % cols
            d, e = a + cols, b + cols
            f += [(a, b, e), (a, e, d)]
    return np.array(f, dtype=np.int64)


def _region_uv(region: tuple[float, float, float, float], s: np.ndarray, t: np.ndarray) -> np.ndarray:
    u0, v0, u1, v1 = region
    return np.stack([u0 + (u1 - u0) * np.clip(s, 0, 1), v0 + (v1 - v0) * np.clip(t, 0, 1)], axis=1)


#: Fraction (bottom) of the atlas' shirt region painted in the trousers' colour (below the waist).
_WAIST_BAND = 0.12

# Texture atlas regions (u0, v0, u1, v1) in [0,1]; v measured from the image's top row.
REGION = {
    "skin": (0.0, 0.0, 0.25, 0.25),
    "shirt": (0.25, 0.0, 0.75, 0.5),
    "pants": (0.0, 0.5, 0.5, 1.0),
    "shoe": (0.75, 0.0, 1.0, 0.25),
    "face": (0.5, 0.5, 1.0, 1.0),
}


def _tube(
    mb: _MeshBuilder,
    p0: np.ndarray,
    p1: np.ndarray,
    r0: float,
    r1: float,
    joint: int,
    start_blend: int,
    end_blend: int,
    region: str,
    ring: int = 14,
    rows: int = 8,
    flat: float = 1.0,
    caps: bool = True,
) -> None:
    """A tapered tube with rounded caps from ``p0`` to ``p1``, skinned to ``joint``.

    Near the start the weight blends 50/50 into ``start_blend`` (the parent segment's joint),
    near the end into ``end_blend`` (the child's), so two tubes meeting at a joint bend together.
    ``flat`` < 1 squashes the cross-section along the second frame axis (hands, feet).
    """
    axis = p1 - p0
    length = np.linalg.norm(axis)
    u, v = _frame(axis)
    a = axis / length
    # axial samples: cap rings (hemisphere) + body rows + cap rings
    ncap = 3 if caps else 0
    cap_ang = np.linspace(np.pi / 2, 0, ncap + 1)[:-1] if caps else np.zeros(0)
    s_body = np.linspace(0, 1, rows)
    prof_s, prof_r, prof_off = [], [], []
    for ang in cap_ang:  # start cap, from the pole inward
        prof_s.append(0.0)
        prof_r.append(r0 * np.cos(ang))
        prof_off.append(-r0 * np.sin(ang))
    for s in s_body:
        prof_s.append(s)
        prof_r.append(r0 + (r1 - r0) * s)
        prof_off.append(0.0)
    for ang in cap_ang[::-1]:
        prof_s.append(1.0)
        prof_r.append(r1 * np.cos(ang))
        prof_off.append(r1 * np.sin(ang))
    prof_s, prof_r, prof_off = map(np.asarray, (prof_s, prof_r, prof_off))
    ring += 1  # a duplicated seam column, so the texture does not wrap back across one face
    th = np.linspace(0, 2 * np.pi, ring)
    circ = np.cos(th)[:, None] * u + flat * np.sin(th)[:, None] * v  # (ring,3)
    centers = p0 + prof_s[:, None] * axis + prof_off[:, None] * a
    verts = (centers[:, None, :] + prof_r[:, None, None] * circ[None]).reshape(-1, 3)
    nrow = len(prof_s)
    faces = _grid_faces(nrow, ring, closed=False)
    # pole vertices to close the ends
    pole0 = p0 - a * (r0 if caps else 0.0)
    pole1 = p1 + a * (r1 if caps else 0.0)
    i0, i1 = len(verts), len(verts) + 1
    verts = np.vstack([verts, pole0, pole1])
    cap0 = [(i0, (c + 1), c) for c in range(ring - 1)]
    last = (nrow - 1) * ring
    cap1 = [(i1, last + c, last + (c + 1)) for c in range(ring - 1)]
    faces = np.vstack([faces, np.array(cap0), np.array(cap1)])
    s_all = np.concatenate([np.repeat(prof_s, ring), [0.0, 1.0]])
    w = np.zeros((len(verts), J))
    blend = 0.22
    w_start = 0.5 * np.clip(1 - s_all / blend, 0, 1) if start_blend >= 0 else np.zeros_like(s_all)
    w_end = 0.5 * np.clip((s_all - (1 - blend)) / blend, 0, 1) if end_blend >= 0 else np.zeros_like(s_all)
    w[:, joint] = 1 - w_start - w_end
    if start_blend >= 0:
        w[:, start_blend] += w_start
    if end_blend >= 0:
        w[:, end_blend] += w_end
    tcoord = np.concatenate([np.tile(th / (2 * np.pi), nrow), [0.5, 0.5]])
    uv = _region_uv(REGION[region], tcoord, s_all)
    mb.add(verts, faces, w, uv)


def _ellipsoid(
    mb: _MeshBuilder, c: np.ndarray, radii: np.ndarray, joint: int, region: str, n_lat: int = 14, n_lon: int = 20
) -> None:
    """An ellipsoid skinned rigidly to ``joint``; UV = (longitude from +x, latitude) in ``region``."""
    lat = np.linspace(-np.pi / 2, np.pi / 2, n_lat)[1:-1]
    n_lon += 1  # duplicated seam meridian (see _tube)
    lon = np.linspace(-np.pi, np.pi, n_lon)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    d = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1).reshape(-1, 3)
    verts = c + d * radii
    faces = _grid_faces(len(lat), n_lon, closed=False)
    i0, i1 = len(verts), len(verts) + 1
    verts = np.vstack([verts, c - [0, 0, radii[2]], c + [0, 0, radii[2]]])
    last = (len(lat) - 1) * n_lon
    cap0 = [(i0, (k + 1), k) for k in range(n_lon - 1)]
    cap1 = [(i1, last + k, last + (k + 1)) for k in range(n_lon - 1)]
    faces = np.vstack([faces, np.array(cap0), np.array(cap1)])
    w = np.zeros((len(verts), J))
    w[:, joint] = 1.0
    s = np.concatenate([(lo.reshape(-1) + np.pi) / (2 * np.pi), [0.5, 0.5]])
    t = np.concatenate([1 - (la.reshape(-1) + np.pi / 2) / np.pi, [1.0, 0.0]])
    mb.add(verts, faces, w, _region_uv(REGION[region], s, t))


def _torso(mb: _MeshBuilder, p: np.ndarray, h: float, sr: float, g: float) -> None:
    """Lofted elliptical trunk from below the hips to the neck base, skinned pelvis->spine->neck."""
    zp, zs, zn = p[_IDX["pelvis"], 2], p[_IDX["spine"], 2], p[_IDX["neck"], 2]
    hip_z = p[_IDX["left_hip"], 2]
    # (z, half-width y, half-depth x, x-offset) keyframes of the cross-section
    keys = np.array(
        [
            (hip_z - 0.045 * h, 0.080, 0.052, 0.000),
            (hip_z, 0.095, 0.062, -0.004),
            (zp, 0.092, 0.060, -0.004),
            (0.5 * (zp + zs), 0.080, 0.054, 0.0),
            (zs, 0.085, 0.058, 0.002),
            (zs + 0.5 * (zn - zs), 0.100 * sr, 0.066, 0.006),
            (zn - 0.03 * h, 0.105 * sr, 0.060, 0.0),
            (zn, 0.045, 0.035, 0.0),
        ]
    )
    rows, ring = 18, 20
    z = np.linspace(keys[0, 0], keys[-1, 0], rows)
    wy = np.interp(z, keys[:, 0], keys[:, 1]) * h * g ** (0.5)
    wx = np.interp(z, keys[:, 0], keys[:, 2]) * h * g
    ox = np.interp(z, keys[:, 0], keys[:, 3]) * h
    wy[-1] = keys[-1, 1] * h * g
    ring += 1  # a duplicated seam column, so the texture does not wrap back across one face
    th = np.linspace(0, 2 * np.pi, ring)
    ex = 2.4  # superellipse exponent: a boxier trunk than an ellipse
    cx = np.sign(np.cos(th)) * np.abs(np.cos(th)) ** (2 / ex)
    cy = np.sign(np.sin(th)) * np.abs(np.sin(th)) ** (2 / ex)
    verts = np.stack(
        [ox[:, None] + wx[:, None] * cx[None], wy[:, None] * cy[None], np.repeat(z[:, None], ring, 1)], -1
    ).reshape(-1, 3)
    faces = _grid_faces(rows, ring, closed=False)
    i0, i1 = len(verts), len(verts) + 1
    verts = np.vstack([verts, [0, 0, z[0] - 0.01 * h], [0, 0, z[-1]]])
    last = (rows - 1) * ring
    faces = np.vstack(
        [
            faces,
            np.array([(i0, (c + 1), c) for c in range(ring - 1)]),
            np.array([(i1, last + c, last + (c + 1)) for c in range(ring - 1)]),
        ]
    )
    zz = verts[:, 2]
    w = np.zeros((len(verts), J))
    a = np.clip((zz - zp) / (zs - zp), 0, 1)  # pelvis -> spine
    b = np.clip((zz - (zn - 0.06 * h)) / (0.06 * h), 0, 1) * 0.5  # spine -> neck near the top
    w[:, _IDX["pelvis"]] = 1 - a
    w[:, _IDX["spine"]] = a * (1 - b)
    w[:, _IDX["neck"]] = a * b
    s = np.concatenate([np.tile(th / (2 * np.pi), rows), [0.5, 0.5]])
    t = (zz - z[0]) / (z[-1] - z[0])
    # trousers start at the hips: the atlas paints the shirt region's bottom band in the trousers'
    # colour (no UV jump between atlas regions inside one face)
    t_w = (hip_z + 0.01 * h - z[0]) / (z[-1] - z[0])
    v_rel = np.where(t < t_w, 1 - _WAIST_BAND * t / t_w, (1 - _WAIST_BAND) * (1 - (t - t_w) / (1 - t_w)))
    uv = _region_uv(REGION["shirt"], s, v_rel)
    mb.add(verts, faces, w, uv)


def _foot(mb: _MeshBuilder, p: np.ndarray, side: str, h: float, g: float) -> None:
    """A shoe: flat sole at z=0 from heel to toe tip, skinned to ankle (rear) and toe (front)."""
    ia, it = _IDX[f"{side}_ankle"], _IDX[f"{side}_toe"]
    ank, toe = p[ia], p[it]
    heel_x, tip_x = ank[0] - 0.035 * h, toe[0] + 0.04 * h
    xs = np.linspace(heel_x, tip_x, 12)
    ring = 14
    ring += 1  # a duplicated seam column, so the texture does not wrap back across one face
    th = np.linspace(0, 2 * np.pi, ring)
    # width and height profiles along the foot
    f = (xs - heel_x) / (tip_x - heel_x)
    half_w = h * 0.026 * (0.8 + 0.35 * np.sin(np.pi * np.clip(f * 1.1, 0, 1))) * g**0.3
    top = h * np.interp(f, [0, 0.3, 0.7, 1.0], [0.05, 0.055, 0.03, 0.02])
    ymid = np.interp(xs, [ank[0], toe[0]], [ank[1], toe[1]])
    cz = 0.5 * top
    cy, cs = np.cos(th), np.sin(th)
    # flat sole: the lower part of each ring is clamped onto z=0
    z = np.maximum(cz[:, None] + 0.5 * top[:, None] * cs[None], 0.0)
    verts = np.stack([np.repeat(xs[:, None], ring, 1), ymid[:, None] + half_w[:, None] * cy[None], z], -1).reshape(
        -1, 3
    )
    faces = _grid_faces(len(xs), ring, closed=False)
    # close heel and toe with fans
    i0, i1 = len(verts), len(verts) + 1
    verts = np.vstack([verts, [heel_x - 0.004 * h, ymid[0], cz[0]], [tip_x + 0.004 * h, ymid[-1], cz[-1] * 0.8]])
    last = (len(xs) - 1) * ring
    faces = np.vstack(
        [
            faces,
            np.array([(i0, c, (c + 1)) for c in range(ring - 1)]),
            np.array([(i1, last + (c + 1), last + c) for c in range(ring - 1)]),
        ]
    )
    w = np.zeros((len(verts), J))
    a = np.clip((verts[:, 0] - (toe[0] - 0.015 * h)) / (0.03 * h), 0, 1)
    w[:, ia] = 1 - a
    w[:, it] = a
    s = np.concatenate([np.tile(th / (2 * np.pi), len(xs)), [0.5, 0.5]])
    t = np.clip((verts[:, 0] - heel_x) / (tip_x - heel_x), 0, 1)
    mb.add(verts, faces, w, _region_uv(REGION["shoe"], s, t))


@dataclass
class BodyModel:
    """A built body: rest mesh, skinning weights, rest joints, UVs and texture atlas."""

    shape: BodyShape
    joints_rest: np.ndarray  # (J,3)
    vertices_rest: np.ndarray  # (V,3)
    faces: np.ndarray  # (F,3) int
    weights: np.ndarray  # (V,J) rows sum to 1
    uv: np.ndarray  # (V,2) in [0,1], v from the top row of :attr:`texture`
    texture: np.ndarray  # (H,W,3) uint8 atlas
    _incidence: object = field(default=None, repr=False)  # vertex x face matrix, built on first use
    _canon: np.ndarray | None = field(default=None, repr=False)  # seam-welded vertex ids

    @property
    def parents(self) -> tuple[int, ...]:
        return HUMAN_PARENTS

    def bone_lengths(self) -> np.ndarray:
        """Length of the bone from each joint's parent to it (J,), 0 for the root."""
        out = np.zeros(J)
        for j, pj in enumerate(HUMAN_PARENTS):
            if pj >= 0:
                out[j] = np.linalg.norm(self.joints_rest[j] - self.joints_rest[pj])
        return out

    def forward_kinematics(
        self, root_pos: np.ndarray, root_rot: np.ndarray, local_rots: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """World joint positions and rotations for a (batch of) pose(s).

        ``root_pos`` (...,3) is the pelvis position, ``root_rot`` (...,3,3) its world rotation,
        ``local_rots`` (...,J,3,3) each joint's rotation in its parent's frame (entry 0, the
        pelvis, is ignored in favour of ``root_rot``). Returns (joints (...,J,3), rots (...,J,3,3)).
        """
        local_rots = np.asarray(local_rots, dtype=np.float64)
        batch = local_rots.shape[:-3]
        pos = np.zeros((*batch, J, 3))
        rot = np.zeros((*batch, J, 3, 3))
        pos[..., 0, :] = root_pos
        rot[..., 0, :, :] = root_rot
        for j in range(1, J):
            pj = HUMAN_PARENTS[j]
            off = self.joints_rest[j] - self.joints_rest[pj]
            pos[..., j, :] = pos[..., pj, :] + np.einsum("...ab,b->...a", rot[..., pj, :, :], off)
            rot[..., j, :, :] = rot[..., pj, :, :] @ local_rots[..., j, :, :]
        return pos, rot

    def skin(self, joints_w: np.ndarray, rots_w: np.ndarray) -> np.ndarray:
        """Linear-blend-skinned vertices (V,3) for one pose from :meth:`forward_kinematics`."""
        # per-joint affine v -> R_j v + (p_j - R_j rest_j), blended per vertex (one matmul)
        b = joints_w - np.einsum("jab,jb->ja", rots_w, self.joints_rest)
        A = np.concatenate([rots_w.reshape(J, 9), b], axis=1)  # (J,12)
        M = self.weights @ A  # (V,12)
        v = self.vertices_rest
        return M[:, 0:9:3] * v[:, :1] + M[:, 1:9:3] * v[:, 1:2] + M[:, 2:9:3] * v[:, 2:3] + M[:, 9:]

    def pose(self, root_pos: np.ndarray, root_rot: np.ndarray, local_rots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posed (vertices (V,3), joints (J,3)) for one frame."""
        jp, jr = self.forward_kinematics(root_pos, root_rot, local_rots)
        return self.skin(jp, jr), jp

    def vertex_normals(self, verts: np.ndarray) -> np.ndarray:
        """Area-weighted unit vertex normals of a posed mesh."""
        if self._incidence is None:
            from scipy.sparse import csr_matrix

            # vertices at the same rest position (texture seams) share one normal
            key = np.round(self.vertices_rest / 1e-6).astype(np.int64)
            _, canon = np.unique(key, axis=0, return_inverse=True)
            self._canon = canon.reshape(-1)
            f = self._canon[self.faces.ravel()]
            cols = np.repeat(np.arange(len(self.faces)), 3)
            self._incidence = csr_matrix((np.ones(len(f)), (f, cols)), shape=(len(verts), len(self.faces)))
        tri = verts[self.faces]
        vn = (self._incidence @ np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))[self._canon]
        return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def _paint_texture(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """The texture atlas: skin, a patterned shirt, denim-like trousers, shoes, a face with hair."""
    img = np.zeros((size, size, 3), dtype=np.float64)
    skin_tones = np.array([[224, 184, 150], [198, 146, 110], [160, 110, 80], [110, 75, 55], [236, 200, 170]])
    skin = skin_tones[rng.integers(len(skin_tones))] * rng.uniform(0.92, 1.05)
    shirt = rng.uniform(30, 230, 3)
    shirt2 = np.clip(shirt * rng.uniform(0.4, 0.8) + rng.uniform(-30, 30, 3), 0, 255)
    pants = np.array(([50, 60, 95], [40, 40, 45], [120, 100, 70], [70, 80, 60]))[rng.integers(4)] * rng.uniform(
        0.8, 1.2
    )
    shoe = np.array(([30, 30, 30], [220, 220, 220], [90, 50, 30]))[rng.integers(3)]
    hair = np.array(([25, 20, 15], [70, 45, 25], [150, 110, 60], [40, 30, 25]))[rng.integers(4)]

    def box(region: tuple[float, float, float, float]) -> tuple[slice, slice]:
        u0, v0, u1, v1 = (int(round(x * size)) for x in region)
        return slice(v0, v1), slice(u0, u1)

    noise = rng.normal(0, 1, (size, size, 1))
    img[box(REGION["skin"])] = skin
    ys, xs = box(REGION["shirt"])
    img[ys, xs] = shirt
    yy, xx = np.mgrid[ys, xs]
    pattern = rng.integers(3)
    if pattern == 0:  # horizontal stripes
        img[ys, xs][(yy // 8) % 2 == 0] = shirt2
    elif pattern == 1:  # checks
        img[ys, xs][((yy // 10) + (xx // 10)) % 2 == 0] = shirt2
    img[box(REGION["pants"])] = pants
    ys, xs = box(REGION["shirt"])
    img[ys.stop - int(round(_WAIST_BAND * (ys.stop - ys.start))) : ys.stop, xs] = pants
    img[box(REGION["shoe"])] = shoe
    img += noise * 6
    # face: longitude u in [0,1] (0.5 = facing +x), latitude v (0 = top of head)
    ys, xs = box(REGION["face"])
    fh, fw = ys.stop - ys.start, xs.stop - xs.start
    v, u = np.mgrid[0:fh, 0:fw]
    lon = (u / fw - 0.5) * 2 * np.pi  # radians from forward
    lat = (0.5 - v / fh) * np.pi  # radians up
    face = np.empty((fh, fw, 3))
    face[:] = skin
    hairline = (lat > 0.35 + 0.25 * np.cos(lon).clip(0)) | ((np.abs(lon) > 1.9) & (lat > -0.55))
    face[hairline] = hair
    for s in (-1, 1):  # eyes, brows
        eye = ((lon - s * 0.38) / 0.13) ** 2 + ((lat - 0.1) / 0.07) ** 2 < 1
        face[eye] = (245, 245, 245)
        pupil = ((lon - s * 0.38) / 0.06) ** 2 + ((lat - 0.1) / 0.06) ** 2 < 1
        face[pupil] = (40, 30, 25)
        brow = (np.abs(lon - s * 0.38) < 0.17) & (np.abs(lat - 0.22) < 0.025)
        face[brow] = hair
    nose = (np.abs(lon) < 0.07) & (lat < 0.08) & (lat > -0.12)
    face[nose] = skin * 0.8
    mouth = (np.abs(lon) < 0.22) & (np.abs(lat + 0.3) < 0.035)
    face[mouth] = (150, 60, 60)
    img[ys, xs] = face
    return np.clip(img, 0, 255).astype(np.uint8)


def build_body(shape: BodyShape | None = None, *, seed: int = 0) -> BodyModel:
    """Build the skinned body for ``shape`` (milliseconds); ``seed`` picks the clothing colours."""
    shape = shape or BodyShape()
    h, g, sr = shape.height_m, shape.girth, shape.shoulder_ratio
    p = rest_joints(shape)
    mb = _MeshBuilder()

    _torso(mb, p, h, sr, g)
    # neck and head
    _tube(
        mb,
        p[_IDX["neck"]] - [0, 0, 0.02 * h],
        p[_IDX["head"]],
        0.028 * h * g**0.5,
        0.026 * h,
        _IDX["neck"],
        _IDX["spine"],
        _IDX["head"],
        "skin",
    )
    head_c = p[_IDX["head"]] + np.array([0.008, 0.0, 0.022]) * h
    _ellipsoid(mb, head_c, np.array([0.058, 0.048, 0.066]) * h, _IDX["head"], "face")
    for side in ("left", "right"):
        sh, el, wr = (_IDX[f"{side}_{n}"] for n in ("shoulder", "elbow", "wrist"))
        hp, kn, an, to = (_IDX[f"{side}_{n}"] for n in ("hip", "knee", "ankle", "toe"))
        ra = 0.024 * h * g
        _tube(mb, p[sh], p[el], ra * 1.15, ra * 0.9, sh, _IDX["neck"], el, "shirt")
        _tube(mb, p[el], p[wr], ra * 0.9, ra * 0.65, el, sh, wr, "skin")
        hand_dir = (p[wr] - p[el]) / np.linalg.norm(p[wr] - p[el])
        _tube(
            mb,
            p[wr] + hand_dir * 0.01 * h,
            p[wr] + hand_dir * 0.085 * h,
            0.022 * h,
            0.018 * h,
            wr,
            -1,
            -1,
            "skin",
            flat=0.45,
            rows=4,
        )
        rl = 0.045 * h * g
        _tube(mb, p[hp] + [0, 0, 0.03 * h], p[kn], rl * 1.25, rl * 0.8, hp, _IDX["pelvis"], kn, "pants")
        _tube(mb, p[kn], p[an] + [0, 0, 0.02 * h], rl * 0.8, rl * 0.5, kn, hp, an, "pants")
        _foot(mb, p, side, h, g)
    verts = np.vstack(mb.verts)
    weights = np.vstack(mb.weights)
    uv = np.vstack(mb.uvs)
    # every part is closed: orient its triangles outward so lighting is right
    faces_parts = []
    start = 0
    for v_part, f_part in zip(mb.verts, mb.faces, strict=True):
        local = f_part - start
        faces_parts.append(_orient_part(v_part, local) + start)
        start += len(v_part)
    faces = np.vstack(faces_parts)
    tex = _paint_texture(np.random.default_rng(seed))
    return BodyModel(shape, p, verts, faces.astype(np.int32), weights, uv, tex)


def _orient_part(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Make a closed part's triangles face outward (signed volume positive)."""
    tri = v[f]
    vol = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum()
    return f[:, [0, 2, 1]] if vol < 0 else f


# ----------------------------------------------------------------------------------------------
# rotation helpers (wxyz quaternions, as in every artifact)


def quat_to_mat(q: np.ndarray) -> np.ndarray:
    """(...,4) wxyz -> (...,3,3)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    """(...,3,3) -> (...,4) wxyz with w >= 0."""
    from scipy.spatial.transform import Rotation

    m = np.asarray(m, dtype=np.float64)
    q = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat()  # xyzw
    q = np.concatenate([q[:, 3:], q[:, :3]], axis=1)
    q[q[:, 0] < 0] *= -1
    return q.reshape(*m.shape[:-2], 4)


def axis_angle_to_mat(aa: np.ndarray) -> np.ndarray:
    """(...,3) rotation vectors -> (...,3,3) (Rodrigues)."""
    aa = np.asarray(aa, dtype=np.float64)
    th = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = aa / np.maximum(th, 1e-12)
    kx, ky, kz = np.moveaxis(k, -1, 0)
    zero = np.zeros_like(kx)
    kk = np.stack([np.stack([zero, -kz, ky], -1), np.stack([kz, zero, -kx], -1), np.stack([-ky, kx, zero], -1)], -2)
    th = th[..., None]
    return np.eye(3) + np.sin(th) * kk + (1 - np.cos(th)) * kk @ kk
