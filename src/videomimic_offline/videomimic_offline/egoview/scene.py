"""The reconstructed scene as the head camera sees it: one triangle mesh coloured from the video.

Geometry: the scene mesh (``scene_mesh.ply``, dense stereo fused in a TSDF), the heightfield's
known cells (drawn just beneath the mesh, so they fill its holes; alone where no mesh was made, as
for static and rotation-only cameras), plus the contact-derived solids of ``scene.json`` (floor, steps, seats the person hid from the camera). Nothing else: what
the video never showed stays empty, so the renderer reports it as unknown.

Colour: each vertex takes the video's colour where the reconstructed cameras saw it. Keyframes are
depth-rendered from their own camera poses, so a vertex hidden behind something in a keyframe takes
no colour from it; the person's mask is cut out too, so the person is not painted onto the wall
behind them. Vertices no keyframe saw (e.g. under a contact solid) stay neutral grey.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Colour of geometry no keyframe saw (RGB uint8).
UNSEEN_RGB = (150, 150, 150)
#: The heightfield surface is drawn this far below the scene mesh, so it fills the mesh's holes only.
HEIGHTFIELD_DROP_M = 0.015


@dataclass
class EgoScene:
    """A coloured triangle mesh in the motion world frame."""

    vertices: np.ndarray  # (V,3) m
    faces: np.ndarray  # (F,3) int
    colors: np.ndarray  # (V,3) uint8
    seen_fraction: float  # share of vertices coloured from the video
    geometry: str  # where the triangles came from (for the info file)


def box_mesh(center, size, yaw: float, step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """A box (yawed about z) whose faces are gridded at about ``step`` so vertex colours can vary."""
    half = np.maximum(np.asarray(size, float), 1e-3) / 2
    verts, faces = [], []
    for axis in range(3):
        a, b = [k for k in range(3) if k != axis]
        na, nb = (max(1, int(np.ceil(2 * half[k] / step))) for k in (a, b))
        ga, gb = np.meshgrid(np.linspace(-half[a], half[a], na + 1), np.linspace(-half[b], half[b], nb + 1))
        for sign in (-1.0, 1.0):
            v = np.zeros((ga.size, 3))
            v[:, a], v[:, b], v[:, axis] = ga.ravel(), gb.ravel(), sign * half[axis]
            i = np.arange((nb + 1) * (na + 1)).reshape(nb + 1, na + 1)[:-1, :-1].ravel() + sum(len(x) for x in verts)
            faces += [np.stack([i, i + 1, i + na + 2], 1), np.stack([i, i + na + 2, i + na + 1], 1)]
            verts.append(v)
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return np.concatenate(verts) @ R.T + np.asarray(center, float), np.concatenate(faces)


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of a PLY: the layout ``real2sim.scene.write_ply`` writes is read directly (trimesh's
    import alone takes seconds on this CPU); anything else goes through ``real2sim.scene.read_ply``."""
    from videomimic_offline.real2sim.scene import read_ply

    data = Path(path).read_bytes()
    end = data.find(b"end_header\n")
    head = data[: max(end, 0)].decode("ascii", "replace").split("\n")
    expected = ["ply", "format binary_little_endian 1.0", "property float x", "property float y",
                "property float z", "property list uchar int vertex_indices"]  # fmt: skip
    counts = {ln.split()[1]: int(ln.split()[2]) for ln in head if ln.startswith("element ")}
    if end < 0 or [ln for ln in head if not ln.startswith("element ")] != expected or set(counts) != {"vertex", "face"}:
        return read_ply(path)
    nv, nf = counts["vertex"], counts["face"]
    body = memoryview(data)[end + len(b"end_header\n") :]
    verts = np.frombuffer(body[: nv * 12], "<f4").reshape(nv, 3).astype(float)
    rec = np.frombuffer(body[nv * 12 : nv * 12 + nf * 13], dtype=[("n", "u1"), ("i", "<i4", (3,))])
    if len(rec) != nf or np.any(rec["n"] != 3):
        return read_ply(path)
    return verts, rec["i"].astype(np.int64)


