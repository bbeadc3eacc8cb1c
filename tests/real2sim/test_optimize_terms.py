"""The joint optimisation's occlusion term, prior lean correction, contact pass and robust floor term.

``occlusion_pairs`` and ``unlean_towards_camera`` are checked on poses built by hand, where the right
answer is known; ``optimize`` is run end to end on small synthetic problems (a person seen from the
side with the far wrist hidden; a standing person over a spurious raised patch of scene points; a
standing person whose per-frame placement jitters, for the two-pass contact fit).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.real2sim.config import FitConfig
from videomimic_offline.real2sim.fit.body import occlusion_pairs, unlean_towards_camera
from videomimic_offline.real2sim.optimize import OptInputs, OptResult, optimize

from tests.real2sim.raycast import look

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741
H = 1.7
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])


# ------------------------------------------------------------------------------------------------
# occlusion_pairs: a person facing the camera 4 m away (world x towards the camera, y left, z up)


def _frontal_camera(p_w: np.ndarray, centre_z: float) -> np.ndarray:
    """Camera coordinates (x right, y down, z depth) for a camera at (4, 0, centre_z) looking along -x."""
    return np.stack([p_w[..., 1], centre_z - p_w[..., 2], 4.0 - p_w[..., 0]], axis=-1)


def _pixels(pc: np.ndarray) -> np.ndarray:
    return (pc @ K.T)[..., :2] / pc[..., 2:3]


def _frontal(poses_w: np.ndarray, hidden: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Pixels and confidences (0 for the named joints of each frame) of world poses (T,J,3)."""
    kp = _pixels(_frontal_camera(poses_w, 1.05))
    conf = np.full(kp.shape[:2], 0.9)
    for t, names in enumerate(hidden):
        conf[t, [I[n] for n in names]] = 0.0
    return kp, conf


def _with(pose: np.ndarray, **joints: tuple[float, float, float]) -> np.ndarray:
    out = pose.copy()
    for n, p in joints.items():
        out[I[n]] = p
    return out


REST = rest_joints(H)
#: the left hand behind the back, at the spine's line in the image (depth 4.15 m, torso at 4.0 m)
HAND_BEHIND_BACK = _with(REST, left_elbow=(-0.12, 0.22, 1.10), left_wrist=(-0.15, 0.0, 1.05))


def test_hidden_wrist_on_the_torso_is_paired_with_the_torso() -> None:
    """A wrist reported not visible whose 2D lies on the torso must be kept behind the torso."""
    kp, conf = _frontal(HAND_BEHIND_BACK[None], [["left_wrist"]])
    t, j, a, b, s, gap = occlusion_pairs(kp, conf, np.array([4.0]), K, H)
    assert list(t) == [0] and list(j) == [I["left_wrist"]]
    assert (a[0], b[0]) == (I["pelvis"], I["neck"])
    # the wrist's image row is the camera centre's (z=1.05): that height's fraction of pelvis -> neck
    pel, neck = REST[I["pelvis"], 2], REST[I["neck"], 2]
    assert s[0] == pytest.approx((1.05 - pel) / (neck - pel), abs=0.01)
    assert gap[0] == pytest.approx(0.11 + 0.03)  # torso capsule radius + wrist radius at 1.70 m
    # capsule radii scale with the person's size
    *_, gap_small = occlusion_pairs(kp, conf, np.array([4.0 * 0.9]), K, 0.9 * H)
    assert gap_small[0] == pytest.approx(0.9 * 0.14)


def test_visible_or_beside_the_body_wrists_are_not_paired() -> None:
    """Only hidden joints that overlap a visible part in 2D get the constraint."""
    beside = _with(HAND_BEHIND_BACK, left_wrist=(-0.15, 0.45, 1.05))  # hand held out to the side
    poses = np.stack([HAND_BEHIND_BACK, beside, HAND_BEHIND_BACK])
    # frame 0: the wrist is visible; 1: hidden but beside the body; 2: hidden on the torso
    kp, conf = _frontal(poses, [[], ["left_wrist"], ["left_wrist"]])
    t, j, *_ = occlusion_pairs(kp, conf, np.full(3, 4.0), K, H)
    assert list(zip(t, j, strict=True)) == [(2, I["left_wrist"])]


