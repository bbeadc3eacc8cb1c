"""Scene for the simulator: heightfield (NaN where unknown, a source code per cell) and a mesh.

The heightfield (``build_heightfield``) merges what vision saw with what the body touched:
- scene points (SfM or dense stereo) are gridded by xy; a cell's height is a high percentile of
  its points (the walkable top surface); empty cells are filled only from seen cells within
  ``fill_radius`` (small holes between sparse points);
- planted soles stamp the cells under them (the person hid that ground from the camera);
- contact-derived solids (``real2sim/solids.py``: floor, steps, seat) fill every cell still
  unknown inside them, so a static camera's clip still gets the ground the person used.
Everything else stays NaN: nobody saw or touched it, so nothing is invented. ``source`` says per
cell which of these set it (``solids.SOURCE_*``). The mesh is triangulated from known cells
("heightfield"), or comes from Open3D screened Poisson with low-density vertices trimmed away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

from videomimic_offline.errors import BackendUnavailableError, InputError


@dataclass
class Heightfield:
    heights: np.ndarray  # (H,W) m, NaN unknown
    known: np.ndarray  # (H,W) bool
    origin_xy: np.ndarray  # (2,) world xy of cell [0,0] centre
    resolution: float
    from_contact: np.ndarray | None = None  # (H,W) bool: height set (or fused) from a planted foot's sole
    seen: np.ndarray | None = None  # (H,W) bool: cells holding scene points (before gap filling)
    source: np.ndarray | None = None  # (H,W) uint8 solids.SOURCE_* code per cell


def grid_heightfield(
    points: np.ndarray,
    resolution: float,
    fill_radius: float,
    min_points: int,
    percentile: float = 90.0,
    extent_xy: np.ndarray | None = None,
) -> Heightfield:
    """Heightfield over the points' xy extent (plus ``extent_xy``, e.g. foot soles) (row = y, column = x).

    With no points (a static camera) the grid covers ``extent_xy`` and every cell is unknown.
    """
    has_extent = extent_xy is not None and len(extent_xy) > 0
    if len(points) == 0 and not has_extent:
        raise InputError("nothing to build a heightfield from: no scene points and no contacts")
    points = np.asarray(points, float).reshape(-1, 3)
    span = points[:, :2] if not has_extent else np.concatenate([points[:, :2], np.asarray(extent_xy).reshape(-1, 2)])
    lo = np.floor(span.min(axis=0) / resolution) * resolution
    hi = span.max(axis=0)
    # cell i is centred at lo + i * resolution (the heightfield contract's origin_xy), as readers look it up
    nx, ny = (np.rint((hi - lo) / resolution).astype(int) + 1).tolist()
    if nx * ny > 4_000_000:
        raise InputError(f"scene extent {hi - lo} m is too large for a {resolution} m heightfield; raise hf_resolution")
    ix = np.clip(np.rint((points[:, 0] - lo[0]) / resolution).astype(int), 0, nx - 1)
    iy = np.clip(np.rint((points[:, 1] - lo[1]) / resolution).astype(int), 0, ny - 1)
    cell = iy * nx + ix
    order = np.argsort(cell, kind="stable")
    cell_s, z_s = cell[order], points[order, 2]
    uniq, start, count = np.unique(cell_s, return_index=True, return_counts=True)
    heights = np.full(ny * nx, np.nan)
    for u, s, c in zip(uniq, start, count):
        if c >= min_points:
            heights[u] = np.percentile(z_s[s : s + c], percentile)
    heights = heights.reshape(ny, nx)
    seen = np.isfinite(heights)
    if fill_radius > 0 and seen.any():
        dist, (iy_n, ix_n) = distance_transform_edt(~seen, return_indices=True)
        fill = (~seen) & (dist * resolution <= fill_radius)
        heights[fill] = heights[iy_n[fill], ix_n[fill]]
    known = np.isfinite(heights)
    return Heightfield(heights, known, lo + 0.0, float(resolution), seen=seen)


def build_heightfield(
    points: np.ndarray,
    soles_xy: np.ndarray,
    sole_z: np.ndarray,
    solids: list,
    resolution: float,
    fill_radius: float,
    min_points: int = 1,
    points_source: int = 2,
) -> Heightfield:
    """Scene points, planted soles and contact solids merged into one heightfield (module docstring).

    ``points_source`` is the ``solids.SOURCE_*`` code the points carry (SfM or dense).
    """
    from videomimic_offline.real2sim.solids import SOURCE_CONTACT, SOURCE_UNKNOWN, rasterize, solids_extent

    extent = [np.asarray(soles_xy).reshape(-1, 2)]
    if solids:
        extent.append(solids_extent(solids))
    hf = grid_heightfield(points, resolution, fill_radius, min_points, extent_xy=np.concatenate(extent))
    source = np.where(hf.known, points_source, SOURCE_UNKNOWN).astype(np.uint8)
    hf = stamp_contacts(hf, soles_xy, sole_z)
    source[hf.from_contact] = SOURCE_CONTACT
    if solids:
        # a solid fills what no point was seen in (unknown or only gap-filled cells); a seat also
        # replaces seen cells under it: the sitter hid its top, so points there are the floor seen
        # between the legs or the person, not the seat; and soles stamped inside it: a foot cannot
        # stand inside the block the pelvis rested on (a seated leg fitted hanging down from a
        # person facing the camera put its foot under the thighs, follow-behind chair clip)
        seen = hf.seen if hf.seen is not None else hf.known
        for group, over in (
            ([s for s in solids if s.kind != "seat"], ~seen & ~hf.from_contact),
            ([s for s in solids if s.kind == "seat"], None),
        ):
            if not group:
                continue
            top = rasterize(group, hf.origin_xy, hf.resolution, hf.heights.shape)
            fill = np.isfinite(top) & (over if over is not None else True)
            hf.heights[fill] = top[fill]
            hf.from_contact[fill] = False
            source[fill] = SOURCE_CONTACT
        hf.known = np.isfinite(hf.heights)
    hf.source = source
    return hf


#: Sole footprint around the ankle, in the foot frame (x toward the toe): heel 7 cm behind the
#: ankle, toe 18 cm ahead, 10 cm wide (an adult shoe), sampled finer than the heightfield cells.
SOLE_BACK_M, SOLE_FRONT_M, SOLE_HALF_WIDTH_M = 0.07, 0.18, 0.05


def sole_samples(ankle: np.ndarray, toe: np.ndarray, step: float = 0.02) -> np.ndarray:
    """xy points covering each sole rectangle: ankle/toe (N,3) -> (N,K,2)."""
    d = toe[:, :2] - ankle[:, :2]
    n = np.linalg.norm(d, axis=1, keepdims=True)
    fwd = np.where(n > 1e-6, d / np.maximum(n, 1e-9), np.array([1.0, 0.0]))
    left = np.stack([-fwd[:, 1], fwd[:, 0]], axis=1)
    u = np.arange(-SOLE_BACK_M, SOLE_FRONT_M + 1e-9, step)
    v = np.arange(-SOLE_HALF_WIDTH_M, SOLE_HALF_WIDTH_M + 1e-9, step)
    uu, vv = (a.ravel() for a in np.meshgrid(u, v))
    return ankle[:, None, :2] + uu[None, :, None] * fwd[:, None] + vv[None, :, None] * left[:, None]


def stamp_contacts(hf: Heightfield, soles_xy: np.ndarray, sole_z: np.ndarray, agree_m: float = 0.03) -> Heightfield:
    """Mark the cells under planted soles known: the person hid that ground, their feet measured it.

    ``hf.seen`` (H,W): cells with scene points of their own. ``soles_xy`` (N,K,2) footprint samples with
    the sole height ``sole_z`` (N,). A cell with no points takes the mean sole height over every
    stamp on it (gap-filled guesses are overwritten); a seen cell is averaged with the sole height
    when the two agree within ``agree_m`` and otherwise keeps its points (a footprint overhanging
    a step edge must not pull the lower tread up). Cells no one saw or stood on stay NaN.
    """
    ny, nx = hf.heights.shape
    seen = hf.known if hf.seen is None else hf.seen
    if len(soles_xy) == 0:
        return Heightfield(hf.heights, hf.known, hf.origin_xy, hf.resolution, np.zeros((ny, nx), bool), seen)
    ij = np.rint((soles_xy - hf.origin_xy) / hf.resolution).astype(np.int64)
    col, row = ij[..., 0].ravel(), ij[..., 1].ravel()
    ok = (row >= 0) & (row < ny) & (col >= 0) & (col < nx)
    # one vote per (stamp, cell): fine samples must not weight a cell by how many fell in it
    stamp = np.repeat(np.arange(len(soles_xy)), soles_xy.shape[1])
    key = np.unique(np.stack([stamp[ok], row[ok] * nx + col[ok]], 1), axis=0)
    zk = np.asarray(sole_z, float)[key[:, 0]]
    cell = key[:, 1]
    total = np.bincount(cell, zk, ny * nx)
    count = np.bincount(cell, None, ny * nx)
    stood = count > 0
    mean = np.where(stood, total / np.maximum(count, 1), np.nan).reshape(ny, nx)
    stood = stood.reshape(ny, nx)
    h = hf.heights.copy()
    new = stood & ~seen
    h[new] = mean[new]
    fuse = stood & seen & (np.abs(hf.heights - mean) <= agree_m)
    h[fuse] = 0.5 * (hf.heights[fuse] + mean[fuse])
    return Heightfield(h, np.isfinite(h), hf.origin_xy, hf.resolution, new | fuse, seen)


def heightfield_mesh(hf: Heightfield) -> tuple[np.ndarray, np.ndarray]:
    """Triangles over known cells (cell centres as vertices; a quad needs all four corners known).

    Faces come in quad order (two per quad); ``face_sources`` gives each one's source code."""
    ny, nx = hf.heights.shape
    ys, xs = np.mgrid[0:ny, 0:nx]
    verts = np.stack(
        [hf.origin_xy[0] + xs * hf.resolution, hf.origin_xy[1] + ys * hf.resolution, np.nan_to_num(hf.heights)], axis=-1
    ).reshape(-1, 3)
    k = hf.known
    q = k[:-1, :-1] & k[1:, :-1] & k[:-1, 1:] & k[1:, 1:]
    iy, ix = np.nonzero(q)
    a = iy * nx + ix
    b, c, d = a + 1, a + nx, a + nx + 1
    faces = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    used = np.unique(faces)
    remap = -np.ones(len(verts), int)
    remap[used] = np.arange(len(used))
    return verts[used], remap[faces]