def _heightfield_geometry(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.real2sim.scene import Heightfield, heightfield_mesh

    hf = read_heightfield(path)  # in the world frame (the reader applies T_world_scene)
    return heightfield_mesh(Heightfield(hf.heights, hf.known, hf.origin_xy, hf.resolution))


def scene_geometry(recon: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """(vertices, faces, description) of the reconstructed scene in ``recon`` (a real2sim output folder)."""
    recon = Path(recon)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    what = []
    mesh = recon / "scene_mesh.ply"
    if mesh.is_file():
        v, f = read_mesh(mesh)
        if len(f):
            parts.append((v, f))
            what.append(f"scene mesh ({len(f)} triangles)")
    if (recon / "heightfield.npz").is_file():
        v, f = _heightfield_geometry(recon / "heightfield.npz")
        if parts:  # beneath the mesh, so it shows only through the mesh's holes
            v = v - np.array([0.0, 0.0, HEIGHTFIELD_DROP_M])
        parts.append((v, f))
        what.append(f"heightfield ({len(f)} triangles)")
    solids = []
    if (recon / "scene.json").is_file():
        from videomimic_offline.contracts.scene import read_scene_info

        solids = read_scene_info(recon / "scene.json").solids
    for s in solids:
        parts.append(box_mesh(s.center, s.size, s.yaw))
    if solids:
        what.append(f"{len(solids)} contact-derived solids")
    if not parts:
        return np.zeros((0, 3)), np.zeros((0, 3), int), "nothing (no scene mesh, heightfield or solids)"
    verts, faces, offset = [], [], 0
    for v, f in parts:
        verts.append(np.asarray(v, float))
        faces.append(np.asarray(f, int) + offset)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(faces), " + ".join(what)


def decimate(vertices: np.ndarray, faces: np.ndarray, max_triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering down to at most ``max_triangles`` (rasterising cost grows with triangles).

    Why clustering and not quadric decimation: the TSDF mesh is already a voxel-grid surface, so
    merging vertices on a coarser grid keeps its shape to within one cell, and it costs 0.1 s where
    Open3D's quadric decimation (and importing Open3D) costs several seconds on this CPU.
    """
    if len(faces) <= max_triangles:
        return vertices, faces
    edge = np.linalg.norm(vertices[faces[:, 0]] - vertices[faces[:, 1]], axis=1)
    cell = float(np.median(edge)) * 1.2
    while True:
        _, inverse, counts = np.unique(np.floor(vertices / cell).astype(np.int64), axis=0, return_inverse=True,
                                       return_counts=True)  # fmt: skip
        inverse = inverse.reshape(-1)
        f = inverse[faces]
        f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
        _, first = np.unique(np.sort(f, axis=1), axis=0, return_index=True)
        if len(first) <= max_triangles:
            break
        cell *= 1.25
    f = f[np.sort(first)]  # each triangle once, with its original winding
    v = np.zeros((len(counts), 3))
    np.add.at(v, inverse, vertices)
    return v / counts[:, None], f


def _person_masks(recon: Path, frames: np.ndarray) -> np.ndarray | None:
    """The persons stage's masks (T,H,W) bool, dilated, when they match the frames; else None."""
    path = Path(recon) / "stages" / "persons" / "persons.npz"
    if not path.is_file():
        return None
    import cv2

    with np.load(path) as d:
        if "masks" not in d.files:
            return None
        masks = d["masks"]
    if masks.shape[1:] != frames.shape[1:3]:
        return None
    kernel = np.ones((9, 9), np.uint8)
    return np.stack([cv2.dilate((m > 0).astype(np.uint8), kernel) > 0 for m in masks])


def colour_from_video(
    vertices: np.ndarray,
    faces: np.ndarray,
    recon: Path,
    video: Path,
    num_keyframes: int,
) -> tuple[np.ndarray, float]:
    """Per-vertex colours (V,3) uint8 projected from ``num_keyframes`` frames of the video."""
    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.egoview.gl import MeshRasterizer
    from videomimic_offline.real2sim.video import read_frames

    cams = read_cameras(Path(recon) / "cameras.npz")
    w, h = cams.image_size
    frames = read_frames(Path(video), max_side=max(w, h))
    n = min(len(frames), cams.num_frames)
    if frames.shape[1:3] != (h, w) or n == 0:
        return np.tile(np.array(UNSEEN_RGB, np.uint8), (len(vertices), 1)), 0.0
    masks = _person_masks(recon, frames[:n])
    keys = np.unique(np.linspace(0, n - 1, min(num_keyframes, n)).round().astype(int))
    rast = MeshRasterizer(w, h)
    rast.add_mesh(vertices, faces, np.zeros((len(vertices), 3), np.float32))
    acc, wsum = np.zeros((len(vertices), 3)), np.zeros(len(vertices))
    vh = np.concatenate([vertices, np.ones((len(vertices), 1))], axis=1)
    try:
        for k in keys:
            K, T_wc = cams.K[k], cams.T_world_cam[k]
            _, depth = rast.render(K, T_wc)
            pc = (vh @ np.linalg.inv(T_wc).T)[:, :3]
            z = pc[:, 2]
            front = z > 0.05
            u = np.full(len(z), -1.0)
            v = np.full(len(z), -1.0)
            u[front] = K[0, 0] * pc[front, 0] / z[front] + K[0, 2]
            v[front] = K[1, 1] * pc[front, 1] / z[front] + K[1, 2]
            ui, vi = np.rint(u).astype(int), np.rint(v).astype(int)
            ok = front & (ui >= 0) & (ui < w) & (vi >= 0) & (vi < h)
            idx = np.nonzero(ok)[0]
            zd = depth[vi[idx], ui[idx]]
            vis = np.abs(zd - z[idx]) < 0.02 + 0.02 * z[idx]  # not hidden behind other geometry
            if masks is not None:
                vis &= ~masks[k][vi[idx], ui[idx]]
            idx = idx[vis]
            weight = 1.0 / np.maximum(z[idx], 0.3) ** 2  # nearer views hold more detail
            acc[idx] += weight[:, None] * frames[k][vi[idx], ui[idx]].astype(float)
            wsum[idx] += weight
    finally:
        rast.release()
    seen = wsum > 0
    colors = np.tile(np.array(UNSEEN_RGB, float), (len(vertices), 1))
    colors[seen] = acc[seen] / wsum[seen, None]
    return np.clip(colors, 0, 255).astype(np.uint8), float(seen.mean()) if len(seen) else 0.0


def load_scene(recon: Path, video: Path | None, max_triangles: int, num_keyframes: int) -> EgoScene:
    """The coloured scene of a reconstruction folder (geometry, decimation, colour)."""
    verts, faces, what = scene_geometry(recon)
    verts, faces = decimate(verts, faces, max_triangles)
    if video is not None and len(faces):
        colors, seen = colour_from_video(verts, faces, recon, video, num_keyframes)
    else:
        colors, seen = np.tile(np.array(UNSEEN_RGB, np.uint8), (len(verts), 1)), 0.0
    return EgoScene(verts, faces, colors, seen, what)
