"""Console tools of the training area (``ros2 run videomimic_offline <tool>``).

Every command line is generated from the tool's config (:mod:`training.config`): ``--help`` shows
each setting's default and valid choices. Heavy libraries (mjlab, torch, matplotlib) are imported
after the command line is parsed, so ``--help`` and a mistyped flag answer at once. Every training
tool resumes from the newest checkpoint in ``<out>/<stage>/`` when re-run, so a long run can be
done in chunks (``--iterations`` is the total to reach, not an increment).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videomimic_offline import settings
from videomimic_offline.cli import finished, run_tool
from videomimic_offline.training import config


def _quiet_warp() -> None:
    """Silence Warp's "Module ... load" lines (about 47 per stage: one per kernel module, info level).

    Warp 1.19 reads ``config.log_level``; mjlab's ``MJLAB_WARP_QUIET`` sets the older ``config.quiet``,
    which no longer does anything. Warnings and errors still print.
    """
    import warp

    warp.config.log_level = warp.LOG_WARNING


def _run_stage(stage: str, tool: str, doc: str, argv: list[str] | None) -> int:
    cfg = settings.parse_cli(config.CONFIGS[stage], argv, prog=tool, description=doc)
    cfg.seed += int(os.environ.get("RANK", "0"))
    os.environ.setdefault("WANDB_MODE", "disabled")
    _quiet_warp()
    from videomimic_offline.training.stages import train_stage

    final = train_stage(cfg)
    finished(
        tool,
        f"{stage} trained to iteration {cfg.iterations} (checkpoint {final.name})",
        f"settings: {cfg.stage_dir / 'config.json'} (+ env.json, agent.json)",
        look=[final, f"plot_training --run {cfg.out}"],
    )
    return 0


@run_tool
def train_mpt(argv: list[str] | None = None) -> int:
    """Stage 1: MoCap pre-training on procedural terrain with noise, pushes, gain DR and control delay."""
    return _run_stage("mpt", "train_mpt", train_mpt.__doc__ or "", argv)


@run_tool
def train_teacher(argv: list[str] | None = None) -> int:
    """Stage 2: scene-conditioned tracking teacher on the clips' reconstructed terrains (from MPT)."""
    return _run_stage("teacher", "train_teacher", train_teacher.__doc__ or "", argv)


@run_tool
def distill_student(argv: list[str] | None = None) -> int:
    """Stage 3: DAgger distillation of the heightmap + direction student (loss on action mean and std)."""
    return _run_stage("distill", "distill_student", distill_student.__doc__ or "", argv)


@run_tool
def finetune_student(argv: list[str] | None = None) -> int:
    """Stage 4: PPO finetuning of the distilled student."""
    return _run_stage("finetune", "finetune_student", finetune_student.__doc__ or "", argv)


@run_tool
def export_student_tool(argv: list[str] | None = None) -> int:
    """Export the student to ONNX + TorchScript with metadata, and check parity (< 1e-5)."""
    a = settings.parse_cli(config.ExportConfig, argv, prog="export_student", description=export_student_tool.__doc__)
    from videomimic_offline.errors import NumericalError
    from videomimic_offline.policy.exported import load_policy
    from videomimic_offline.training.export import export_student, parity, policy_from_checkpoint

    files = export_student(a.checkpoint, a.out, a.name)
    actor, _ = policy_from_checkpoint(a.checkpoint)
    err = parity(actor, files, load_policy(files["onnx"]).layout)
    if err > 1e-5:
        raise NumericalError(f"exported policy differs from torch by {err:.2e} (> 1e-5); re-export")
    finished(
        "export_student",
        f"exported {a.checkpoint} as ONNX and TorchScript (metadata inside)",
        f"parity with the torch policy: max |diff| {err:.1e}",
        look=[files["onnx"], files["torchscript"]],
    )
    return 0


@run_tool
def eval_policy(argv: list[str] | None = None) -> int:
    """Per-clip success rate and tracking errors (joints rad, links mm) of a policy or checkpoint."""
    a = settings.parse_cli(config.EvalConfig, argv, prog="eval_policy", description=eval_policy.__doc__)
    _quiet_warp()
    from videomimic_offline.artifacts import write_json
    from videomimic_offline.training.evaluate import evaluate
    from videomimic_offline.training.stages import resolve_device

    rep = evaluate(a.policy, a.motions, a.episodes, resolve_device(a.device), a.patch_size, progress=a.progress)
    if a.out:
        write_json(a.out, rep)
    for r in rep["clips"]:
        print(
            f"{r['clip']:<24} success {r['success_rate']:.2f}  joints {r['joint_error_rad']:.3f} rad  "
            f"links {r['link_error_mm']:.0f} mm  ({r['episodes']} episodes)"
        )
    print(json.dumps({k: rep[k] for k in ("success_rate", "joint_error_rad", "link_error_mm")}))
    finished(
        "eval_policy",
        f"evaluated {a.policy} on {len(rep['clips'])} clip(s), {a.episodes} episode(s) each",
        f"success {rep['success_rate']:.2f}, joints {rep['joint_error_rad']:.3f} rad, "
        f"links {rep['link_error_mm']:.0f} mm (means over clips)",
        look=[a.out] if a.out else (),
    )
    return 0


@run_tool
def sim2sim(argv: list[str] | None = None) -> int:
    """Run the exported student in plain MuJoCo (deploy observation code) on a reconstructed terrain."""
    a = settings.parse_cli(config.Sim2simConfig, argv, prog="sim2sim", description=sim2sim.__doc__)
    from videomimic_offline.training.sim2sim import run_sim2sim

    rep = run_sim2sim(a.policy, a.terrain, a.seconds, tuple(a.command), progress=a.progress, png=a.png)
    print(json.dumps(rep))
    outcome = f"fell at {rep['fell_at_s']:.2f} s" if rep["fell"] else "stayed up"
    finished(
        "sim2sim",
        f"ran {a.policy} for {a.seconds:g} s on {rep['terrain']}: {outcome}",
        f"drift {rep['drift_m']:.2f} m, lowest pelvis {rep['min_pelvis_height_m']:.2f} m above ground",
        look=[a.png] if a.png else (),
    )
    return 0


@run_tool
def plot_training(argv: list[str] | None = None) -> int:
    """Plot the training curves of every stage of a run into a PNG."""
    a = settings.parse_cli(config.PlotConfig, argv, prog="plot_training", description=plot_training.__doc__)
    from videomimic_offline.training.plots import plot_training as plot

    png = plot(a.run, a.png)
    finished("plot_training", f"plotted the stages found under {a.run}", look=[png])
    return 0


@run_tool
def make_mocap(argv: list[str] | None = None) -> int:
    """Write offline MoCap clips (G1 forward kinematics: stand, squat, step, walk) for pre-training."""
    a = settings.parse_cli(config.MocapConfig, argv, prog="make_mocap", description=make_mocap.__doc__)
    from videomimic_offline.training.motions import generate_mocap

    folder = a.out / "mocap" if a.sample_clip else a.out
    paths = generate_mocap(folder, tuple(a.kinds), a.seconds)
    look: list[Path | str] = [folder]
    did = f"wrote {len(paths)} MoCap clip(s) of {a.seconds:g} s ({', '.join(a.kinds)})"
    if a.sample_clip:
        from videomimic_offline.training.sample_data import make_sample_data

        look.append(make_sample_data(a.out, a.seconds)["clip"])
        did += ", and the sample clip on a 10 cm step (its stand + walk MoCap too)"
    finished("make_mocap", did, look=look)
    return 0