def test_hiding_part_must_itself_be_visible() -> None:
    """If an end of the torso segment is not visible either, nothing is known to be in front."""
    kp, conf = _frontal(HAND_BEHIND_BACK[None], [["left_wrist", "pelvis"]])
    t, *_ = occlusion_pairs(kp, conf, np.array([4.0]), K, H)
    assert len(t) == 0


def test_a_joint_is_never_hidden_by_its_own_limb() -> None:
    """A wrist folded back behind its own upper arm is not paired with it; another wrist there is."""
    arm_out = dict(left_elbow=(0.0, 0.5, 1.38))
    folded = _with(REST, **arm_out, left_wrist=(-0.2, 0.35, 1.38))  # on the own upper arm in 2D
    straight = _with(REST, **arm_out, left_wrist=(0.0, 0.78, 1.38), right_wrist=(-0.2, 0.35, 1.38))
    kp, conf = _frontal(np.stack([folded, straight]), [["left_wrist"], ["right_wrist"]])
    t, j, a, b, s, _ = occlusion_pairs(kp, conf, np.full(2, 4.0), K, H)
    assert list(zip(t, j, strict=True)) == [(1, I["right_wrist"])]
    assert (a[0], b[0]) == (I["left_shoulder"], I["left_elbow"])
    assert 0.4 < s[0] < 0.6


def test_overlap_radius_is_the_capsule_radius_in_pixels_at_the_person_depth() -> None:
    """A wrist 8 cm above the neck's end is within the 11 cm torso capsule, so paired at the true
    depth; at twice the depth (half the pixel radius), or for a half-size person, it is not."""
    pose = _with(HAND_BEHIND_BACK, left_wrist=(-0.15, 0.0, REST[I["neck"], 2] + 0.08))
    kp, conf = _frontal(pose[None], [["left_wrist"]])
    t, _, a, b, s, _ = occlusion_pairs(kp, conf, np.array([4.0]), K, H)
    assert len(t) == 1 and (a[0], b[0]) == (I["pelvis"], I["neck"]) and s[0] == 1.0
    assert len(occlusion_pairs(kp, conf, np.array([8.0]), K, H)[0]) == 0
    assert len(occlusion_pairs(kp, conf, np.array([4.0]), K, H / 2)[0]) == 0


def test_unknown_depth_missing_or_off_image_keypoints_give_no_pairs() -> None:
    """NaN depth, a NaN keypoint or a keypoint outside the image: no pair and no crash."""
    kp, conf = _frontal(np.stack([HAND_BEHIND_BACK] * 3), [["left_wrist"]] * 3)
    kp[1, I["left_wrist"]] = np.nan
    kp[2] += [700.0, 0.0]  # the whole person off the right edge (the torso included)
    t, *_ = occlusion_pairs(kp, conf, np.array([np.nan, 4.0, 4.0]), K, H)
    assert len(t) == 0


# ------------------------------------------------------------------------------------------------
# unlean_towards_camera


def _cam_looking(yaw_deg: float, pitch_down_deg: float = 0.0) -> np.ndarray:
    """Camera-to-world rotation (OpenCV axes) looking horizontally at ``yaw`` (0 = +x), pitched down."""
    return look(90.0 - yaw_deg, pitch_down_deg)


#: pelvis-relative standing pose with an exactly vertical pelvis -> neck line
UPRIGHT = _with(REST, spine=(0.0, 0.0, REST[I["spine"], 2]), neck=(0.0, 0.0, REST[I["neck"], 2])) - REST[I["pelvis"]]


