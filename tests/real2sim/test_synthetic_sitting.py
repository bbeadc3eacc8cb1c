"""Synthetic sit-down / stand-up clips: the pelvis rests on the seat exactly while ``seat_contact``
is set, thighs near horizontal on a chair, feet planted on the floor, and the ground truth
carries the seat's box and top height."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.model import BodyShape, build_body
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.synthetic import SIT_KINDS
from videomimic_offline.real2sim.synthetic.clip import load_gt, make_clip
from videomimic_offline.real2sim.synthetic.motion import SEAT_HIP_CLEARANCE, generate_motion
from videomimic_offline.real2sim.synthetic.scenes import build_scene

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    e = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(e[0::2], e[1::2], strict=True))


@pytest.mark.parametrize("kind", SIT_KINDS)
@pytest.mark.parametrize(("seed", "height"), [(0, 1.5), (1, 1.95), (2, 1.72)])
def test_pelvis_rests_on_the_seat_while_seated(kind: str, seed: int, height: float) -> None:
    rng = np.random.default_rng(seed)
    scene = build_scene(kind, rng, seconds=8.0)
    body = build_body(BodyShape(height))
    m = generate_motion(scene, body, rng, 8.0)
    lay = scene.layout
    seated = m.seat_contact
    runs = _runs(seated)
    assert len(runs) == 1 and runs[0][1] - runs[0][0] >= 30, f"one seated stretch of >= 1 s, got {runs}"
    hips = 0.5 * (m.joints_w[:, I["left_hip"]] + m.joints_w[:, I["right_hip"]])
    # on the seat: hip joints the seated clearance above the seat top, never lower (not in it)
    above = hips[:, 2] - lay["seat_z"] - SEAT_HIP_CLEARANCE * height / 1.75
    assert np.abs(above[seated]).max() < 0.01
    assert above.min() > -0.002
    # over the seat's footprint
    assert (np.abs(hips[seated, 0] - lay["seat_x"]) < lay["seat_depth"] / 2).all()
    assert (np.abs(hips[seated, 1]) < lay["seat_length"] / 2).all()
    # thighs near horizontal on chairs and benches (a low ledge lifts the knees)
    thigh = m.joints_w[:, I["left_knee"]] - m.joints_w[:, I["left_hip"]]
    pitch = np.degrees(np.arcsin(thigh[:, 2] / np.linalg.norm(thigh, axis=1)))
    limit = 25.0 if kind == "ledge" else 20.0
    assert np.abs(pitch[seated]).max() < limit
    # both feet planted on the floor while seated
    assert m.contacts[seated].all()
    for side in ("left", "right"):
        a = I[f"{side}_ankle"]
        np.testing.assert_allclose(m.joints_w[seated, a, 2], body.joints_rest[a, 2], atol=0.003)
    # standing before: the pelvis a leg's length up
    standing = body.joints_rest[0, 2]
    assert m.root_pos[0, 2] > standing - 0.08
    if kind == "bench":  # sits down and stays
        assert seated[-1]
    else:  # stays a moment, then stands up again
        assert not seated[-1] and m.root_pos[-1, 2] > standing - 0.08
        assert m.contacts[-1].all()


def test_sit_clip_ground_truth_carries_the_seat(tmp_path: Path) -> None:
    out = make_clip("ledge", tmp_path / "c", seconds=7.5, seed=1, width=160, height=90, regime="tripod",
                    progress=False)  # fmt: skip
    gt = load_gt(out)
    from videomimic_offline.real2sim.synthetic import clip as clip_mod

    scene = build_scene("ledge", clip_mod.clip_rngs("ledge", 1)[1], seconds=7.5)
    lay = scene.layout
    assert float(gt["seat_top_z"]) == pytest.approx(lay["seat_z"])
    c, s = gt["seat_box_center"], gt["seat_box_size"]
    assert c[2] + s[2] / 2 == pytest.approx(lay["seat_z"]) and c[2] - s[2] / 2 == pytest.approx(0.0)
    assert c[0] == pytest.approx(lay["seat_x"]) and s[0] == pytest.approx(lay["seat_depth"])
    assert float(gt["seat_box_yaw"]) == 0.0
    # the seat top is the highest surface under the seated pelvis in the rendered scene
    seated = gt["seat_contact"]
    assert seated.dtype == bool and seated.shape == (225,) and seated.any()
    under = scene.surface_height(gt["root_pos_w"][seated, :2])
    np.testing.assert_allclose(under, lay["seat_z"])
    # and the seat is part of the scene the camera saw
    seen_top = np.abs(gt["scene_seen_points"][:, 2] - lay["seat_z"]) < 1e-6
    assert seen_top.sum() > 50


def test_scenes_without_a_seat_say_so(tmp_path: Path) -> None:
    gt = load_gt(make_clip("stairs_up", tmp_path / "c", seconds=0.5, seed=0, width=160, height=120, progress=False))
    assert not gt["seat_contact"].any()
    assert np.isnan(gt["seat_top_z"]) and np.isnan(gt["seat_box_center"]).all()