def face_sources(hf: Heightfield) -> np.ndarray:
    """(F,) source code of each face of ``heightfield_mesh(hf)``: the lowest-numbered known source
    among its quad's corners' cells, so a face that touches seen cells counts as seen."""
    k = hf.known
    q = k[:-1, :-1] & k[1:, :-1] & k[:-1, 1:] & k[1:, 1:]
    src = hf.source if hf.source is not None else np.full(k.shape, 2, np.uint8)
    s = src.astype(int)
    big = np.where(s == 0, 99, s)
    m = np.minimum.reduce([big[:-1, :-1], big[1:, :-1], big[:-1, 1:], big[1:, 1:]])[q]
    return np.concatenate([m, m]).astype(np.uint8)


def poisson_mesh(points: np.ndarray, depth: int, trim_quantile: float) -> tuple[np.ndarray, np.ndarray]:
    """Open3D screened Poisson, trimming the vertices supported by the fewest points."""
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    pcd.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=0.2, max_nn=30))
    pcd.orient_normals_to_align_with_direction(np.array([0.0, 0.0, 1.0]))
    mesh, dens = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(pcd, depth=depth)
    dens = np.asarray(dens)
    mesh.remove_vertices_by_mask(dens < np.quantile(dens, trim_quantile))
    # also drop anything far from every input point (Poisson closes surfaces nobody saw)
    v = np.asarray(mesh.vertices)
    from scipy.spatial import cKDTree

    d, _ = cKDTree(points).query(v)
    mesh.remove_vertices_by_mask(d > 0.1)
    return np.asarray(mesh.vertices), np.asarray(mesh.triangles)