def _leaning(fwd_deg: float, side_deg: float, yaw_deg: float) -> np.ndarray:
    """UPRIGHT tilted ``fwd_deg`` along horizontal direction ``yaw`` (+ = its top moves that way),
    then ``side_deg`` sideways (about that direction)."""
    yaw = np.radians(yaw_deg)
    along = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    across = np.cross([0.0, 0.0, 1.0], along)
    r = Rotation.from_rotvec(np.radians(side_deg) * along) * Rotation.from_rotvec(np.radians(fwd_deg) * across)
    return r.apply(UPRIGHT)


def _lean_along(pose: np.ndarray, yaw_deg: float) -> float:
    d = pose[I["neck"]] - pose[I["pelvis"]]
    yaw = np.radians(yaw_deg)
    return float(np.degrees(np.arcsin(d @ [np.cos(yaw), np.sin(yaw), 0.0] / np.linalg.norm(d))))


@pytest.mark.parametrize(
    ("lean_deg", "expected_deg"),
    [(-10.0, -5.0), (10.0, 5.0), (-25.0, -17.5), (25.0, 17.5), (0.0, 0.0)],
)
def test_lean_along_the_view_is_halved_up_to_the_cap(lean_deg: float, expected_deg: float) -> None:
    """keep=0.5: 10 deg towards (-) or away from (+) the camera becomes 5; beyond the 15 deg cap only
    the first 15 are shrunk (25 -> 25 - 7.5), so a real bend keeps its excess."""
    yaw = 30.0  # the camera looks along a horizontal direction 30 deg off +x
    pose = _leaning(lean_deg, 0.0, yaw)
    assert _lean_along(pose, yaw) == pytest.approx(lean_deg, abs=1e-6)
    out = unlean_towards_camera(pose[None], _cam_looking(yaw)[None], keep=0.5)[0]
    assert _lean_along(out, yaw) == pytest.approx(expected_deg, abs=1e-6)


def test_sideways_lean_is_untouched_and_the_pose_stays_rigid() -> None:
    """A lean across the view (which the image shows) is not changed; the correction is a rotation
    about the pelvis, so bone lengths and all joint distances are kept."""
    yaw = -60.0
    side = _leaning(0.0, 12.0, yaw)  # pure sideways lean: zero component along the view
    out = unlean_towards_camera(side[None], _cam_looking(yaw)[None], keep=0.5)[0]
    assert np.allclose(out, side, atol=1e-9)
    both = _leaning(10.0, 12.0, yaw)
    out = unlean_towards_camera(both[None], _cam_looking(yaw)[None], keep=0.5)[0]
    across = np.cross([0.0, 0.0, 1.0], [np.cos(np.radians(yaw)), np.sin(np.radians(yaw)), 0.0])
    assert np.allclose(out @ across, both @ across, atol=1e-9)  # the sideways components are unchanged
    assert abs(_lean_along(out, yaw)) < abs(_lean_along(both, yaw)) - 3.0
    assert np.allclose(out[I["pelvis"]], 0.0)
    dist = np.linalg.norm(both[:, None] - both[None], axis=-1)
    assert np.allclose(np.linalg.norm(out[:, None] - out[None], axis=-1), dist, atol=1e-9)


def test_lean_is_measured_against_gravity_not_the_camera_axis() -> None:
    """Cameras pitched down (35 and 20 deg) and looking different ways per frame: the lean about the
    vertical is still halved, and an upright pose stays upright although it leans in the camera's
    frame (only the horizontal part of the view direction counts)."""
    yaws, pitches, leans = [0.0, 90.0, 200.0], [35.0, 0.0, 20.0], [-10.0, 8.0, 0.0]
    poses = np.stack([_leaning(lean, 0.0, y) for lean, y in zip(leans, yaws, strict=True)])
    R = np.stack([_cam_looking(y, p) for y, p in zip(yaws, pitches, strict=True)])
    out = unlean_towards_camera(poses, R, keep=0.5)
    for t, (y, lean) in enumerate(zip(yaws, leans, strict=True)):
        assert _lean_along(out[t], y) == pytest.approx(lean / 2, abs=1e-6)
    assert np.allclose(out[2], poses[2], atol=1e-9)
    # keep=1 changes nothing; keep=0 makes every lean within the cap vertical along the view
    assert np.allclose(unlean_towards_camera(poses, R, keep=1.0), poses)
    upright = unlean_towards_camera(poses, R, keep=0.0)
    assert np.allclose([_lean_along(upright[t], y) for t, y in enumerate(yaws)], 0.0, atol=1e-6)


