"""Evaluate a policy on clips: per-clip success rate and tracking errors (joints in rad, links in mm).

Runs the stage's mjlab task in evaluation mode (clips played from their first frame in turn, no
noise, pushes or start perturbations). Success = the clip was tracked to its last frame without a
failure termination (a tracked link more than 0.5 m off, or the torso tipped over).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.errors import IncompatibleError
from videomimic_offline.training.config import FinetuneConfig
from videomimic_offline.training.stages import build_env, load_clips


def _is_exported(path: Path) -> bool:
    """An exported student (.onnx, or TorchScript carrying our metadata) rather than a training checkpoint."""
    if path.suffix == ".onnx":
        return True
    if path.is_dir() or path.suffix != ".pt":
        return False
    from videomimic_offline.errors import VideomimicError
    from videomimic_offline.policy.exported import read_metadata

    try:
        read_metadata(path)
    except VideomimicError:
        return False
    return True


def evaluate(
    policy_path: Path,
    motions: list[Path],
    episodes_per_clip: int = 1,
    device: str = "cpu",
    patch_size: float = 8.0,
    num_envs: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Per-clip report for an exported student (.onnx/.pt) or a training checkpoint (model_*.pt / stage folder)."""
    import torch
    from tqdm import tqdm

    policy_path = Path(policy_path)
    exported = _is_exported(policy_path)
    if exported:
        from videomimic_offline.policy.exported import load_policy

        pol = load_policy(policy_path)
        blind, group = not pol.layout.heightmap, "student"

        def act(o):
            return torch.from_numpy(pol.act(o[group].cpu().numpy()))
    else:
        from videomimic_offline.training.export import policy_from_checkpoint

        actor, meta = policy_from_checkpoint(policy_path)
        blind, group = not meta["student_layout"]["heightmap"], meta["policy_group"]

        def act(o):
            with torch.no_grad():
                return actor(o[group].cpu())

    # The student's task (in eval mode every stage's task is the same: no noise, pushes or delay); clips
    # with a scene run on it, clips without on flat ground.
    cfg = FinetuneConfig(motions=list(motions), out=Path("."), device=device, blind=blind)
    cfg.env.patch_size, cfg.env.terrain = patch_size, ("flat",)
    clips = load_clips(cfg, need_scene=False)
    n = num_envs or len(clips)
    env = build_env(cfg, clips, eval_mode=True, num_envs=n)
    try:
        obs = env.get_observations()
        if obs[group].shape[-1] != (pol.layout.dim if exported else meta["obs_dims"][group]):
            raise IncompatibleError(
                f"{policy_path}: policy expects another observation size than this task's '{group}'"
            )
        cmd = env.unwrapped.command_manager.get_term("motion")
        cmd.episodes.zero_()
        cmd.successes.zero_()
        cmd.err_joint_sum.zero_()
        cmd.err_link_sum.zero_()
        cmd.err_steps.zero_()
        cmd.episode_cap = episodes_per_clip  # a short clip replayed while a long one runs counts once
        steps = int(max(c.length for c in clips)) * int(np.ceil(episodes_per_clip * len(clips) / n)) + 1
        for _ in tqdm(range(steps), desc="eval", unit="step", disable=not progress):
            obs, _, _, _ = env.step(act(obs).to(env.device))
            if int(cmd.episodes.min()) >= episodes_per_clip:
                break
        report = cmd.clip_report()
    finally:
        env.close()
    rates = [r["success_rate"] for r in report if r["episodes"]]
    return {
        "policy": str(policy_path),
        "clips": report,
        "success_rate": float(np.mean(rates)) if rates else float("nan"),
        "joint_error_rad": float(np.mean([r["joint_error_rad"] for r in report])),
        "link_error_mm": float(np.mean([r["link_error_mm"] for r in report])),
    }
