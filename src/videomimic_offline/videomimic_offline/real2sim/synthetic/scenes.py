"""Procedural scenes (stairs up/down, a curb, a bench, a chair, a low ledge) as textured triangle meshes.

Each scene is a few named parts (floor, the feature the person uses, a back wall and props for
the background structure-from-motion needs). The meshes that are rendered are exactly the
ground-truth mesh written to ``gt.npz``, so there is no render/GT mismatch. The person always
walks along +x starting near x = 0; the wall stands on the +y side, behind the person as seen
from the camera (which stays on the -y side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.synthetic import SCENE_KINDS, SIT_KINDS
from videomimic_offline.real2sim.synthetic.textures import noise_texture


@dataclass
class Part:
    """One textured mesh: faces are unshared so each carries its own planar UVs."""

    name: str
    vertices: np.ndarray  # (V,3)
    faces: np.ndarray  # (F,3)
    uv: np.ndarray  # (V,2), in texture repeats (wraps)
    texture: np.ndarray  # (H,W,3) uint8


@dataclass
class Scene:
    """A scene plus the layout facts the motion generator needs (``layout``)."""

    kind: str
    parts: list[Part]
    layout: dict[str, float] = field(default_factory=dict)

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """The ground-truth scene mesh (vertices (V,3), faces (F,3)), all parts merged."""
        vs, fs, n = [], [], 0
        for p in self.parts:
            vs.append(p.vertices)
            fs.append(p.faces + n)
            n += len(p.vertices)
        return np.vstack(vs), np.vstack(fs)

    def seat_box(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The seat as a solid (centre (3,), size (3,), yaw): its footprint from the floor up to
        the seat top, the box a simulator needs (and the convention of contact-derived seat
        solids); None for scenes without a seat."""
        if self.kind not in SIT_KINDS:
            return None
        lay = self.layout
        top = lay["seat_z"]
        centre = np.array([lay["seat_x"], 0.0, top / 2])
        return centre, np.array([lay["seat_depth"], lay["seat_length"], top]), 0.0

    def surface_height(self, xy: np.ndarray) -> np.ndarray:
        """Height of the highest upward-facing surface under each (x, y) (N,2) -> (N,)."""
        parts = [p for p in self.parts if p.name not in ("floor", "wall")]
        if not parts:
            return np.zeros(len(np.atleast_2d(xy)))
        v = np.vstack([p.vertices for p in parts])
        offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
        f = np.vstack([p.faces + o for p, o in zip(parts, offsets, strict=True)])
        return top_surface_height(v, f, xy)


def top_surface_height(vertices: np.ndarray, faces: np.ndarray, xy: np.ndarray, default: float = 0.0) -> np.ndarray:
    """Height of the highest upward-facing (horizontal) triangle over each xy (...,2) -> (...),
    ``default`` where there is none. The scenes' walkable faces are horizontal, so a face's height
    is its first vertex's."""
    xy = np.asarray(xy, dtype=np.float64)
    shape = xy.shape[:-1]
    xy = xy.reshape(-1, 2)
    tri = np.asarray(vertices, np.float64)[np.asarray(faces)]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    up = n[:, 2] > 0.9 * np.linalg.norm(n, axis=1)
    z = np.full(len(xy), float(default))
    for t in tri[up]:
        lo, hi = t[:, :2].min(0) - 1e-9, t[:, :2].max(0) + 1e-9
        near = np.flatnonzero(((xy >= lo) & (xy <= hi)).all(1))
        if len(near) == 0:
            continue
        inside = _in_triangle(xy[near], t[:, :2])
        z[near] = np.where(inside, np.maximum(z[near], t[0, 2]), z[near])
    return z.reshape(shape)