def test_camera_looking_straight_down_leaves_the_pose_alone() -> None:
    """No horizontal viewing direction: there is no lean to correct, and no NaN may appear."""
    down = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    pose = _leaning(10.0, 5.0, 0.0)
    out = unlean_towards_camera(pose[None], down[None], keep=0.5)
    assert np.isfinite(out).all() and np.allclose(out[0], pose)


# ------------------------------------------------------------------------------------------------
# optimize() end to end: cameras, 2D keypoints and a pose prior made from a known 3D motion


def _rot_y(deg: np.ndarray | float, T: int) -> np.ndarray:
    """(T,3,3) rotations about world y (positive tips +z towards +x)."""
    return Rotation.from_rotvec(np.outer(np.broadcast_to(np.radians(deg), (T,)), [0.0, 1.0, 0.0])).as_matrix()


def _turn(P: np.ndarray, names: list[str], pivot: str, R: np.ndarray) -> np.ndarray:
    """Rotate the named joints of (T,J,3) poses by (T,3,3) ``R`` about joint ``pivot`` (bones kept)."""
    out = P.copy()
    idx, c = [I[n] for n in names], P[:, I[pivot], None]
    out[:, idx] = np.einsum("tij,tkj->tki", R, P[:, idx] - c) + c
    return out


def _side_walker(T: int = 60, fps: float = 30.0) -> np.ndarray:
    """A person walking along +x, legs and arms swinging; the left forearm is raised forward so the
    left wrist is in front of the belly (x) but on the body's left side (y = +0.2 m)."""
    ph = 2 * np.pi * np.arange(T) / fps
    P = np.repeat(REST[None], T, axis=0)
    P = _turn(P, ["left_wrist"], "left_elbow", _rot_y(-60.0, T))
    P = _turn(P, ["left_elbow", "left_wrist"], "left_shoulder", _rot_y(20.0, T))
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        leg = [f"{side}_{k}" for k in ("knee", "ankle", "toe")]
        P = _turn(P, leg, f"{side}_hip", _rot_y(20.0 * sgn * np.sin(ph), T))
        P = _turn(P, [f"{side}_elbow", f"{side}_wrist"], f"{side}_shoulder", _rot_y(-6.0 * sgn * np.sin(ph), T))
    P[..., 0] += 0.8 * np.arange(T)[:, None] / fps
    return P


def _camera_on_the_right(P: np.ndarray) -> np.ndarray:
    """(T,4,4) camera-to-world: 3.5 m on the person's right (-y), 0.3 m above the pelvis, aimed at it."""
    from videomimic_offline.real2sim.synthetic.camera import look_at

    pel = P[:, I["pelvis"]]
    pos = pel + [0.0, -3.5, 0.3]
    Twc = np.tile(np.eye(4), (len(P), 1, 1))
    Twc[:, :3, :3], Twc[:, :3, 3] = look_at(pos, pel.copy()), pos
    return Twc


def _in_camera(P: np.ndarray, Twc: np.ndarray) -> np.ndarray:
    return np.einsum("tji,tkj->tki", Twc[:, :3, :3], P - Twc[:, None, :3, 3])


