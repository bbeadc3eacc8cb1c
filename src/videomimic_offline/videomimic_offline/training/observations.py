"""Observation terms of the training tasks (mjlab observation-manager functions and classes).

The student terms produce exactly the vector of :mod:`videomimic_offline.policy.layout`, with the
conventions of :mod:`videomimic_offline.policy.observations` (the numpy builder the robot uses):
proprio frame in the pelvis (IMU) frame, history newest first and back-filled after a reset,
command = reference torso xy in the robot's heading frame + relative yaw, heightmap =
``torso_z - ground_z`` on the yaw-aligned 11 x 11 grid (x fastest), misses -> fallback.
A test checks the torch frame against the numpy builder on the same simulator state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.envs.mdp.observations import height_scan
from mjlab.utils.lab_api.math import euler_xyz_from_quat, quat_apply_inverse, wrap_to_pi, yaw_quat

from videomimic_offline.policy.layout import PROPRIO_TERMS
from videomimic_offline.robot import g1

if TYPE_CHECKING:
    from mjlab.envs import ManagerBasedRlEnv

    from videomimic_offline.training.command import ClipMotionCommand

_SCALE = {name: s for name, _, s in PROPRIO_TERMS}


def _cmd(env: ManagerBasedRlEnv, name: str = "motion") -> ClipMotionCommand:
    return env.command_manager.get_term(name)  # type: ignore[return-value]


def _yaw(q: torch.Tensor) -> torch.Tensor:
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def proprio_frame(env: ManagerBasedRlEnv, joint_ids: torch.Tensor, default: torch.Tensor) -> torch.Tensor:
    """(N, 75) ang_vel x0.25 | gravity | q - q0 | dq x0.05 | last action (23 policy joints)."""
    d = env.scene["robot"].data
    return torch.cat(
        [
            d.root_link_ang_vel_b * _SCALE["ang_vel_b"],
            d.projected_gravity_b,
            d.joint_pos[:, joint_ids] - default,
            d.joint_vel[:, joint_ids] * _SCALE["joint_vel"],
            env.action_manager.action,
        ],
        dim=-1,
    )


class ProprioHistory:
    """History of proprio frames, newest first; a reset env's history is filled with its first frame.

    Params: ``noise`` (dict term -> uniform half-width, added per frame; training only).
    One new frame per env step: repeated calls within a step refresh the newest slot instead.
    """

    def __init__(self, cfg, env: ManagerBasedRlEnv) -> None:
        self._env = env
        robot = env.scene["robot"]
        ids, names = robot.find_joints(g1.JOINT_NAMES_23, preserve_order=True)
        assert tuple(names) == g1.JOINT_NAMES_23, names
        self.joint_ids = torch.tensor(ids, device=env.device)
        self.default = torch.tensor(g1.as_array(g1.DEFAULT_POSE), dtype=torch.float32, device=env.device)
        self.length = int(cfg.params.get("length", g1.HISTORY_LENGTH))
        self.buf = torch.zeros(env.num_envs, self.length, 75, device=env.device)
        self.fresh = torch.ones(env.num_envs, dtype=torch.bool, device=env.device)
        self._last_step = -1
        noise = cfg.params.get("noise") or {}
        widths = []
        for name, n, _ in PROPRIO_TERMS:
            widths += [float(noise.get(name, 0.0))] * n
        self.noise = torch.tensor(widths, device=env.device)
        self.noisy = any(w > 0 for w in widths)  # decided once: no device->host check per step

    def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
        self.fresh[env_ids if env_ids is not None else slice(None)] = True

    def __call__(self, env: ManagerBasedRlEnv, noise=None, length=None) -> torch.Tensor:
        frame = proprio_frame(env, self.joint_ids, self.default)
        if self.noisy:
            frame = frame + (torch.rand_like(frame) * 2 - 1) * self.noise
        step = int(env.common_step_counter)
        if step != self._last_step:
            self.buf = torch.roll(self.buf, 1, dims=1)
            self._last_step = step
        self.buf[:, 0] = frame
        # Back-fill reset envs with masks, not boolean indexing (which syncs with the device every step).
        self.buf = torch.where(self.fresh[:, None, None], frame[:, None, :].expand_as(self.buf), self.buf)
        self.fresh.zero_()
        return self.buf.reshape(env.num_envs, -1).clone()


def root_command(env: ManagerBasedRlEnv, command_name: str = "motion", lookahead: int = 0) -> torch.Tensor:
    """(N, 3) reference torso xy relative to the robot torso in its heading frame, and relative yaw."""
    cmd = _cmd(env, command_name)
    t = torch.minimum(cmd.time_steps + lookahead, cmd.clip_last_frame)
    ref_pos = (
        cmd.motion.body_pos_w[t, cmd.motion_anchor_body_index] + env.scene.env_origins + cmd._clip_shift[cmd.env_clip]
    )
    ref_q = cmd.motion.body_quat_w[t, cmd.motion_anchor_body_index]
    rob_pos, rob_q = cmd.robot_anchor_pos_w, cmd.robot_anchor_quat_w
    delta = ref_pos - rob_pos
    delta[:, 2] = 0.0
    local = quat_apply_inverse(yaw_quat(rob_q), delta)
    dyaw = wrap_to_pi(_yaw(ref_q) - _yaw(rob_q))
    return torch.cat([local[:, :2], dyaw[:, None]], dim=-1)


def target_joints(env: ManagerBasedRlEnv, command_name: str = "motion") -> torch.Tensor:
    """(N, 23) reference joint positions relative to the default pose (teacher / MPT only)."""
    cmd = _cmd(env, command_name)
    default = torch.tensor(g1.as_array(g1.DEFAULT_POSE), dtype=torch.float32, device=env.device)
    return cmd.joint_pos[:, cmd.cfg.joint_ids_23] - default


def target_roll_pitch(env: ManagerBasedRlEnv, command_name: str = "motion") -> torch.Tensor:
    """(N, 2) reference root (pelvis) roll and pitch (teacher / MPT only)."""
    cmd = _cmd(env, command_name)
    r, p, _ = euler_xyz_from_quat(cmd.body_quat_w[:, 0])
    return torch.stack([wrap_to_pi(r), wrap_to_pi(p)], dim=-1)


def link_errors(env: ManagerBasedRlEnv, command_name: str = "motion") -> torch.Tensor:
    """(N, 3 B) privileged: reference minus robot link positions, in the robot heading frame."""
    cmd = _cmd(env, command_name)
    err = cmd.body_pos_w - cmd.robot_body_pos_w
    q = yaw_quat(cmd.robot_anchor_quat_w)[:, None, :].expand(-1, err.shape[1], -1)
    return quat_apply_inverse(q, err).reshape(env.num_envs, -1)


def contacts(env: ManagerBasedRlEnv, command_name: str = "motion", sensor_name: str = "feet_contact") -> torch.Tensor:
    """(N, 4) privileged: reference foot contacts (2) and the robot's foot contacts (2)."""
    cmd = _cmd(env, command_name)
    ref = cmd.motion.contacts[cmd.time_steps]
    found = env.scene[sensor_name].data.found
    return torch.cat([ref, (found.reshape(env.num_envs, -1)[:, :2] > 0).float()], dim=-1)