def _in_triangle(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    def cross(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (b[0] - a[0]) * (c[:, 1] - a[1]) - (b[1] - a[1]) * (c[:, 0] - a[0])

    d1, d2, d3 = cross(t[0], t[1], p), cross(t[1], t[2], p), cross(t[2], t[0], p)
    neg = (d1 < -1e-9) | (d2 < -1e-9) | (d3 < -1e-9)
    pos = (d1 > 1e-9) | (d2 > 1e-9) | (d3 > 1e-9)
    return ~(neg & pos)


# ----------------------------------------------------------------------------------------------
# mesh helpers: every quad gets its own 4 vertices and planar UVs (metres / texture size).
# Textures span 3-8 mm per texel (1024 px over 5-8 m, props 512 px over 1.5 m): at 2-5 m from a
# 640 px camera a texel is about one pixel, so the detail is visible without minification moire.


class _Quads:
    def __init__(self, tex_m: float) -> None:
        self.v: list[np.ndarray] = []
        self.uv: list[np.ndarray] = []
        self.tex_m = tex_m

    def quad(self, a, b, c, d) -> None:  # noqa: ANN001 - four 3-vectors, counter-clockwise seen from outside
        q = np.array([a, b, c, d], dtype=np.float64)
        n = np.cross(q[1] - q[0], q[2] - q[0])
        ax = int(np.argmax(np.abs(n)))
        keep = [i for i in range(3) if i != ax]
        self.v.append(q)
        self.uv.append(q[:, keep] / self.tex_m)

    def box(self, lo, hi, skip: tuple[str, ...] = ()) -> None:  # noqa: ANN001
        (x0, y0, z0), (x1, y1, z1) = lo, hi
        faces = {
            "+z": ((x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)),
            "-z": ((x0, y0, z0), (x0, y1, z0), (x1, y1, z0), (x1, y0, z0)),
            "+x": ((x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)),
            "-x": ((x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0)),
            "+y": ((x0, y1, z0), (x0, y1, z1), (x1, y1, z1), (x1, y1, z0)),
            "-y": ((x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1)),
        }
        for k, f in faces.items():
            if k not in skip:
                self.quad(*f)

    def part(self, name: str, texture: np.ndarray) -> Part:
        v = np.vstack(self.v)
        n = len(self.v)
        base = 4 * np.arange(n)[:, None]
        f = np.vstack([base + [0, 1, 2], base + [0, 2, 3]])
        return Part(name, v, f.astype(np.int32), np.vstack(self.uv), texture)


def _staircase(q: _Quads, x0: float, tread: float, riser: float, n: int, landing: float, w: float) -> None:
    """Solid stairs rising along +x from x0: ``n`` risers, ``n - 1`` treads, then the landing
    (top at ``n * riser``, from ``x0 + (n - 1) * tread``); the side profile is extruded in y."""
    y0, y1 = -w / 2, w / 2
    x = x0
    for k in range(n + 1):
        z_top = (k + 1) * riser if k < n else n * riser
        z_bot = k * riser if k < n else n * riser
        depth = tread if k < n - 1 else (tread + landing if k == n - 1 else 0)
        if k == n:
            break
        # riser face (front, -x), tread face (top)
        q.quad((x, y0, z_bot), (x, y0, z_top), (x, y1, z_top), (x, y1, z_bot))
        q.quad((x, y0, z_top), (x + depth, y0, z_top), (x + depth, y1, z_top), (x, y1, z_top))
        # side faces of this step's column (from the floor up to its tread)
        q.quad((x, y0, 0), (x + depth, y0, 0), (x + depth, y0, z_top), (x, y0, z_top))
        q.quad((x, y1, 0), (x, y1, z_top), (x + depth, y1, z_top), (x + depth, y1, 0))
        x += depth
    # back face of the landing
    q.quad((x, y0, 0), (x, y0, n * riser), (x, y1, n * riser), (x, y1, 0))


def _textures(rng: np.random.Generator) -> dict[str, np.ndarray]:
    floor_base = rng.choice([[150, 140, 125], [120, 125, 130], [170, 150, 120], [110, 120, 100]])
    step_base = rng.choice([[175, 170, 160], [140, 110, 80], [160, 160, 165], [190, 160, 130]])
    wall_base = rng.choice([[180, 90, 70], [200, 190, 170], [120, 140, 160], [160, 150, 110]])
    # the big surfaces get 1024 px textures so the pattern repeats only every 5-8 m (repeated
    # identical features make ambiguous SfM matches)
    return {
        "floor": noise_texture(rng, floor_base, size=1024, tiles=2 * rng.choice([0, 4, 8]), contrast=0.5, blobs=1600),
        "feature": noise_texture(rng, step_base, size=1024, contrast=0.45, blobs=2400),
        "wall": noise_texture(rng, wall_base, size=1024, tiles=2 * rng.choice([0, 8]), contrast=0.5, blobs=2400),
        "props": noise_texture(rng, rng.uniform(60, 200, 3), contrast=0.6),
    }


def build_scene(kind: str, rng: np.random.Generator, *, seconds: float = 4.0) -> Scene:
    """Build a randomised scene of ``kind`` sized so a ``seconds``-long walk fits on it."""
    walk_length = 1.1 * seconds + 2.0  # metres at a casual 1.1 m/s, plus margin
    if kind not in SCENE_KINDS:
        raise InputError(f"unknown scene kind '{kind}': choose one of {', '.join(SCENE_KINDS)}")
    tex = _textures(rng)
    layout: dict[str, float] = {}
    feat = _Quads(tex_m=5.0)
    width = float(rng.uniform(1.2, 1.8))
    x_first = float(rng.uniform(1.0, 1.6))  # where the feature starts (person starts at x=0)
    layout["width"] = width
    if kind in ("stairs_up", "stairs_down"):
        tread, riser = float(rng.uniform(0.30, 0.35)), float(rng.uniform(0.14, 0.18))
        # one tread per step at <= 0.68 s/step, after ~2 approach and before ~4 landing steps
        n = int(np.clip(np.floor((seconds - 0.4) / 0.68) - 7, 3, 14))
        landing = x_first + float(rng.uniform(0.6, 1.0))
        layout.update(tread=tread, riser=riser, n_steps=n, landing=landing)
        if kind == "stairs_up":
            _staircase(feat, x_first, tread, riser, n, landing, width)
            layout.update(x_first=x_first)
        else:
            # mirror a staircase (x' = c - x) so it descends along +x from x_first; the person
            # starts on the landing, which reaches back past x = 0
            _staircase(feat, 0.0, tread, riser, n, landing, width)
            c = x_first + (n - 1) * tread  # the landing (incl. the top tread) ends at x_first
            feat.v = [np.column_stack([c - q[:, 0], q[:, 1], q[:, 2]])[[0, 3, 2, 1]] for q in feat.v]
            feat.uv = [q[[0, 3, 2, 1]] for q in feat.uv]  # mirroring flipped the winding: restore it
            layout.update(x_first=x_first)
    elif kind == "curb":
        height = float(rng.uniform(0.12, 0.18))
        length = max(3.0, walk_length - x_first)
        feat.box((x_first, -2.0, 0.0), (x_first + length, 2.0, height), skip=("-z",))
        layout.update(curb_height=height, x_first=x_first, curb_length=length)
    elif kind == "chair":
        # a dining chair (seat 43-48 cm, 40-46 cm deep) facing -x, backrest on its +x edge
        seat_z, thick = float(rng.uniform(0.43, 0.48)), 0.04
        depth, length = float(rng.uniform(0.40, 0.46)), float(rng.uniform(0.42, 0.50))
        xb = float(rng.uniform(1.7, 2.3))  # seat centre: a short walk up to it
        feat.box((xb - depth / 2, -length / 2, seat_z - thick), (xb + depth / 2, length / 2, seat_z))
        for ys in (-length / 2, length / 2 - 0.04):
            for xs in (xb - depth / 2, xb + depth / 2 - 0.04):
                feat.box((xs, ys, 0.0), (xs + 0.04, ys + 0.04, seat_z - thick), skip=("-z", "+z"))
        feat.box(
            (xb + depth / 2 - 0.03, -length / 2, seat_z), (xb + depth / 2, length / 2, seat_z + 0.42), skip=("-z",)
        )
        layout.update(seat_z=seat_z, seat_x=xb, seat_depth=depth, seat_length=length, seat_thickness=thick)
    elif kind == "ledge":
        # a low concrete ledge / planter edge (30-38 cm), solid down to the floor, across the path
        seat_z = float(rng.uniform(0.30, 0.38))
        depth, length = float(rng.uniform(0.35, 0.50)), float(rng.uniform(2.0, 3.0))
        xb = float(rng.uniform(1.7, 2.3))
        feat.box((xb - depth / 2, -length / 2, 0.0), (xb + depth / 2, length / 2, seat_z), skip=("-z",))
        layout.update(seat_z=seat_z, seat_x=xb, seat_depth=depth, seat_length=length, seat_thickness=seat_z)
    else:  # bench
        seat_z = float(rng.uniform(0.42, 0.48))
        depth, length, thick = float(rng.uniform(0.38, 0.45)), float(rng.uniform(1.3, 1.8)), 0.05
        xb = x_first + float(rng.uniform(0.8, 1.4))  # seat centre
        feat.box((xb - depth / 2, -length / 2, seat_z - thick), (xb + depth / 2, length / 2, seat_z))
        for ys in (-length / 2 + 0.06, length / 2 - 0.12):
            for xs in (xb - depth / 2 + 0.03, xb + depth / 2 - 0.09):
                feat.box((xs, ys, 0.0), (xs + 0.06, ys + 0.06, seat_z - thick), skip=("-z", "+z"))
        # backrest on the far (+x) side: the person sits facing -x
        feat.box((xb + depth / 2 - 0.05, -length / 2, seat_z + 0.05), (xb + depth / 2, length / 2, seat_z + 0.45))
        layout.update(seat_z=seat_z, seat_x=xb, seat_depth=depth, seat_length=length, seat_thickness=thick)
    parts: list[Part] = []
    # floor: a textured slab around the walk
    x_lo, x_hi = -4.0, walk_length + 5.0
    fl = _Quads(tex_m=8.0)
    fl.quad((x_lo, -6.0, 0.0), (x_hi, -6.0, 0.0), (x_hi, 6.0, 0.0), (x_lo, 6.0, 0.0))
    parts.append(fl.part("floor", tex["floor"]))
    parts.append(feat.part("feature", tex["feature"]))
    # back wall on +y and a few props (boxes) for background structure
    wall_y = float(rng.uniform(2.2, 3.0))
    wa = _Quads(tex_m=7.0)
    wa.box((x_lo, wall_y, 0.0), (x_hi, wall_y + 0.2, float(rng.uniform(2.5, 3.5))), skip=("-z",))
    parts.append(wa.part("wall", tex["wall"]))
    pr = _Quads(tex_m=1.5)
    for _ in range(int(rng.integers(3, 6))):
        sx, sy, sz = rng.uniform(0.3, 0.8, 3)
        px = float(rng.uniform(x_lo + 1, x_hi - 1))
        py = float(rng.uniform(max(width / 2, 1.0) + 0.4, wall_y - sy))
        pr.box((px, py, 0.0), (px + sx, py + sy, sz), skip=("-z",))
    parts.append(pr.part("props", tex["props"]))
    layout["wall_y"] = wall_y
    return Scene(kind, parts, layout)
