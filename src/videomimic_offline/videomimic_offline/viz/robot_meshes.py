"""The G1's visual meshes, one merged and simplified mesh per body, for web views and videos.

The shipped meshes hold 393k triangles, far more than a browser page or a software renderer needs
to show the robot at a metre or two; per body they are merged (in the body frame) and simplified
by vertex clustering to about ``faces_per_body`` triangles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class BodyMesh:
    """A body's visual geometry in its own frame."""

    body: str
    body_id: int
    vertices: np.ndarray  # (V,3) m, body frame
    faces: np.ndarray  # (F,3)
    rgb: tuple[int, int, int]


@lru_cache(maxsize=2)
def g1_body_meshes(faces_per_body: int = 1500) -> tuple[BodyMesh, ...]:
    """Per-body visual meshes of the 29-DoF G1 (bodies without visual meshes are left out)."""
    import mujoco

    from videomimic_offline.egoview.scene import decimate
    from videomimic_offline.robot.model import g1_model

    m = g1_model("29dof", actuators=False)
    parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for g in range(m.ngeom):
        if m.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH or m.geom_contype[g] or m.geom_conaffinity[g]:
            continue  # visual meshes only (collision geoms are primitives or have contacts on)
        mid = m.geom_dataid[g]
        va, vn, fa, fn = m.mesh_vertadr[mid], m.mesh_vertnum[mid], m.mesh_faceadr[mid], m.mesh_facenum[mid]
        R = np.zeros(9)
        mujoco.mju_quat2Mat(R, m.geom_quat[g])
        v = m.mesh_vert[va : va + vn] @ R.reshape(3, 3).T + m.geom_pos[g]
        rgba = m.mat_rgba[m.geom_matid[g]] if m.geom_matid[g] >= 0 else m.geom_rgba[g]
        parts.setdefault(int(m.geom_bodyid[g]), []).append((v, m.mesh_face[fa : fa + fn], rgba))
    out = []
    for b, items in sorted(parts.items()):
        verts, faces, n = [], [], 0
        for v, f, _ in items:
            verts.append(v)
            faces.append(f + n)
            n += len(v)
        v, f = decimate(np.concatenate(verts), np.concatenate(faces), faces_per_body)
        rgba = items[0][2]
        rgb = tuple(int(round(255 * c)) for c in rgba[:3])
        out.append(BodyMesh(m.body(b).name, b, v, f, rgb))  # type: ignore[arg-type]
    return tuple(out)


def use_simplified_meshes(spec, faces_per_body: int = 1500) -> None:  # spec: mujoco.MjSpec of the 29-DoF G1
    """Swap the G1's visual meshes in ``spec`` for :func:`g1_body_meshes` (software GL draws triangles
    one by one: the shipped 393k cost ~10x the render time of the same robot at 45k)."""
    import mujoco

    meshes = g1_body_meshes(faces_per_body)
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH and geom.contype == 0 and geom.conaffinity == 0:
            spec.delete(geom)
    used = {g.meshname for g in spec.geoms if g.type == mujoco.mjtGeom.mjGEOM_MESH}
    for mesh in list(spec.meshes):
        if mesh.name not in used:  # unreferenced assets would still be compiled and uploaded to GL
            spec.delete(mesh)
    for bm in meshes:
        name = f"simplified_{bm.body}"
        mesh = spec.add_mesh()
        mesh.name = name
        mesh.uservert = bm.vertices.astype(np.float32).ravel().tolist()
        mesh.userface = bm.faces.astype(np.int32).ravel().tolist()
        geom = spec.body(bm.body).add_geom()
        geom.type = mujoco.mjtGeom.mjGEOM_MESH
        geom.meshname = name
        geom.contype = geom.conaffinity = 0
        geom.group = 2
        geom.density = 0.0
        geom.rgba = [c / 255 for c in bm.rgb] + [1.0]
