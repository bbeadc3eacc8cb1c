"""Scene-height metrics (step and seat height errors, Chamfer over the contact region) against
hand-computed values, and end to end on generated clips scored against their own ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
from videomimic_offline.real2sim import metrics
from videomimic_offline.real2sim.synthetic.clip import load_gt, make_clip
from videomimic_offline.real2sim.synthetic.heightfield import gt_heights, terrain_faces
from videomimic_offline.real2sim.synthetic.scenes import top_surface_height

from videomimic_offline import artifacts

nan = float("nan")


def test_stance_segments_and_height_under() -> None:
    c = np.zeros((12, 2), bool)
    c[0:5, 0] = True  # 5 frames: kept
    c[7:9, 0] = True  # 2 frames: too short
    c[3:12, 1] = True
    assert metrics.stance_segments(c) == [(0, 0, 5), (1, 3, 12)]

    def step(xy: np.ndarray) -> np.ndarray:  # a 0.2 m step at x >= 0, unknown at y > 1
        h = np.where(xy[..., 0] >= 0.0, 0.2, 0.0)
        return np.where(xy[..., 1] > 1.0, np.nan, h)

    # on the edge: 6 of the 9 points (x = 0, +3 cm) are on the step -> median 0.2
    h = metrics.height_under(step, np.array([[0.0, 0.0], [-0.031, 0.0], [0.5, 0.99], [0.5, 1.5]]))
    np.testing.assert_allclose(h[:3], [0.2, 0.0, 0.2])  # (0.5, 0.99): 3 unknown, 6 at 0.2
    assert np.isnan(h[3])


def test_step_height_errors_hand_computed() -> None:
    # true heights per segment: floor x3, a 0.15 m tread x2, a 0.30 m tread x1, a 0.45 m landing (unknown)
    gt = np.array([0.0, 0.0, 0.15, 0.151, 0.30, 0.45, 0.0])
    rec = np.array([0.02, 0.04, 0.19, 0.20, 0.31, nan, 0.03])
    # reconstructed floor = median(0.02, 0.04, 0.03) = 0.03
    # tread 0.15: median(0.19, 0.20) - 0.03 - median(0.15, 0.151) = 0.195 - 0.03 - 0.1505 = 0.0145
    # tread 0.30: 0.31 - 0.03 - 0.30 = -0.02; landing: missing
    out = metrics.step_height_errors(gt, rec)
    assert out["step_height_err_m"] == pytest.approx((0.0145 + 0.02) / 2)
    assert out["step_height_err_max_m"] == pytest.approx(0.02)
    assert out["step_surfaces"] == 3 and out["step_surfaces_missing"] == 1
    # only the floor: not applicable
    assert np.isnan(metrics.step_height_errors(np.zeros(3), np.zeros(3))["step_height_err_m"])
    # no known floor: the contract's floor z = 0 is used
    assert metrics.step_height_errors(np.array([0.0, 0.2]), np.array([nan, 0.23]))["step_height_err_m"] == (
        pytest.approx(0.03)
    )


def test_seat_height_error_hand_computed() -> None:
    J = len(HUMAN_JOINTS)
    joints = np.zeros((10, J, 3))
    joints[:, :, 0] = np.linspace(0.0, 0.3, J)[None]  # thigh points at x in [0, 0.3]

    def seat(xy: np.ndarray) -> np.ndarray:
        return np.where(xy[..., 0] < 2.0, 0.50, 0.0)

    seated = np.zeros(10, bool)
    seated[3:8] = True
    out = metrics.seat_height_error(seat, joints, seated, seat_top=0.45, floor=0.02)
    assert out == {"seat_height_err_m": pytest.approx(0.03), "seat_missing": 0.0}  # |0.50 - 0.02 - 0.45|
    assert np.isnan(metrics.seat_height_error(seat, joints, seated, nan, 0.0)["seat_height_err_m"])  # no seat
    miss = metrics.seat_height_error(lambda xy: np.full(xy.shape[:-1], np.nan), joints, seated, 0.45, 0.0)
    assert np.isnan(miss["seat_height_err_m"]) and miss["seat_missing"] == 1.0


def test_contact_chamfer_hand_computed() -> None:
    region = np.column_stack([np.linspace(0, 1, 50), np.zeros(50)])  # a 1 m walk along x

    def flat(xy: np.ndarray) -> np.ndarray:
        return np.zeros(np.asarray(xy).shape[:-1])

    g = np.mgrid[-0.5:1.5:0.004, -0.5:0.5:0.004].reshape(2, -1).T
    lifted = np.column_stack([g, np.full(len(g), 0.02)])
    out = metrics.contact_chamfer_m(lifted, flat, region)
    # every distance is the 2 cm offset (plus < 3 mm of sampling in xy)
    assert out["chamfer_contact_accuracy_m"] == pytest.approx(0.02, abs=5e-4)
    assert out["chamfer_contact_completeness_m"] == pytest.approx(0.02, abs=5e-4)
    assert out["chamfer_contact_m"] == pytest.approx(0.02, abs=5e-4)
    # geometry outside the region is not scored; nothing inside it is infinitely bad
    far = lifted + [10.0, 0.0, 0.0]
    assert metrics.contact_chamfer_m(np.vstack([lifted, far]), flat, region)["chamfer_contact_m"] == pytest.approx(
        out["chamfer_contact_m"]
    )
    assert metrics.contact_chamfer_m(far, flat, region)["chamfer_contact_m"] == float("inf")
    # half the region missing: completeness counts the distance to the nearest reconstructed sample
    half = lifted[lifted[:, 0] < 0.5]
    assert metrics.contact_chamfer_m(half, flat, region)["chamfer_contact_completeness_m"] > 0.1


def test_camera_scale_only_where_the_true_camera_translates() -> None:
    path = np.column_stack([np.linspace(0, 1.0, 30), np.zeros(30), np.full(30, 1.5)])
    assert metrics.cams_scale_error_pct(1.1 * path, path) == pytest.approx(10.0)
    still = np.tile([0.0, -3.0, 1.4], (30, 1)) + np.random.default_rng(0).normal(0, 0.01, (30, 3))
    assert np.isnan(metrics.cams_scale_error_pct(still * 2.0, still))


def test_solids_and_heightfield_samples() -> None:
    solids = [
        {"kind": "seat", "box": {"center": [1.0, 0.0, 0.225], "size": [0.4, 1.0, 0.45], "yaw": np.pi / 2}},
        {"kind": "floor", "box": {"center": [0.0, 0.0, -0.05], "size": [6.0, 6.0, 0.1], "yaw": 0.0}},
    ]
    H, origin = metrics.solids_heights(solids, 0.02)
    from videomimic_offline.retarget.terrain import from_heights

    t = from_heights(H, origin, 0.02)
    # yawed 90 degrees: 1.0 m along x, 0.4 m along y
    np.testing.assert_allclose(t.height(np.array([[1.45, 0.0], [1.0, 0.15], [1.0, 0.25], [2.5, 2.5]])),
                               [0.45, 0.45, 0.0, 0.0])  # fmt: skip
    pts = metrics.heightfield_samples(np.array([[0.1, np.nan], [0.2, 0.3]]), np.array([1.0, 2.0]), 0.1, sub=2)
    assert pts.shape == (12, 3)
    np.testing.assert_allclose(np.sort(np.unique(pts[:, 2])), [0.1, 0.2, 0.3])
    first = pts[pts[:, 2] == 0.1]  # cell (row 0, col 0) centred at (1.0, 2.0): samples at +-2.5 cm
    np.testing.assert_allclose(np.sort(np.unique(first[:, 0])), [0.975, 1.025])


def _as_reconstruction(clip: Path, out: Path, shift=(0.0, 0.0, 0.0), height_scale: float = 1.0) -> Path:
    """The ground truth written as a reconstruction (moved by ``shift``, terrain heights scaled)."""
    gt = load_gt(clip)
    shift = np.asarray(shift, float)
    out.mkdir(parents=True)
    artifacts.write_npz(out / "motion.npz", schema="videomimic.human_motion", version=1, fps=gt["fps"],
                        joint_names=np.array(HUMAN_JOINTS), joints_w=gt["joints_w"] + shift,
                        contacts=gt["contacts"], height_m=gt["height_m"])  # fmt: skip
    Tw = gt["T_world_cam"].copy()
    Tw[:, :3, 3] += shift
    artifacts.write_npz(out / "cameras.npz", schema="videomimic.cameras", version=1,
                        K=np.repeat(gt["K"][None], len(Tw), 0), T_world_cam=Tw, image_size=gt["image_size"],
                        fps=gt["fps"])  # fmt: skip
    H, origin, res = gt_heights(gt)
    write_heightfield(out / "heightfield.npz", Heightfield(H * height_scale + shift[2], origin + shift[:2], res))
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "stairs": make_clip("stairs_up", d / "s", seconds=6.0, seed=3, width=160, height=90, regime="tripod",
                            progress=False),
        "ledge": make_clip("ledge", d / "l", seconds=7.5, seed=3, width=160, height=90, regime="pan_tilt",
                           progress=False),
    }  # fmt: skip


@pytest.mark.parametrize("name", ["stairs", "ledge"])
def test_ground_truth_scores_zero_and_a_taller_scene_scores_its_excess(
    tmp_path: Path, clips: dict[str, Path], name: str
) -> None:
    clip = clips[name]
    gt = load_gt(clip)
    m = metrics.evaluate_reconstruction(clip, _as_reconstruction(clip, tmp_path / "same"))
    assert m["chamfer_contact_m"] < 0.005  # only the 2 cm grids' own sampling
    moved = metrics.evaluate_reconstruction(
        clip, _as_reconstruction(clip, tmp_path / "moved", shift=(0.4, -0.3, 0.05), height_scale=1.1)
    )
    if name == "stairs":
        assert m["step_height_err_m"] == pytest.approx(0.0, abs=1e-9) and m["step_surfaces"] >= 3
        assert m["step_surfaces_missing"] == 0 and np.isnan(m["seat_height_err_m"])
        # every surface 10 % too high (the shift does not count): the worst is 10 % of the highest
        gv, gf = gt["scene_vertices"], terrain_faces(gt)
        segs = metrics.stance_segments(gt["contacts"])
        true = metrics.support_heights(lambda xy: top_surface_height(gv, gf, xy), gt["joints_w"], segs)
        assert moved["step_height_err_max_m"] == pytest.approx(0.1 * true.max(), abs=1e-6)
    else:
        assert m["seat_height_err_m"] == pytest.approx(0.0, abs=1e-9) and m["seat_missing"] == 0
        assert np.isnan(m["step_height_err_m"])
        assert moved["seat_height_err_m"] == pytest.approx(0.1 * float(gt["seat_top_z"]), abs=1e-6)
    assert 0.004 < moved["chamfer_contact_m"] < 0.05