def _floor_points(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    return np.c_[rng.uniform(-1.5, 3.0, n), rng.uniform(-1.5, 1.5, n), np.zeros(n)]


def _inputs(
    P: np.ndarray, prior: np.ndarray, points: np.ndarray, hidden: tuple[str, ...] = (), dolly_m: float = 0.0
) -> OptInputs:
    """OptInputs for true motion ``P`` (2D keypoints), pose prior ``prior`` (local3d) and the scene;
    the camera slides ``dolly_m`` along x over the clip (0: it only follows the pelvis)."""
    Twc = _camera_on_the_right(P)
    Twc[:, 0, 3] += np.linspace(0.0, dolly_m, len(P))
    pc = _in_camera(P, Twc)
    kp = (pc @ K.T)[..., :2] / pc[..., 2:3]
    conf = np.full(kp.shape[:2], 0.9)
    conf[:, [I[n] for n in hidden]] = 0.0
    local = _in_camera(prior, Twc)
    # "vitpose" landmarks are the body model's joints (no MediaPipe bone-length factors) like REST
    return OptInputs(kp, conf, local - local[:, I["pelvis"], None], K, Twc, points, 30.0, H, "vitpose")


def _config(**kw: object) -> FitConfig:
    return FitConfig(**kw)  # type: ignore[arg-type]


def _depth_behind_torso(res: OptResult, joint: str) -> np.ndarray:
    """(T,) camera depth of ``joint`` minus that of the pelvis-neck midpoint (+ = behind the torso)."""
    q = _in_camera(res.joints_w, res.T_world_cam)
    return q[:, I[joint], 2] - 0.5 * (q[:, I["pelvis"], 2] + q[:, I["neck"], 2])


def test_occlusion_term_puts_the_hidden_far_wrist_behind_the_torso() -> None:
    """Side view, far (left) wrist reported not visible, the pose prior (like MediaPipe) swings that
    arm in front of the body: the occlusion term must put the wrist back behind the torso; without
    it, nothing (no 2D weight, prior in front) does."""
    P = _side_walker()
    # the prior's far arm is turned 50 deg about the shoulder's fore-aft axis, across the front
    across = np.repeat(Rotation.from_rotvec([np.radians(-50.0), 0.0, 0.0]).as_matrix()[None], len(P), axis=0)
    prior = _turn(P, ["left_elbow", "left_wrist"], "left_shoulder", across)
    inp = _inputs(P, prior, _floor_points(np.random.default_rng(0)), hidden=("left_wrist",))
    truth = _in_camera(P, inp.T_world_cam)
    behind_true = truth[:, I["left_wrist"], 2] - 0.5 * (truth[:, I["pelvis"], 2] + truth[:, I["neck"], 2])
    behind_prior = inp.local3d[:, I["left_wrist"], 2] - 0.5 * inp.local3d[:, I["neck"], 2]
    assert (behind_true > 0.2).all() and (behind_prior < -0.1).all()
    # construction check: every frame's hidden wrist lies on a visible, nearer body part in 2D
    t, j, *_ = occlusion_pairs(inp.kp2d, inp.conf, truth[:, I["pelvis"], 2], K, H)
    assert np.array_equal(t, np.arange(len(P))) and (j == I["left_wrist"]).all()

    on = optimize(inp, _config(w_occlusion=0.3))
    off = optimize(inp, _config(w_occlusion=0.0))
    assert on.info["occluded_joint_frames"] == len(P) and off.info["occluded_joint_frames"] == 0
    assert (_depth_behind_torso(on, "left_wrist") > 0.1).all()
    assert np.median(_depth_behind_torso(off, "left_wrist")) < 0.0  # the prior's wrong depth wins
    # the visible joints are not disturbed by the term: the near wrist ends up in the same place
    near = np.linalg.norm(on.joints_w[:, I["right_wrist"]] - off.joints_w[:, I["right_wrist"]], axis=1)
    assert near.max() < 0.03


def _standing(T: int = 60) -> np.ndarray:
    return np.repeat(REST[None], T, axis=0)


def test_robust_floor_term_ignores_a_spurious_surface_under_a_stance_foot() -> None:
    """A cluster of scene points 25 cm up right under the left foot (a wrong surface estimate):
    with the robust floor residual (0.05 m) both feet stay on the real floor; with plain least
    squares (0) the floor term drags the body up towards the spurious surface."""
    P = _standing()
    rng = np.random.default_rng(1)
    foot = P[0, I["left_ankle"]]
    bump = np.c_[foot[:2] + rng.uniform(-0.08, 0.08, (60, 2)), np.full(60, 0.25)]
    inp = _inputs(P, P, np.r_[_floor_points(rng), bump])
    true_z = REST[[I["left_ankle"], I["right_ankle"]], 2]
    robust = optimize(inp, _config(opt_floor_robust_m=0.05)).joints_w[:, [I["left_ankle"], I["right_ankle"]], 2]
    plain = optimize(inp, _config(opt_floor_robust_m=0.0)).joints_w[:, [I["left_ankle"], I["right_ankle"]], 2]
    assert np.abs(robust - true_z).max() < 0.04
    assert plain[:, 0].min() > true_z[0] + 0.15


@pytest.mark.parametrize("dolly_m", [0.6, 0.0])
def test_contact_pass_finds_contacts_hidden_by_per_frame_depth_jitter(dolly_m: float) -> None:
    """Standing still, but the per-frame pose estimate's size jitters by 4 % (so the initial
    placement's depth jumps by ~14 cm a frame and no foot looks slow). A translating camera:
    detecting contacts on the smooth first pass pins both feet; detecting them on the
    initialisation leaves them sliding. A still camera: the feet's viewing rays show the stance
    whatever the depth does, so even the single pass pins them."""
    P = _standing()
    rng = np.random.default_rng(5)
    inp = _inputs(P, P, _floor_points(rng), dolly_m=dolly_m)
    inp.regime = "translating" if dolly_m else "static"
    inp.local3d *= (1 + 0.04 * rng.standard_normal(len(P)))[:, None, None]
    inp.kp2d += rng.normal(0.0, 1.0, inp.kp2d.shape)
    feet = [I["left_ankle"], I["right_ankle"]]
    two = optimize(inp, _config(opt_contact_pass=True))
    one = optimize(inp, _config(opt_contact_pass=False))
    wobble_two = two.joints_w[:, feet].std(axis=0).max()
    wobble_one = one.joints_w[:, feet].std(axis=0).max()
    assert two.contacts.all() and wobble_two < 0.005
    if dolly_m:  # (single pass: 1-9 cm over random seeds, always over 6x the two-pass wobble)
        assert wobble_one > 4 * wobble_two
    else:
        assert one.contacts.all() and wobble_one < 0.005


def test_feet_on_unseen_raised_ground_are_planted_at_their_level() -> None:
    """A translating camera; the person stands on the floor, then on a 0.3 m platform whose top
    is seen around them but not right under the feet (a walker followed from behind onto a curb,
    the SfM points sparse). The unseen ground under the feet is not the floor: the slow feet are
    planted at the level they stand on. Read as the floor, the feet on the platform stood 0.3 m
    over it and had no contact at all."""
    P = _standing()
    up = slice(30, None)
    P[up, :, 0] += 0.6
    P[up, :, 2] += 0.3
    rng = np.random.default_rng(3)
    pts = _floor_points(rng)
    feet_xy = np.r_[P[0, [I["left_ankle"], I["right_ankle"]], :2], P[-1, [I["left_ankle"], I["right_ankle"]], :2]]
    gap = np.linalg.norm(pts[:, None, :2] - feet_xy[None], axis=-1).min(axis=1)
    pts = pts[gap > 0.25]  # nothing seen right under the feet
    platform = pts[:, 0] > P[-1, I["pelvis"], 0] - 0.35
    pts[platform, 2] = 0.3
    inp = _inputs(P, P, pts, dolly_m=0.6)
    inp.regime = "translating"
    res = optimize(inp, _config())
    assert res.contacts[40:].all()  # (before: none from frame 25 on)
    feet = res.joints_w[40:, [I["left_ankle"], I["right_ankle"]], 2] - res.joints_w[
        :25, [I["left_ankle"], I["right_ankle"]], 2
    ].mean(axis=0)
    assert np.abs(feet - 0.3).max() < 0.04
