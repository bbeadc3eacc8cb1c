"""Multi-clip motion command: each env tracks one clip on that clip's terrain patch.

Builds on mjlab's BeyondMimic ``MotionCommand`` (its reference/robot body properties, metrics and
relative-pose bookkeeping are reused, so mjlab's tracking rewards and terminations apply as they
are). What changes: all clips are concatenated into one reference table, every env carries the
clip it tracks, at reset it is moved to that clip's terrain patch (``env_origins``), and the clip is
drawn with weights that adapt to per-clip success (VideoMimic: weights clamped to [1/3, 3]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from mjlab.tasks.tracking.mdp.commands import MotionCommand, MotionCommandCfg
from mjlab.utils.lab_api.math import quat_from_euler_xyz, quat_mul, sample_uniform

from videomimic_offline.training.motions import Clip

if TYPE_CHECKING:
    from mjlab.envs import ManagerBasedRlEnv


class _ClipTable:
    """All clips concatenated (the attribute names mjlab's MotionCommand reads)."""

    def __init__(self, clips: list[Clip], device: str) -> None:
        def cat(name: str) -> torch.Tensor:
            return torch.tensor(np.concatenate([getattr(c, name) for c in clips]), dtype=torch.float32, device=device)

        self.joint_pos = cat("joint_pos")
        self.joint_vel = cat("joint_vel")
        self.body_pos_w = cat("body_pos_w")
        self.body_quat_w = cat("body_quat_w")
        self.body_lin_vel_w = cat("body_lin_vel_w")
        self.body_ang_vel_w = cat("body_ang_vel_w")
        self.contacts = torch.tensor(np.concatenate([c.contacts for c in clips]), dtype=torch.float32, device=device)
        lengths = [c.length for c in clips]
        self.clip_start = torch.tensor(np.cumsum([0, *lengths[:-1]]), dtype=torch.long, device=device)
        self.clip_len = torch.tensor(lengths, dtype=torch.long, device=device)
        self.time_step_total = int(sum(lengths))


def sequential_ema(ema: torch.Tensor, idx: torch.Tensor, values: torch.Tensor, alpha: float) -> torch.Tensor:
    """``ema[i] <- (1 - alpha) ema[i] + alpha v`` applied for each ``(i, v)`` in order, without a Python loop.

    An entry updated k times in one call ends at ``(1-a)^k ema + a sum_j (1-a)^(k-1-j) v_j``; the
    rank j of each value among those of the same entry comes from a cumulative count, so one batch
    of resets costs a few tensor ops (and no host sync) instead of one indexed update per env.
    """
    onehot = torch.nn.functional.one_hot(idx, ema.shape[0]).to(ema.dtype)  # (n, C)
    count = onehot.sum(dim=0)  # k per entry
    rank = (onehot.cumsum(dim=0) * onehot).sum(dim=1) - 1  # j of each value within its entry
    decay = 1.0 - alpha
    w = alpha * decay ** (count[idx] - 1 - rank)
    return ema * decay**count + torch.zeros_like(ema).index_add_(0, idx, w * values.to(ema.dtype))


class ClipMotionCommand(MotionCommand):
    """mjlab MotionCommand over many clips, each on its own terrain patch, adaptively sampled."""

    cfg: ClipMotionCommandCfg

    def __init__(self, cfg: ClipMotionCommandCfg, env: ManagerBasedRlEnv):
        # Skip MotionCommand.__init__ (it loads one file); set up the same state for many clips.
        super(MotionCommand, self).__init__(cfg, env)
        self.robot = env.scene[cfg.entity_name]
        self.robot_anchor_body_index = self.robot.body_names.index(cfg.anchor_body_name)
        self.motion_anchor_body_index = cfg.body_names.index(cfg.anchor_body_name)
        self.body_indexes = torch.tensor(
            self.robot.find_bodies(cfg.body_names, preserve_order=True)[0], dtype=torch.long, device=self.device
        )
        clips = cfg.clips
        self.clip_names = [c.name for c in clips]
        self.motion = _ClipTable(clips, self.device)
        n = self.num_envs
        self.env_clip = torch.zeros(n, dtype=torch.long, device=self.device)
        self.time_steps = torch.zeros(n, dtype=torch.long, device=self.device)
        self.steps_in_episode = torch.zeros(n, dtype=torch.long, device=self.device)
        self.body_pos_relative_w = torch.zeros(n, len(cfg.body_names), 3, device=self.device)
        self.body_quat_relative_w = torch.zeros(n, len(cfg.body_names), 4, device=self.device)
        self.body_quat_relative_w[:, :, 0] = 1.0
        C = len(clips)
        # Per-clip placement: fixed patch column (scene clips) or a random procedural column.
        self._clip_column = torch.tensor([cfg.clip_columns.get(c.name, -1) for c in clips], device=self.device)
        self._procedural = torch.tensor(cfg.procedural_columns or [0], dtype=torch.long, device=self.device)
        # A clip without scene starts at its patch centre: remove its initial root xy.
        shift = np.zeros((C, 3), dtype=np.float32)
        for i, c in enumerate(clips):
            if cfg.clip_columns.get(c.name, -1) < 0:
                shift[i, :2] = -c.body_pos_w[0, 0, :2]
        self._clip_shift = torch.tensor(shift, device=self.device)
        self.success_ema = torch.full((C,), 0.5, device=self.device)
        self.episodes = torch.zeros(C, dtype=torch.long, device=self.device)
        self.successes = torch.zeros(C, dtype=torch.long, device=self.device)
        self.err_joint_sum = torch.zeros(C, device=self.device)
        self.err_link_sum = torch.zeros(C, device=self.device)
        self.err_steps = torch.zeros(C, device=self.device)
        self._next_clip = 0  # round-robin cursor for evaluation
        self.episode_cap = 0  # evaluation: count only each clip's first N episodes (0: all)
        for k in (
            "error_anchor_pos",
            "error_anchor_rot",
            "error_body_pos",
            "error_body_rot",
            "error_joint_pos",
            "error_joint_vel",
            "error_link_pos_global",
            "clip_weight_max",
        ):
            self.metrics[k] = torch.zeros(n, device=self.device)
        self._ghost_model = None
        self._ghost_color = np.array(cfg.viz.ghost_color, dtype=np.float32)
        self._pending_forward = False

    # Reference positions include the env's patch origin and the clip's xy shift.
    @property
    def body_pos_w(self) -> torch.Tensor:
        return (
            self.motion.body_pos_w[self.time_steps]
            + self._env.scene.env_origins[:, None, :]
            + self._clip_shift[self.env_clip][:, None, :]
        )

    @property
    def anchor_pos_w(self) -> torch.Tensor:
        return (
            self.motion.body_pos_w[self.time_steps, self.motion_anchor_body_index]
            + self._env.scene.env_origins
            + self._clip_shift[self.env_clip]
        )

    @property
    def clip_last_frame(self) -> torch.Tensor:
        return self.motion.clip_start[self.env_clip] + self.motion.clip_len[self.env_clip] - 1

    def clip_weights(self) -> torch.Tensor:
        """Sampling weight per clip: failure-proportional, clamped to [1/3, 3] of the mean."""
        fail = 1.0 - self.success_ema + 1e-3
        w = fail / fail.mean()
        return torch.clamp(w, 1.0 / 3.0, 3.0)

    def _update_metrics(self) -> None:
        super()._update_metrics()
        err = torch.norm(self.body_pos_w - self.robot_body_pos_w, dim=-1)
        self.metrics["error_link_pos_global"] = err.mean(dim=-1)
        self.metrics["clip_weight_max"][:] = self.clip_weights().max()
        # Per-clip running sums for evaluation (23 policy joints: wrists are held, not tracked).
        j = self.cfg.joint_ids_23
        jerr = (self.joint_pos[:, j] - self.robot_joint_pos[:, j]).abs().mean(dim=-1)
        active = self.steps_in_episode > 0
        if self.episode_cap:
            active &= self.episodes[self.env_clip] < self.episode_cap
        self.err_joint_sum.index_add_(0, self.env_clip[active], jerr[active])
        self.err_link_sum.index_add_(0, self.env_clip[active], err.mean(dim=-1)[active])
        self.err_steps.index_add_(0, self.env_clip[active], torch.ones_like(jerr[active]))

    def _record_outcomes(self, env_ids: torch.Tensor) -> None:
        ran = env_ids[self.steps_in_episode[env_ids] > 0]
        if self.episode_cap:
            ran = self._within_cap(ran)
        if len(ran) == 0:
            return
        finished = self.time_steps[ran] >= self.clip_last_frame[ran]
        failed = self._env.termination_manager.terminated[ran] & ~finished
        ok = (~failed).float()
        clips = self.env_clip[ran]
        self.episodes.index_add_(0, clips, torch.ones_like(clips))
        self.successes.index_add_(0, clips, ok.long())
        self.success_ema = sequential_ema(self.success_ema, clips, ok, self.cfg.success_alpha)

    def _within_cap(self, ran: torch.Tensor) -> torch.Tensor:
        """The envs of ``ran`` whose finished episode is still within its clip's first ``episode_cap``
        (two envs finishing the same clip in one step are counted in turn)."""
        clips = self.env_clip[ran]
        order = torch.argsort(clips, stable=True)
        ran, clips = ran[order], clips[order]
        idx = torch.arange(len(clips), device=self.device)
        first = torch.ones_like(clips, dtype=torch.bool)
        first[1:] = clips[1:] != clips[:-1]
        rank = idx - torch.cummax(torch.where(first, idx, 0), dim=0).values
        return ran[self.episodes[clips] + rank < self.episode_cap]

    def _resample_command(self, env_ids: torch.Tensor) -> None:
        self._record_outcomes(env_ids)
        n = len(env_ids)
        C = len(self.clip_names)
        if self.cfg.sampling_mode == "start":  # evaluation: clips in turn, from their first frame
            clips = (torch.arange(n, device=self.device) + self._next_clip) % C
            self._next_clip = int((self._next_clip + n) % C)
            offset = torch.zeros(n, dtype=torch.long, device=self.device)
        else:
            clips = torch.multinomial(self.clip_weights(), n, replacement=True)
            usable = torch.clamp(self.motion.clip_len[clips] - self.cfg.min_frames_left, min=1)
            offset = (torch.rand(n, device=self.device) * usable).long()
        self.env_clip[env_ids] = clips
        self.time_steps[env_ids] = self.motion.clip_start[clips] + offset
        self.steps_in_episode[env_ids] = 0
        # Move the env onto its clip's patch.
        terrain = self._env.scene.terrain
        col = self._clip_column[clips]
        free = col < 0
        if free.any():
            pick = torch.randint(0, len(self._procedural), (int(free.sum()),), device=self.device)
            col = col.clone()
            col[free] = self._procedural[pick]
        if terrain is not None and terrain.terrain_origins is not None:
            terrain.env_origins[env_ids] = terrain.terrain_origins[0, col]
        self._write_start_state(env_ids)
        self._pending_forward = True

    def _write_start_state(self, env_ids: torch.Tensor) -> None:
        """Reference state at the sampled frame, perturbed by the configured ranges (as mjlab's RSI)."""
        n = len(env_ids)
        root_pos = self.body_pos_w[env_ids, 0].clone()
        root_ori = self.body_quat_w[env_ids, 0].clone()
        lin = self.body_lin_vel_w[env_ids, 0].clone()
        ang = self.body_ang_vel_w[env_ids, 0].clone()
        keys = ("x", "y", "z", "roll", "pitch", "yaw")
        pr = torch.tensor([self.cfg.pose_range.get(k, (0.0, 0.0)) for k in keys], device=self.device)
        d = sample_uniform(pr[:, 0], pr[:, 1], (n, 6), device=self.device)
        root_pos += d[:, :3]
        root_ori = quat_mul(quat_from_euler_xyz(d[:, 3], d[:, 4], d[:, 5]), root_ori)
        vr = torch.tensor([self.cfg.velocity_range.get(k, (0.0, 0.0)) for k in keys], device=self.device)
        dv = sample_uniform(vr[:, 0], vr[:, 1], (n, 6), device=self.device)
        lin += dv[:, :3]
        ang += dv[:, 3:]
        jp = self.joint_pos[env_ids].clone()
        lo, hi = self.cfg.joint_position_range
        jp += sample_uniform(lo, hi, jp.shape, device=self.device)
        self._write_reference_state_to_sim(env_ids, root_pos, root_ori, lin, ang, jp, self.joint_vel[env_ids])

    def _update_command(self, env_ids: torch.Tensor | None = None) -> None:
        ids = slice(None) if env_ids is None else env_ids
        self.time_steps[ids] = torch.minimum(self.time_steps[ids] + 1, self.clip_last_frame[ids])
        self.steps_in_episode[ids] += 1
        if self._pending_forward:
            self._pending_forward = False
            self._env.sim.forward()
        self.update_relative_body_poses()

    #: What lives across episodes (a training checkpoint carries it: :mod:`training.resume`).
    TRAINING_STATE = ("success_ema", "episodes", "successes", "err_joint_sum", "err_link_sum", "err_steps")

    def training_state(self) -> dict[str, torch.Tensor | int]:
        """Per-clip statistics that outlive an episode (the success EMA weights the clip sampling)."""
        return {
            **{k: getattr(self, k).detach().cpu().clone() for k in self.TRAINING_STATE},
            "next_clip": self._next_clip,
        }

    def load_training_state(self, state: dict[str, torch.Tensor | int]) -> None:
        for k in self.TRAINING_STATE:
            value = state[k]
            assert isinstance(value, torch.Tensor)
            if value.shape != getattr(self, k).shape:
                raise ValueError(
                    f"motion command state '{k}' has shape {tuple(value.shape)}, not {tuple(getattr(self, k).shape)}"
                )
            setattr(self, k, value.to(self.device))
        self._next_clip = int(state["next_clip"])

    def clip_report(self) -> list[dict[str, float | str | int]]:
        """Per-clip episodes, success rate and mean tracking errors (joints rad, links mm)."""
        out = []
        for i, name in enumerate(self.clip_names):
            steps = max(float(self.err_steps[i]), 1.0)
            eps = int(self.episodes[i])
            out.append(
                {
                    "clip": name,
                    "episodes": eps,
                    "success_rate": float(self.successes[i]) / eps if eps else float("nan"),
                    "joint_error_rad": float(self.err_joint_sum[i]) / steps,
                    "link_error_mm": 1000.0 * float(self.err_link_sum[i]) / steps,
                }
            )
        return out


@dataclass(kw_only=True)
class ClipMotionCommandCfg(MotionCommandCfg):
    """Clips (already loaded), their patch columns, and adaptive-sampling settings."""

    motion_file: str = ""
    clips: list[Clip] = field(default_factory=list)
    clip_columns: dict[str, int] = field(default_factory=dict)
    procedural_columns: list[int] = field(default_factory=list)
    joint_ids_23: list[int] = field(default_factory=list)
    min_frames_left: int = 25
    success_alpha: float = 0.1

    def build(self, env: ManagerBasedRlEnv) -> ClipMotionCommand:
        return ClipMotionCommand(self, env)
