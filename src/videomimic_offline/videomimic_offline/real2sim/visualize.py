"""Looking at a reconstruction: overlay video, static PNG snapshot, interactive viser view.

The overlay reprojects the reconstructed world-frame body through the reconstructed cameras, so it
shows the whole chain (keypoints, scale, camera, optimisation) at once: if it sits on the person,
the 3D is consistent with the video.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS

_LEFT = np.array([n.startswith("left") for n in HUMAN_JOINTS])


def project(joints_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T,J,2) pixels and (T,J) depth of world joints in each frame's camera (``K`` (3,3) or (T,3,3))."""
    R_cw = np.transpose(T_world_cam[:, :3, :3], (0, 2, 1))
    pc = np.einsum("tij,tkj->tki", R_cw, joints_w - T_world_cam[:, None, :3, 3])
    z = pc[..., 2]
    Ks = np.broadcast_to(np.asarray(K, np.float64), (len(pc), 3, 3))
    uv = np.einsum("tij,tkj->tki", Ks, pc)[..., :2] / np.maximum(z, 1e-6)[..., None]
    return uv, z


def draw_skeleton(img: np.ndarray, uv: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Bones in orange (left) / cyan (right) / white (centre) on an RGB frame."""
    out = img.copy()
    for j, p in enumerate(HUMAN_PARENTS):
        if p < 0 or z[j] <= 0 or z[p] <= 0:
            continue
        col = (255, 140, 0) if _LEFT[j] else (0, 200, 255) if HUMAN_JOINTS[j].startswith("right") else (255, 255, 255)
        a, b = tuple(np.round(uv[j]).astype(int)), tuple(np.round(uv[p]).astype(int))
        cv2.line(out, a, b, col, 2, cv2.LINE_AA)
    for j in range(len(uv)):
        if z[j] > 0:
            cv2.circle(out, tuple(np.round(uv[j]).astype(int)), 3, (255, 0, 80), -1, cv2.LINE_AA)
    return out


def encode_mp4(frames, path: Path, fps: float) -> None:  # type: ignore[no-untyped-def]
    """H.264 mp4 via PyAV, written to a temp file and renamed (never half-written)."""
    from fractions import Fraction

    import av

    with artifacts.atomic_path(Path(path), ".mp4") as tmp, av.open(str(tmp), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "23", "preset": "veryfast"}
        for f in frames:
            h, w = f.shape[:2]
            if s.width != w - w % 2:
                s.width, s.height = w - w % 2, h - h % 2
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: h - h % 2, : w - w % 2]), format="rgb24")
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


#: Colour of contact-derived solids (floor, steps, seat) in every picture: scene.SOURCE_COLORS' contact code.
SOLID_RGB = (230, 150, 40)


def draw_solids(
    img: np.ndarray, boxes: list[tuple[np.ndarray, np.ndarray, float]], Twc: np.ndarray, K: np.ndarray
) -> np.ndarray:
    """The top faces of contact-derived boxes (center, size, yaw), outlined and lightly filled."""
    from videomimic_offline.real2sim.solids import box_mesh

    out = img.copy()
    fill = img.copy()
    for center, size, yaw in boxes:
        top = box_mesh(center, size, yaw)[0][4:]
        # a floor box is large: cut its top face into a grid so the part behind the camera is left out
        g = np.linspace(0.0, 1.0, 9)
        a, b, d = top[0], top[1] - top[0], top[3] - top[0]
        pts = a + g[:, None, None] * b + g[None, :, None] * d  # (9,9,3)
        uv, z = project(pts.reshape(1, -1, 3), Twc[None], K)
        uv, z = uv[0].reshape(9, 9, 2), z[0].reshape(9, 9)
        for i in range(8):
            for j in range(8):
                q = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
                if min(z[k] for k in q) <= 0.05:
                    continue
                poly = np.array([uv[k] for k in q]).round().astype(np.int32)
                cv2.fillConvexPoly(fill, poly, SOLID_RGB, cv2.LINE_AA)
                cv2.polylines(out, [poly], True, SOLID_RGB, 1, cv2.LINE_AA)
    return cv2.addWeighted(fill, 0.25, out, 0.75, 0.0)


def write_overlay(
    frames: np.ndarray,
    joints_w: np.ndarray,
    T_world_cam: np.ndarray,
    K: np.ndarray,
    path: Path,
    fps: float,
    solids: list[tuple[np.ndarray, np.ndarray, float]] | None = None,
) -> None:
    """overlay.mp4: the reconstructed body reprojected on every frame, over the contact-derived
    solids (``solids``: (center, size, yaw) boxes, in ``SOLID_RGB``)."""
    uv, z = project(joints_w, T_world_cam, K)

    def frame(t: int) -> np.ndarray:
        img = draw_solids(frames[t], solids, T_world_cam[t], K) if solids else frames[t]
        return draw_skeleton(img, uv[t], z[t])

    encode_mp4((frame(t) for t in range(len(frames))), path, fps)


def write_snapshot(out_dir: Path, png: Path, num_bodies: int = 6) -> None:
    """A static 3D picture (scene points/heightfield, camera path, bodies at a few times) for reports."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.contracts.human_motion import read_human_motion
    from videomimic_offline.contracts.scene import read_scene_info
    from videomimic_offline.real2sim.solids import box_mesh

    m = read_human_motion(out_dir / "motion.npz")
    hf = read_heightfield(out_dir / "heightfield.npz")
    solids = read_scene_info(out_dir / "scene.json").solids if (out_dir / "scene.json").is_file() else []
    J, cams = m.joints_w, read_cameras(out_dir / "cameras.npz").positions
    fig = plt.figure(figsize=(12, 6))
    for k, (elev, azim) in enumerate(((25, -60), (89, -90))):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        H = hf.heights
        ys, xs = np.nonzero(hf.known)
        if len(xs):
            sel = np.random.default_rng(0).choice(len(xs), min(len(xs), 6000), replace=False)
            x = hf.origin_xy[0] + xs[sel] * hf.resolution
            y = hf.origin_xy[1] + ys[sel] * hf.resolution
            ax.scatter(x, y, H[ys[sel], xs[sel]], s=1, c=H[ys[sel], xs[sel]], cmap="viridis", alpha=0.5)
        for sd in solids:
            top = box_mesh(np.asarray(sd.center), np.asarray(sd.size), sd.yaw)[0][[4, 5, 6, 7, 4]]
            ax.plot(*top.T, color=np.array(SOLID_RGB) / 255, lw=1.5)
        ax.plot(*cams.T, color="k", lw=1, label="camera")
        ax.plot(*J[:, 0].T, color="r", lw=1, label="pelvis")
        for t in np.linspace(0, len(J) - 1, num_bodies).round().astype(int):
            for j, p in enumerate(HUMAN_PARENTS):
                if p >= 0:
                    ax.plot(*np.stack([J[t, j], J[t, p]]).T, color="tab:blue", lw=1.5)
        allp = np.concatenate([J.reshape(-1, 3), cams])
        mid, span = (allp.max(0) + allp.min(0)) / 2, (allp.max(0) - allp.min(0)).max() / 2 + 0.5
        ax.set_xlim(mid[0] - span, mid[0] + span)
        ax.set_ylim(mid[1] - span, mid[1] + span)
        ax.set_zlim(max(-0.5, mid[2] - span), mid[2] + span)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_zlabel("z (m)")
        ax.view_init(elev=elev, azim=azim)
        ax.set_title("3D view" if k == 0 else "top view")
        if k == 0:
            ax.legend(loc="upper left")
    fig.suptitle(f"{out_dir.name}: {len(J)} frames, height {m.height_m:.2f} m")
    fig.tight_layout()
    tmp = png.with_name(f".{png.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(png)
