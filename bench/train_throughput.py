"""Env-steps/s of our teacher task vs mjlab's own Mjlab-Tracking-Flat-Unitree-G1, same env count, same run.

Like for like: both envs are built in the same process with the same env count, device, physics step
(0.005 s) and decimation (4), both wrapped in mjlab's ``RslRlVecEnvWrapper`` (what training steps),
and stepped with random actions (no learning). After a warm-up, ``--repeats`` blocks of ``--steps``
policy steps are timed alternately (ours, mjlab, ours, ...), so that load changes on a shared machine
hit both; the figures are the medians over blocks, and ``ratio`` is the median of the per-block
ratios. On a CPU the headline figures use the process's CPU time (robust to other jobs on a
shared machine; wall-clock figures are printed too), on a GPU the wall clock. Our task adds the reconstructed-terrain patches, the 11 x 11 height scan, the proprio
history and the multi-clip bookkeeping; the ratio shows what those cost. Motions are generated
offline (G1 forward kinematics); the teacher clip stands on a 10 cm step heightfield.

    nice -n 10 python bench/train_throughput.py --num-envs 64             # CPU
    python bench/train_throughput.py --num-envs 4096 --device cuda:0

Last line: JSON with ours_steps_per_s, mjlab_steps_per_s, ratio, clock, the wall-clock figures,
device, num_envs and the block settings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("WANDB_MODE", "disabled")


def _block(env, steps: int, device: str) -> tuple[float, float]:
    """(wall, CPU-time) env-steps/s of ``steps`` policy steps with uniform random actions in [-1, 1].

    The CPU-time rate divides by this process's CPU seconds: on a shared CPU other work stretches
    wall time by up to ~5x between blocks but hardly changes the CPU time one step needs.
    """
    import torch

    actions = [torch.rand(env.num_envs, env.num_actions, device=device) * 2 - 1 for _ in range(steps)]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    for a in actions:
        env.step(a)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    n = env.num_envs * steps
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def interleaved(
    envs: dict[str, object], steps: int, warmup: int, repeats: int, device: str
) -> dict[str, list[tuple[float, float]]]:
    """Per-block (wall, CPU-time) env-steps/s of each env, blocks alternating between the envs (warm-up excluded)."""
    for env in envs.values():
        _block(env, warmup, device)
    rates: dict[str, list[tuple[float, float]]] = {k: [] for k in envs}
    for _ in range(repeats):
        for k, env in envs.items():
            rates[k].append(_block(env, steps, device))
    return rates


def mjlab_motion_file(walk_npz: Path, out: Path) -> Path:
    """mjlab's tracking task reads its own npz (all 30 bodies in model order): our generated walk has them."""
    keys = ("fps", "joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")
    with np.load(walk_npz) as d:
        np.savez(out, **{k: d[k] for k in keys})
    return out


def build_envs(tmp: Path, num_envs: int, device: str, ours_cfg: Callable | None = None) -> dict[str, object]:
    """{"ours": teacher task, "mjlab": mjlab's G1 flat tracking}, both wrapped for rsl_rl."""
    import mjlab.tasks  # noqa: F401  (registers mjlab's tasks)
    from mjlab.envs import ManagerBasedRlEnv
    from mjlab.rl import RslRlVecEnvWrapper
    from mjlab.tasks.registry import load_env_cfg
    from videomimic_offline.training.sample_data import make_sample_data
    from videomimic_offline.training.stages import build_env, load_clips, stage_config

    data = make_sample_data(tmp)
    motion = mjlab_motion_file(data["mocap"] / "walk.npz", tmp / "mjlab_walk.npz")
    cfg = stage_config(
        "teacher",
        out=tmp,
        motions=[data["clips"]],
        device=device,
        env={"num_envs": num_envs, "patch_size": 4.0, "terrain": ("flat",)},
    )
    ours = build_env(cfg, load_clips(cfg))
    mj_cfg = load_env_cfg("Mjlab-Tracking-Flat-Unitree-G1")
    mj_cfg.commands["motion"].motion_file = str(motion)
    mj_cfg.scene.num_envs = num_envs
    mj = RslRlVecEnvWrapper(ManagerBasedRlEnv(cfg=mj_cfg, device=device))
    for env in (ours.unwrapped, mj.unwrapped):  # same physics step and decimation, or the ratio is meaningless
        assert env.cfg.decimation == 4 and abs(env.cfg.sim.mujoco.timestep - 0.005) < 1e-9, env.cfg
    return {"ours": ours, "mjlab": mj}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--num-envs", type=int, default=64)
    p.add_argument("--steps", type=int, default=10, help="policy steps per timed block")
    p.add_argument("--repeats", type=int, default=7, help="timed blocks per env (alternating)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        envs = build_envs(Path(tmp), a.num_envs, a.device)
        rates = interleaved(envs, a.steps, a.warmup, a.repeats, a.device)
        for env in envs.values():
            env.close()

    def med(k: str, i: int) -> float:
        return statistics.median(r[i] for r in rates[k])

    def med_ratio(i: int) -> float:
        return statistics.median(o[i] / m[i] for o, m in zip(rates["ours"], rates["mjlab"]))

    # On a GPU the wall clock is the figure (the host only launches); on a CPU the CPU-time rate is the
    # robust one on a shared machine, and it is what the headline keys report there.
    cpu = not a.device.startswith("cuda")
    i = 1 if cpu else 0
    dev = torch.cuda.get_device_name(0) if not cpu else f"cpu ({os.cpu_count()} cores)"
    for name, j in (("wall", 0), ("cpu-time", 1)):
        print(f"per-block {name} env-steps/s:", {k: [round(r[j], 1) for r in v] for k, v in rates.items()})
    print(
        f"ours {med('ours', i):.1f} env-steps/s, mjlab tracking {med('mjlab', i):.1f} env-steps/s "
        f"({'CPU time' if cpu else 'wall'}) at {a.num_envs} envs on {dev}"
    )
    print(
        json.dumps(
            {
                "ours_steps_per_s": round(med("ours", i), 1),
                "mjlab_steps_per_s": round(med("mjlab", i), 1),
                "ratio": round(med_ratio(i), 3),
                "clock": "process CPU time" if cpu else "wall",
                "wall_ours_steps_per_s": round(med("ours", 0), 1),
                "wall_mjlab_steps_per_s": round(med("mjlab", 0), 1),
                "wall_ratio": round(med_ratio(0), 3),
                "device": dev,
                "num_envs": a.num_envs,
                "steps": a.steps,
                "repeats": a.repeats,
            }
        )
    )


if __name__ == "__main__":
    main()
