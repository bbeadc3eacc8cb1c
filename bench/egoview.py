"""Ego-view RGB-D speed: frames per second of 640 x 480 RGB + metric depth on this CPU (goal >= 30).

Usage: ``flock /work/wt/heavy.lock python bench/egoview.py [--recon runs/main/recon]`` inside
``. scripts/env.sh``. Prints one line per figure, then a JSON object on the last line. Never asserts.

The scene is a reconstruction's (``--recon``: scene mesh + heightfield, as ``render_egoview``
loads it) or, by default, a generated one of the same size as the main job's TSDF mesh: a 6 x 8 m
room with a staircase, tessellated at 2.5 cm (about 150k triangles). The camera is the G1 head
D435 walking across it at head height, pitched 47.6 deg down. Figures, all in the same run:

* egoview_fps: ``MeshRasterizer.render`` (EGL / Mesa llvmpipe) + the validity mask, per frame, on
  the scene decimated to ``render_egoview``'s default 60k triangles: the renderer the tool uses.
* gl_full_mesh_fps: the same on the undecimated mesh.
* open3d_raycast_fps: Open3D's RaycastingScene (Embree) casting the same 307k rays per frame on the
  undecimated mesh (depth only; colour would cost more): the alternative the rasteriser was chosen over.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def generated_scene(step: float = 0.025) -> tuple[np.ndarray, np.ndarray]:
    """A floor, three walls and a 4-step staircase, each a grid of ``step``-sized cells."""
    from videomimic_offline.egoview.scene import box_mesh

    parts = [box_mesh((3.0, 0.0, -0.05), (6.0, 8.0, 0.1), 0.0, step)]
    parts += [box_mesh((6.05, 0.0, 1.25), (0.1, 8.0, 2.5), 0.0, step * 2)]
    parts += [box_mesh((3.0, s * 4.05, 1.25), (6.0, 0.1, 2.5), 0.0, step * 2) for s in (-1, 1)]
    parts += [box_mesh((2.5 + 0.3 * k, 0.0, 0.075 * (k + 1)), (0.3, 1.5, 0.15 * (k + 1)), 0.0, step) for k in range(4)]
    verts, faces, n = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + n)
        n += len(v)
    return np.concatenate(verts), np.concatenate(faces)


def path_poses(num: int) -> np.ndarray:
    """Head-camera poses walking from x = 0.5 to 3.5 m at 1.25 m height, 47.6 deg down."""
    from scipy.spatial.transform import Rotation

    R_look_x = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    R = Rotation.from_euler("y", 47.6, degrees=True).as_matrix() @ R_look_x
    T = np.tile(np.eye(4), (num, 1, 1))
    T[:, :3, :3] = R
    T[:, :3, 3] = np.stack([np.linspace(0.5, 3.5, num), 0.1 * np.sin(np.linspace(0, 6, num)), np.full(num, 1.25)], 1)
    return T


def gl_fps(verts: np.ndarray, faces: np.ndarray, colors: np.ndarray, poses: np.ndarray, K: np.ndarray) -> float:
    from videomimic_offline.egoview.gl import MeshRasterizer
    from videomimic_offline.robot import g1

    w, h = g1.HEAD_CAMERA_RESOLUTION
    lo, hi = g1.HEAD_CAMERA_DEPTH_RANGE_M
    r = MeshRasterizer(w, h)
    r.add_mesh(verts, faces, colors)
    r.render(K, poses[0])
    t0 = time.perf_counter()
    for T in poses:
        _, depth = r.render(K, T)
        _ = (depth >= lo) & (depth <= hi)
    dt = time.perf_counter() - t0
    r.release()
    return len(poses) / dt


def open3d_fps(verts: np.ndarray, faces: np.ndarray, poses: np.ndarray, K: np.ndarray) -> float:
    import open3d as o3d
    from videomimic_offline.robot import g1

    w, h = g1.HEAD_CAMERA_RESOLUTION
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(verts.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32)))
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    dirs_c = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones(u.shape)], -1).reshape(-1, 3)

    def cast(T: np.ndarray) -> np.ndarray:
        rays = np.concatenate([np.broadcast_to(T[:3, 3], dirs_c.shape), dirs_c @ T[:3, :3].T], 1).astype(np.float32)
        return scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()  # along the ray with z = 1: planar depth

    cast(poses[0])
    t0 = time.perf_counter()
    for T in poses:
        cast(T)
    return len(poses) / (time.perf_counter() - t0)


def main() -> None:
    from videomimic_offline.egoview.camera import intrinsics
    from videomimic_offline.egoview.gl import MeshRasterizer
    from videomimic_offline.egoview.scene import decimate, scene_geometry

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recon", type=Path, default=None, help="a reconstruction folder (default: generated scene)")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--max-triangles", type=int, default=60_000)
    args = ap.parse_args()
    if args.recon is not None:
        verts, faces, what = scene_geometry(args.recon)
    else:
        verts, faces = generated_scene()
        what = "generated room with stairs"
    colors = np.random.default_rng(0).integers(0, 255, (len(verts), 3)).astype(np.uint8)
    K = intrinsics()
    poses = path_poses(args.frames)
    t0 = time.perf_counter()
    dv, df = decimate(verts, faces, args.max_triangles)
    decimate_s = time.perf_counter() - t0
    dcol = np.random.default_rng(0).integers(0, 255, (len(dv), 3)).astype(np.uint8)
    out = {
        "scene": what,
        "triangles": int(len(faces)),
        "triangles_rendered": int(len(df)),
        "decimate_s": round(decimate_s, 2),
        "egoview_fps": round(gl_fps(dv, df, dcol, poses, K), 1),
        "gl_full_mesh_fps": round(gl_fps(verts, faces, colors, poses, K), 1),
        "open3d_raycast_fps": round(open3d_fps(verts, faces, poses, K), 1),
        "resolution": "640x480",
    }
    r = MeshRasterizer(8, 8)
    out["gl_renderer"] = r.renderer_name
    r.release()
    for k, v in out.items():
        print(f"{k}: {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
