"""Synthetic benchmark generator: determinism, ground-truth consistency, video, atomic writing."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from videomimic_offline.body.model import BodyModel, BodyShape, build_body, quat_to_mat
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.synthetic import SCENE_KINDS
from videomimic_offline.real2sim.synthetic import clip as clip_mod
from videomimic_offline.real2sim.synthetic.camera import project
from videomimic_offline.real2sim.synthetic.clip import load_gt, main, make_clip
from videomimic_offline.real2sim.synthetic.motion import generate_motion
from videomimic_offline.real2sim.synthetic.scenes import build_scene

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741
W, H = 320, 240


@pytest.fixture(scope="module")
def stairs_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip("stairs_up", tmp_path_factory.mktemp("c") / "clip", seconds=1.0, seed=3, width=W, height=H)


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_clip_folder_matches_the_contract(stairs_clip: Path) -> None:
    assert sorted(p.name for p in stairs_clip.iterdir()) == ["gt.npz", "meta.json", "video.mp4"]
    gt = load_gt(stairs_clip)
    T, J = 30, len(HUMAN_JOINTS)
    assert float(gt["fps"]) == 30.0
    assert gt["image_size"].tolist() == [W, H]
    assert gt["K"].shape == (3, 3) and gt["T_world_cam"].shape == (T, 4, 4)
    assert gt["joints_w"].shape == (T, J, 3)
    assert gt["root_pos_w"].shape == (T, 3) and gt["root_quat_w"].shape == (T, 4)
    assert gt["contacts"].shape == (T, 2) and gt["contacts"].dtype == bool
    assert 1.5 <= float(gt["height_m"]) <= 1.95
    assert gt["scene_faces"].max() < len(gt["scene_vertices"])
    assert str(gt["scene_kind"]) == "stairs_up" and int(gt["seed"]) == 3
    np.testing.assert_allclose(gt["root_pos_w"], gt["joints_w"][:, 0])
    # camera rotations are proper rotations
    R = gt["T_world_cam"][:, :3, :3]
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.tile(np.eye(3), (T, 1, 1)), atol=1e-9)
    meta = json.loads((stairs_clip / "meta.json").read_text())
    assert meta["scene_kind"] == "stairs_up" and meta["frames"] == T and meta["height_m"] == float(gt["height_m"])
    assert {"camera", "lighting", "seed"} <= set(meta)


def test_video_decodes_with_the_right_frame_count(stairs_clip: Path) -> None:
    frames = _decode(stairs_clip / "video.mp4")
    assert frames.shape == (30, H, W, 3)
    assert frames.std() > 20  # textured, not blank


def test_the_person_is_in_view_in_every_frame(stairs_clip: Path) -> None:
    gt = load_gt(stairs_clip)
    uv, z = project(gt["joints_w"], gt["T_world_cam"], gt["K"])
    assert (z > 0.5).all()
    assert (uv[..., 0] >= 0).all() and (uv[..., 0] <= W - 1).all()
    assert (uv[..., 1] >= 0).all() and (uv[..., 1] <= H - 1).all()


def test_ground_truth_reposes_and_projects_onto_the_rendered_body(stairs_clip: Path) -> None:
    """body_params + body_local_quat + root reproduce joints_w, and the K/T_world_cam convention
    matches the renderer: the projected torso lands on body pixels of a re-render."""
    from videomimic_offline.real2sim.synthetic.render import ClipRenderer, Lighting

    gt = load_gt(stairs_clip)
    body = build_body(BodyShape.from_array(gt["body_params"]), seed=int(gt["body_texture_seed"]))
    local = quat_to_mat(gt["body_local_quat"])
    joints, rots = body.forward_kinematics(gt["root_pos_w"], quat_to_mat(gt["root_quat_w"]), local)
    np.testing.assert_allclose(joints, gt["joints_w"], atol=1e-6)
    scene = build_scene("stairs_up", clip_mod.clip_rngs("stairs_up", 3)[1], seconds=1.0)  # the clip's own scene
    sv, _ = scene.mesh()
    np.testing.assert_array_equal(sv, gt["scene_vertices"])
    fovy = 2 * np.degrees(np.arctan(H / 2 / gt["K"][1, 1]))
    hits = 0
    with ClipRenderer(scene, body, W, H, fovy, Lighting(shadows=False)) as r:
        for i in (0, 15, 29):
            r.set_body(body.skin(joints[i], rots[i]))
            r.set_camera(gt["T_world_cam"][i])
            seg = r.render("segmentation")
            uv, _ = project(gt["joints_w"][i : i + 1], gt["T_world_cam"][i : i + 1], gt["K"])
            for name in ("spine", "neck", "left_hip", "right_knee"):
                u, v = np.round(uv[0, I[name]]).astype(int)
                hits += int(seg[v, u] == r.body_geom)
    assert hits >= 11, f"only {hits}/12 projected joints fall on the rendered body"


def test_same_seed_same_clip_other_seed_other_clip(tmp_path: Path, stairs_clip: Path) -> None:
    again = make_clip("stairs_up", tmp_path / "again", seconds=1.0, seed=3, width=W, height=H, progress=False)
    a, b = load_gt(stairs_clip), load_gt(again)
    for key in ("joints_w", "T_world_cam", "K", "scene_vertices", "contacts", "body_params", "scene_seen_points"):
        np.testing.assert_array_equal(a[key], b[key])
    fa, fb = _decode(stairs_clip / "video.mp4"), _decode(again / "video.mp4")
    # pixels may differ by rasteriser/encoder threading noise (shadow edges), nothing more
    assert np.abs(fa.astype(int) - fb.astype(int)).mean() < 2.0
    other = make_clip("stairs_up", tmp_path / "other", seconds=0.5, seed=4, width=W, height=H, progress=False)
    c = load_gt(other)
    assert float(c["height_m"]) != float(a["height_m"])
    assert not np.allclose(c["T_world_cam"][:15], a["T_world_cam"][:15])
    assert np.abs(_decode(other / "video.mp4").astype(int) - fa[:15].astype(int)).mean() > 10.0


def _sole_errors(scene_kind: str, seed: int, height: float) -> tuple[float, float, float, BodyModel, np.ndarray]:
    rng = np.random.default_rng(seed)
    scene = build_scene(scene_kind, rng, seconds=6.0)
    body = build_body(BodyShape(height))
    m = generate_motion(scene, body, rng, 6.0)
    on_surface, slide, min_clear = 0.0, 0.0, np.inf
    for f, side in enumerate(("left", "right")):
        ia, it = I[f"{side}_ankle"], I[f"{side}_toe"]
        c = m.contacts[:, f]
        ball = m.joints_w[:, it]
        surf = scene.surface_height(ball[:, :2])
        # in contact: ankle and ball at their rest heights above the surface under the ball
        e = np.abs(m.joints_w[c, ia, 2] - body.joints_rest[ia, 2] - surf[c])
        e2 = np.abs(ball[c, 2] - body.joints_rest[it, 2] - surf[c])
        on_surface = max(on_surface, e.max(), e2.max())
        # a planted foot does not slide
        starts = np.flatnonzero(np.diff(np.r_[0, c.astype(int)]) == 1)
        ends = np.flatnonzero(np.diff(np.r_[c.astype(int), 0]) == -1)
        for a, b in zip(starts, ends, strict=True):
            slide = max(slide, np.linalg.norm(m.joints_w[a : b + 1, ia] - m.joints_w[a, ia], axis=1).max())
        # never through the scene: heel, ball and toe tip of the sole stay above the surface
        sole_z = m.joints_w[:, ia, 2] - body.joints_rest[ia, 2]
        fwd = ball[:, :2] - m.joints_w[:, ia, :2]
        fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
        h = body.shape.height_m
        for d in (-0.03 * h, 0.0, 0.1 * h):  # heel (inside the rounded end), ankle, toe tip
            under = scene.surface_height(m.joints_w[:, ia, :2] + d * fwd)
            min_clear = min(min_clear, (sole_z - under)[c].min())
        min_clear = min(min_clear, (ball[:, 2] - body.joints_rest[it, 2] - surf).min())
    return on_surface, slide, min_clear, body, m.joints_w


@pytest.mark.parametrize("kind", SCENE_KINDS)
@pytest.mark.parametrize(("seed", "height"), [(0, 1.5), (1, 1.95)])
def test_feet_are_planted_on_the_surfaces_during_contacts(kind: str, seed: int, height: float) -> None:
    on_surface, slide, min_clear, _, joints = _sole_errors(kind, seed, height)
    assert on_surface < 0.003, f"foot {on_surface * 1000:.1f} mm off the surface during contact"
    assert slide < 0.001, f"planted foot slid {slide * 1000:.1f} mm"
    assert min_clear > -0.003, f"foot {-min_clear * 1000:.1f} mm inside the scene"
    assert np.isfinite(joints).all()


def test_motion_goes_where_the_scene_says() -> None:
    """Both feet end planted on the top of the stairs / the bottom / the curb."""
    rng = np.random.default_rng(2)
    for kind in ("stairs_up", "stairs_down", "curb"):
        scene = build_scene(kind, rng, seconds=14.0)
        body = build_body(BodyShape(1.7))
        m = generate_motion(scene, body, rng, 14.0)
        lay = scene.layout
        top = lay["n_steps"] * lay["riser"] if kind.startswith("stairs") else lay["curb_height"]
        start, end = {"stairs_up": (0.0, top), "stairs_down": (top, 0.0), "curb": (0.0, top)}[kind]
        for f, side in enumerate(("left", "right")):
            ankle = m.joints_w[:, I[f"{side}_ankle"], 2] - body.joints_rest[I[f"{side}_ankle"], 2]
            assert m.contacts[0, f] and m.contacts[-1, f], kind
            assert ankle[0] == pytest.approx(start, abs=1e-3), kind
            assert ankle[-1] == pytest.approx(end, abs=1e-3), kind
    scene = build_scene("bench", rng, seconds=6.0)
    body = build_body(BodyShape(1.7))
    m = generate_motion(scene, body, rng, 6.0)
    lay = scene.layout
    pelvis = m.joints_w[-1, 0]
    assert abs(pelvis[0] - lay["seat_x"]) < lay["seat_depth"] / 2  # over the seat
    assert pelvis[2] < body.joints_rest[0, 2] - 0.25  # sitting, well below standing height
    assert pelvis[2] > lay["seat_z"]
    assert m.contacts[-1].all()


def test_bad_arguments_are_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="unknown scene kind"):
        make_clip("ladder", tmp_path / "x")
    with pytest.raises(SystemExit) as exc:
        main(["--kind", "curb", "--height-m", "2.4", "--out", str(tmp_path / "y")])
    assert exc.value.code == 2
    assert "outside 1.5..1.95" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_failure_while_rendering_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = clip_mod.ClipRenderer.render

    def flaky(self, mode: str = "rgb") -> np.ndarray:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt
        return real(self, mode)

    monkeypatch.setattr(clip_mod.ClipRenderer, "render", flaky)
    with pytest.raises(KeyboardInterrupt):
        make_clip("curb", tmp_path / "clip", seconds=1.0, seed=0, width=160, height=120, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_default_clip_is_made_once_and_redone_when_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from videomimic_offline.real2sim.synthetic import api

    small = dict(api.DEFAULT_CLIP, seconds=0.5, width=160, height=120)
    monkeypatch.setattr(api, "DEFAULT_CLIP", small)
    out = api.make_default_clip(tmp_path / "input", progress=False)
    assert load_gt(out)["joints_w"].shape[0] == 15
    stamp = (out / "video.mp4").stat().st_mtime_ns
    assert api.make_default_clip(out, progress=False) == out
    assert (out / "video.mp4").stat().st_mtime_ns == stamp  # reused, not re-rendered
    (out / "gt.npz").write_bytes(b"not an npz")
    api.make_default_clip(out, progress=False)
    assert load_gt(out)["joints_w"].shape[0] == 15
