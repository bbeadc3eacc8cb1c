"""Console tools of the training area (``ros2 run videomimic_offline <tool>``).

Every training tool resumes from the newest checkpoint in ``<out>/<stage>/`` when re-run, so a long
run can be done in chunks (``--iterations`` is the total to reach, not an increment).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from videomimic_offline.cli import run_tool

# Warp prints one line per kernel module load; keep the tools' output to progress and results.
os.environ.setdefault("MJLAB_WARP_QUIET", "1")


def _device(arg: str) -> str:
    """``auto``: the GPU of this rank under torchrun (``LOCAL_RANK``), else cuda:0, else the CPU."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        rank = int(os.environ.get("LOCAL_RANK", "0"))
        os.environ.setdefault("MUJOCO_EGL_DEVICE_ID", str(rank))
        return f"cuda:{rank}"
    if arg != "auto":
        return arg
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def _stage_parser(stage: str, doc: str, needs_init: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{stage}", description=doc)
    p.add_argument(
        "--motions", nargs="+", type=Path, required=True, help="robot_motion.npz files or folders holding them"
    )
    p.add_argument("--out", type=Path, required=True, help="training run folder (one subfolder per stage)")
    if needs_init:
        p.add_argument("--init", type=Path, help="previous stage's checkpoint or stage folder (first run only)")
    p.add_argument("--iterations", type=int, default=10000, help="total iterations to reach (resumes if fewer done)")
    p.add_argument("--num-envs", type=int, default=4096)
    p.add_argument("--steps-per-env", type=int, default=24)
    p.add_argument("--save-interval", type=int, default=100)
    p.add_argument("--device", default="auto", help="cpu, cuda:0 or auto")
    p.add_argument("--terrain", nargs="*", default=["flat", "rough", "stairs"], help="procedural terrain kinds")
    p.add_argument("--patch-size", type=float, default=8.0, help="terrain patch side [m] (>= largest scene)")
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--hidden", type=int, nargs="+", default=None, help="policy hidden layer sizes")
    p.add_argument("--blind", action="store_true", help="student without heightmap")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this wall time with a checkpoint")
    return p


def _run_stage(stage: str, doc: str, needs_init: bool, argv: list[str] | None) -> int:
    from videomimic_offline.training.stages import StageConfig, train_stage

    a = _stage_parser(stage, doc, needs_init).parse_args(argv)
    os.environ.setdefault("WANDB_MODE", "disabled")
    cfg = StageConfig(
        stage=stage,
        out_dir=a.out,
        motions=a.motions,
        init=getattr(a, "init", None),
        iterations=a.iterations,
        num_envs=a.num_envs,
        steps_per_env=a.steps_per_env,
        save_interval=a.save_interval,
        device=_device(a.device),
        procedural=tuple(a.terrain),
        patch_size=a.patch_size,
        blind=a.blind,
        learning_rate=a.learning_rate,
        hidden=tuple(a.hidden) if a.hidden else None,
        seed=a.seed + int(os.environ.get("RANK", "0")),
        max_minutes=a.max_minutes,
    )
    final = train_stage(cfg)
    print(f"{stage}: checkpoint {final}")
    return 0


@run_tool
def train_mpt(argv: list[str] | None = None) -> int:
    """Stage 1: MoCap pre-training on procedural terrain with noise, pushes, gain DR and control delay."""
    return _run_stage("mpt", train_mpt.__doc__ or "", False, argv)


@run_tool
def train_teacher(argv: list[str] | None = None) -> int:
    """Stage 2: scene-conditioned tracking teacher on the clips' reconstructed terrains (from MPT)."""
    return _run_stage("teacher", train_teacher.__doc__ or "", True, argv)


@run_tool
def distill_student(argv: list[str] | None = None) -> int:
    """Stage 3: DAgger distillation of the heightmap + direction student (loss on action mean and std)."""
    return _run_stage("distill", distill_student.__doc__ or "", True, argv)


@run_tool
def finetune_student(argv: list[str] | None = None) -> int:
    """Stage 4: PPO finetuning of the distilled student."""
    return _run_stage("finetune", finetune_student.__doc__ or "", True, argv)


@run_tool
def export_student_tool(argv: list[str] | None = None) -> int:
    """Export the student to ONNX + TorchScript with metadata, and check parity (< 1e-5)."""
    from videomimic_offline.errors import NumericalError
    from videomimic_offline.policy.exported import load_policy
    from videomimic_offline.training.export import export_student, parity, policy_from_checkpoint

    p = argparse.ArgumentParser(prog="export_student", description=export_student_tool.__doc__)
    p.add_argument("--checkpoint", type=Path, required=True, help="finetune/distill checkpoint or stage folder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", default="student")
    a = p.parse_args(argv)
    files = export_student(a.checkpoint, a.out, a.name)
    actor, _ = policy_from_checkpoint(a.checkpoint)
    err = parity(actor, files, load_policy(files["onnx"]).layout)
    if err > 1e-5:
        raise NumericalError(f"exported policy differs from torch by {err:.2e} (> 1e-5); re-export")
    print(json.dumps({k: str(v) for k, v in files.items()} | {"parity_max_abs": err}))
    return 0


@run_tool
def eval_policy(argv: list[str] | None = None) -> int:
    """Per-clip success rate and tracking errors (joints rad, links mm) of a policy or checkpoint."""
    from videomimic_offline.artifacts import write_json
    from videomimic_offline.training.evaluate import evaluate

    p = argparse.ArgumentParser(prog="eval_policy", description=eval_policy.__doc__)
    p.add_argument("--policy", type=Path, required=True, help="student .onnx/.pt, or a model_*.pt / stage folder")
    p.add_argument("--motions", nargs="+", type=Path, required=True)
    p.add_argument("--episodes", type=int, default=1, help="episodes per clip")
    p.add_argument("--device", default="auto")
    p.add_argument("--patch-size", type=float, default=8.0)
    p.add_argument("--out", type=Path, help="write the report as JSON here")
    a = p.parse_args(argv)
    rep = evaluate(a.policy, a.motions, a.episodes, _device(a.device), a.patch_size)
    if a.out:
        write_json(a.out, rep)
    for r in rep["clips"]:
        print(
            f"{r['clip']:<24} success {r['success_rate']:.2f}  joints {r['joint_error_rad']:.3f} rad  "
            f"links {r['link_error_mm']:.0f} mm  ({r['episodes']} episodes)"
        )
    print(json.dumps({k: rep[k] for k in ("success_rate", "joint_error_rad", "link_error_mm")}))
    return 0


@run_tool
def sim2sim(argv: list[str] | None = None) -> int:
    """Run the exported student in plain MuJoCo (deploy observation code) on a reconstructed terrain."""
    from videomimic_offline.training.sim2sim import run_sim2sim

    p = argparse.ArgumentParser(prog="sim2sim", description=sim2sim.__doc__)
    p.add_argument("--policy", type=Path, required=True, help="exported student .onnx or .pt")
    p.add_argument("--terrain", type=Path, help="heightfield.npz (default: flat ground with a 10 cm step)")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--command", type=float, nargs=3, default=[0.0, 0.0, 0.0], metavar=("X", "Y", "YAW"))
    p.add_argument("--png", type=Path, help="write the pelvis path and height plot here")
    a = p.parse_args(argv)
    print(json.dumps(run_sim2sim(a.policy, a.terrain, a.seconds, tuple(a.command), png=a.png)))
    return 0


@run_tool
def plot_training(argv: list[str] | None = None) -> int:
    """Plot the training curves of every stage of a run into a PNG."""
    from videomimic_offline.training.plots import plot_training as plot

    p = argparse.ArgumentParser(prog="plot_training", description=plot_training.__doc__)
    p.add_argument("--run", type=Path, required=True, help="the --out folder of the training tools")
    p.add_argument("--png", type=Path)
    a = p.parse_args(argv)
    print(plot(a.run, a.png))
    return 0


@run_tool
def make_mocap(argv: list[str] | None = None) -> int:
    """Write offline MoCap clips (G1 forward kinematics: stand, squat, step, walk) for pre-training."""
    from videomimic_offline.training.motions import MOCAP_KINDS, generate_mocap

    p = argparse.ArgumentParser(prog="make_mocap", description=make_mocap.__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--kinds", nargs="+", default=list(MOCAP_KINDS))
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--sample-clip", action="store_true", help="also write clips/stepclip (a clip on a step terrain)")
    a = p.parse_args(argv)
    for path in generate_mocap(a.out / "mocap" if a.sample_clip else a.out, tuple(a.kinds), a.seconds):
        print(path)
    if a.sample_clip:
        from videomimic_offline.training.sample_data import make_sample_data

        print(make_sample_data(a.out, a.seconds)["clip"])
    return 0
