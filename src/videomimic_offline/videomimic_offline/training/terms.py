"""Reward and termination terms that mjlab's tracking task lacks (23 policy joints, clip ends, link drift)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from mjlab.envs import ManagerBasedRlEnv

    from videomimic_offline.training.command import ClipMotionCommand


def _cmd(env: ManagerBasedRlEnv, name: str) -> ClipMotionCommand:
    return env.command_manager.get_term(name)  # type: ignore[return-value]


def joint_pos_tracking_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
    """exp(-mean squared joint error / std^2) over the 23 policy joints (VideoMimic's main term)."""
    cmd = _cmd(env, command_name)
    j = cmd.cfg.joint_ids_23
    err = torch.mean((cmd.joint_pos[:, j] - cmd.robot_joint_pos[:, j]) ** 2, dim=-1)
    return torch.exp(-err / std**2)


def global_link_pos_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
    """exp(-mean squared global link position error / std^2): tracking in the scene, not just relative."""
    cmd = _cmd(env, command_name)
    err = torch.sum((cmd.body_pos_w - cmd.robot_body_pos_w) ** 2, dim=-1).mean(dim=-1)
    return torch.exp(-err / std**2)


def link_drift(env: ManagerBasedRlEnv, command_name: str, threshold: float) -> torch.Tensor:
    """Terminate when any tracked link is farther than ``threshold`` m from its reference."""
    cmd = _cmd(env, command_name)
    # amax, not max(dim=): the latter also builds indices and took ~6 ms per call on a 16 x 14 CPU tensor.
    return torch.norm(cmd.body_pos_w - cmd.robot_body_pos_w, dim=-1).amax(dim=-1) > threshold


def clip_finished(env: ManagerBasedRlEnv, command_name: str) -> torch.Tensor:
    """Time-out (success) when the env's clip reached its last frame."""
    cmd = _cmd(env, command_name)
    return cmd.time_steps >= cmd.clip_last_frame