def root_lin_vel_b(env: ManagerBasedRlEnv) -> torch.Tensor:
    """(N, 3) privileged: pelvis linear velocity in its own frame."""
    return env.scene["robot"].data.root_link_lin_vel_b


class Heightmap:
    """11 x 11 heightmap (torso_z - ground_z); optionally the noisy variant of the original system.

    Noisy params: ``white`` (uniform per ray), ``offset`` (per-env constant, resampled at reset),
    ``max_delay`` (steps, per env), ``refresh`` (max steps between refreshes: stale values held),
    ``drop`` (fraction of rays returning the fallback value), ``tilt`` / ``yaw`` (per-episode scan-frame
    roll/pitch and yaw errors [rad]; applied to first order: a tilt adds ``x sin(pitch) + y sin(roll)``,
    a yaw error moves each ray by ``yaw x (x, y)`` along the local height gradient).
    """

    def __init__(self, cfg, env: ManagerBasedRlEnv) -> None:
        p = cfg.params
        self.sensor = p.get("sensor_name", "height_scan")
        self.noisy = bool(p.get("noisy", False))
        self.white = float(p.get("white", 0.02))
        self.offset_w = float(p.get("offset", 0.02))
        self.max_delay = int(p.get("max_delay", 3))
        self.max_refresh = int(p.get("refresh", 5))
        self.drop = float(p.get("drop", 0.01))
        self.tilt_w = float(p.get("tilt", 0.04))
        self.yaw_w = float(p.get("yaw", 0.08))
        n, dev = env.num_envs, env.device
        ny, nx = g1.HEIGHTMAP_SHAPE
        r = g1.HEIGHTMAP_RESOLUTION
        ys, xs = torch.meshgrid(
            (torch.arange(ny, device=dev) - (ny - 1) / 2) * r,
            (torch.arange(nx, device=dev) - (nx - 1) / 2) * r,
            indexing="ij",
        )
        self.ray_x, self.ray_y = xs.reshape(-1), ys.reshape(-1)  # row = y, column = x (x fastest), as the sensor
        self.frame_err = torch.zeros(n, 3, device=dev)  # roll, pitch, yaw
        self.hist = torch.full((n, self.max_delay + 1, 121), g1.HEIGHTMAP_FALLBACK, device=dev)
        self.held = torch.full((n, 121), g1.HEIGHTMAP_FALLBACK, device=dev)
        self.offset = torch.zeros(n, 1, device=dev)
        self.delay = torch.zeros(n, dtype=torch.long, device=dev)
        self.period = torch.ones(n, dtype=torch.long, device=dev)
        self.count = torch.zeros(n, dtype=torch.long, device=dev)
        self.fresh = torch.ones(n, dtype=torch.bool, device=dev)
        self._last_step = -1

    def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
        ids = env_ids if env_ids is not None else slice(None)
        k = self.offset[ids].shape[0]
        dev = self.offset.device
        self.offset[ids] = (torch.rand(k, 1, device=dev) * 2 - 1) * self.offset_w
        self.delay[ids] = torch.randint(0, self.max_delay + 1, (k,), device=dev)
        self.period[ids] = torch.randint(1, self.max_refresh + 1, (k,), device=dev)
        scale = torch.tensor([self.tilt_w, self.tilt_w, self.yaw_w], device=dev)
        self.frame_err[ids] = (torch.rand(k, 3, device=dev) * 2 - 1) * scale
        self.fresh[ids] = True

    def __call__(self, env: ManagerBasedRlEnv, **_: object) -> torch.Tensor:
        h = height_scan(env, self.sensor, miss_value=g1.HEIGHTMAP_FALLBACK)
        if not self.noisy:
            return h
        step = int(env.common_step_counter)
        new_step = step != self._last_step
        self._last_step = step
        if new_step:
            self.hist = torch.roll(self.hist, 1, dims=1)
        self.hist[:, 0] = h
        self.hist = torch.where(self.fresh[:, None, None], h[:, None, :].expand_as(self.hist), self.hist)
        delayed = self.hist[torch.arange(env.num_envs, device=h.device), self.delay]
        if new_step:
            self.count += 1
        refresh = self.fresh | (self.count >= self.period)
        self.count = torch.where(refresh, torch.zeros_like(self.count), self.count)
        self.fresh.zero_()
        noisy = delayed + self.offset + (torch.rand_like(delayed) * 2 - 1) * self.white + self._frame_error(delayed)
        dropped = torch.rand_like(noisy) < self.drop
        noisy = torch.where(dropped, torch.full_like(noisy, g1.HEIGHTMAP_FALLBACK), noisy)
        self.held = torch.where(refresh[:, None], noisy, self.held)
        return self.held.clone()

    def _frame_error(self, h: torch.Tensor) -> torch.Tensor:
        """First-order height change of a scan frame rotated by the per-episode roll/pitch/yaw error."""
        ny, nx = g1.HEIGHTMAP_SHAPE
        grid = h.reshape(-1, ny, nx)
        gy, gx = torch.gradient(grid, spacing=g1.HEIGHTMAP_RESOLUTION, dim=(1, 2))
        roll, pitch, yaw = self.frame_err.unbind(-1)
        tilt = self.ray_x * torch.sin(pitch)[:, None] + self.ray_y * torch.sin(roll)[:, None]
        shift = yaw[:, None] * (gx.reshape(h.shape) * -self.ray_y + gy.reshape(h.shape) * self.ray_x)
        return tilt + shift
