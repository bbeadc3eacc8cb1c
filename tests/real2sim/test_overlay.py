"""overlay.mp4 draws the fitted body as the body model's mesh, posed by the fitted motion, through the
reconstruction's cameras: a standing person filmed from the front covers exactly the pixels its mesh
projects to, and the video written from it shows the body where the person is, over the solids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moderngl")


def _front_camera(dist: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """(T_world_cam, K): a 640x480 camera ``dist`` m in front of a person facing +x, at chest height."""
    T = np.eye(4)
    T[:3, :3] = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]]).T  # cam x=-y_w, y=-z_w, z=-x_w
    T[:3, 3] = [dist, 0.0, 0.55 * height]
    K = np.array([[500.0, 0, 319.5], [0, 500.0, 239.5], [0, 0, 1]])
    return T, K


def _overlay_or_skip(h: float):  # noqa: ANN202
    from videomimic_offline.errors import BackendUnavailableError
    from videomimic_offline.viz.body_overlay import BodyOverlay

    try:
        return BodyOverlay(640, 480, h)
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))


def test_mesh_covers_its_own_projection() -> None:
    from videomimic_offline.real2sim.visualize import project

    h = 1.75
    ov = _overlay_or_skip(h)
    try:
        rest = ov.body.joints_rest
        rot = np.tile([1.0, 0, 0, 0], (len(rest), 1))
        T, K = _front_camera(4.0, h)
        rgb, mask = ov.render(rest, rot, T, K)
        verts = ov.posed_vertices(rest, rot)
    finally:
        ov.close()
    np.testing.assert_allclose(verts, ov.body.vertices_rest, atol=1e-9)  # identity pose = rest mesh
    uv, _ = project(verts[None], T[None], K)
    u, v = uv[0, :, 0], uv[0, :, 1]
    rows, cols = np.nonzero(mask)
    # the silhouette's extent is the projected mesh's extent (to a pixel), here ~ f * h / d = 219 px tall
    assert abs(rows.min() - v.min()) <= 1.5 and abs(rows.max() - v.max()) <= 1.5
    assert abs(cols.min() - u.min()) <= 1.5 and abs(cols.max() - u.max()) <= 1.5
    assert 200 < rows.max() - rows.min() < 240
    # every joint projects inside the body (the torso and head joints lie inside the mesh)
    uj, _ = project(rest[None], T[None], K)
    for name in ("pelvis", "spine", "neck", "head"):
        from videomimic_offline.body.skeleton import HUMAN_JOINTS

        x, y = np.round(uj[0, HUMAN_JOINTS.index(name)]).astype(int)
        assert mask[y, x], name
    # shaded in the human colour, brightest where the surface faces the camera
    from videomimic_offline.viz.scene3d import HUMAN_RGB

    c = rgb[mask].astype(float)
    hue = c / np.maximum(c.sum(1, keepdims=True), 1)
    np.testing.assert_allclose(np.median(hue, 0), np.array(HUMAN_RGB) / sum(HUMAN_RGB), atol=0.02)


def test_write_overlay_draws_the_fitted_body(tmp_path: Path) -> None:
    import av
    from videomimic_offline.real2sim.visualize import SOLID_RGB, write_overlay

    h, n = 1.7, 6
    ov = _overlay_or_skip(h)
    rest = ov.body.joints_rest
    ov.close()
    # the person walks 0.1 m per frame towards +y; a 1 m floor box lies at their feet
    joints = np.stack([rest + [0.0, 0.1 * t, 0.0] for t in range(n)])
    rot = np.tile([1.0, 0, 0, 0], (n, len(rest), 1))
    T, K = _front_camera(4.0, h)
    Twc = np.repeat(T[None], n, axis=0)
    frames = np.full((n, 480, 640, 3), 40, np.uint8)
    solids = [(np.array([-1.0, 0.0, -0.05]), np.array([1.0, 1.0, 0.1]), 0.0)]
    out = tmp_path / "overlay.mp4"
    write_overlay(frames, joints, Twc, np.repeat(K[None], n, 0), out, 10.0, solids, joint_rot_w=rot, height_m=h)
    with av.open(str(out)) as c:
        video = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(video) == n and video[0].shape == (480, 640, 3)
    from videomimic_offline.real2sim.visualize import project

    for t in (0, n - 1):
        uv, _ = project(joints[t][None, :1], Twc[t][None], K)
        u, v = np.round(uv[0, 0]).astype(int)  # the pelvis pixel: body colour, well above the background
        assert video[t][v - 2 : v + 3, u - 2 : u + 3].mean(axis=(0, 1))[0] > 100
    # the body moves with the motion (camera x = -world y): the pelvis pixel of the first frame is left bare later
    uv, _ = project(joints[0][None, :1], Twc[0][None], K)
    u0, v0 = np.round(uv[0, 0]).astype(int)
    assert video[n - 1][v0, u0][0] < 70
    # the floor box (behind the person: rows ~327-346, columns 270-370) stays visible in its own colour beside the legs
    tint = video[0][330:342, 274:292].mean(axis=(0, 1)) - 40.0
    solid = np.array(SOLID_RGB) - 40.0
    assert tint @ solid / (np.linalg.norm(tint) * np.linalg.norm(solid)) > 0.98 and np.linalg.norm(tint) > 30
