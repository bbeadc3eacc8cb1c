"""Training-curve plots: one PNG with the mean reward (PPO stages) or behaviour loss (DAgger) per stage."""

from __future__ import annotations

from pathlib import Path

from videomimic_offline.errors import InputError
from videomimic_offline.training.config import STAGES

CURVES = ("Train/mean_reward", "Episode/success", "Loss/behavior", "Loss/std", "Loss/value", "Policy/mean_std")


def read_scalars(stage_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of the tensorboard event files in a stage folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for ev in sorted(Path(stage_dir).glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(ev), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {k: sorted(v) for k, v in out.items()}


def plot_training(run_dir: Path, out_png: Path | None = None) -> Path:
    """Plot each stage found under ``run_dir`` (its tensorboard logs) into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    stages = [s for s in STAGES if (run_dir / s).is_dir()]
    if not stages:
        raise InputError(
            f"no stage folders ({', '.join(STAGES)}) under {run_dir}: pass the --out of the training tools"
        )
    fig, axes = plt.subplots(1, len(stages), figsize=(4.5 * len(stages), 3.5), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        scalars = read_scalars(run_dir / stage)
        shown = 0
        for tag in CURVES:
            if tag in scalars and scalars[tag]:
                xs, ys = zip(*scalars[tag])
                ax.plot(xs, ys, marker="o", ms=3, label=tag.split("/")[-1])
                shown += 1
        ax.set_title(stage)
        ax.set_xlabel("iteration")
        if shown:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no logged scalars yet", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    out_png = Path(out_png) if out_png else run_dir / "training_curves.png"
    tmp = out_png.with_name(f".{out_png.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out_png)
    return out_png