def nksr_mesh(*_args, **_kwargs):  # type: ignore[no-untyped-def]
    """NKSR has no installable release for this stack (PyPI ``nksr`` is an empty placeholder)."""
    raise BackendUnavailableError(
        "--scene.mesh-backend nksr is not available: NKSR needs CUDA wheels from its authors and a downloaded "
        "checkpoint; use the default tsdf (dense stereo), or heightfield or poisson"
    )


#: Face colours (RGB) per source code in the written mesh: unknown, dense, SfM, contact-derived.
SOURCE_COLORS = np.array([[128, 128, 128], [150, 150, 150], [120, 160, 200], [230, 150, 40]], np.uint8)


def write_ply(path, verts: np.ndarray, faces: np.ndarray, face_source: np.ndarray | None = None) -> None:  # type: ignore[no-untyped-def]
    """Binary little-endian PLY (triangles), written atomically.

    With ``face_source`` (F,) each face also carries ``source`` (the heightfield's source codes)
    and a colour from ``SOURCE_COLORS``, so viewers show contact-derived solids apart."""
    from videomimic_offline.artifacts import atomic_write_bytes

    extra = ""
    if face_source is not None:
        extra = "property uchar source\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {len(verts)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\n{extra}end_header\n"
    ).encode()
    v = np.asarray(verts, "<f4").tobytes()
    fields = [("n", "u1"), ("i", "<i4", (3,))]
    if face_source is not None:
        fields += [("source", "u1"), ("rgb", "u1", (3,))]
    f = np.empty(len(faces), dtype=fields)
    f["n"] = 3
    f["i"] = faces
    if face_source is not None:
        src = np.asarray(face_source, np.uint8)
        f["source"] = src
        f["rgb"] = SOURCE_COLORS[np.minimum(src, len(SOURCE_COLORS) - 1)]
    atomic_write_bytes(path, header + v + f.tobytes())


def read_ply(path) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Read a triangle PLY (ours, or any trimesh understands)."""
    import trimesh

    m = trimesh.load(str(path), process=False, force="mesh")
    return np.asarray(m.vertices, float), np.asarray(m.faces, int)
