"""Retargeting benchmark: fixed motions -> G1, our solver beside its peers, like for like.

    python bench/retarget.py [--peer-python PEER_VENV/bin/python] [--no-refine] [--clips a,b]

Clips: a G1 FK round trip, a procedural walk on flat ground and up a staircase, real2sim
synthetic ground-truth clips (stairs up/down, their scene as a heightfield), and the CMU BVH
walks in ../shared/data/bvh when present. The last line is JSON.

Solvers, all on the whole clip, with the same 50 fps human joints and human->robot scale
(``ClipTargets.human`` / ``.scale``; GMR: see below), scored by the same code (``feasibility.assess``: our
contact labels, our G1 model, the clip's terrain):

* ours, default per-frame solve (and ``+ whole-clip refinement`` rows unless ``--no-refine``);
* holosoma-retargeting 0.1.0 in the mode its authors use for the clip: ``climbing`` (mocap
  layout, the clip's heightfield exported as its multi-box object mesh and MuJoCo scene) where
  the clip has terrain, ``robot_only`` (LAFAN layout, its ground point grid) on flat ground;
* GMR (YanjieZe/GMR) with its own ``bvh_to_g1`` IK config and G1 model on every clip (it has
  no terrain input): LAFAN-style body positions and orientations built from our joints, scaled
  by its own rule from the person's stature (its table is calibrated that way; see peer_input).

Both peers scale the whole world about the origin (holosoma: joints and object mesh; GMR: the
root position), so their input is shifted to put the clip's mean pelvis xy at the origin and
their output shifted back; ``max_penetration_own_scene_mm`` is their penetration against the
terrain scaled as they saw it, beside the real-terrain figure that counts.

The keypoint error (``feasibility.keypoint_error_mm``) measures every solver from corresponding
pelvis points (the G1's pelvis origin sits higher above its hips than a human pelvis joint:
``targets.pelvis_lift``). ``path_err_mm`` (column ``path``) is a diagnostic, not a target: how
far the robot's pelvis is from the person's in the world (a solver that scales the whole motion
walks a shorter path; ours keeps each foothold on the surface the person stood on, moved at most
``StanceConfig.max_shift`` towards the robot's proportions).

Time is CPU time (one thread each), split into ``startup_s`` (imports, model set-up, targets,
and the first frame, which every solver iterates to convergence) and the steady-state
per-frame time (``steady_fps``, frames 1..T-1). Peers run in their own interpreter through
bench/peer_holosoma.py and bench/peer_gmr.py, which import only the peer's packages.

Peer environment (outside the repo; nothing downloads when the bench runs): get a GMR checkout
(MIT; not on PyPI), then ``bash bench/peer_env.sh /tmp/peer/venv /path/to/GMR`` builds a
python3.11 venv with holosoma-retargeting==0.1.0 (it pins numpy==2.3.5, which our env cannot
take), GMR in editable mode, and our MuJoCo/mink pins. Without ``--peer-python`` (or env
``RETARGET_PEER_PYTHON``) the peers are skipped and the bench says so.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core for the solver
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from videomimic_offline.body.skeleton import HUMAN_JOINTS  # noqa: E402
from videomimic_offline.contracts.human_motion import HumanMotion  # noqa: E402
from videomimic_offline.contracts.robot_motion import from_qpos  # noqa: E402
from videomimic_offline.retarget import terrain as tr  # noqa: E402
from videomimic_offline.retarget.config import RetargetConfig  # noqa: E402
from videomimic_offline.retarget.feasibility import assess  # noqa: E402
from videomimic_offline.retarget.pipeline import retarget  # noqa: E402
from videomimic_offline.retarget.procedural import fk_clip, walking_clip  # noqa: E402
from videomimic_offline.retarget.targets import OUT_FPS  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer_inputs as pi  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
KEYS = (
    "frames_per_s",
    "foot_slide_mm_per_frame",
    "max_penetration_mm",
    "limit_violations",
    "self_collisions",
    "keypoint_err_mm",
)


def real2sim_clip(kind: str, seed: int, seconds: float = 4.0) -> tuple[HumanMotion, tr.Terrain]:
    """A real2sim synthetic ground-truth clip (no rendering) and its scene rasterised to a heightfield."""
    from videomimic_offline.body.model import BodyShape, build_body
    from videomimic_offline.real2sim.synthetic.motion import generate_motion
    from videomimic_offline.real2sim.synthetic.scenes import SCENE_KINDS, build_scene

    ss = np.random.SeedSequence([seed, SCENE_KINDS.index(kind)])
    r_shape, r_scene, r_motion, *_ = (np.random.default_rng(s) for s in ss.spawn(6))
    shape = BodyShape(height_m=float(r_shape.uniform(1.55, 1.9)))
    body = build_body(shape, seed=0)
    scene = build_scene(kind, r_scene, seconds=seconds)
    motion = generate_motion(scene, body, r_motion, seconds, 30.0)
    j = motion.joints_w
    lo = j[..., :2].reshape(-1, 2).min(0) - 1.0
    hi = j[..., :2].reshape(-1, 2).max(0) + 1.0
    res = 0.02
    xs, ys = np.arange(lo[0], hi[0], res), np.arange(lo[1], hi[1], res)
    X, Y = np.meshgrid(xs, ys)
    heights = scene.surface_height(np.stack([X.ravel(), Y.ravel()], 1)).reshape(X.shape)
    human = HumanMotion(fps=30.0, joints_w=j.astype(np.float64), contacts=motion.contacts.astype(bool),
                        height_m=shape.height_m, source=f"real2sim:{kind}:{seed}")  # fmt: skip
    return human, tr.from_heights(heights, [xs[0], ys[0]], res, source=f"{kind} scene")


def clips() -> list[tuple[str, HumanMotion, tr.Terrain]]:
    out = []
    fk, _ = fk_clip(T=150, seed=0)
    out.append(("fk_round_trip", fk, tr.flat()))
    out.append(("walk_flat", walking_clip(tr.flat(), [0.0, 0.3, 0.9, 1.5, 2.1, 2.7, 2.7]), tr.flat()))
    h, o, res = tr.staircase()
    stairs = tr.from_heights(h, o, res, source="staircase")
    out.append(("walk_stairs_up", walking_clip(stairs, [0.0, 0.3, 1.175, 1.525, 1.875, 2.225, 2.7, 2.7]), stairs))
    for kind in ("stairs_up", "stairs_down"):
        try:
            human, scene = real2sim_clip(kind, seed=1)
            out.append((f"r2s_{kind}", human, scene))
        except Exception as exc:  # another area's generator: report, do not hide
            print(f"skipped real2sim {kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
    from videomimic_offline.motion_io.bvh import read_bvh

    for name in ("cmu_02_01_walk", "cmu_131_01_start_walk_stop"):
        p = SHARED / "bvh" / f"{name}.bvh"
        if p.is_file():
            out.append((name, read_bvh(p), tr.flat()))
        else:
            print(f"skipped {name}: {p} not present", file=sys.stderr)
    return out


def _figures(rep, qpos: np.ndarray, human: np.ndarray) -> dict:
    """The scored figures of one solve, plus ``path_err_mm`` (diagnostic, not an issue-17 target)."""
    return {
        "path_err_mm": path_err_mm(qpos, human),
        "foot_slide_mm_per_frame": rep.foot_slide_mm_per_frame,
        "max_penetration_mm": rep.max_penetration_mm,
        "limit_violations": rep.limit_violations,
        "self_collisions": rep.self_collisions,
        "keypoint_err_mm": rep.keypoint_err_mm,
        "joint_accel_rms": rep.joint_accel_rms,
        "foot_slide_max_mm": rep.foot_slide_max_mm,
        "usable": rep.usable,
    }


def path_err_mm(qpos: np.ndarray, human: np.ndarray) -> float:
    """Mean horizontal distance (mm) between the robot's pelvis and the person's, in the world.

    Not a target: it shows what a solver gives up for its posture. Ours keeps near the person's
    path (the scene is the person's: stairs, a seat): its footholds stay on the person's surfaces,
    moved at most ``StanceConfig.max_shift``; a solver that scales the whole motion about a point
    walks a shorter path beside it.
    """
    p = human[: len(qpos), HUMAN_JOINTS.index("pelvis"), :2]
    return float(1000 * np.linalg.norm(qpos[:, :2] - p, axis=1).mean())


def _timing(cpu_s: np.ndarray, setup_s: float = 0.0) -> dict:
    """Start-up and steady-state figures from the CPU clock at the end of each frame's solve.

    ``cpu_s[t]`` counts from the solver's start (imports, model set-up), so start-up is everything
    up to the end of frame 0 (including the first frame, which every solver iterates to
    convergence from its rest pose) and steady state is the mean over frames 1..T-1.
    """
    steady = float(cpu_s[-1] - cpu_s[0]) / max(len(cpu_s) - 1, 1)
    return {"frames": len(cpu_s), "startup_s": setup_s + float(cpu_s[0]), "steady_ms_per_frame": 1000 * steady,
            "steady_fps": 1.0 / max(steady, 1e-12), "frames_per_s": len(cpu_s) / (setup_s + float(cpu_s[-1]))}  # fmt: skip


def ours_setup_s() -> float:
    """CPU seconds a fresh process spends importing our retargeter and building its solver."""
    code = ("import time; t=time.process_time()\n"
            "from videomimic_offline.retarget.pipeline import _solver\n"
            "from videomimic_offline.retarget.config import Weights\n"
            "from videomimic_offline.retarget.keypoints import robot_keypoints\n"
            "_solver(Weights(), 2, '29dof'); robot_keypoints(); print(time.process_time()-t)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run_ours(human: HumanMotion, terrain: tr.Terrain, refine: bool = False):
    """Our default (or refined) solve: (result with its report, CPU stamps (T,) from the call).

    The solver's progress hook fires after frames 1..T-1; frame 0 ends one steady frame before
    the first stamp. The whole-clip refinement runs after the per-frame pass, so with ``refine``
    its cost is spread evenly over frames 1..T-1.
    """
    stamps: list[float] = []
    c0 = time.process_time()
    res = retarget(human, terrain, RetargetConfig(refine=refine), report=False,
                   progress=lambda _n: stamps.append(time.process_time() - c0))  # fmt: skip
    end = time.process_time() - c0
    s = np.array(stamps)
    step = (s[-1] - s[0]) / max(len(s) - 1, 1)
    first = s[0] - step
    cpu = np.linspace(first, end, len(s) + 1) if refine else np.concatenate([[first], s])
    res.report = assess(res.motion, terrain, res.targets.human, res.targets.scale)
    return res, cpu


# -- peers ---------------------------------------------------------------------------------------

PEERS = {
    "holosoma": ("holosoma-retargeting 0.1.0", "peer_holosoma.py"),
    "gmr": ("GMR (YanjieZe/GMR, bvh_to_g1)", "peer_gmr.py"),
}
GMR_BVH_HEIGHT = 1.75  # the stature GMR's own BVH loader assumes when the clip does not say


def peer_input(peer: str, tg, terrain: tr.Terrain, shift_xy: np.ndarray, n: int, height_m: float) -> tuple[dict, str]:
    """(the npz fields a peer driver reads, the mode it runs in) for one clip's targets.

    Every peer gets our 50 fps joints shifted by ``-shift_xy`` (the clip's mean pelvis xy at the
    origin: both peers scale the world about the origin, and holosoma's climbing mode starts the
    robot facing the origin) and our scale, except GMR: its scale table is calibrated on the
    person's stature (``height_m``; its BVH loader assumes 1.75 m) with the robot pelvis's height
    above the hips folded in, and our leg-length scale sinks its feet 5-12 cm into the floor.
    ``n``: the first n frames (the whole clip by default).
    """
    j = tg.human[:n].copy()
    j[..., :2] -= shift_xy
    if peer == "gmr":
        names, pos, rot = pi.gmr_inputs(j, tg.contacts[:n])
        return {"bodies": np.array(names), "pos": pos, "rot": rot, "height": height_m}, "bvh_to_g1"
    if terrain.is_flat:
        return {"mode": "robot_only", "joints": pi.lafan_layout(j), "joint_names": np.array(pi.LAFAN_NAMES),
                "scale": tg.scale}, "robot_only"  # fmt: skip
    floor, boxes = pi.terrain_boxes(terrain)
    if abs(floor) > 1e-6:
        raise RuntimeError(f"floor at z={floor:.3f}: its climbing scene has its ground plane at 0")
    boxes[..., :2] -= shift_xy
    # its mocap loader keeps every 4th frame (120 Hz capture): repeat each 50 fps frame 4 times
    joints = np.repeat(pi.mocap_layout(j), 4, axis=0)
    return {"mode": "climbing", "joints": joints, "joint_names": np.array(pi.mocap_names()), "scale": tg.scale,
            "boxes": boxes}, "climbing"  # fmt: skip


def run_peer(python: str, peer: str, inp: dict, work: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Run a peer driver in its own interpreter: (qpos (T, 36) in our joint order, CPU stamps (T,))."""
    src, dst = work / f"{peer}_{name}_in.npz", work / f"{peer}_{name}_out.npz"
    np.savez(src, **inp)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    proc = subprocess.run([python, str(REPO / "bench" / PEERS[peer][1]), str(src), str(dst)],
                          capture_output=True, text=True, env=env)  # fmt: skip
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise PeerError(proc.returncode, lines[-1] if lines else f"exit {proc.returncode}")
    out = np.load(dst)
    names = [str(n) for n in out["joint_names"]]
    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

    m = g1_model("29dof", actuators=False)
    q_src = out["qpos"]
    q = np.zeros((len(q_src), m.nq))
    q[:, :7] = q_src[:, :7]
    q[:, joint_qpos_indices(m, names)] = q_src[:, 7 : 7 + len(names)]
    # frame-convention check: its own model and ours must put the ankles in the same place
    d = mujoco.MjData(m)
    d.qpos[:] = q[0]
    mujoco.mj_kinematics(m, d)
    ours = np.array([d.xpos[m.body(f"{s}_ankle_roll_link").id] for s in ("left", "right")])
    gap = float(np.abs(ours - out["ankle_w"]).max())
    if gap > 2e-3:
        raise PeerError(1, f"its G1 and ours disagree by {1000 * gap:.1f} mm at the ankles: frames differ")
    return q, out["cpu_s"]


class PeerError(RuntimeError):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


def peer_scene(terrain: tr.Terrain, scale: float, shift_xy: np.ndarray) -> tr.Terrain:
    """The terrain as the peer saw it (scaled about the shifted origin), in our world frame."""
    if terrain.is_flat:
        return terrain
    f = terrain.field
    origin = scale * (f.origin_xy - shift_xy) + shift_xy
    return tr.from_heights(scale * f.heights, origin, scale * f.resolution, source="peer-scaled")


# -- report ----------------------------------------------------------------------------------------

ROW = "{:32s} {:>6} {:>8} {:>8} {:>6} {:>7} {:>6} {:>4} {:>4} {:>6} {:>6} {:>6} {}"
HEADER = ROW.format("clip / solver", "frames", "start_s", "fps_ss", "slide", "slideMx", "pen", "lim", "self",
                    "kp_mm", "acc", "path", "usable")  # fmt: skip


def _row(label: str, f: dict) -> str:
    return ROW.format(label, f["frames"], f"{f['startup_s']:.2f}", f"{f['steady_fps']:.1f}",
                      f"{f['foot_slide_mm_per_frame']:.2f}", f"{f['foot_slide_max_mm']:.1f}",
                      f"{f['max_penetration_mm']:.1f}", f["limit_violations"], f["self_collisions"],
                      f"{f['keypoint_err_mm']:.1f}", f"{f['joint_accel_rms']:.1f}", f"{f['path_err_mm']:.0f}",
                      f["usable"])  # fmt: skip


def summary(rs: list[dict]) -> dict:
    """Means (penetration: max; violations, collisions: sums; speed: total frames / total steady time)."""
    frames = np.array([r["frames"] for r in rs])
    steady_s = np.array([(r["frames"] - 1) * r["steady_ms_per_frame"] / 1000 for r in rs])
    return {
        "clips": len(rs),
        "frames": int(frames.sum()),
        "startup_s": float(np.mean([r["startup_s"] for r in rs])),
        "steady_fps": float((frames - 1).sum() / max(steady_s.sum(), 1e-12)),
        "frames_per_s": float(frames.sum() / sum(r["frames"] / r["frames_per_s"] for r in rs)),
        "foot_slide_mm_per_frame": float(np.mean([r["foot_slide_mm_per_frame"] for r in rs])),
        "max_penetration_mm": float(np.max([r["max_penetration_mm"] for r in rs])),
        "limit_violations": int(np.sum([r["limit_violations"] for r in rs])),
        "self_collisions": int(np.sum([r["self_collisions"] for r in rs])),
        "keypoint_err_mm": float(np.mean([r["keypoint_err_mm"] for r in rs])),
        "joint_accel_rms": float(np.mean([r["joint_accel_rms"] for r in rs])),
        "path_err_mm": float(np.mean([r["path_err_mm"] for r in rs])),
        "usable_clips": int(sum(r["usable"] for r in rs)),
    }


def verdict(ours: dict[str, dict], peers: dict[str, dict[str, dict]]) -> dict:
    """Issue 17's targets for our default solve, per clip and figure: where a peer is ahead."""
    ahead = []
    for peer, rows in peers.items():
        for clip, p in rows.items():
            o = {**ours[clip], **p.get("ours_same_frames", {})}  # a capped peer: ours on the same frames
            for k in ("foot_slide_mm_per_frame", "max_penetration_mm", "limit_violations", "self_collisions"):
                if p[k] < o[k] - 1e-9 or (p[k] == o[k] and p[k] > 0):
                    ahead.append({"peer": peer, "clip": clip, "figure": k, "ours": o[k], "peer_value": p[k]})
            if o["keypoint_err_mm"] > 1.1 * p["keypoint_err_mm"]:
                ahead.append({"peer": peer, "clip": clip, "figure": "keypoint_err_mm (>10 %)",
                              "ours": o["keypoint_err_mm"], "peer_value": p["keypoint_err_mm"]})  # fmt: skip
            if p["steady_fps"] > o["steady_fps"]:
                ahead.append({"peer": peer, "clip": clip, "figure": "steady_fps", "ours": o["steady_fps"],
                              "peer_value": p["steady_fps"]})  # fmt: skip
    return {"peer_ahead": ahead, "targets_hold": not ahead}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer-python", default=os.environ.get("RETARGET_PEER_PYTHON"),
                    help="python of the peer venv built by bench/peer_env.sh (env RETARGET_PEER_PYTHON)")  # fmt: skip
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--no-refine", action="store_true", help="skip the whole-clip refinement rows")
    ap.add_argument("--clips", default="", help="comma-separated clip names to run (default: all)")
    ap.add_argument(
        "--jobs", type=int, default=2, help="peer processes run at once (each is timed by its own CPU clock)"
    )
    ap.add_argument("--holosoma-max-frames", type=int, default=0,
                    help="cap holosoma alone (about 1 CPU-s a frame) at this many frames of each clip")  # fmt: skip
    ap.add_argument("--peer-max-frames", type=int, default=0,
                    help="run the peers on at most this many frames of each clip (default: whole clips)")  # fmt: skip
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    notes: dict[str, str] = {}
    if not args.peer_python:
        for p in peers:
            notes[p] = "skipped: no peer environment (build one with bench/peer_env.sh, pass --peer-python)"
        print("peers skipped: no --peer-python / RETARGET_PEER_PYTHON (see bench/peer_env.sh)", file=sys.stderr)
        peers = []

    setup_s = ours_setup_s()
    _solver_warm = retarget(walking_clip(tr.flat(), [0.0, 0.3, 0.6]), tr.flat(), report=False)  # noqa: F841
    work = Path(tempfile.mkdtemp(prefix="retarget_bench_"))
    ours: dict[str, dict] = {}
    refined: dict[str, dict] = {}
    peer_rows: dict[str, dict[str, dict]] = {p: {} for p in peers}
    modes: dict[str, dict[str, str]] = {p: {} for p in peers}
    fallback = 0
    wanted = {c for c in args.clips.split(",") if c}
    jobs = []  # (peer, clip, input, mode, context for scoring)
    order = []
    for name, human, terrain in clips():
        if wanted and name not in wanted:
            continue
        order.append(name)
        res, cpu = run_ours(human, terrain)
        ours[name] = {**_timing(cpu, setup_s), **_figures(res.report, res.motion.qpos, res.targets.human)}
        print(_row(f"{name}: ours", ours[name]), flush=True)
        if not args.no_refine:
            rr, cpu_r = run_ours(human, terrain, refine=True)
            refined[name] = {**_timing(cpu_r, setup_s), **_figures(rr.report, rr.motion.qpos, rr.targets.human)}
            fallback += rr.refine_fallback_frames
        tg = res.targets
        shift = tg.human[:, HUMAN_JOINTS.index("pelvis"), :2].mean(0)
        stature = human.height_m if np.isfinite(human.height_m) else GMR_BVH_HEIGHT
        for peer in peers:
            cap = args.holosoma_max_frames if peer == "holosoma" else 0
            n = min(len(tg.human), cap or args.peer_max_frames or len(tg.human))
            try:
                inp, mode = peer_input(peer, tg, terrain, shift, n, stature)
            except RuntimeError as exc:
                notes[peer] = notes.get(peer, "") + f" not run on {name}: {exc};"
                continue
            jobs.append((peer, name, inp, mode, (res, terrain, shift)))

    # Peers in parallel processes (each timed by its own CPU clock), longest clips first.
    def one(job):
        peer, name, inp, *_ = job
        try:
            return run_peer(args.peer_python, peer, inp, work, name)
        except PeerError as exc:
            return exc

    jobs.sort(key=lambda j: -len(j[4][0].targets.human))
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(one, jobs))
    for (peer, name, _inp, mode, (res, terrain, shift)), got in zip(jobs, results, strict=True):
        if isinstance(got, PeerError):
            what = "skipped" if got.code == 3 else f"failed on {name}"
            notes[peer] = notes.get(peer, "") + f" {what}: {got};"
            print(f"{peer}: {what}: {got}", file=sys.stderr)
            continue
        q, pcpu = got
        tg = res.targets
        q[:, :2] += shift
        n = len(q)
        motion = from_qpos(q, OUT_FPS, tg.contacts[:n])
        f = {**_timing(pcpu), **_figures(assess(motion, terrain, tg.human[:n], tg.scale), q, tg.human)}
        own = assess(motion, peer_scene(terrain, tg.scale, shift), tg.human[:n], tg.scale)
        f["max_penetration_own_scene_mm"] = own.max_penetration_mm
        if n < len(tg.human):  # ours on the same prefix, for a like-for-like row
            f["ours_same_frames"] = _figures(assess(from_qpos(res.motion.qpos[:n], OUT_FPS, tg.contacts[:n]),
                                                    terrain, tg.human[:n], tg.scale), res.motion.qpos[:n], tg.human)  # fmt: skip
        peer_rows[peer][name] = f
        modes[peer][name] = mode

    print()
    print(HEADER)
    for name in order:
        print(name)
        print(_row("  ours (default)", ours[name]))
        if name in refined:
            print(_row("  ours + whole-clip refinement", refined[name]))
        for peer in peer_rows:
            if name in peer_rows[peer]:
                print(_row(f"  {peer} ({modes[peer][name]})", peer_rows[peer][name]))

    out = {**summary(list(ours.values())), "clip_figures": ours}
    print(f"{'ours mean':32s} " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in out.items() if k != "clip_figures"))  # fmt: skip
    if refined:
        out["refined"] = {**summary(list(refined.values())), "fallback_frames": fallback}
    out["peers"] = {}
    for peer in PEERS:
        rows = peer_rows.get(peer, {})
        entry: dict = {"name": PEERS[peer][0]}
        if rows:
            same = [ours[c] for c in rows]
            entry.update({**summary(list(rows.values())), "modes": modes[peer], "clip_figures": rows,
                          "ours_same_clips": summary(same)})  # fmt: skip
            print(f"{peer + ' mean':32s} " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                      for k, v in summary(list(rows.values())).items()))  # fmt: skip
        if peer in notes:
            entry["note"] = notes[peer].strip()
        out["peers"][peer] = entry
    ran = {p: r for p, r in peer_rows.items() if r}
    if ran:
        out["targets"] = verdict(ours, ran)
        for a in out["targets"]["peer_ahead"]:
            print(f"peer ahead: {a['peer']} on {a['clip']} {a['figure']}: ours {a['ours']:.2f}, "
                  f"{a['peer']} {a['peer_value']:.2f}")  # fmt: skip
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
