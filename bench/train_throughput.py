"""Env-steps/s of our teacher task vs mjlab's own Mjlab-Tracking-Flat-Unitree-G1, same env count, same run.

Both envs are stepped with random actions (no learning) after a warm-up; the figure is
``num_envs * steps / seconds`` (policy steps at 50 Hz, each 4 physics steps). Our task adds the
reconstructed-terrain patches, the 11 x 11 height scan, the proprio history and the multi-clip
bookkeeping; the ratio shows what those cost. Motions are generated offline (G1 forward
kinematics); the teacher clip stands on a 10 cm step heightfield.

    python bench/train_throughput.py --num-envs 64            # CPU
    python bench/train_throughput.py --num-envs 4096 --device cuda:0

Last line: JSON with ours_steps_per_s, mjlab_steps_per_s, ratio, device, num_envs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("WANDB_MODE", "disabled")


def _rate(env, steps: int, warmup: int, num_actions: int, device: str) -> float:
    import torch

    for _ in range(warmup):
        env.step(torch.rand(env.num_envs, num_actions, device=device) * 2 - 1)
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(torch.rand(env.num_envs, num_actions, device=device) * 2 - 1)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return env.num_envs * steps / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num-envs", type=int, default=64)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()

    import mjlab.tasks  # noqa: F401  (registers mjlab's tasks)
    import torch
    from mjlab.envs import ManagerBasedRlEnv
    from mjlab.tasks.registry import load_env_cfg
    from videomimic_offline.training.sample_data import make_sample_data
    from videomimic_offline.training.stages import StageConfig, build_env, load_clips

    with tempfile.TemporaryDirectory() as tmp:
        data = make_sample_data(Path(tmp))
        # mjlab's tracking task reads its own npz (all 30 bodies in model order): our generated walk has them.
        with np.load(data["mocap"] / "walk.npz") as d:
            mj_motion = Path(tmp) / "mjlab_walk.npz"
            np.savez(
                mj_motion,
                **{
                    k: d[k]
                    for k in (
                        "fps",
                        "joint_pos",
                        "joint_vel",
                        "body_pos_w",
                        "body_quat_w",
                        "body_lin_vel_w",
                        "body_ang_vel_w",
                    )
                },
            )
        cfg = StageConfig(
            "teacher",
            out_dir=Path(tmp),
            motions=[data["clips"]],
            num_envs=a.num_envs,
            device=a.device,
            patch_size=4.0,
            procedural=("flat",),
        )
        ours_env = build_env(cfg, load_clips(cfg))
        ours = _rate(ours_env, a.steps, a.warmup, 23, a.device)
        ours_env.close()

        mj_cfg = load_env_cfg("Mjlab-Tracking-Flat-Unitree-G1")
        mj_cfg.commands["motion"].motion_file = str(mj_motion)
        mj_cfg.scene.num_envs = a.num_envs
        mj_env = ManagerBasedRlEnv(cfg=mj_cfg, device=a.device)
        n_act = mj_env.action_manager.total_action_dim
        mjl = _rate(mj_env, a.steps, a.warmup, n_act, a.device)
        mj_env.close()

    dev = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else f"cpu ({os.cpu_count()} cores)"
    print(f"ours {ours:.1f} env-steps/s, mjlab tracking {mjl:.1f} env-steps/s at {a.num_envs} envs on {dev}")
    print(
        json.dumps(
            {
                "ours_steps_per_s": round(ours, 1),
                "mjlab_steps_per_s": round(mjl, 1),
                "ratio": round(ours / mjl, 3),
                "device": dev,
                "num_envs": a.num_envs,
            }
        )
    )


if __name__ == "__main__":
    main()
