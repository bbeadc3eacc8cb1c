"""Retargeting benchmark: fixed motions -> G1, our solver and (optionally) holosoma-retargeting.

    python bench/retarget.py [--peer-python /path/to/venv/bin/python] [--peer-frames 60]

Clips: a G1 FK round trip, a procedural walk on flat ground and up a staircase, real2sim
synthetic ground-truth clips (stairs up/down, their scene as a heightfield), and the CMU BVH
walks in ../shared/data/bvh when present. Per clip and mean figures; the last line is JSON.

The peer runs in its own interpreter (it pins numpy==2.3.5, which this environment cannot take),
on the first ``--peer-frames`` frames of each clip at 50 fps, with its robot_only/lafan pipeline;
its output is scored by the same code as ours (our contact labels, our G1 model, the same terrain).
Our figures on exactly those prefixes are printed beside it.

Each clip is also solved with the whole-clip refinement (``retarget(..., RetargetConfig(refine=True))``) and its
row printed under the per-frame one; the JSON's top-level figures are the default pipeline's
(per-frame) and ``refined`` holds the same keys for the refined one (``--no-refine`` skips it).
``joint_accel_rms`` (rad/s^2) is the smoothness figure. Its CPU time includes its imports
and set-up (it runs as its own process per clip). Peer environment used for the report:

    python3.11 -m venv /tmp/peer/venv
    /tmp/peer/venv/bin/pip install numpy==2.3.5 tqdm scipy matplotlib trimesh jinja2 mujoco==3.3.7 \
        viser yourdfpy cvxpy libigl tyro
    /tmp/peer/venv/bin/pip install --no-deps smplx holosoma-retargeting==0.1.0
    echo $PWD/.venv/lib/python3.11/site-packages > /tmp/peer/venv/lib/python3.11/site-packages/zz.pth  # torch
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
from pathlib import Path  # noqa: E402

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


def _figures(rep, fps: float) -> dict[str, float]:
    return {
        "frames_per_s": fps,
        "foot_slide_mm_per_frame": rep.foot_slide_mm_per_frame,
        "max_penetration_mm": rep.max_penetration_mm,
        "limit_violations": rep.limit_violations,
        "self_collisions": rep.self_collisions,
        "keypoint_err_mm": rep.keypoint_err_mm,
        "joint_accel_rms": rep.joint_accel_rms,
        "foot_slide_max_mm": rep.foot_slide_max_mm,
        "usable": rep.usable,
    }


def _lafan_layout(j: np.ndarray) -> np.ndarray:
    """Our 18 joints -> holosoma's 22 LAFAN joints, in its y-up file convention ([x, z, y])."""
    idx = HUMAN_JOINTS.index

    def lerp(a: str, b: str, s: float) -> np.ndarray:
        return j[:, idx(a)] * (1 - s) + j[:, idx(b)] * s

    cols = {"Hips": j[:, idx("pelvis")], "Spine": j[:, idx("spine")], "Spine1": lerp("spine", "neck", 1 / 3),
            "Spine2": lerp("spine", "neck", 2 / 3), "Neck": j[:, idx("neck")], "Head": j[:, idx("head")]}  # fmt: skip
    for s in ("Left", "Right"):
        low = s.lower()
        cols.update({
            f"{s}UpLeg": j[:, idx(f"{low}_hip")], f"{s}Leg": j[:, idx(f"{low}_knee")],
            f"{s}Foot": j[:, idx(f"{low}_ankle")], f"{s}ToeBase": j[:, idx(f"{low}_toe")],
            f"{s}Shoulder": lerp("neck", f"{low}_shoulder", 0.5), f"{s}Arm": j[:, idx(f"{low}_shoulder")],
            f"{s}ForeArm": j[:, idx(f"{low}_elbow")], f"{s}Hand": j[:, idx(f"{low}_wrist")],
        })  # fmt: skip
    order = ["Hips", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "LeftUpLeg", "LeftLeg", "LeftFoot",
             "LeftToeBase", "Spine", "Spine1", "Spine2", "Neck", "Head", "RightShoulder", "RightArm",
             "RightForeArm", "RightHand", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand"]  # fmt: skip
    return np.stack([cols[n] for n in order], 1)[..., [0, 2, 1]]


def run_peer(python: str, human50: np.ndarray, work: Path, name: str) -> tuple[np.ndarray, float]:
    """-> (qpos (T, 36), CPU seconds of the run including its imports and model set-up)."""
    np.save(work / f"{name}.npy", _lafan_layout(human50))
    pkg = subprocess.run([python, "-c", "import holosoma_retargeting, os; print(os.path.dirname(holosoma_retargeting.__file__))"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    cmd = [python, "examples/robot_retarget.py", "--data_path", str(work), "--task-type", "robot_only",
           "--task-name", name, "--data_format", "lafan", "--save-dir", str(work / "out")]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import resource

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=pkg, capture_output=True, text=True, env=env)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)  # includes its start-up
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else f"exit {proc.returncode}")
    q = np.load(work / "out" / f"{name}.npz")["qpos"]
    return q, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer-python", default=os.environ.get("HOLOSOMA_PYTHON"),
                    help="python of a venv with holosoma-retargeting==0.1.0 (env HOLOSOMA_PYTHON)")  # fmt: skip
    ap.add_argument("--peer-frames", type=int, default=60)
    ap.add_argument("--no-refine", action="store_true", help="skip the whole-clip refinement rows")
    args = ap.parse_args()

    rows, peer_rows, ours_prefix_rows, ref_rows = [], [], [], []
    total_frames, total_s, total_wall, ref_s = 0, 0.0, 0.0, 0.0
    ref_fallback = 0
    peer_note = None
    if not args.peer_python:
        peer_note = ("not run: holosoma-retargeting 0.1.0 pins numpy==2.3.5 (this env needs numpy<2 for "
                     "mediapipe) and imports viser/cvxpy/libigl/yourdfpy; pass --peer-python of a separate venv")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="retarget_bench_"))
    print(
        f"{'clip':28s} {'frames':>6s} {'fr/s':>7s} {'slide':>6s} {'slideMx':>7s} {'pen':>6s} {'lim':>4s} {'self':>4s} {'kp_mm':>6s} {'acc':>6s} usable"
    )
    for name, human, terrain in clips():
        res = retarget(human, terrain)
        f = _figures(res.report, res.frames_per_cpu_s)
        f["frames_per_wall_s"] = res.frames_per_s
        total_frames += len(res.motion.qpos)
        total_s += res.solve_cpu_s
        total_wall += res.solve_s
        rows.append(f)
        print(f"{name:28s} {len(res.motion.qpos):6d} {f['frames_per_s']:7.0f} {f['foot_slide_mm_per_frame']:6.2f} "
              f"{f['foot_slide_max_mm']:7.1f} {f['max_penetration_mm']:6.1f} {f['limit_violations']:4d} "
              f"{f['self_collisions']:4d} {f['keypoint_err_mm']:6.1f} {f['joint_accel_rms']:6.1f} {f['usable']}")  # fmt: skip
        if not args.no_refine:
            rr = retarget(human, terrain, RetargetConfig(refine=True))
            g = _figures(rr.report, rr.frames_per_cpu_s)
            ref_rows.append(g)
            ref_s += rr.solve_cpu_s
            ref_fallback += rr.refine_fallback_frames
            print(f"  {'+ whole-clip refinement':26s} {len(rr.motion.qpos):6d} {g['frames_per_s']:7.0f} "
                  f"{g['foot_slide_mm_per_frame']:6.2f} {g['foot_slide_max_mm']:7.1f} {g['max_penetration_mm']:6.1f} "
                  f"{g['limit_violations']:4d} {g['self_collisions']:4d} {g['keypoint_err_mm']:6.1f} "
                  f"{g['joint_accel_rms']:6.1f} {g['usable']}")  # fmt: skip
        if args.peer_python:
            n = min(args.peer_frames, len(res.targets.contacts))
            h50 = res.targets.human[:n]
            # ours on the same prefix (same inputs as the peer gets)
            pre = HumanMotion(fps=OUT_FPS, joints_w=h50, contacts=res.targets.contacts[:n], source=name)
            r2 = retarget(pre, terrain)
            ours_prefix_rows.append(_figures(r2.report, r2.frames_per_cpu_s))
            try:
                q, cpu = run_peer(args.peer_python, h50, work, name)
                m = q.shape[0]
                motion = from_qpos(q, OUT_FPS, res.targets.contacts[:m])
                rep = assess(motion, terrain, h50[:m], res.targets.scale)
                pf = _figures(rep, m / cpu)
                peer_rows.append(pf)
                print(f"  {'same ' + str(n) + ' frames: ours':26s} {n:6d} {ours_prefix_rows[-1]['frames_per_s']:7.0f} "
                      f"{ours_prefix_rows[-1]['foot_slide_mm_per_frame']:6.2f} {ours_prefix_rows[-1]['foot_slide_max_mm']:7.1f} "
                      f"{ours_prefix_rows[-1]['max_penetration_mm']:6.1f} {ours_prefix_rows[-1]['limit_violations']:4d} "
                      f"{ours_prefix_rows[-1]['self_collisions']:4d} {ours_prefix_rows[-1]['keypoint_err_mm']:6.1f}")  # fmt: skip
                print(f"  {'same ' + str(n) + ' frames: holosoma':26s} {m:6d} {pf['frames_per_s']:7.2f} "
                      f"{pf['foot_slide_mm_per_frame']:6.2f} {pf['foot_slide_max_mm']:7.1f} {pf['max_penetration_mm']:6.1f} "
                      f"{pf['limit_violations']:4d} {pf['self_collisions']:4d} {pf['keypoint_err_mm']:6.1f}  "
                      f"(CPU time incl. its start-up)")  # fmt: skip
            except Exception as exc:
                peer_note = f"failed on {name}: {exc}"
                print(f"  holosoma: {peer_note}")

    def summary(rs: list[dict], fps: float | None = None) -> dict:
        return {
            "frames_per_s": fps if fps is not None else float(np.mean([r["frames_per_s"] for r in rs])),
            "foot_slide_mm_per_frame": float(np.mean([r["foot_slide_mm_per_frame"] for r in rs])),
            "max_penetration_mm": float(np.max([r["max_penetration_mm"] for r in rs])),
            "limit_violations": int(np.sum([r["limit_violations"] for r in rs])),
            "self_collisions": int(np.sum([r["self_collisions"] for r in rs])),
            "keypoint_err_mm": float(np.mean([r["keypoint_err_mm"] for r in rs])),
            "joint_accel_rms": float(np.mean([r["joint_accel_rms"] for r in rs])),
        }

    out = summary(rows, total_frames / total_s)
    out["frames_per_wall_s"] = total_frames / total_wall
    out["clips"] = len(rows)
    out["usable_clips"] = int(sum(r["usable"] for r in rows))
    print(
        f"{'mean (fps: total frames / total solve time)':28s} "
        + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items())
    )
    if ref_rows:
        out["refined"] = summary(ref_rows, total_frames / ref_s)
        out["refined"]["fallback_frames"] = ref_fallback
        print(f"{'refined mean':28s} " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                  for k, v in out["refined"].items()))  # fmt: skip
    if peer_rows:
        out["peer"] = {"name": "holosoma-retargeting 0.1.0", "frames": args.peer_frames, **summary(peer_rows)}
        out["ours_same_frames"] = summary(ours_prefix_rows)
    if peer_note:
        out["peer_note"] = peer_note
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
